"""Rate limits for the endpoints that guess or mint credentials (security.md promise 9):
sign-in, sign-up and the device flow. A handler names its limit in `opt["rate_limit"]`;
the app-wide guard counts the request against the client's address and refuses it with
429 and `Retry-After` once the budget is spent.

The client is the TCP peer. `X-Forwarded-For` is believed only when the peer is one of
`SIGILLO_TRUSTED_PROXIES`; then the client is the right-most address that is not a
trusted proxy, which a client cannot forge by sending its own header. Budgets are kept
in memory: each server replica limits on its own, so N replicas allow N times the rate.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler

from sigillo import metrics
from sigillo.http.credentials import credential

__all__ = ["LIMITS", "Budget", "RateLimits", "client_address", "client_ip", "rate_limited"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Budget:
    requests: int
    per_seconds: float


LIMITS: Mapping[str, Budget] = {
    "sign-in": Budget(10, 60),
    "sign-up": Budget(5, 60),
    "device-code": Budget(10, 60),
    "device-token": Budget(60, 60),  # a CLI polls every 5 s: 12 a minute per login
    # Looking up, approving or denying a user code: a person types a few; a guesser many.
    "device-verify": Budget(20, 60),
}
MAX_KEYS = 100_000  # the oldest clients are forgotten first, so memory stays bounded


class RateLimits:
    """Token buckets per (limit, client): `requests` at once, refilled evenly over
    `per_seconds`."""

    def __init__(
        self,
        trusted_proxies: Iterable[str] = (),
        *,
        limits: Mapping[str, Budget] = LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trusted = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)
        self._limits, self._clock = limits, clock
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def take(self, limit: str, client: str) -> float | None:
        """Spend one request: None if allowed, else the seconds until one is."""
        budget = self._limits[limit]
        rate = budget.requests / budget.per_seconds
        now, key = self._clock(), (limit, client)
        tokens, then = self._buckets.pop(key, (float(budget.requests), now))
        tokens = min(float(budget.requests), tokens + (now - then) * rate)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        return None if allowed else (1 - tokens) / rate


def client_address(
    connection: ASGIConnection[Any, Any, Any, Any], trusted: tuple[Network, ...]
) -> str:
    """The client's address: the peer, or behind trusted proxies the first untrusted hop."""
    peer = connection.client.host if connection.client else ""
    if not _within(peer, trusted):
        return peer
    forwarded = ",".join(connection.headers.getall("x-forwarded-for", []))
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _within(hop, trusted):
            return hop
    return peer


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address a request came from, as sessions and device logins record it and the
    consent screen shows it: behind a trusted proxy the forwarded client, never a hop the
    client could have written itself."""
    limits: RateLimits = connection.app.state.rate_limits
    return client_address(connection, limits.trusted)


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def rate_limited(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The app-wide guard: counts requests to handlers that name a limit. Async although it
    never waits: Litestar runs a synchronous guard in a worker thread, on every request."""
    limit = handler.opt.get("rate_limit")
    if limit is None:
        return
    if "session_principal" in handler.parsed_fn_signature.parameters:
        found = credential(connection)
        if found is None or found[0].startswith("sig_"):
            return  # refused with 401 anyway: only sessions spend a signed-in route's budget
    limits: RateLimits = connection.app.state.rate_limits
    wait = limits.take(limit, client_address(connection, limits.trusted))
    if wait is not None:
        metrics.RATE_LIMIT_REFUSALS.labels(limit).inc()
        raise TooManyRequestsException(
            "too many requests", headers={"Retry-After": str(math.ceil(wait))}
        )
