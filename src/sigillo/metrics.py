"""Prometheus metrics: every metric object, their registry, and the listener that serves them.

Off by default. `SIGILLO_METRICS_ADDRESS=host:port` (or `sigillo server --metrics-address`)
serves the Prometheus text format at `/metrics` on a listener of its own, never on the
public port. The registry is this module's, not prometheus_client's global one.

Labels hold fixed words only: a route's template (never the path as sent, which can carry
an invite or setup token), a method, a status, a read's `how`, a limit's name, a reason. No
secret name or value, email or token is ever a label. The adapters count (http/, api/,
web/, store/); services/ and domain/ never import this module (an import-linter contract).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sigillo.domain.errors import StartupError, TooManyAttempts

__all__ = [
    "APPENDS",
    "DATABASE_ERRORS",
    "RATE_LIMIT_REFUSALS",
    "REGISTRY",
    "REQUESTS",
    "REQUEST_SECONDS",
    "SECRET_READS",
    "SECRET_VALUES_READ",
    "SIGN_IN_FAILURES",
    "MetricsListener",
    "count_request",
    "database_error",
    "parse_address",
    "sign_in_failed",
    "start",
    "watch_database",
]

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

REQUESTS = Counter(
    "sigillo_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "sigillo_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "sigillo_database_errors",
    "Requests answered 503 because the database was unavailable, by reason",
    ["reason"],
    registry=REGISTRY,
)
APPENDS = Histogram(
    "sigillo_event_append_seconds",
    "Time of each committed append to the event log, waiting for the writer slot included",
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SECRET_READS = Counter(
    "sigillo_secret_reads",
    "Audited reads of secret values (secrets.read events committed), by how they were read "
    "(get, download, reveal, run, compare)",
    ["how"],
    registry=REGISTRY,
)
SECRET_VALUES_READ = Counter(
    "sigillo_secret_values_read",
    "Secret values named by the committed reads, by how they were read",
    ["how"],
    registry=REGISTRY,
)
SIGN_IN_FAILURES = Counter(
    "sigillo_sign_in_failures",
    "Refused sign-ins: invalid_credentials (an unknown email or a wrong password, alike by "
    "design) or backing_off (the account's attempts are backing off)",
    ["reason"],
    registry=REGISTRY,
)
RATE_LIMIT_REFUSALS = Counter(
    "sigillo_rate_limit_refusals",
    "Requests refused with 429 by a per-client rate limit, by the limit's name",
    ["limit"],
    registry=REGISTRY,
)

_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered request. `route` is the matched template, or `-`; any other method than
    the usual ones counts as `other`, so a client cannot make up label values."""
    method = method if method in _METHODS else "other"
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def sign_in_failed(error: BaseException) -> None:
    """A refused sign-in (API or dashboard): backing off, or invalid credentials (the
    service refuses an unknown email and a wrong password alike, and so do the metrics)."""
    reason = "backing_off" if isinstance(error, TooManyAttempts) else "invalid_credentials"
    SIGN_IN_FAILURES.labels(reason).inc()


# A StorageUnavailable's message, by its words, as a fixed reason (first match wins).
_REASONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("disk_full", ("disk is full",)),
    ("busy", ("busy",)),
    ("timeout", ("within", "timed out", "timeout")),
    ("read_only", ("read-only", "readonly")),
    ("unreachable", ("cannot be reached", "unreachable")),
)


def database_error(error: BaseException) -> None:
    """A request answered 503 for this StorageUnavailable. Its message is reduced to one of
    a few fixed reasons (else `unavailable`); the message itself is never a label."""
    text = str(error).lower()
    reason = next(
        (name for name, words in _REASONS if any(word in text for word in words)), "unavailable"
    )
    DATABASE_ERRORS.labels(reason).inc()


class _DatabasePool(Collector):
    """The database's connections, read when scraped: `pool_use()` of the database the
    server opened last (held weakly: a closed database is not kept alive for metrics)."""

    def __init__(self) -> None:
        self.source: Callable[[], Callable[[], Mapping[str, int]] | None] = lambda: None

    def describe(self) -> list[Any]:
        return list(self._families({}))

    def collect(self) -> Iterator[Any]:
        use = self.source()
        return iter(self._families(use() if use is not None else {}))

    @staticmethod
    def _families(use: Mapping[str, int]) -> list[Any]:
        connections = GaugeMetricFamily(
            "sigillo_database_connections",
            "Pooled database connections by state (SQLite: its readers; the writer is apart)",
            labels=["state"],
        )
        maximum = GaugeMetricFamily(
            "sigillo_database_connections_max", "The most pooled connections the server opens"
        )
        writer = GaugeMetricFamily(
            "sigillo_database_writer_busy",
            "1 while SQLite's one writer connection is in a transaction (SQLite only)",
        )
        if "in_use" in use:
            connections.add_metric(["in_use"], use["in_use"])
            connections.add_metric(["idle"], use.get("idle", 0))
        if "max" in use:
            maximum.add_metric([], use["max"])
        if "writer_busy" in use:
            writer.add_metric([], use["writer_busy"])
        return [connections, maximum, writer]


_POOL = _DatabasePool()
REGISTRY.register(_POOL)


def watch_database(database: object) -> None:
    """Report this database's pool from now on (a database without `pool_use` reports
    nothing)."""
    method = getattr(database, "pool_use", None)
    if callable(method):
        _POOL.source = weakref.WeakMethod(method)


def parse_address(text: str | None, server_port: int) -> tuple[str, int] | None:
    """`host:port` (`[::1]:9464` for IPv6) as (host, port), None when unset; StartupError
    saying what is expected otherwise, or when the port is the server's own."""
    if text is None:
        return None
    expected = (
        f"SIGILLO_METRICS_ADDRESS (--metrics-address) must be host:port, such as "
        f"127.0.0.1:9464 or [::1]:9464, not {text!r}"
    )
    host, colon, port = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:  # an IPv6 address without brackets: where does the port start?
        raise StartupError(expected)
    if not colon or not host or any(c.isspace() or c in "[]/" for c in host):
        raise StartupError(expected)
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise StartupError(expected)
    if int(port) == server_port:
        raise StartupError(
            f"SIGILLO_METRICS_ADDRESS (--metrics-address) needs a port of its own, not the "
            f"server's {server_port}: metrics are never served on the public port"
        )
    return host, int(port)


class MetricsListener:
    """prometheus_client's own HTTP server, in a thread, on the registry above."""

    def __init__(self, server: Any, thread: Any) -> None:
        self._server, self._thread = server, thread
        self.port: int = server.server_port

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start(host: str, port: int) -> MetricsListener:
    """Listen on (host, port) for scrapes; StartupError if the address cannot be bound."""
    try:
        server, thread = start_http_server(port, host, registry=REGISTRY)
    except OSError as error:
        raise StartupError(
            f"cannot listen for metrics on {host}:{port}: {error.strerror or error}"
        ) from None
    return MetricsListener(server, thread)
