"""PostgreSQL, for teams and for several server replicas sharing one database.

Writers take a transaction-scoped advisory lock, so appends from every replica are
serialized and positions stay gap-free; readers never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import asyncpg

from sigillo.domain.errors import Conflict, StartupError, StorageUnavailable
from sigillo.store.database import HEALTH_READ, HEALTH_WRITE
from sigillo.store.outage import Outage

__all__ = [
    "CONNECT_TIMEOUT",
    "ConnectProblem",
    "PostgresDatabase",
    "connect",
    "connect_problem",
    "describe_target",
]

CONNECT_TIMEOUT = 10.0  # seconds one connection attempt may take at start-up

WRITER_LOCK = 0x51611_0  # the advisory lock key every Sigillo writer takes
# The server went away, refuses connections, is shutting down, or killed our session.
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.OperatorInterventionError,  # class 57: admin shutdown, cannot connect now
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # connection closed underneath us
    asyncpg.InternalClientError,  # protocol state broken by a dropped connection
)


# What PostgreSQL is given beyond the client's own limit, so that its statement_timeout
# (a clean error on a connection that stays usable) fires before the client gives up on
# a server that no longer answers at all.
_CLIENT_GRACE = 1.0
# Shutting down: how long in-flight work may take to hand its connections back before
# every connection is cut.
_CLOSE_PATIENCE = 2.0


def _late(seconds: float | None) -> StorageUnavailable:
    within = "in time" if seconds is None else f"within {seconds:g} s"
    return StorageUnavailable(f"the database did not answer {within}; try again")


@contextmanager
def _translated_errors(seconds: float | None) -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise Conflict("the write collides with stored data (a duplicate id)") from None
    except (TimeoutError, asyncpg.QueryCanceledError):  # the client's limit, or the server's
        raise _late(seconds) from None
    except _UNAVAILABLE:
        raise StorageUnavailable("the database cannot be reached; try again") from None


def _broken(error: BaseException) -> bool:
    """After this error the connection cannot be trusted to answer: cut it rather than
    ask it to roll back (PostgreSQL rolls back a transaction whose connection is gone)."""
    return isinstance(error, (TimeoutError, asyncio.CancelledError, *_UNAVAILABLE))


async def _keep(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release (UNLISTEN, RESET ALL, unlock all): Sigillo keeps
    no session state on pooled connections (its writer lock is transaction-scoped), and
    the reset doubled the cost of every read. Open transactions are still rolled back."""


class _Transaction:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *args: Any) -> None:
        await self._connection.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._connection.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self._connection.fetch(sql, *args)]


