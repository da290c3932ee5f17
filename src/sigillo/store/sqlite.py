"""SQLite, the embedded default: one writer connection, a few readers, WAL and synchronous=FULL.

In-process writers queue on a lock before BEGIN IMMEDIATE, so SQLite's busy handler only
arbitrates between processes; a lock that outlasts the busy timeout becomes
StorageUnavailable ("try again"), never "database is locked" at a caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from sigillo.domain.errors import Conflict, StorageUnavailable
from sigillo.store.database import HEALTH_READ, HEALTH_WRITE

log = logging.getLogger("sigillo.store")

__all__ = ["SqliteDatabase", "create_private"]

BUSY_TIMEOUT_MS = 30_000
READERS = 4


@functools.lru_cache(maxsize=512)
def _sql(statement: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", statement)


DISK_FULL = "the server's disk is full"
_FULL_LOG_EVERY = 60.0  # seconds: the log says it once a minute while it lasts, not per write
_full_logged_at: float | None = None


def _disk_full() -> None:
    global _full_logged_at
    now = time.monotonic()
    if _full_logged_at is None or now - _full_logged_at >= _FULL_LOG_EVERY:
        _full_logged_at = now
        log.error(
            "the disk holding the SQLite database is full: writes answer 503 and readiness "
            "fails until space is freed; reads still work"
        )


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError:
        raise Conflict("the write collides with stored data (a duplicate id)") from None
    except sqlite3.OperationalError as error:
        text = str(error)
        if "locked" in text or "busy" in text:
            raise StorageUnavailable("the database is busy; try again") from None
        if "disk is full" in text:  # SQLITE_FULL: nothing was written, the write may retry
            _disk_full()
            raise StorageUnavailable(DISK_FULL) from None
        if "unable to open" in text or "disk I/O" in text or "readonly" in text:
            raise StorageUnavailable("the database file cannot be opened or written") from None
        raise


class _Transaction:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)  # fetching steps the statement to its end and releases it

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _translated_errors():
            await self._connection.executemany(_sql(sql), rows)

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with _translated_errors():
            return [tuple(row) for row in await self._connection.execute_fetchall(_sql(sql), args)]


class SqliteDatabase:
    """`timeout` bounds the waits while serving: for a reader, for the writer slot in this
    process and for another process's lock (SQLite's busy timeout); past it the operation
    fails with StorageUnavailable. None (admin tasks) waits up to BUSY_TIMEOUT_MS for a
    lock and as long as it takes for the rest."""

    def __init__(
        self, path: str, writer: aiosqlite.Connection, timeout: float | None = None
    ) -> None:
        self.path = path
        self._writer = writer
        self._timeout = timeout
        self._write_lock = asyncio.Lock()
        self._dirty = False  # a writer may have left the connection inside a transaction
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._opened: list[aiosqlite.Connection] = [writer]

    @classmethod
    async def open(cls, path: str, operation_timeout: float | None = None) -> SqliteDatabase:
        timeout = operation_timeout
        create_private(Path(path))
        busy_ms = BUSY_TIMEOUT_MS if timeout is None else max(1, int(timeout * 1000))
        writer = await _connect(path, busy_ms)
        await _Transaction(writer).execute("PRAGMA journal_mode = WAL")
        database = cls(path, writer, timeout)
        for _ in range(READERS):
            reader = await _connect(path, busy_ms)
            database._opened.append(reader)
            database._readers.put_nowait(reader)
        return database

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        async with self._waiting():
            reader = await self._readers.get()
        try:
            return await _Transaction(reader).fetch(sql, *args)
        finally:
            self._readers.put_nowait(reader)

    @asynccontextmanager
    async def _waiting(self) -> AsyncIterator[None]:
        """Wait for a connection of this process, within the timeout."""
        try:
            async with asyncio.timeout(self._timeout):
                yield
        except TimeoutError:
            raise StorageUnavailable("the database is busy; try again") from None

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[_Transaction]:
        """BEGIN IMMEDIATE … COMMIT on the one writer connection.

        A caller cancelled mid-statement leaves that statement queued in aiosqlite's
        thread, where it still runs (a BEGIN, say). The thread runs its queue in order, so
        a ROLLBACK issued while still holding the lock lands after it; if even that is
        interrupted, the connection stays marked dirty and the next writer rolls back
        first. Either way no writer ever starts inside another's transaction.
        """
        async with self._waiting():
            await self._write_lock.acquire()
        try:
            tx = _Transaction(self._writer)
            if self._dirty:
                await self._rollback()
            self._dirty = True
            try:
                await tx.execute("BEGIN IMMEDIATE")
                yield tx
                await tx.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
            self._dirty = False
        finally:
            self._write_lock.release()

    async def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.OperationalError):  # "no transaction is active"
            await self._writer.execute_fetchall("ROLLBACK")
        self._dirty = False

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def probe(self, seconds: float) -> None:
        """Readiness: a read on a reader, then BEGIN IMMEDIATE, one upsert, COMMIT on the
        writer (SQLite has one writer, so the write takes the writer slot, for one
        statement). Waiting for a reader or for the slot ends at the deadline; a statement
        already in SQLite's thread cannot be stopped, and the caller stops waiting for it
        instead (sigillo.services.health)."""
        try:
            async with asyncio.timeout(seconds):
                await self.fetch(HEALTH_READ)
                async with self.writing() as tx:
                    await tx.execute(HEALTH_WRITE, int(time.time() * 1000))
        except TimeoutError:
            raise StorageUnavailable(f"the database did not answer within {seconds:g} s") from None
        except sqlite3.Error as error:
            raise StorageUnavailable(f"the database check failed ({error})") from None

    async def close(self) -> None:
        for connection in self._opened:
            await connection.close()
        self._opened.clear()

    def pool_use(self) -> dict[str, int]:
        """For metrics, read when scraped (sigillo.metrics): readers in use and idle, and
        whether the one writer is held."""
        readers = max(len(self._opened) - 1, 0)
        idle = min(self._readers.qsize(), readers)
        busy = int(self._write_lock.locked())
        return {"in_use": readers - idle, "idle": idle, "max": READERS, "writer_busy": busy}


def create_private(path: Path) -> None:
    """The database holds ciphertexts and the audit trail: only its owner may read it.
    SQLite gives the -wal and -shm files the permissions of the database file.

    An existing file is not opened at all: closing any descriptor of a file drops every
    POSIX lock this process holds on it, SQLite's included. A server that lost its lock
    lets another process (`sigillo admin …`) believe it is the last one on the database,
    which then checkpoints and resets the WAL under the server's readers ("database disk
    image is malformed" on their next read)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        raise StorageUnavailable(
            f"cannot create the database file {path}: {error.strerror}"
        ) from None


async def _connect(path: str, busy_ms: int) -> aiosqlite.Connection:
    try:
        connection = await aiosqlite.connect(path, timeout=busy_ms / 1000, isolation_level=None)
    except sqlite3.Error as error:
        raise StorageUnavailable(f"the database file {path} cannot be opened ({error})") from None
    tx = _Transaction(connection)
    await tx.execute(f"PRAGMA busy_timeout = {busy_ms}")
    await tx.execute("PRAGMA synchronous = FULL")
    await tx.execute("PRAGMA foreign_keys = ON")
    return connection
