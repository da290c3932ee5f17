"""Who is calling: a signed-in user (session token) or an API token (`sig_…`).

A session token arrives as `Authorization: Bearer <token>` or as the session cookie (under
the one name this server sets, sigillo.http.credentials); an API token only as a bearer. A
bearer that starts with `sig_` is an API token and never falls back to session handling
(behaviour.md 5.2). API tokens reach only the secrets
routes: every other route takes `session_principal`, where a token is a 401.

A cookie is sent by the browser on its own, so an unsafe request authenticated by the
cookie must also carry `X-CSRF-Token`, a value only pages of this origin can know
(security.md promise 9). A bearer header is never sent by a browser on its own and needs
no such token. Nothing is cached: each request checks the session, the token and (in
services) the membership against the database, so revocations take effect on the very
next request [D4].

The credential and CSRF helpers live in sigillo.http, shared with the dashboard.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency

from sigillo.domain.errors import Forbidden, Unauthorized
from sigillo.domain.events import Actor
from sigillo.domain.projections.rows import ApiTokenRow, UserRow
from sigillo.http.credentials import credential
from sigillo.http.csrf import CSRF_HEADER, csrf_matches
from sigillo.services.container import Services

__all__ = ["Principal", "principal", "session_principal"]

UNAUTHORIZED = "unauthorized"
CSRF_REFUSED = "csrf token missing or invalid"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Principal(msgspec.Struct, frozen=True):
    actor: Actor
    user: UserRow | None = None
    token: ApiTokenRow | None = None


def check_csrf(request: ASGIConnection[Any, Any, Any, Any], session_token: str) -> None:
    """Refuse an unsafe cookie-authenticated request without the session's CSRF token."""
    if request.scope.get("method", "GET") in SAFE_METHODS:
        return
    if not csrf_matches(request.headers.get(CSRF_HEADER), session_token):
        raise Forbidden(CSRF_REFUSED)


async def principal(request: Request, services: NamedDependency[Services]) -> Principal:  # type: ignore[type-arg]
    """A session's user or an API token: for the secrets routes."""
    found = credential(request)
    if found is None:
        raise Unauthorized(UNAUTHORIZED)
    token, how = found
    if how == "bearer" and token.startswith("sig_"):
        api_token = await services.access.authenticate_token(token)
        if api_token is None:
            raise Unauthorized(UNAUTHORIZED)
        return Principal(Actor("token", api_token.id), token=api_token)
    return await _session(request, token, how, services)


async def session_principal(request: Request, services: NamedDependency[Services]) -> Principal:  # type: ignore[type-arg]
    """A signed-in user; API tokens are refused here (they reach only the secrets routes)."""
    found = credential(request)
    if found is None or found[0].startswith("sig_"):
        raise Unauthorized(UNAUTHORIZED)
    return await _session(request, *found, services)


async def _session(
    request: ASGIConnection[Any, Any, Any, Any],
    token: str,
    how: Literal["bearer", "cookie"],
    services: Services,
) -> Principal:
    found = await services.accounts.authenticate(token)
    if found is None:
        raise Unauthorized(UNAUTHORIZED)
    if how == "cookie":
        check_csrf(request, token)
    _, user = found
    return Principal(Actor("user", user.id), user=user)
