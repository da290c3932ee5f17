"""PostgreSQL, for teams and for several server replicas sharing one database.

Writers take a transaction-scoped advisory lock, so appends from every replica are
serialized and positions stay gap-free; readers never wait for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg

from sigillo.domain.errors import Conflict, StartupError, StorageUnavailable

__all__ = ["PostgresDatabase"]

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


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise Conflict("the write collides with stored data (a duplicate id)") from None
    except _UNAVAILABLE:
        raise StorageUnavailable("the database cannot be reached; try again") from None


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
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        try:
            with _translated_errors():
                pool = await asyncpg.create_pool(url, min_size=1, max_size=10, reset=_keep)
        except (
            asyncpg.PostgresError
        ) as error:  # wrong password, missing database: the server says which
            raise StartupError(f"PostgreSQL refused the connection: {error}") from None
        except ValueError:  # asyncpg's DSN errors may quote the URL, password and all
            raise StartupError("the PostgreSQL URL is not valid") from None
        return cls(pool)

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        async with self._connection() as connection:
            return [tuple(row) for row in await connection.fetch(sql, *args)]

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[_Transaction]:
        async with self._connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
            yield _Transaction(connection)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection. Any failure to get one (refused, shutting down, database not
        accepting connections) means the database is unavailable; once connected, only
        connection-loss errors do."""
        try:
            connection = await self._pool.acquire()
        except (*_UNAVAILABLE, asyncpg.PostgresError):
            raise StorageUnavailable("the database cannot be reached; try again") from None
        try:
            with _translated_errors():
                yield connection
        finally:
            await self._pool.release(connection)

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def close(self) -> None:
        await self._pool.close()
