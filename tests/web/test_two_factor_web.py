"""Two-factor authentication in the dashboard (issue 20), over HTTP on both databases: the
sign-in's second step at `/login/code` (a TOTP or a recovery code), and the Security page
(`/account/security`) that turns it on and off.

Codes come from a real `pyotp` TOTP. Confirming takes the current step, so the next code a
test uses is the next step's (`soon`), which the server accepts.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from sigillo.domain.projections.rows import UserRow
from tests.web.conftest import COOKIE, PASSWORD, Browser, Web, location, text_of

pytestmark = pytest.mark.asyncio

CHALLENGE = "sigillo_challenge"


def soon(totp: pyotp.TOTP) -> str:
    return totp.at(time.time() + 30)


def other_than(*codes: str) -> str:
    return next(c for c in ("000000", "111111", "222222") if c not in codes)


async def with_two_factor(web: Web, email: str) -> tuple[UserRow, pyotp.TOTP, list[str], str]:
    """An account with two-factor authentication on (turned on through the service): the
    user, their authenticator, recovery codes, and the code confirming took."""
    user = await web.account("Ada", email)
    enrolment = await web.services.two_factor.begin(user)
    totp = pyotp.TOTP(enrolment.secret)
    first = totp.now()
    codes, _ = await web.services.two_factor.confirm(user.id, first, session_id=None)
    return user, totp, codes, first


async def password_step(web: Web, email: str, redirect: str = "/dash") -> Browser:
    """A browser past the password, at the code page."""
    browser = web.browser()
    answer = await browser.post(
        "/login", {"email": email, "password": PASSWORD, "redirect": redirect}
    )
    assert location(answer) == "/login/code"
    assert answer.headers["set-cookie"].startswith(f"{CHALLENGE}=")
    assert COOKIE not in answer.headers["set-cookie"]  # no session yet
    return browser


async def test_the_password_leads_to_the_code_page_then_in(web: Web) -> None:
    user, totp, _, first = await with_two_factor(web, "ada@example.com")
    browser = await password_step(web, "ada@example.com", "/dash/new-org")
    page = await browser.get("/login/code")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    assert 'inputmode="numeric"' in page.text
    assert "<label" in page.text
    assert "Authentication code" in page.text
    assert location(await browser.get("/dash")).startswith("/login")  # not signed in yet
    wrong = await browser.post("/login/code", {"code": other_than(first, soon(totp))})
    assert wrong.status_code == 401
    assert "Invalid code. 4 tries left." in text_of(wrong.text)
    reused = await browser.post("/login/code", {"code": first})  # confirming took it
    assert reused.status_code == 401
    assert "3 tries left" in reused.text
    signed = await browser.post("/login/code", {"code": soon(totp)})
    assert location(signed) == "/dash/new-org"
    token = browser.client.cookies.get(COOKIE)
    assert token
    found = await web.services.accounts.authenticate(token)
    assert found is not None
    assert found[1].id == user.id
    assert found[0].two_factor is True
    assert (await browser.get("/dash/new-org")).status_code == 200
    assert browser.client.cookies.get(CHALLENGE) is None  # the challenge cookie is cleared


async def test_a_lost_device_signs_in_with_a_recovery_code_once(web: Web) -> None:
    _, _, codes, _ = await with_two_factor(web, "ada@example.com")
    browser = await password_step(web, "ada@example.com")
    page = await browser.get("/login/code")
    assert "Use a recovery code" in page.text
    signed = await browser.post("/login/code", {"code": codes[3].upper()})
    assert location(signed) == "/dash"
    found = await web.services.accounts.authenticate(browser.client.cookies.get(COOKIE) or "")
    assert found is not None
    assert found[0].two_factor is True
    again = await password_step(web, "ada@example.com")
    refused = await again.post("/login/code", {"code": codes[3]})
    assert refused.status_code == 401
    assert (await again.post("/login/code", {"code": codes[4]})).status_code == 303


async def test_too_many_wrong_codes_send_the_browser_back_to_sign_in(web: Web) -> None:
    _, totp, _, first = await with_two_factor(web, "ada@example.com")
    browser = await password_step(web, "ada@example.com")
    wrong = other_than(first, soon(totp))
    for left in (4, 3, 2, 1):
        answer = await browser.post("/login/code", {"code": wrong})
        assert answer.status_code == 401
        assert f"{left} tr" in answer.text
    gone = await browser.post("/login/code", {"code": wrong})
    assert location(gone) == "/login?again=code"
    page = await browser.get("/login?again=code")
    assert "Too many wrong codes" in page.text
    # the challenge is gone: even the right code starts over now
    late = await browser.post("/login/code", {"code": soon(totp)})
    assert location(late) == "/login?again=expired"
    assert location(await browser.get("/login/code")) == "/login?again=expired"
    assert "took too long" in (await browser.get("/login?again=expired")).text
    # and the account's back-off holds across challenges: a new one waits (429)
    fresh = await password_step(web, "ada@example.com")
    backing_off = await fresh.post("/login/code", {"code": soon(totp)})
    assert backing_off.status_code == 429
    assert int(backing_off.headers["retry-after"]) >= 1


async def test_the_code_form_is_same_origin_only(web: Web) -> None:
    _, totp, _, _ = await with_two_factor(web, "ada@example.com")
    browser = await password_step(web, "ada@example.com")
    cross = await browser.client.post(
        "/login/code", data={"code": soon(totp)}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert COOKIE not in cross.headers.get("set-cookie", "")


async def test_without_two_factor_the_password_signs_in_at_once(web: Web) -> None:
    await web.account("Bo", "bo@example.com")
    browser = web.browser()
    answer = await browser.post("/login", {"email": "bo@example.com", "password": PASSWORD})
    assert location(answer) == "/"
    found = await web.services.accounts.authenticate(browser.client.cookies.get(COOKIE) or "")
    assert found is not None
    assert found[0].two_factor is False


def _secret(html: str) -> str:
    found = re.search(r'<code class="totp-secret"[^>]*>([A-Z2-7]+)</code>', html)
    assert found, html[:2000]
    return found[1]


async def test_the_security_page_turns_it_on_shows_codes_once_and_off(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    assert me.token is not None
    elsewhere = await web.signed_in(me.user)
    dash = await me.get("/account/sessions")
    assert 'href="/account/security"' in dash.text
    page = await me.get("/account/security")
    assert page.status_code == 200
    assert "Off" in text_of(page.text)
    assert "Set up two-factor authentication" in page.text
    started = await me.post("/account/security/enrol")
    assert started.status_code == 200
    assert started.headers["cache-control"] == "no-store"
    assert "<svg" in started.text
    assert 'class="qr-code"' in started.text
    secret = _secret(started.text)
    assert _secret((await me.get("/account/security")).text) == secret  # a reload: the same
    totp = pyotp.TOTP(secret)
    wrong = await me.post("/account/security/confirm", {"code": other_than(totp.now())})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.text
    on = await me.post("/account/security/confirm", {"code": totp.now()})
    assert on.status_code == 200
    assert "Two-factor authentication is on. 1 other session ended." in text_of(on.text)
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", on.text)
    assert len(codes) == 10
    found = await web.services.accounts.authenticate(me.token)
    assert found is not None
    assert found[0].two_factor is True
    assert await web.services.accounts.authenticate(elsewhere.token or "") is None
    later = await me.get("/account/security")
    assert not set(codes) & set(re.findall(r"[a-z2-7]{5}-[a-z2-7]{5}", later.text))
    assert secret not in later.text
    assert "10 recovery codes left" in text_of(later.text)

    renewed = await me.post("/account/security/recovery-codes", {"new_codes_code": soon(totp)})
    assert renewed.status_code == 200
    new = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", renewed.text)
    assert len(new) == 10
    assert not set(new) & set(codes)

    refused = await me.post("/account/security/disable", {"password": "not the password"})
    assert refused.status_code == 422
    assert "The password is not right" in refused.text
    off = await me.post("/account/security/disable", {"password": PASSWORD})
    assert off.status_code == 200
    assert "Two-factor authentication is off." in text_of(off.text)
    assert not await web.services.two_factor.enabled(me.user.id)


async def test_confirming_with_nothing_pending_says_so(web: Web) -> None:
    me = await web.signed_in()
    answer = await me.post("/account/security/confirm", {"code": "123456"})
    assert answer.status_code == 409
    assert "No two-factor enrolment is waiting" in answer.text
    empty = await me.post("/account/security/confirm", {"code": ""})
    assert empty.status_code == 422


async def test_the_account_menu_links_to_security(web: Web) -> None:
    me = await web.signed_in()
    page = await me.get("/dash/new-org")
    assert '<a class="link-button" href="/account/security">Security</a>' in page.text
