"""Signing in and out of the dashboard, and where sign-in sends you (behaviour.md 14.2)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from sigillo.api.ratelimit import LIMITS
from sigillo.server import create_app, open_services
from tests.web.conftest import COOKIE, PASSWORD, Web, location, settings_for, text_of

pytestmark = pytest.mark.asyncio


async def test_a_visitor_signs_in_and_lands_where_they_were_going(web: Web) -> None:
    user = await web.account("Ada Lovelace", "ada@example.com")
    browser = web.browser()
    sent = await browser.get("/dash/new-org")
    assert location(sent) == "/login?redirect=%2Fdash%2Fnew-org"
    page = await browser.get(location(sent))
    assert page.status_code == 200
    assert "Sign in to manage your secrets" in page.text
    assert 'name="redirect" value="/dash/new-org"' in page.text
    signed = await browser.post(
        "/login", {"email": "ADA@example.com ", "password": PASSWORD, "redirect": "/dash/new-org"}
    )
    assert location(signed) == "/dash/new-org"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    landed = await browser.get("/dash/new-org")
    assert landed.status_code == 200
    assert "New Organization" in landed.text
    assert user.name in landed.text


async def test_wrong_credentials_show_the_form_again_with_one_message(web: Web) -> None:
    await web.account("Ada", "ada@example.com")
    browser = web.browser()
    for email, password in [("ada@example.com", "wrong password!"), ("nobody@example.com", "x")]:
        answer = await browser.post(
            "/login", {"email": email, "password": password, "redirect": "/dash"}
        )
        assert answer.status_code == 401
        assert "Invalid email or password" in answer.text
        assert 'name="redirect" value="/dash"' in answer.text
        assert "set-cookie" not in answer.headers


async def test_a_signed_in_visitor_skips_the_login_page(web: Web) -> None:
    browser = await web.signed_in()
    assert location(await browser.get("/login?redirect=/dash/orgs/x")) == "/dash/orgs/x"
    assert location(await browser.get("/login?redirect=//evil.example")) == "/"
    assert location(await browser.get("/")) == "/dash"
    assert location(await web.browser().get("/")) == "/login"


async def test_signing_in_again_rotates_the_session(web: Web) -> None:
    user = await web.account("Ada", "ada@example.com")
    browser = await web.signed_in(user)
    old = browser.token
    assert old is not None
    answer = await browser.post("/login", {"email": "ada@example.com", "password": PASSWORD})
    assert location(answer) == "/"
    assert await web.services.accounts.authenticate(old) is None


async def test_log_out_ends_the_server_session_and_the_cookie(web: Web) -> None:
    browser = await web.signed_in()
    token = browser.token
    assert token is not None
    answer = await browser.post("/logout")
    assert location(answer) == "/login"
    assert f"{COOKIE}=" in answer.headers["set-cookie"]
    assert await web.services.accounts.authenticate(token) is None
    assert location(await browser.get("/dash")).startswith("/login")


async def test_log_out_needs_the_csrf_token(web: Web) -> None:
    browser = await web.signed_in()
    refused = await browser.post("/logout", csrf=False)
    assert refused.status_code == 403
    assert browser.token is not None
    assert await web.services.accounts.authenticate(browser.token) is not None


async def test_the_sign_in_form_spends_the_apis_sign_in_budget(web: Web) -> None:
    await web.account("Ada", "ada@example.com")
    browser = web.browser()
    budget = LIMITS["sign-in"].requests
    for n in range(budget):  # other emails: each email has its own limit too
        answer = await browser.post("/login", {"email": f"ada{n}@example.com", "password": "no"})
        assert answer.status_code == 401
    limited = await browser.post("/login", {"email": "ada@example.com", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many attempts" in text_of(limited.text)
    assert limited.headers["content-type"].startswith("text/html")
    api = await browser.client.post(
        "/api/auth/sign-in/email", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert api.status_code == 429  # one budget for both doors


async def test_unsafe_redirects_never_leave_the_site_after_sign_in(web: Web) -> None:
    await web.account("Ada", "ada@example.com")
    for target in ("//evil.com", "https://evil.com", "/\\evil.com"):
        browser = web.browser()
        page = await browser.get(f"/login?redirect={quote(target, safe='')}")
        assert 'name="redirect" value="/"' in page.text
        answer = await browser.post(
            "/login", {"email": "ada@example.com", "password": PASSWORD, "redirect": target}
        )
        assert location(answer) == "/"


async def test_over_https_the_cookie_is_host_only_and_secure(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path, public_url="https://testserver.local")
    services = await open_services(settings)
    try:
        await services.accounts.register("ada@example.com", "Ada", PASSWORD)
        transport = httpx.ASGITransport(app=create_app(settings, services=services))
        async with httpx.AsyncClient(
            transport=transport, base_url="https://testserver.local"
        ) as client:
            answer = await client.post(
                "/login",
                data={"email": "ada@example.com", "password": PASSWORD},
                headers={"Origin": "https://testserver.local"},
            )
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("__Host-sigillo_session=")
        assert "Secure" in cookie
        assert "Path=/" in cookie
        assert "Domain" not in cookie
    finally:
        await services.close()
