"""Who is calling: a signed-in user (session token) or an API token (`sig_…`).

A session token arrives as `Authorization: Bearer <token>` or as the session cookie; an
API token only as a bearer. A bearer that starts with `sig_` is an API token and never
falls back to session handling (behaviour.md 5.2). API tokens reach only the secrets
routes: every other route takes `session_principal`, where a token is a 401.

A cookie is sent by the browser on its own, so an unsafe request authenticated by the
cookie must also carry `X-CSRF-Token`, a value only pages of this origin can know
(security.md promise 9). A bearer header is never sent by a browser on its own and needs
no such token. Nothing is cached: each request checks the session, the token and (in
services) the membership against the database, so revocations take effect on the very
next request [D4].
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Literal

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency

from sigillo.domain.errors import Forbidden, Unauthorized
from sigillo.domain.events import Actor
from sigillo.domain.projections.rows import ApiTokenRow, UserRow
from sigillo.services.container import Services

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIES",
    "Principal",
    "bearer",
    "credential",
    "csrf_token",
    "principal",
    "session_principal",
]

UNAUTHORIZED = "unauthorized"
CSRF_HEADER = "X-CSRF-Token"
CSRF_REFUSED = "csrf token missing or invalid"
# `__Host-` when served over HTTPS (the browser then pins it to this origin), else plain.
SESSION_COOKIES = ("__Host-sigillo_session", "sigillo_session")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Principal(msgspec.Struct, frozen=True):
    actor: Actor
    user: UserRow | None = None
    token: ApiTokenRow | None = None


def bearer(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    return header[len("Bearer ") :] if header.startswith("Bearer ") else None


def credential(
    request: ASGIConnection[Any, Any, Any, Any],
) -> tuple[str, Literal["bearer", "cookie"]] | None:
    """The caller's credential and how it came; the Authorization header wins."""
    token = bearer(request)
    if token is not None:
        return token, "bearer"
    cookie = next((request.cookies[n] for n in SESSION_COOKIES if request.cookies.get(n)), None)
    return (cookie, "cookie") if cookie else None


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from the session token, which a cross-site
    page cannot read, and revealing nothing about it (SHA-256 is one-way)."""
    digest = hashlib.sha256(b"sigillo-csrf\0" + session_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_csrf(request: ASGIConnection[Any, Any, Any, Any], session_token: str) -> None:
    """Refuse an unsafe cookie-authenticated request without the session's CSRF token."""
    if request.scope.get("method", "GET") in SAFE_METHODS:
        return
    presented = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(presented.encode(), csrf_token(session_token).encode()):
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
