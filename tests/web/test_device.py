"""The `/device` page (behaviour.md 8.3, [D6]): the code survives sign-in, a consent screen
shows who asks, and only an explicit POST approves."""

from __future__ import annotations

from urllib.parse import quote

import pytest

import sigillo.server
from sigillo.services.ids import Clock
from tests.web.conftest import PASSWORD, Web, location, text_of

pytestmark = pytest.mark.asyncio

INVALID = "Invalid or expired code. Please try again."


class SettableClock(Clock):
    def __init__(self) -> None:
        self.at = Clock().now()

    def now(self) -> int:
        return self.at


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> SettableClock:
    """Time is moved, never slept: the one clock every service of the app reads (as in
    tests/api/test_device_flow.py)."""
    settable = SettableClock()
    monkeypatch.setattr(sigillo.server, "Clock", lambda: settable)
    return settable


async def status_of(web: Web, code: str) -> str:
    return (await web.services.device.pending(code)).code.status


async def test_the_code_survives_the_detour_through_sign_in(web: Web) -> None:
    await web.account("Ada Lovelace", "ada@example.com")
    issued = await web.services.device.request("sigillo-cli", "", ip_address="192.0.2.7")
    browser = web.browser()
    target = f"/device?user_code={issued.user_code}"
    sent = await browser.get(target)
    assert location(sent) == f"/login?redirect={quote(target, safe='')}"
    login = await browser.get(location(sent))
    assert f'name="redirect" value="{target}"' in login.text
    signed = await browser.post(
        "/login", {"email": "ada@example.com", "password": PASSWORD, "redirect": target}
    )
    assert location(signed) == target
    page = await browser.get(target)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Device Login" in text
    assert "Enter the code shown on your CLI or agent:" in text
    assert f'value="{issued.user_code}"' in page.text
    assert 'maxlength="12"' in page.text
    assert 'placeholder="ABCD-EFGH"' in page.text
    assert "Verify Code" in text
    assert await status_of(web, issued.user_code) == "pending"


async def test_consent_shows_client_address_time_and_account_then_approve(web: Web) -> None:
    browser = await web.signed_in(name="Ada Lovelace")
    issued = await web.services.device.request("sigillo-cli", "", ip_address="192.0.2.7")
    typed = " " + issued.user_code.lower().replace("-", "") + " "  # any case, no dash, spaces
    consent = await browser.get("/device", params={"user_code": typed, "step": "confirm"})
    assert consent.status_code == 200
    text = text_of(consent.text)
    assert "sigillo-cli" in text
    assert "192.0.2.7" in text
    assert "just now" in text
    assert "<time datetime=" in consent.text
    assert browser.user is not None
    assert f"{browser.user.name} <{browser.user.email}>" in text
    assert issued.user_code in text  # shown as XXXX-XXXX
    assert "Approve" in text
    assert "Deny" in text
    assert await status_of(web, issued.user_code) == "pending"  # looking approves nothing
    approved = await browser.post("/device/approve", {"user_code": issued.user_code})
    assert approved.status_code == 200
    assert "Device Approved" in approved.text
    assert "You can close this page. Your CLI or agent is now authenticated." in approved.text
    assert await status_of(web, issued.user_code) == "approved"
    again = await browser.post("/device/approve", {"user_code": issued.user_code})
    assert again.status_code == 400
    assert INVALID in again.text


async def test_deny(web: Web) -> None:
    browser = await web.signed_in()
    issued = await web.services.device.request("sigillo-cli", "", ip_address="192.0.2.7")
    denied = await browser.post("/device/deny", {"user_code": issued.user_code})
    assert denied.status_code == 200
    assert "Request Denied" in denied.text
    assert await status_of(web, issued.user_code) == "denied"
    decided = await browser.get(
        "/device", params={"user_code": issued.user_code, "step": "confirm"}
    )
    assert decided.status_code == 400
    assert INVALID in decided.text


@pytest.mark.parametrize("code", ["", "BBBB-BBBB", "nope", "x" * 40, "ABCD-EFGH-IJKL-MNOP"])
async def test_invalid_codes_get_one_message(web: Web, code: str) -> None:
    browser = await web.signed_in()
    page = await browser.get("/device", params={"user_code": code, "step": "confirm"})
    assert page.status_code == 400
    assert INVALID in page.text
    posted = await browser.post("/device/approve", {"user_code": code})
    assert posted.status_code == 400
    assert INVALID in posted.text


async def test_nothing_is_approved_without_the_post_and_its_token(web: Web) -> None:
    browser = await web.signed_in()
    issued = await web.services.device.request("sigillo-cli", "", ip_address="192.0.2.7")
    for url in (
        f"/device?user_code={issued.user_code}",
        f"/device?user_code={issued.user_code}&step=confirm",
        f"/device/approve?user_code={issued.user_code}",
    ):
        await browser.get(url)
    forged = await browser.post("/device/approve", {"user_code": issued.user_code}, csrf=False)
    assert forged.status_code == 403
    cross = web.browser(Origin="https://evil.example")
    cross.client.cookies = browser.client.cookies
    assert (await cross.post("/device/approve", {"user_code": issued.user_code})).status_code == 403
    assert await status_of(web, issued.user_code) == "pending"


async def test_an_expired_code_is_invalid(web: Web, clock: SettableClock) -> None:
    browser = await web.signed_in()
    issued = await web.services.device.request("sigillo-cli", "", ip_address="192.0.2.7")
    clock.at += 10 * 60 * 1000
    page = await browser.get("/device", params={"user_code": issued.user_code, "step": "confirm"})
    assert page.status_code == 400
    assert INVALID in page.text
    late = await browser.post("/device/approve", {"user_code": issued.user_code})
    assert late.status_code == 400
    assert INVALID in late.text
