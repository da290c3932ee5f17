"""The access-control matrix of security.md: every route of the app, for every kind of
caller, against a declarative policy table. A route missing from the table fails.

Callers: anonymous; a read-only and a read-write project token of org A; a token scoped
to another environment; a revoked and an expired token; a member of another org (B); a
removed member of A (their session lives on); a member of A; an admin of A. Each route
gets a fresh org A, so a destructive request by one caller cannot hide a wrong decision
for the next.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from litestar.routes import HTTPRoute

from sigillo.api.ratelimit import LIMITS, Budget, RateLimits
from sigillo.server import create_app
from sigillo.settings import Settings
from tests.api.conftest import PASSWORD, Api
from tests.api.helpers import actor_of, bearer

Policy = Literal["public", "session", "own", "member", "admin", "read", "write"]
ENV = "/api/v0/projects/{project_id}/environments/{environment_id}"
SECRETS = ENV + "/secrets"
BY_ID = "/api/environments/{environment_id}/secrets"

# (method, path) -> (who may call it, a valid body). In bodies, "{o}" is org A's id and
# "{code}" a pending device user code.
POLICY: dict[tuple[str, str], tuple[Policy, Any]] = {
    ("GET", "/health"): ("public", None),
    ("GET", "/health/live"): ("public", None),
    ("GET", "/health/ready"): ("public", None),
    ("GET", "/api/info"): ("public", None),
    ("POST", "/api/auth/sign-in/email"): ("public", {"email": "x@example.com", "password": "x"}),
    ("POST", "/api/auth/sign-up/email"): (
        "public",
        {"email": "new@example.com", "password": "long enough password", "name": "N"},
    ),
    ("POST", "/api/auth/setup"): (
        "public",
        {"token": "x", "email": "s@example.com", "password": "long enough password", "name": "S"},
    ),
    ("GET", "/api/auth/session"): ("session", None),
    ("POST", "/api/auth/sign-out"): ("session", None),
    ("POST", "/api/auth/device/code"): ("public", {"client_id": "sigillo-cli"}),
    ("POST", "/api/auth/device/token"): (
        "public",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": "x",
            "client_id": "sigillo-cli",
        },
    ),
    ("GET", "/api/auth/device"): ("public", None),
    ("GET", "/api/auth/providers"): ("public", None),  # single sign-on's providers
    ("POST", "/api/auth/device/approve"): ("session", {"userCode": "{code}"}),
    ("POST", "/api/auth/device/deny"): ("session", {"userCode": "{code}"}),
    ("GET", "/api/v0/me"): ("session", None),
    # A user's own sessions: a live API token is told it has none (403).
    ("GET", "/api/v0/sessions"): ("own", None),
    ("DELETE", "/api/v0/sessions/{session_id}"): ("own", None),  # the peer's: 404 to others
    ("POST", "/api/v0/sessions/end-others"): ("own", None),
    ("POST", "/api/v0/me/password"): (  # the same password again: nobody is locked out
        "own",
        {"currentPassword": PASSWORD, "newPassword": PASSWORD},
    ),
    # Two-factor authentication (sigillo.api.two_factor): a person's, so tokens are 401. Nobody
    # here has it on, and confirm sorts before enrol: confirm, disable and new codes are 409.
    ("GET", "/api/v0/me/two-factor"): ("session", None),
    ("POST", "/api/v0/me/two-factor/enrol"): ("session", None),
    ("POST", "/api/v0/me/two-factor/confirm"): ("session", {"code": "000000"}),
    ("POST", "/api/v0/me/two-factor/disable"): ("session", {"code": "000000"}),
    ("POST", "/api/v0/me/two-factor/recovery-codes"): ("session", {"code": "000000"}),
    ("GET", "/api/v0/orgs"): ("session", None),
    ("POST", "/api/v0/orgs"): ("session", {"name": "New"}),
    ("DELETE", "/api/v0/orgs/{org_id}"): ("admin", None),
    ("GET", "/api/v0/orgs/{org_id}/members"): ("member", None),
    ("PATCH", "/api/v0/orgs/{org_id}/members/{membership_id}"): ("admin", {"role": "admin"}),
    ("DELETE", "/api/v0/orgs/{org_id}/members/{membership_id}"): ("admin", None),
    ("GET", "/api/v0/orgs/{org_id}/sign-in-policy"): ("member", None),
    ("PUT", "/api/v0/orgs/{org_id}/sign-in-policy"): (  # requiring nothing: nobody locked out
        "admin",
        {"requireSso": False, "requireTwoFactor": False},
    ),
    ("GET", "/api/v0/orgs/{org_id}/invitations"): ("admin", None),
    ("POST", "/api/v0/orgs/{org_id}/invitations"): ("admin", {"role": "member"}),
    ("DELETE", "/api/v0/orgs/{org_id}/invitations/{invitation_id}"): ("admin", None),
    ("GET", "/api/v0/invitations/{token}"): ("public", None),
    ("POST", "/api/v0/invitations/{token}/accept"): ("session", None),
    ("GET", "/api/v0/orgs/{org_id}/events"): ("member", None),
    ("GET", "/api/v0/projects"): ("session", None),
    ("POST", "/api/v0/projects"): ("member", {"name": "New", "orgId": "{o}"}),
    ("GET", "/api/v0/projects/{project_id}"): ("member", None),
    ("PATCH", "/api/v0/projects/{project_id}"): ("member", {"name": "Renamed"}),
    ("DELETE", "/api/v0/projects/{project_id}"): ("admin", None),
    ("GET", "/api/v0/projects/{project_id}/environments"): ("member", None),
    ("POST", "/api/v0/projects/{project_id}/environments"): (
        "member",
        {"name": "QA", "slug": "qa"},
    ),
    ("GET", ENV): ("member", None),
    ("PATCH", ENV): ("member", {"name": "Development"}),
    ("DELETE", ENV): ("admin", None),
    ("GET", ENV + "/events"): ("member", None),
    ("GET", ENV + "/verify"): ("member", None),
    ("GET", SECRETS): ("read", None),
    ("POST", SECRETS): ("write", {"name": "NEW", "value": "v"}),
    ("PUT", SECRETS): ("write", {"secrets": {"NEW": "v"}}),
    ("GET", SECRETS + "/download"): ("read", None),
    ("DELETE", SECRETS + "/download"): ("write", None),
    ("GET", SECRETS + "/{name}"): ("read", None),
    ("DELETE", SECRETS + "/{name}"): ("write", None),
    ("PATCH", ENV + "/secret-kinds"): ("write", {"kinds": {"EXISTING": "plain"}}),
    ("GET", SECRETS + "/{name}/history"): ("read", None),
    ("GET", SECRETS + "/download/history"): ("read", None),
    ("GET", ENV + "/diff"): ("read", None),
    ("POST", ENV + "/rollback"): ("write", {"to": "2999-01-01T00:00:00Z"}),
    ("GET", ENV + "/watch"): ("read", None),  # without `since`: answered at once
    # The seed README's routes: the environment by id alone (an outsider gets 404).
    ("GET", BY_ID): ("read", None),
    ("POST", BY_ID): ("write", {"name": "NEW", "value": "v"}),
    ("PUT", BY_ID): ("write", {"secrets": {"NEW": "v"}}),
    ("GET", BY_ID + "/download"): ("read", None),
    ("GET", "/api/v0/projects/{project_id}/tokens"): ("member", None),
    ("POST", "/api/v0/projects/{project_id}/tokens"): ("admin", {"name": "ci"}),
    ("DELETE", "/api/v0/projects/{project_id}/tokens/{token_id}"): ("admin", None),
}
# The OpenAPI document and its pages are public and hold no data.
DOCUMENTATION = ("/api", "/api/openapi.json", "/api/v0/openapi.json", "/api/docs")


def app_routes() -> set[tuple[str, str]]:
    """The API's routes: /api and /health only. The dashboard's pages (sigillo.web) have a
    matrix of their own, tests/web/test_web_access.py, with callers and answers of a
    browser's kind (sign-in redirects and 404 pages rather than JSON 401s)."""
    app = create_app(Settings(data_dir=".", database_url="sqlite://"))  # type: ignore[arg-type]
    return {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path_format.startswith(("/api", "/health"))
        for handler in route.route_handlers
        for method in handler.http_methods
        if method not in ("HEAD", "OPTIONS")
        and route.path_format not in DOCUMENTATION
        and not route.path_format.startswith(("/api/{", "/api/oauth2"))
    }


