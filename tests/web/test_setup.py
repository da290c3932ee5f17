"""First-run setup: the first account, once, with the token the server logged."""

from __future__ import annotations

import pytest

from tests.web.conftest import COOKIE, PASSWORD, Web, location, text_of

pytestmark = pytest.mark.asyncio

FORM = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}


async def test_setup_makes_the_first_account_signs_in_and_opens_the_dashboard(web: Web) -> None:
    token = await web.services.accounts.issue_setup_token()
    assert token is not None
    browser = web.browser()
    page = await browser.get(f"/setup?token={token}")
    assert page.status_code == 200
    assert "Create account" in page.text
    assert f'name="token" value="{token}"' in page.text
    done = await browser.post("/setup", {**FORM, "token": token})
    assert location(done) == "/dash"
    assert done.headers["set-cookie"].startswith(f"{COOKIE}=")
    assert location(await browser.get("/dash")) == "/dash/new-org"
    assert await web.services.accounts.any_user()


async def test_setup_happens_once(web: Web) -> None:
    token = await web.services.accounts.issue_setup_token()
    assert token is not None
    assert location(await web.browser().post("/setup", {**FORM, "token": token})) == "/dash"
    for answer in (
        await web.browser().get(f"/setup?token={token}"),
        await web.browser().get("/setup"),
        await web.browser().post("/setup", {**FORM, "email": "eve@example.com", "token": token}),
    ):
        assert answer.status_code == 409
        assert "Setup is complete" in answer.text


async def test_a_wrong_or_missing_token_gets_a_clear_page(web: Web) -> None:
    await web.services.accounts.issue_setup_token()
    for url in ("/setup", "/setup?token=", "/setup?token=forged"):
        answer = await web.browser().get(url)
        assert answer.status_code == 403, url
        assert "This setup link is not valid" in answer.text
    forged = await web.browser().post("/setup", {**FORM, "token": "forged"})
    assert forged.status_code == 403
    assert not await web.services.accounts.any_user()


async def test_bad_fields_keep_the_token_and_say_what_is_wrong(web: Web) -> None:
    token = await web.services.accounts.issue_setup_token()
    assert token is not None
    browser = web.browser()
    answer = await browser.post(
        "/setup", {"token": token, "name": "", "email": "not an email", "password": "short"}
    )
    assert answer.status_code == 422
    assert "Name is required" in text_of(answer.text)
    short = await browser.post("/setup", {**FORM, "password": "short", "token": token})
    assert short.status_code == 422
    assert "Password must be at least 12 characters" in text_of(short.text)
    assert 'value="ada@example.com"' in short.text  # kept; the password never is
    assert 'value="short"' not in short.text
    assert location(await browser.post("/setup", {**FORM, "token": token})) == "/dash"


async def test_the_setup_form_refuses_other_origins(web: Web) -> None:
    token = await web.services.accounts.issue_setup_token()
    assert token is not None
    evil = web.browser(Origin="https://evil.example")
    assert (await evil.post("/setup", {**FORM, "token": token})).status_code == 403
    assert not await web.services.accounts.any_user()
    assert await web.services.accounts.setup_token_valid(token)
