"""The dashboard's access matrix: every web route (sigillo.web.routes.WEB_ROUTES), for every
kind of caller, against a declarative policy table. A route missing from the table fails
(tests/api/test_access_matrix.py does the same for the API).

Callers: anonymous; an API token (`Authorization: Bearer sig_…`, which is never a page's
user); a member of another org (B); a removed member of A whose session lives on; a
member of A; an admin of A. Expected:

* "public": anyone gets an answer below 500 (the page decides what it shows);
* "session": no session → the sign-in redirect; any signed-in user is let through;
* "member": no session → the sign-in redirect; anyone not a member of A → the same 404 as
  for an object that does not exist; members and admins are let through;
* "admin": as "member", but a member of A gets 403 (behaviour.md 5.3, [D3]);
* "own": as "session", but the object is the caller's own (a session): anyone else's is
  the same 404 as one that does not exist.

Unsafe requests of signed-in callers carry their CSRF token here: the CSRF sweep
(test_csrf.py) is about the token; this is about who.
"""

from __future__ import annotations

from typing import Literal

import httpx
import pytest

from sigillo.api.ratelimit import LIMITS, Budget, RateLimits
from sigillo.server import create_app
from sigillo.settings import Settings
from tests.web.conftest import PASSWORD, Web
from tests.web.world import web_routes, world

Policy = Literal["public", "session", "member", "admin", "own"]
PROJECT = "/dash/projects/{project_id}"
ENV = PROJECT + "/envs/{env_slug}"