class PostgresDatabase:
    """`timeout` bounds every operation while serving: opening a pooled connection, waiting
    for a free one, and each statement (on the server as statement_timeout, and on the
    client a moment later, for a server that stopped answering). Past it the operation
    fails with StorageUnavailable, the connection is cut, and the next request starts
    afresh. None (admin tasks, which may run long statements) sets no limit."""

    def __init__(self, pool: asyncpg.Pool, timeout: float | None = None, where: str = "") -> None:
        self._pool = pool
        self._timeout = timeout
        self._outage = Outage(f"PostgreSQL at {where or 'its address'}")

    @classmethod
    async def open(cls, url: str, operation_timeout: float | None = None) -> PostgresDatabase:
        timeout = operation_timeout
        limits: dict[str, Any] = {}
        if timeout is not None:
            limits = {
                "command_timeout": timeout + _CLIENT_GRACE,
                "server_settings": {"statement_timeout": str(int(timeout * 1000))},
            }
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=10,
                reset=_keep,
                timeout=timeout or CONNECT_TIMEOUT,
                **limits,
            )
        except Exception as error:  # each kind described, none re-raised
            raise _startup_error(url, error) from None
        return cls(pool, timeout, describe_target(url))

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        async with self._connection() as connection:
            return [tuple(row) for row in await connection.fetch(sql, *args)]

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[_Transaction]:
        async with self._connection() as connection:
            transaction = connection.transaction()
            await transaction.start()
            try:
                await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
                yield _Transaction(connection)
            except BaseException as error:
                if not _broken(error):  # else _connection cuts the connection
                    await transaction.rollback()
                raise
            await transaction.commit()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection. Any failure to get one (refused, shutting down, database not
        accepting connections, none free in time) means the database is unavailable; once
        connected, only connection-loss errors and timeouts do, and those cut the
        connection, since a reply may still be on its way."""
        with self._watched():
            connection = await self._acquire()
        try:
            with self._watched(), _translated_errors(self._timeout):
                try:
                    yield connection
                except BaseException as error:
                    if _broken(error):
                        connection.terminate()
                    raise
        finally:
            await self._pool.release(connection)

    async def _acquire(self) -> asyncpg.Connection:
        try:
            return await self._pool.acquire(timeout=self._timeout)
        except TimeoutError:
            raise _late(self._timeout) from None
        except (*_UNAVAILABLE, asyncpg.PostgresError):
            raise StorageUnavailable("the database cannot be reached; try again") from None

    @contextmanager
    def _watched(self) -> Iterator[None]:
        """Tell the outage log whether the database did what it was asked."""
        try:
            yield
        except StorageUnavailable as error:
            self._outage.failed(str(error).removesuffix("; try again"))
            raise
        self._outage.answered()

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def probe(self, seconds: float) -> None:
        """Readiness. The write is one statement outside any transaction and without the
        writer lock: it waits for no append (nor a rebuild), and the server commits it
        before answering, so a replica cut off mid-probe leaves no row lock behind. A
        server that stops answering gets its connection closed at the deadline, so no
        probe outlives `seconds` by more than a moment."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        late = StorageUnavailable(f"the database did not answer within {seconds:g} s")
        try:
            connection = await self._pool.acquire(timeout=seconds)
        except TimeoutError:
            raise late from None
        except (*_UNAVAILABLE, asyncpg.PostgresError):
            raise StorageUnavailable("the database cannot be reached") from None
        work = asyncio.ensure_future(_read_then_write(connection))
        try:
            done, _ = await asyncio.wait({work}, timeout=max(0.0, deadline - loop.time()))
            if not done:
                raise late
            try:
                work.result()
            except asyncpg.ReadOnlySQLTransactionError:
                raise StorageUnavailable("the database is read-only") from None
            except _UNAVAILABLE:
                raise StorageUnavailable("the database cannot be reached") from None
            except asyncpg.PostgresError as error:
                raise StorageUnavailable(
                    f"the database refused the write (SQLSTATE {error.sqlstate})"
                ) from None
        finally:
            if not work.done():
                connection.terminate()  # fails the statement in flight at once
                work.add_done_callback(_taken)
            await self._pool.release(connection)

    async def close(self) -> None:
        """Close every connection; past a short wait for work in flight, cut them (a
        database that stopped answering would otherwise hold shutdown forever)."""
        try:
            await asyncio.wait_for(self._pool.close(), _CLOSE_PATIENCE)
        except TimeoutError:
            self._pool.terminate()

    def pool_use(self) -> dict[str, int]:
        """For metrics, read when scraped (sigillo.metrics): the pool's connections."""
        size, idle = self._pool.get_size(), self._pool.get_idle_size()
        return {"in_use": size - idle, "idle": idle, "max": self._pool.get_max_size()}


async def _read_then_write(connection: asyncpg.Connection) -> None:
    await connection.fetch(HEALTH_READ)
    await connection.execute(HEALTH_WRITE, int(time.time() * 1000))


