"""ASGI middleware: each HTTP request gets its own record of how its session was signed
in (sigillo.services.signed_in), which org sign-in policies are checked against."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from sigillo.services.signed_in import request_scope

__all__ = ["SignInScope"]


class SignInScope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with request_scope():
            await self.app(scope, receive, send)
