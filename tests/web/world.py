"""The scene the access and CSRF sweeps play on: every web route, and a fresh org A with
everything a route's path may name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.web.conftest import Browser, Web

__all__ = ["SKIPPED", "World", "web_routes", "world"]

SKIPPED = ("/api", "/health", "/static")  # the API's matrix covers /api and /health


def web_routes(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path) of the app outside the API and the static files."""
    return {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute) and not route.path_format.startswith(SKIPPED)
        for handler in route.route_handlers
        for method in handler.http_methods
        if method not in ("HEAD", "OPTIONS")
    }


@dataclass
class World:
    values: dict[str, str]
    callers: dict[str, Browser]


async def world(web: Web, users: dict[str, Any]) -> World:
    """A fresh org A (a project, a secret, an invitation, a token, a device code, the
    members "member" and "admin", and "removed", who was removed from it), fresh
    sessions for every user, and the values each path parameter of a web route may take.
    A route with a new path parameter adds its value here."""
    callers = {who: await web.signed_in(user) for who, user in users.items()}
    admin = callers["admin"].actor
    org = await web.services.catalog.create_org("A", admin)
    for who in ("member", "removed"):
        _, invite = await web.services.access.create_invitation(org.id, admin)
        await web.services.access.accept_invitation(invite, callers[who].actor)
    removed_id = callers["removed"].actor.id
    [gone] = [
        m for m in await web.services.access.members(org.id, admin) if m.user_id == removed_id
    ]
    await web.services.access.remove_member(org.id, gone.id, admin)
    project = await web.services.catalog.create_project(org.id, "App", admin)
    [dev, *_] = await web.services.catalog.environments(project.id)
    await web.services.secrets.set(dev.id, {"EXISTING": "value"}, admin)
    invitation, invite = await web.services.access.create_invitation(org.id, admin)
    member_id = callers["member"].actor.id
    [membership] = [
        m for m in await web.services.access.members(org.id, admin) if m.user_id == member_id
    ]
    code = await web.services.device.request("sigillo-cli", "", ip_address="127.0.0.1")
    token_row, key = await web.services.access.create_token(project.id, admin, name="ci")
    token_caller = web.browser(Authorization=f"Bearer {key}")
    spare = await web.signed_in(users["admin"])  # a session of the admin's no caller uses
    spare_session = await web.services.accounts.authenticate(spare.token or "")
    assert spare_session is not None
    log = await web.services.audit.environment_log(dev, secrets_only=True)
    [set_event] = [e for e in log.events if e.type == "secret.set"]
    values = {
        "org_id": org.id,
        "project_id": project.id,
        "env_slug": dev.slug,
        "token": invite,
        "code": code.user_code,
        "provider": "test",  # a single sign-on provider's name (none is configured)
        "name": "EXISTING",
        "position": str(set_event.position),
        # Names other tabs' paths may use:
        "environment_id": dev.id,
        "env_id": dev.id,
        "token_id": token_row.id,
        "membership_id": membership.id,
        "invitation_id": invitation.id,
        "session_id": spare_session[0].id,
    }
    return World(values, {"anonymous": web.browser(), "api_token": token_caller, **callers})
