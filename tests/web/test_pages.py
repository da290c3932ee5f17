"""What every dashboard answer carries: the security headers, `Vary: HX-Request`, the
fragment for htmx and the full page otherwise, HTML-escaped names, no inline code."""

from __future__ import annotations

import re

import httpx
import pytest

from sigillo.api.ratelimit import LIMITS, Budget, RateLimits
from sigillo.web.engine import HTMX, STATIC_DIR
from sigillo.web.pages import CSP
from tests.web.conftest import Browser, Web, join, org_with_project

pytestmark = pytest.mark.asyncio

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def assert_page_headers(response: httpx.Response) -> None:
    where = (response.request.method, str(response.request.url), response.status_code)
    assert response.headers["content-security-policy"] == EXPECTED_CSP, where
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["referrer-policy"] == "same-origin", where
    assert response.headers["cache-control"] == "no-store", where
    assert "HX-Request" in response.headers["vary"], where
    assert response.status_code < 500, where


def assert_no_inline_code(html: str) -> None:
    """The CSP would block them anyway; a page that needs them is broken."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html, "inline <style>"
    assert not re.search(r"\sstyle\s*=", html), "style attribute"
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "event handler attribute"
    assert "javascript:" not in html.lower()


async def test_csp_is_the_one_asked_for() -> None:
    assert CSP == EXPECTED_CSP


async def pages_of(web: Web) -> tuple[Browser, list[str]]:
    """A signed-in admin with an org and a project, and the URLs of every kind of page."""
    admin = await web.signed_in(name="Ada Lovelace")
    org_id, project_id = await org_with_project(web, admin)
    base = f"/dash/projects/{project_id}"
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    code = await web.services.device.request("sigillo-cli", "", ip_address="192.0.2.7")
    return admin, [
        "/",
        "/login",
        "/setup?token=nope",
        "/dash",
        "/dash/new-org",
        f"/dash/orgs/{org_id}",
        f"/dash/orgs/{org_id}/new-project",
        base,
        f"{base}/event-log",
        f"{base}/envs/dev",
        f"{base}/envs/nope",
        f"{base}/envs/dev/event-log",
        f"{base}/environments",
        f"{base}/tokens",
        f"{base}/access",
        f"{base}/settings",
        f"/invite/{invite}",
        "/invite/unknown",
        "/device",
        f"/device?user_code={code.user_code}&step=confirm",
        "/device?user_code=BAD&step=confirm",
        "/dash/projects/unknown/environments",
    ]


async def test_every_page_carries_the_security_headers(web: Web) -> None:
    web.app.state.rate_limits = RateLimits(limits={n: Budget(10**9, 1) for n in LIMITS})
    admin, urls = await pages_of(web)
    anonymous = web.browser()
    for browser in (admin, anonymous):
        for url in urls:
            response = await browser.get(url)
            assert_page_headers(response)
            if response.headers.get("content-type", "").startswith("text/html"):
                assert_no_inline_code(response.text)
            assert_page_headers(await browser.get(url, headers={"HX-Request": "true"}))


async def test_error_pages_and_posts_carry_them_too(web: Web) -> None:
    browser = await web.signed_in()
    for response in (
        await browser.post("/dash/new-org", {"name": ""}),  # 422
        await browser.post("/dash/new-org", {"name": "x"}, csrf=False),  # 403
        await web.browser().post("/dash/new-org", {"name": "x"}),  # sign-in redirect
        await browser.post("/login", {"email": "a@b.c", "password": "x"}),  # 401
    ):
        assert_page_headers(response)


async def test_static_files_are_cached_and_never_sniffed(web: Web) -> None:
    browser = web.browser()
    for name in ("app.css", "app.js", HTMX, "favicon.svg"):
        response = await browser.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "max-age=31536000" in response.headers["cache-control"]
        assert response.content == (STATIC_DIR / name).read_bytes()
    page = await browser.get("/login")
    assert re.search(r'<script src="/static/vendor/htmx-2\.\d+\.\d+\.min\.js\?v=\w+"', page.text)


async def test_htmx_gets_the_fragment_and_a_reload_gets_the_whole_page(web: Web) -> None:
    browser = await web.signed_in()
    full = await browser.get("/dash/new-org")
    fragment = await browser.get("/dash/new-org", headers={"HX-Request": "true"})
    boosted = await browser.get(
        "/dash/new-org", headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    for response in (full, fragment, boosted):
        assert response.status_code == 200
        assert response.headers["vary"] == "HX-Request"
        assert "New Organization" in response.text
    assert full.text.lstrip().startswith("<!doctype html>")
    assert boosted.text.lstrip().startswith("<!doctype html>")
    assert "<html" not in fragment.text
    assert "sidebar" not in fragment.text
    assert '<form method="post" action="/dash/new-org"' in fragment.text


async def test_a_fragment_of_a_project_tab_is_the_main_block_with_the_tab(web: Web) -> None:
    admin = await web.signed_in()
    _, project_id = await org_with_project(web, admin, project="Fragmented")
    url = f"/dash/projects/{project_id}/settings"
    fragment = await admin.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Fragmented" in fragment.text
    assert 'aria-current="page">Settings' in fragment.text
    # the page's <title> leads the fragment (htmx makes it the document's title)
    title = "<title>Settings · Fragmented · Acme Corp · Sigillo</title>"
    assert fragment.text.startswith(title)
    assert title in (await admin.get(url)).text


async def test_htmx_without_a_session_is_sent_to_sign_in_as_a_whole_page(web: Web) -> None:
    response = await web.browser().get("/dash/new-org", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/login?redirect=%2Fdash%2Fnew-org"
    assert response.text == ""


async def test_names_are_html_escaped_everywhere(web: Web) -> None:
    evil = '<script>alert("x")</script>'
    admin = await web.signed_in(name=evil)
    member = await web.signed_in(name="Mo")
    org_id, project_id = await org_with_project(web, admin, org=evil, project=evil)
    await join(web, org_id, admin, member)
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    for browser, url in [
        (admin, f"/dash/projects/{project_id}/envs/dev"),
        (member, f"/dash/projects/{project_id}/access"),
        (web.browser(), f"/invite/{invite}"),
        (member, "/dash/new-org"),
    ]:
        page = await browser.get(url)
        assert page.status_code == 200, url
        assert evil not in page.text, url
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text, url


async def test_the_theme_cookie_picks_the_class_of_html(web: Web) -> None:
    browser = web.browser()
    assert '<html lang="en">' in (await browser.get("/login")).text
    browser.client.cookies.set("color-theme", "dark", domain="testserver.local")
    dark = (await browser.get("/login")).text
    assert '<html lang="en" class="theme-dark">' in dark
    assert '<option value="dark" selected>Dark</option>' in dark
    browser.client.cookies.set("color-theme", '"><script>', domain="testserver.local")
    assert '<html lang="en">' in (await browser.get("/login")).text


async def test_the_footer_and_title(web: Web) -> None:
    page = (await web.browser().get("/login")).text
    assert "<title>Sign in · Sigillo</title>" in page
    assert re.search(r"© \d{4} Sigillo", page)
    for option in ("System", "Light", "Dark"):
        assert f">{option}</option>" in page


async def test_the_csrf_token_reaches_forms_and_htmx(web: Web) -> None:
    browser = await web.signed_in()
    page = (await browser.get("/dash/new-org")).text
    assert f'<input type="hidden" name="csrf" value="{browser.csrf}">' in page
    assert f'hx-headers=\'{{"X-CSRF-Token": "{browser.csrf}"}}\'' in page
    anonymous = (await web.browser().get("/login")).text
    assert "hx-headers" not in anonymous


async def test_a_removed_member_loses_the_pages_at_once(web: Web) -> None:
    admin = await web.signed_in()
    member = await web.signed_in(name="Mo")
    org_id, project_id = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    url = f"/dash/projects/{project_id}/envs/dev"
    assert (await member.get(url)).status_code == 200
    [membership] = [
        m
        for m in await web.services.access.members(org_id, admin.actor)
        if m.user_id == member.actor.id
    ]
    await web.services.access.remove_member(org_id, membership.id, admin.actor)
    assert (await member.get(url)).status_code == 404
    assert (await member.get(f"/dash/orgs/{org_id}")).status_code == 404
