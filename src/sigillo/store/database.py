"""The two databases behind one small interface: read, or write inside the one writer slot.

Every write transaction is serialized across the whole deployment (BEGIN IMMEDIATE on
SQLite, a transaction-scoped advisory lock on PostgreSQL). That is what makes global
positions gap-free for readers: no event can commit behind one already visible.
SQL is written once with PostgreSQL's `$n` placeholders; SQLite gets them as `?n`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sigillo.domain.errors import StartupError

__all__ = ["Database", "Transaction", "open_database", "sqlite_path"]


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

    async def close(self) -> None: ...


def sqlite_path(url: str) -> str | None:
    """`sqlite:///relative.db` or `sqlite:////absolute/path.db`, as in SQLAlchemy."""
    if not url.startswith("sqlite:"):
        return None
    if not url.startswith("sqlite:///") or url == "sqlite:///":
        raise StartupError("SQLite URLs look like sqlite:////absolute/path/sigillo.db")
    return url.removeprefix("sqlite:///")


async def open_database(url: str) -> Database:
    path = sqlite_path(url)
    if path is not None:
        from sigillo.store.sqlite import SqliteDatabase

        return await SqliteDatabase.open(path)
    if url.startswith(("postgresql://", "postgres://")):
        from sigillo.store.postgres import PostgresDatabase

        return await PostgresDatabase.open(url)
    raise StartupError("the database URL must start with sqlite:/// or postgresql://")