def _taken(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a probe abandoned at its deadline fails quietly


class ConnectProblem(NamedTuple):
    reason: str  # what failed, for people: never the URL, never a password
    lasting: bool  # trying again cannot help
    answered: bool = False  # PostgreSQL itself said no (else it was not reached)

    def say(self, url: str) -> str:
        """The whole message: which server, whether it was reached, what failed."""
        if self.reason == _BAD_URL:
            return _BAD_URL
        verb = "refused the connection" if self.answered else "cannot be reached"
        return f"PostgreSQL at {describe_target(url)} {verb}: {self.reason}"


_BAD_URL = "the PostgreSQL URL is not valid"


def describe_target(url: str) -> str:
    """`host:port` (or several, or a socket directory) of a PostgreSQL URL, without the
    user name and password before `@` or any other query parameter."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    query = parse_qs(parts.query)
    port = (query.get("port") or [os.environ.get("PGPORT") or "5432"])[0]
    if not hosts:
        host = (query.get("host") or [os.environ.get("PGHOST") or "localhost"])[0]
        return host if host.startswith("/") else f"{host}:{port}"
    if "," in hosts or hosts.rsplit("]", 1)[-1].count(":") == 1:
        return hosts  # ports given (or several hosts, each as written)
    return f"{hosts}:{port}"


def _explain(error: BaseException, timeout: float) -> ConnectProblem:
    """What failed when connecting, in words; the server's messages name the user or the
    database, never the password."""
    if isinstance(error, ValueError):  # asyncpg's DSN errors may quote the URL, password and all
        return ConnectProblem(_BAD_URL, lasting=True)
    if isinstance(
        error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return ConnectProblem(f"authentication failed ({error})", lasting=True, answered=True)
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return ConnectProblem(f"the database does not exist ({error})", True, answered=True)
    if isinstance(error, asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError):
        return ConnectProblem(f"it cannot take the connection now ({error})", False, True)
    if isinstance(error, asyncpg.PostgresConnectionError):  # dropped while connecting
        return ConnectProblem(f"the connection failed ({error})", lasting=False)
    if isinstance(error, asyncpg.PostgresError):
        return ConnectProblem(str(error), lasting=True, answered=True)
    if isinstance(error, TimeoutError):
        return ConnectProblem(f"timeout: no answer within {round(timeout, 1):g} s", lasting=False)
    if isinstance(error, socket.gaierror):
        return ConnectProblem("unknown host (the name does not resolve)", lasting=False)
    if isinstance(error, ConnectionRefusedError) or (
        isinstance(error, OSError) and f"[Errno {errno.ECONNREFUSED}]" in str(error)
    ):  # one address refused, or each of several (asyncio joins their messages)
        return ConnectProblem("connection refused (is PostgreSQL listening there?)", False)
    if isinstance(error, ssl.SSLError):
        return ConnectProblem(f"TLS failed ({error.reason or 'handshake'})", lasting=True)
    if isinstance(error, OSError):
        return ConnectProblem(f"network error ({error.strerror or error})", lasting=False)
    if isinstance(error, asyncpg.InterfaceError):
        return ConnectProblem(f"the connection failed ({error})", lasting=False)
    return ConnectProblem(f"the connection failed ({type(error).__name__})", lasting=False)


async def connect_problem(url: str, seconds: float) -> ConnectProblem | None:
    """Try one connection, for up to `seconds` (and close it): None if it opened, else
    what failed."""
    try:
        connection = await asyncpg.connect(url, timeout=seconds)
    except Exception as error:  # described, never re-raised
        return _explain(error, seconds)
    with contextlib.suppress(Exception):  # it opened: that is all this wanted to know
        await connection.close(timeout=seconds)
    return None


def _startup_error(url: str, error: BaseException) -> StartupError:
    return StartupError(_explain(error, CONNECT_TIMEOUT).say(url))


async def connect(url: str) -> asyncpg.Connection:
    """One connection for start-up work (migrations); a failure is a StartupError that
    says which host and what failed."""
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except Exception as error:  # described, never re-raised
        raise _startup_error(url, error) from None