def test_every_route_is_in_the_policy_table() -> None:
    routes = app_routes()
    assert routes - set(POLICY) == set(), "add these routes to POLICY"
    assert set(POLICY) - routes == set(), "these routes are gone"


@dataclass
class Callers:
    anonymous: dict[str, str]
    read_token: dict[str, str]
    write_token: dict[str, str]
    other_env_token: dict[str, str]
    revoked_token: dict[str, str]
    expired_token: dict[str, str]
    outsider: dict[str, str]
    removed: dict[str, str]
    member: dict[str, str]
    admin: dict[str, str]


async def world(api: Api, users: dict[str, dict[str, str]]) -> tuple[dict[str, str], Callers]:
    """A fresh org A with a project, a secret, a token, an invitation, a second member
    and a pending device code; answers the path values and the callers."""
    admin = await actor_of(api, users["admin"])
    org = await api.services.catalog.create_org("A", admin)
    for who in ("member", "peer", "removed"):
        _, invite = await api.services.access.create_invitation(org.id, admin)
        await api.services.access.accept_invitation(invite, await actor_of(api, users[who]))
    removed_id = (await actor_of(api, users["removed"])).id
    gone = [m for m in await api.services.access.members(org.id, admin) if m.user_id == removed_id]
    await api.services.access.remove_member(org.id, gone[0].id, admin)
    project = await api.services.catalog.create_project(org.id, "App", admin)
    dev = next(e for e in await api.services.catalog.environments(project.id) if e.slug == "dev")
    await api.services.secrets.set(dev.id, {"EXISTING": "value", "download": "v"}, admin)
    token, _ = await api.services.access.create_token(project.id, admin, name="t")
    _, read_key = await api.services.access.create_token(project.id, admin, name="r")
    tokens = api.services.access
    _, write_key = await tokens.create_token(project.id, admin, name="w", access="read-write")
    prod = next(e for e in await api.services.catalog.environments(project.id) if e.slug == "prod")
    _, other_env_key = await tokens.create_token(
        project.id, admin, name="p", access="read-write", environment_id=prod.id
    )
    revoked, revoked_key = await tokens.create_token(
        project.id, admin, name="x", access="read-write"
    )
    await tokens.revoke_token(project.id, revoked.id, admin)
    # Far enough ahead to be in the future when created on a loaded machine; slept out below.
    soon = int(time.time() * 1000) + 250
    _, expired_key = await tokens.create_token(
        project.id, admin, name="e", access="read-write", expires_at=soon
    )
    invitation, invite_token = await api.services.access.create_invitation(org.id, admin)
    peer_id = (await actor_of(api, users["peer"])).id
    peer = next(m for m in await api.services.access.members(org.id, admin) if m.user_id == peer_id)
    code = await api.services.device.request("sigillo-cli", "", ip_address="127.0.0.1")
    peer_sessions = await api.services.accounts.sessions(peer_id)
    await asyncio.sleep(max(0.0, soon / 1000 - time.time()) + 0.01)  # the token has expired
    values = {
        "org_id": org.id,
        "project_id": project.id,
        "environment_id": dev.id,
        "name": "EXISTING",
        "token_id": token.id,
        "membership_id": peer.id,
        "invitation_id": invitation.id,
        "token": invite_token,
        "o": org.id,
        "code": code.user_code,
        "session_id": peer_sessions[0].id if peer_sessions else "none",
    }
    callers = Callers(
        anonymous={},
        read_token=bearer(read_key),
        write_token=bearer(write_key),
        other_env_token=bearer(other_env_key),
        revoked_token=bearer(revoked_key),
        expired_token=bearer(expired_key),
        outsider=users["outsider"],
        removed=users["removed"],
        member=users["member"],
        admin=users["admin"],
    )
    return values, callers


