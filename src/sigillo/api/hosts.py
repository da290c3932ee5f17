"""Allowed hosts: a request naming any other `Host` is refused before routing
(security.md promise 9), which defeats DNS rebinding against a server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterable

from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Receive, Scope, Send

from sigillo.settings import Settings

__all__ = ["WILDCARD_BINDS", "AllowedHosts", "allowed_hosts"]

LOOPBACK = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (recognised, not bound)
REFUSED = json.dumps({"error": "host not allowed"}).encode()


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The configured names, else loopback plus the bound address and the public URL's host.
    `*` allows any host; `*.example.com` any subdomain of example.com."""
    if settings.allowed_hosts:
        return frozenset(host.lower() for host in settings.allowed_hosts)
    names = set(LOOPBACK)
    if settings.host not in WILDCARD_BINDS:
        names.add(settings.host.lower())
    if settings.public_url:
        names.add(_name(settings.public_url.split("://", 1)[-1].split("/", 1)[0]))
    return frozenset(names)


def _name(host_header: str) -> str:
    """The host name of a `Host` header: no port, no IPv6 brackets, lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _allowed(name: str, hosts: Iterable[str]) -> bool:
    return any(
        pattern == "*"
        or name == pattern
        or (pattern.startswith("*.") and name.endswith(pattern[1:]))
        for pattern in hosts
    )


class AllowedHosts:
    """ASGI middleware: 400 `{"error": "host not allowed"}` for other hosts."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers", []))
            name = _name(headers.get(b"host", b"").decode("latin-1"))
            if not _allowed(name, self.hosts):
                refusal = ASGIResponse(
                    body=REFUSED,
                    status_code=400,
                    media_type="application/json",
                    headers={"cache-control": "no-store"},
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