# (method, path) -> (who may call it, a valid form). In forms, "{code}" is a pending device
# user code and "{name}" an existing secret's name.
POLICY: dict[tuple[str, str], tuple[Policy, dict[str, str] | None]] = {
    ("GET", "/"): ("public", None),
    ("GET", "/login"): ("public", None),
    ("POST", "/login"): ("public", {"email": "x@example.com", "password": "x"}),
    ("POST", "/logout"): ("session", {}),
    # A sign-in's two-factor step (sigillo.web.signin_code): without its challenge cookie,
    # back to /login.
    ("GET", "/login/code"): ("public", None),
    ("POST", "/login/code"): ("public", {"code": "000000"}),
    # Single sign-on (sigillo.web.sso): this app offers no provider, so both are 404 pages;
    # the link page without its challenge cookie is a 400 page (tests/sso drives them).
    ("GET", "/login/sso/{provider}"): ("public", None),
    ("GET", "/login/sso/{provider}/callback"): ("public", None),
    ("GET", "/login/link"): ("public", None),
    ("POST", "/login/link"): ("public", {"password": "x"}),
    ("GET", "/setup"): ("public", None),
    ("POST", "/setup"): (
        "public",
        {"token": "x", "name": "S", "email": "s@example.com", "password": PASSWORD},
    ),
    ("GET", "/invite/{token}"): ("public", None),
    ("POST", "/invite/{token}/accept"): ("session", {}),
    ("POST", "/invite/{token}/sign-up"): (
        "public",
        {"name": "N", "email": "new@example.com", "password": PASSWORD},
    ),
    ("GET", "/device"): ("session", None),
    ("POST", "/device/approve"): ("session", {"user_code": "{code}"}),
    ("POST", "/device/deny"): ("session", {"user_code": "{code}"}),
    ("GET", "/dash"): ("session", None),
    ("GET", "/account/sessions"): ("session", None),
    ("POST", "/account/sessions/end-others"): ("session", {}),
    ("POST", "/account/sessions/{session_id}/end"): ("own", {}),  # a spare one of the admin
    ("POST", "/account/password"): (  # the same password again: nobody is locked out
        "session",
        {"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
    ),
    # The Security page (sigillo.web.account_security). Nobody here has two-factor on, and
    # confirm sorts before enrol: confirm, disable and new codes answer 409.
    ("GET", "/account/security"): ("session", None),
    ("POST", "/account/security/enrol"): ("session", {}),
    ("POST", "/account/security/confirm"): ("session", {"code": "000000"}),
    ("POST", "/account/security/recovery-codes"): ("session", {"new_codes_code": "000000"}),
    ("POST", "/account/security/disable"): ("session", {"password": PASSWORD}),
    ("GET", "/dash/new-org"): ("session", None),
    ("POST", "/dash/new-org"): ("session", {"name": "New"}),
    ("GET", "/dash/orgs/{org_id}"): ("member", None),
    ("GET", "/dash/orgs/{org_id}/new-project"): ("member", None),
    ("POST", "/dash/orgs/{org_id}/new-project"): ("member", {"name": "New"}),
    ("GET", PROJECT): ("member", None),
    ("GET", PROJECT + "/event-log"): ("member", None),
    ("GET", PROJECT + "/environments"): ("member", None),
    ("GET", PROJECT + "/tokens"): ("member", None),
    ("GET", PROJECT + "/access"): ("member", None),
    ("GET", PROJECT + "/settings"): ("member", None),
    ("GET", ENV): ("member", None),
    ("GET", ENV + "/event-log"): ("member", None),
    # The Secrets and Event Log tabs' own endpoints (their modules: sigillo.web.tabs.*).
    ("POST", ENV + "/reveal"): ("member", {"name": "{name}"}),
    ("POST", ENV + "/reveal-all"): ("member", {}),
    ("POST", ENV + "/export"): ("member", {}),
    ("POST", ENV + "/download"): ("member", {}),
    ("POST", ENV + "/cli-banner"): ("member", {}),
    ("POST", ENV + "/save"): ("member", {}),
    ("POST", ENV + "/delete"): ("member", {"name": "{name}"}),
    ("POST", ENV + "/sync"): ("member", {}),
    ("POST", ENV + "/import/preview"): ("member", {"text": "A=1"}),
    ("POST", ENV + "/import"): ("member", {"text": "A=1"}),
    ("POST", ENV + "/kinds"): ("member", {"plain": "{name}"}),
    ("POST", ENV + "/event-log/{position}/reveal"): ("member", {}),
    ("GET", ENV + "/event-log/{position}/hidden"): ("member", None),
    # Restore and compare from the Event Log (sigillo.web.tabs.event_log_restore): a
    # moment after every event, so the rollbacks have nothing to do.
    ("POST", ENV + "/event-log/restore"): (
        "member",
        {"to": "2999-01-01T00:00:00Z", "name": "{name}"},
    ),
    ("POST", ENV + "/event-log/rollback-plan"): ("member", {"to": "2999-01-01T00:00:00Z"}),
    ("POST", ENV + "/event-log/rollback"): ("member", {"to": "2999-01-01T00:00:00Z"}),
    ("POST", ENV + "/event-log/diff"): ("member", {"at": "2999-01-01T00:00:00Z"}),
    # The Environments, Tokens, Access and Settings tabs (sigillo.web.tabs.*).
    ("POST", PROJECT + "/environments"): ("member", {"name": "QA", "slug": "qa"}),
    ("POST", PROJECT + "/environments/{environment_id}"): ("member", {"name": "Development"}),
    ("POST", PROJECT + "/environments/{environment_id}/delete"): ("admin", {}),
    ("POST", PROJECT + "/tokens"): ("admin", {"name": "ci"}),
    ("POST", PROJECT + "/tokens/{token_id}/revoke"): ("admin", {}),
    ("POST", PROJECT + "/access/invites"): ("admin", {}),
    ("POST", PROJECT + "/access/invites/{invitation_id}/revoke"): ("admin", {}),
    ("POST", PROJECT + "/access/members/{membership_id}/role"): ("admin", {"role": "admin"}),
    ("POST", PROJECT + "/access/members/{membership_id}/remove"): ("admin", {}),
    ("POST", PROJECT + "/access/sign-in-policy"): ("admin", {}),  # requiring nothing
    ("POST", PROJECT + "/settings/name"): ("member", {"name": "Renamed"}),
    ("POST", PROJECT + "/settings/delete-project"): ("admin", {}),
    ("POST", PROJECT + "/settings/delete-org"): ("admin", {}),
}


def test_every_web_route_is_in_the_policy_table() -> None:
    routes = web_routes(create_app(Settings(data_dir=".", database_url="sqlite://")))  # type: ignore[arg-type]
    assert routes - set(POLICY) == set(), "add these web routes to POLICY"
    assert set(POLICY) - routes == set(), "these web routes are gone"


def test_a_route_missing_from_the_table_is_caught() -> None:
    """The check above really fails for a route nobody declared."""
    from litestar import get

    @get("/dash/undeclared", name="test:undeclared")
    async def undeclared() -> str:  # pragma: no cover - never called
        return ""

    app = create_app(Settings(data_dir=".", database_url="sqlite://"))  # type: ignore[arg-type]
    app.register(undeclared)
    assert ("GET", "/dash/undeclared") in web_routes(app) - set(POLICY)


def signed_in_elsewhere(response: httpx.Response) -> bool:
    location = response.headers.get("location", "") or response.headers.get("hx-redirect", "")
    return response.status_code == 303 and location.startswith("/login")


def wrong(policy: Policy, caller: str, response: httpx.Response) -> bool:
    status = response.status_code
    if status >= 500:
        return True
    if policy == "public":
        return False
    anonymous = caller in ("anonymous", "api_token")
    if anonymous:
        return not signed_in_elsewhere(response)
    if policy in ("member", "admin") and caller in ("outsider", "removed"):
        return status != 404
    if policy == "admin" and caller == "member":
        return status != 403
    if policy == "own" and status == 404:
        return False
    return signed_in_elsewhere(response) or status in (401, 403, 404)


ORDER = ("anonymous", "api_token", "outsider", "removed", "member", "admin")


@pytest.mark.asyncio
async def test_every_web_route_decides_every_caller_by_the_policy(web: Web) -> None:
    users = {who: await web.account(who.title()) for who in ORDER[2:]}
    outsider = await web.signed_in(users["outsider"])
    await web.services.catalog.create_org("B", outsider.actor)
    unlimited = {name: Budget(10**9, 1) for name in LIMITS}
    web.app.state.rate_limits = RateLimits(limits=unlimited)  # limits: test_signin.py
    found = []
    for (method, path), (policy, form) in sorted(POLICY.items()):
        made = await world(web, users)
        url = path.format(**made.values)
        for caller in ORDER:
            browser = made.callers[caller]
            if method == "GET":
                response = await browser.get(url)
            else:
                filled = {k: v.format(**made.values) for k, v in (form or {}).items()}
                response = await browser.post(url, filled)
            if path == "/logout" and browser.token:  # success is the way to /login, too
                gone = await web.services.accounts.authenticate(browser.token) is None
                if not gone or response.headers.get("location") != "/login":
                    found.append((method, path, caller, response.status_code, "session lives"))
            elif wrong(policy, caller, response):
                found.append((method, path, caller, response.status_code, response.text[:60]))
    for item in found:
        print(item)
    assert found == []