async def sign_in_again(api: Api, users: dict[str, dict[str, str]]) -> None:
    for who, headers in users.items():
        if await api.services.accounts.authenticate(headers["Authorization"][7:]) is None:
            token, _, _ = await api.services.accounts.sign_in(f"{who}@matrix.example", PASSWORD)
            users[who] = bearer(token)


def fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    return value


def expected(policy: Policy, caller: str) -> set[int] | None:
    """The statuses a caller may get, or None where any non-5xx answer is right."""
    denied = {403, 404}
    no_session = {k: {401} for k in ("anonymous", *TOKENS)}
    dead = {k: {401} for k in ("anonymous", "revoked_token", "expired_token")}
    table: dict[Policy, dict[str, set[int] | None]] = {
        "public": {},
        "session": no_session,
        "own": dead | {k: {403} for k in ("read_token", "write_token", "other_env_token")},
        "member": no_session | {"outsider": denied, "removed": denied},
        "admin": no_session | {"outsider": denied, "removed": denied, "member": {403}},
        "read": dead | {"outsider": denied, "removed": denied, "other_env_token": {403}},
        "write": dead
        | {"outsider": denied, "removed": denied, "other_env_token": {403}, "read_token": {403}},
    }
    return table[policy].get(caller)


TOKENS = ("read_token", "write_token", "other_env_token", "revoked_token", "expired_token")
ORDER = ("anonymous", *TOKENS, "outsider", "removed", "member", "admin")


@pytest.mark.asyncio
async def test_every_route_decides_every_caller_by_the_policy(api: Api) -> None:
    users = {
        who: await api.user(who.title(), f"{who}@matrix.example")
        for who in ("admin", "member", "peer", "removed", "outsider")
    }
    outsider_actor = await actor_of(api, users["outsider"])
    await api.services.catalog.create_org("B", outsider_actor)
    # Rate limits are not the subject here (test_rate_limits.py): lift them.
    unlimited = {name: Budget(10**9, 1) for name in LIMITS}
    transport = api.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    transport.app.state.rate_limits = RateLimits(limits=unlimited)  # type: ignore[attr-defined]
    wrong = []
    for (method, path), (policy, body) in sorted(POLICY.items()):
        await sign_in_again(api, users)  # sign-out ended the sessions of its callers
        values, callers = await world(api, users)
        url = path.format(**values)
        for caller in ORDER:
            response = await api.client.request(
                method, url, headers=getattr(callers, caller), json=fill(body, values)
            )
            allowed = expected(policy, caller)
            status = response.status_code
            refused_wrongly = allowed is None and policy != "public" and status in (401, 403)
            if status >= 500 or refused_wrongly or (allowed and status not in allowed):
                wrong.append((method, path, caller, status, response.text[:80]))
    assert wrong == []
