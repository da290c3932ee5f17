"""No other site can make the dashboard change state (web/csrf.py): every unsafe web
route refuses a cookie without the session's CSRF token, and the forms used before
sign-in refuse requests that are not same-origin."""

from __future__ import annotations

import pytest

from sigillo.api.ratelimit import LIMITS, Budget, RateLimits
from tests.web.conftest import PASSWORD, Web, location
from tests.web.world import web_routes, world

pytestmark = pytest.mark.asyncio

BEFORE_SIGN_IN = {"/login", "/login/code", "/login/link", "/setup", "/invite/{token}/sign-up"}
USERS = ("outsider", "removed", "member", "admin")


def pre_login_routes(web: Web) -> set[str]:
    """The unsafe routes whose handler takes the `same_origin` dependency."""
    return {
        route.path_format
        for route in web.app.routes
        for handler in getattr(route, "route_handlers", [])
        if "same_origin" in handler.parsed_fn_signature.parameters
    }


async def test_the_forms_before_sign_in_are_exactly_these(web: Web) -> None:
    assert pre_login_routes(web) == BEFORE_SIGN_IN


async def test_every_unsafe_route_refuses_a_cookie_without_its_token(web: Web) -> None:
    web.app.state.rate_limits = RateLimits(limits={n: Budget(10**9, 1) for n in LIMITS})
    users = {who: await web.account(who.title()) for who in USERS}
    unsafe = sorted(path for method, path in web_routes(web.app) if method != "GET")
    assert unsafe
    for path in unsafe:
        if path in BEFORE_SIGN_IN:
            continue
        made = await world(web, users)
        url = path.format(**made.values)
        admin = made.callers["admin"]
        for form in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": admin.csrf + "x"}):
            refused = await admin.post(url, form, csrf=False)
            assert refused.status_code == 403, (path, form, refused.status_code)
            assert "This form has expired" in refused.text
        header = await admin.post(url, {}, csrf=False, headers={"X-CSRF-Token": "forged"})
        assert header.status_code == 403, path
        other = made.callers["member"]  # another live session's token is no good either
        stolen = await admin.post(url, {"csrf": other.csrf}, csrf=False)
        assert stolen.status_code == 403, path
        assert admin.token is not None
        assert await web.services.accounts.authenticate(admin.token) is not None, path


async def test_the_token_works_as_a_form_field_or_a_header(web: Web) -> None:
    browser = await web.signed_in()
    by_field = await browser.post("/dash/new-org", {"name": "By field"})
    assert location(by_field).startswith("/dash/orgs/")
    by_header = await browser.post(
        "/dash/new-org", {"name": "By header"}, csrf=False, headers={"X-CSRF-Token": browser.csrf}
    )
    assert location(by_header).startswith("/dash/orgs/")
    htmx = await browser.post(
        "/dash/new-org",
        {"name": "By htmx"},
        csrf=False,
        headers={"X-CSRF-Token": browser.csrf, "HX-Request": "true"},
    )
    assert htmx.status_code == 200
    assert htmx.headers["hx-redirect"].startswith("/dash/orgs/")
    names = sorted(org.name for org, _ in await web.services.access.orgs_of(browser.actor))
    assert names == ["By field", "By header", "By htmx"]


async def test_a_forged_request_changes_nothing(web: Web) -> None:
    browser = await web.signed_in()
    for form in ({"name": "Forged"}, {"name": "Forged", "csrf": "nope"}):
        assert (await browser.post("/dash/new-org", form, csrf=False)).status_code == 403
    assert await web.services.access.orgs_of(browser.actor) == []


async def test_without_a_session_an_unsafe_request_goes_to_sign_in(web: Web) -> None:
    answer = await web.browser().post("/dash/new-org", {"name": "x"})
    assert location(answer) == "/login"
    bearer = web.browser(Authorization="Bearer sig_" + "0" * 64)
    assert location(await bearer.post("/dash/new-org", {"name": "x"})) == "/login"


CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "http://testserver.local.evil.example"},
    {"Origin": "null"},
    {"Origin": ""},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver.local"},
    {"Sec-Fetch-Site": "none"},
]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_forms_before_sign_in_refuse_other_origins(web: Web, headers: dict[str, str]) -> None:
    user = await web.account("Ada", "ada@example.com")
    admin = await web.signed_in(user)
    org = await web.services.catalog.create_org("Acme", admin.actor)
    _, invite = await web.services.access.create_invitation(org.id, admin.actor)
    token = await web.services.accounts.issue_setup_token()  # None: an account exists
    evil = web.browser(**headers)
    attempts = {
        "/login": {"email": "ada@example.com", "password": PASSWORD},
        "/setup": {"token": token or "x", "name": "E", "email": "e@x.com", "password": PASSWORD},
        f"/invite/{invite}/sign-up": {"name": "E", "email": "eve@x.com", "password": PASSWORD},
    }
    for url, form in attempts.items():
        answer = await evil.post(url, form)
        assert answer.status_code == 403, (url, headers)
        assert "set-cookie" not in answer.headers
        assert "only be sent from this site" in answer.text
    assert len(await web.services.access.members(org.id, admin.actor)) == 1


async def test_a_post_without_origin_headers_is_refused_too(web: Web) -> None:
    await web.account("Ada", "ada@example.com")
    bare = web.browser()
    del bare.client.headers["Origin"]
    answer = await bare.post("/login", {"email": "ada@example.com", "password": PASSWORD})
    assert answer.status_code == 403


async def test_same_origin_by_either_header_is_let_through(web: Web) -> None:
    await web.account("Ada", "ada@example.com")
    form = {"email": "ada@example.com", "password": PASSWORD}
    fetch = web.browser(**{"Sec-Fetch-Site": "same-origin", "Origin": "https://ignored.example"})
    assert location(await fetch.post("/login", form)) == "/"
    origin = web.browser()  # Origin: http://testserver.local
    assert location(await origin.post("/login", form)) == "/"
