"""Who is calling: a signed-in user (session token) or an API token (`sig_…`).

`Authorization: Bearer <token>`; a bearer that starts with `sig_` is an API token and never
falls back to session handling (behaviour.md 5.2). API tokens reach only the secrets
routes: every other route takes `session_principal`, where a token is a 401. Nothing is
cached: each request checks the session, the token and (in services) the membership
against the database, so revocations take effect on the very next request [D4].
"""

from __future__ import annotations

import msgspec
from litestar import Request
from litestar.di import NamedDependency

from sigillo.domain.errors import Unauthorized
from sigillo.domain.events import Actor
from sigillo.domain.projections.rows import ApiTokenRow, UserRow
from sigillo.services.container import Services

__all__ = ["Principal", "bearer", "principal", "session_principal"]

UNAUTHORIZED = "unauthorized"


class Principal(msgspec.Struct, frozen=True):
    actor: Actor
    user: UserRow | None = None
    token: ApiTokenRow | None = None


def bearer(request: Request) -> str | None:  # type: ignore[type-arg]
    header = request.headers.get("authorization", "")
    return header[len("Bearer ") :] if header.startswith("Bearer ") else None


async def principal(request: Request, services: NamedDependency[Services]) -> Principal:  # type: ignore[type-arg]
    """A session's user or an API token: for the secrets routes."""
    credential = bearer(request)
    if credential is None:
        raise Unauthorized(UNAUTHORIZED)
    if credential.startswith("sig_"):
        token = await services.access.authenticate_token(credential)
        if token is None:
            raise Unauthorized(UNAUTHORIZED)
        return Principal(Actor("token", token.id), token=token)
    return await _session(credential, services)


async def session_principal(request: Request, services: NamedDependency[Services]) -> Principal:  # type: ignore[type-arg]
    """A signed-in user; API tokens are refused here (they reach only the secrets routes)."""
    credential = bearer(request)
    if credential is None or credential.startswith("sig_"):
        raise Unauthorized(UNAUTHORIZED)
    return await _session(credential, services)


async def _session(credential: str, services: Services) -> Principal:
    found = await services.accounts.authenticate(credential)
    if found is None:
        raise Unauthorized(UNAUTHORIZED)
    _, user = found
    return Principal(Actor("user", user.id), user=user)
