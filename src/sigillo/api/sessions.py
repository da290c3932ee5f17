"""Signing in and out with a local account [D17]."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from sigillo.api.auth import bearer
from sigillo.services.container import Services

__all__ = ["sign_in", "sign_out"]


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str = msgspec.field()
    password: str = msgspec.field()


def _client(request: Request) -> tuple[str, str]:  # type: ignore[type-arg]
    host = request.client.host if request.client else ""
    return host, request.headers.get("user-agent", "")


@post("/api/auth/sign-in/email", operation_id="signIn", summary="Sign in with email and password")
async def sign_in(
    request: Request,  # type: ignore[type-arg]
    data: JSONBody[SignIn],
    services: NamedDependency[Services],
) -> Response[dict[str, Any]]:
    """Answers `{"token", "user"}`; the token works as `Authorization: Bearer`. A wrong
    password and an unknown email get the same 401 after the same work."""
    ip_address, user_agent = _client(request)
    token, _, user = await services.accounts.sign_in(
        data.email,
        data.password,
        ip_address=ip_address,
        user_agent=user_agent,
        previous_token=bearer(request),
    )
    body = {"token": token, "user": {"id": user.id, "name": user.name, "email": user.email}}
    return Response(body, status_code=200, headers={"Cache-Control": "no-store"})


@post("/api/auth/sign-out", operation_id="signOut", summary="End this session", status_code=200)
async def sign_out(request: Request, services: NamedDependency[Services]) -> dict[str, bool]:  # type: ignore[type-arg]
    credential = bearer(request)
    if credential is not None and not credential.startswith("sig_"):
        await services.accounts.sign_out(credential)
    return {"ok": True}
