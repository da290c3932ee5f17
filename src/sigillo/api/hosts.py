"""Allowed hosts: a request naming any other `Host` is refused before routing
(security.md promise 9), which defeats DNS rebinding against a server on loopback.

The header is parsed strictly before it is compared (issue 13, finding 6): a host is a DNS
name, a dotted IPv4 address or a bracketed IPv6 address, optionally followed by `:` and a
port of 1-5 digits in 1-65535; anything else (`127.0.0.1:80@evil.example`, white space, an
empty port, two `Host` headers) is refused with 400 too. So every URL the server builds from
the request's origin (device `verification_uri`, invite links) names an allowed host.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable

from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Receive, Scope, Send

from sigillo.settings import Settings

__all__ = ["WILDCARD_BINDS", "AllowedHosts", "allowed_hosts", "parse_host"]

LOOPBACK = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (recognised, not bound)
REFUSED = json.dumps({"error": "host not allowed"}).encode()

_NAME_OR_V4 = re.compile(r"([a-z0-9_.-]{1,254})(?::([0-9]{1,5}))?")
_BRACKETED = re.compile(r"\[([0-9a-f:.]{2,45})\](?::([0-9]{1,5}))?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


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


def parse_host(header: str) -> tuple[str, int | None] | None:
    """A `Host` header as (name, port): the name lower case, without IPv6 brackets or one
    trailing dot; None unless the whole header is a DNS name, an IPv4 address or a bracketed
    IPv6 address, with an optional port in 1-65535."""
    text = header.lower()
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        name, port = bracketed[1], bracketed[2]
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
    else:
        plain = _NAME_OR_V4.fullmatch(text)
        if plain is None:
            return None
        name, port = plain[1].removesuffix("."), plain[2]
        if not _dns_name_or_ipv4(name):
            return None
    number = int(port) if port is not None else None
    if number is not None and not 1 <= number <= 65535:
        return None
    return name, number


def _dns_name_or_ipv4(name: str) -> bool:
    labels = name.split(".")
    if all(label.isdigit() for label in labels):  # numeric: a dotted IPv4 address or nothing
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return False
        return True
    return len(name) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def _name(host_header: str) -> str:
    """The host name of a configured origin (the public URL's), leniently: no port, no IPv6
    brackets, lower case."""
    parsed = parse_host(host_header.strip())
    if parsed is not None:
        return parsed[0]
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
    """ASGI middleware: 400 `{"error": "host not allowed"}` for other hosts, and for a
    missing, repeated or malformed `Host` header."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            hosts = [value for key, value in scope.get("headers", []) if key == b"host"]
            parsed = parse_host(hosts[0].decode("latin-1")) if len(hosts) == 1 else None
            if parsed is None or not _allowed(parsed[0], self.hosts):
                refusal = ASGIResponse(
                    body=REFUSED,
                    status_code=400,
                    media_type="application/json",
                    headers={"cache-control": "no-store"},
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
