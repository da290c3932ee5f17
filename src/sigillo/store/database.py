"""The two databases behind one small interface: read, or write inside the one writer slot.

Every write transaction is serialized across the whole deployment (BEGIN IMMEDIATE on
SQLite, a transaction-scoped advisory lock on PostgreSQL). That is what makes global
positions gap-free for readers: no event can commit behind one already visible.
SQL is written once with PostgreSQL's `$n` placeholders; SQLite gets them as `?n`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sigillo.domain.errors import StartupError

__all__ = [
    "HEALTH_READ",
    "HEALTH_WRITE",
    "Database",
    "Transaction",
    "open_database",
    "sqlite_path",
    "wait_for_database",
]

# Readiness (`probe`): read the one row of health_checks, then write it: a write the
# database must put on disk (WAL), refused by a read-only or full one.
HEALTH_READ = "SELECT checked_at FROM health_checks WHERE id = 1"
HEALTH_WRITE = (
    "INSERT INTO health_checks (id, checked_at) VALUES (1, $1) "
    "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
)
# Start-up: the first retry waits this long, each next one twice as long, up to the cap.
FIRST_RETRY = 0.5
MAX_RETRY = 8.0

_log = logging.getLogger("sigillo.store")


class Transaction(Protocol):
    async def execute(self, sql: str, *args: Any) -> None: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]: ...


class Database(Protocol):
    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]: ...

    def writing(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction holding the deployment-wide writer slot; commits on success."""
        ...

    async def ping(self) -> None: ...

    async def probe(self, seconds: float) -> None:
        """Readiness: HEALTH_READ, then HEALTH_WRITE, within `seconds`; else
        StorageUnavailable saying what failed. Holds the writer slot (if it takes it) only
        for the one write."""
        ...

    async def close(self) -> None: ...


def sqlite_path(url: str) -> str | None:
    """`sqlite:///relative.db` or `sqlite:////absolute/path.db`, as in SQLAlchemy."""
    if not url.startswith("sqlite:"):
        return None
    if not url.startswith("sqlite:///") or url == "sqlite:///":
        raise StartupError("SQLite URLs look like sqlite:////absolute/path/sigillo.db")
    return url.removeprefix("sqlite:///")


async def open_database(url: str, *, operation_timeout: float | None = None) -> Database:
    """The database at `url`. `operation_timeout` (seconds) bounds each operation while serving
    (Settings.database_timeout); admin tasks, whose statements may run long, pass none."""
    path = sqlite_path(url)
    if path is not None:
        from sigillo.store.sqlite import SqliteDatabase

        return await SqliteDatabase.open(path, operation_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from sigillo.store.postgres import PostgresDatabase

        return await PostgresDatabase.open(url, operation_timeout)
    raise StartupError("the database URL must start with sqlite:/// or postgresql://")


async def wait_for_database(url: str, seconds: float) -> None:
    """Start-up: wait until PostgreSQL accepts a connection, for up to `seconds` seconds.

    Each failed attempt is logged in one line (which host and port, what failed, never the
    URL's password) and retried after 0.5 s, 1 s, 2 s … (at most 8 s between attempts);
    once `seconds` has passed (0: a single attempt), or when the server's own answer
    says retrying cannot help (authentication, a missing database), StartupError says
    which host and what failed. SQLite needs no waiting: opening it fails at once, and
    says why (sigillo.store.sqlite).
    """
    if sqlite_path(url) is not None:
        return
    if not url.startswith(("postgresql://", "postgres://")):
        raise StartupError("the database URL must start with sqlite:/// or postgresql://")
    from sigillo.store.postgres import CONNECT_TIMEOUT, connect_problem, describe_target

    started = time.monotonic()
    deadline = started + max(0.0, seconds)
    delay = FIRST_RETRY
    attempt = 0
    while True:
        attempt += 1
        left = deadline - time.monotonic()
        # an attempt may take CONNECT_TIMEOUT, or what is left of `seconds` (1 s at least)
        patience = min(CONNECT_TIMEOUT, max(left, 1.0)) if seconds > 0 else CONNECT_TIMEOUT
        problem = await connect_problem(url, patience)
        if problem is None:
            if attempt > 1:
                _log.warning(
                    "PostgreSQL at %s answered (attempt %d)", describe_target(url), attempt
                )
            return
        left = deadline - time.monotonic()
        if problem.lasting or left <= 0:
            tried = (
                f" (gave up after {attempt} attempts in {time.monotonic() - started:.0f} s)"
                if attempt > 1
                else ""
            )
            raise StartupError(f"{problem.say(url)}{tried}")
        pause = min(delay, left)
        _log.warning("%s; attempt %d, retrying in %.1f s", problem.say(url), attempt, pause)
        await asyncio.sleep(pause)
        delay = min(delay * 2, MAX_RETRY)
