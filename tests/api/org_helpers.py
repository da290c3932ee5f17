"""Setup shared by the members, invitations and sign-up API tests: an org with a project,
made over REST by its admin, and users who join it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from sigillo.domain.events import Actor
from tests.api.conftest import Api

__all__ = [
    "ADMIN_REQUIRED",
    "FORBIDDEN",
    "INVITATION_GONE",
    "LAST_ADMIN",
    "UNAUTHORIZED",
    "V0",
    "Org",
    "join",
    "ok",
    "org",
    "send",
]

V0 = "/api/v0"
FORBIDDEN = {"error": "forbidden"}
ADMIN_REQUIRED = {"error": "admin role required"}
UNAUTHORIZED = {"error": "unauthorized"}
LAST_ADMIN = {"error": "This organization needs at least one admin"}
INVITATION_GONE = {"error": "invitation not found or expired"}


@dataclass
class Org:
    """Org "Acme Corp" with project "My App", made by `admin` (user "Ada")."""

    id: str
    project: str
    admin: dict[str, str]
    admin_actor: Actor
    admin_membership: str

    @property
    def members(self) -> str:
        return f"/orgs/{self.id}/members"

    @property
    def invitations(self) -> str:
        return f"/orgs/{self.id}/invitations"


async def send(
    api: Api, method: str, path: str, headers: dict[str, str] | None, body: Any = None
) -> httpx.Response:
    """A request under /api/v0 (or at `path` itself when it starts with /api/auth)."""
    url = path if path.startswith("/api/auth") else V0 + path
    response: httpx.Response
    if isinstance(body, bytes):
        headers = {**(headers or {}), "Content-Type": "application/json"}
        response = await api.call(method, url, headers, content=body)
    elif body is None:
        response = await api.call(method, url, headers)
    else:
        response = await api.call(method, url, headers, json=body)
    return response


async def ok(api: Api, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    response = await send(api, method, path, headers, body)
    assert response.status_code == 200, (method, path, response.text)
    return response.json()


async def org(api: Api, name: str = "Ada", email: str | None = None) -> Org:
    admin = await api.user(name, email=email)
    org_id = (await ok(api, "POST", "/orgs", admin, {"name": "Acme Corp"}))["id"]
    body = {"name": "My App", "orgId": org_id}
    project = (await ok(api, "POST", "/projects", admin, body))["id"]
    me = await ok(api, "GET", "/me", admin)
    [membership] = (await ok(api, "GET", f"/orgs/{org_id}/members", admin))["members"]
    return Org(org_id, project, admin, Actor("user", me["user"]["id"]), membership["id"])


async def join(
    api: Api, made: Org, name: str = "Mo", *, role: str = "member"
) -> tuple[dict[str, str], str]:
    """A new user who joins the org through an invite link made and accepted over REST
    (links admit members: an admin is promoted after joining): their headers and
    membership id."""
    headers = await api.user(name)
    invite = await ok(api, "POST", made.invitations, made.admin, {})
    accepted = await ok(api, "POST", f"/invitations/{invite['token']}/accept", headers)
    if role != "member":
        path = f"{made.members}/{accepted['id']}"
        await ok(api, "PATCH", path, made.admin, {"role": role})
    return headers, accepted["id"]
