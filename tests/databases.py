"""Real databases for tests: a migrated template per run, a fresh copy per test.

SQLite: a template file migrated once, copied for each test. PostgreSQL: a template
database migrated once, cloned with CREATE DATABASE … TEMPLATE for each test, and every
database this run made is dropped at the end, several at once. Where PostgreSQL cannot be
reached, its tests are skipped with a loud warning; with SIGILLO_REQUIRE_POSTGRES=1 (as in
CI) the run fails instead.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest

from sigillo.store.database import open_database
from sigillo.store.migrate import migrate

POSTGRES_ADMIN_URL = os.environ.get(
    "SIGILLO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("SIGILLO_REQUIRE_POSTGRES") == "1"
RUN_ID = uuid.uuid4().hex[:8]


def postgres_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@functools.cache
def postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not (asked once per run)."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def skip_without_postgres(kind: str) -> None:
    """Skip a PostgreSQL test when no PostgreSQL answers; the run's summary says so in red,
    and CI (SIGILLO_REQUIRE_POSTGRES=1) refuses to start instead."""
    problem = postgres_problem() if kind == "postgresql" else None
    if problem:
        pytest.skip(f"PostgreSQL unreachable: {problem}")


async def _migrated(url: str) -> None:
    database = await open_database(url)
    try:
        await migrate(url)
    finally:
        await database.close()


class Databases:
    """Hands out fresh, migrated databases of either kind and drops them all at the end."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_made: list[str] = []
        self._count = 0

    def fresh(self, kind: str, *, migrated: bool = True) -> str:
        self._count += 1
        if kind == "sqlite":
            path = self._root / f"test-{self._count}" / "sigillo.db"
            path.parent.mkdir(parents=True)
            if migrated:
                shutil.copyfile(self._sqlite_template_path(), path)
            return f"sqlite:///{path}"
        name = f"sigillo_test_{RUN_ID}_{self._count}"
        template = self._postgres_template() if migrated else "template0"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        self._pg_made.append(name)
        return postgres_url(name)

    def _sqlite_template_path(self) -> Path:
        if self._sqlite_template is None:
            self._sqlite_template = self._root / "template" / "sigillo.db"
            asyncio.run(_migrated(f"sqlite:///{self._sqlite_template}"))
        return self._sqlite_template

    def _postgres_template(self) -> str:
        if self._pg_template is None:
            name = f"sigillo_template_{RUN_ID}"
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            self._pg_made.append(name)
            asyncio.run(_migrated(postgres_url(name)))
            self._pg_template = name
        return self._pg_template

    def drop_all(self) -> None:
        """Drop every database this run made: the copies side by side, then the template.
        Each DROP DATABASE waits for a checkpoint, and one checkpoint serves all the drops
        waiting at once: one at a time a drop took about 1 s on a busy machine, 24 at once
        about 40 ms each. 16 at once per worker keeps three workers' drops under
        PostgreSQL's 100 connections."""
        if self._pg_made:
            template = [self._pg_template] if self._pg_template in self._pg_made else []
            copies = [name for name in self._pg_made if name not in template]
            asyncio.run(_drop_side_by_side(copies))
            asyncio.run(_drop_side_by_side(template))
        self._pg_made.clear()


async def _drop_side_by_side(names: list[str], at_once: int = 16) -> None:
    gate = asyncio.Semaphore(at_once)

    async def drop(name: str) -> None:
        async with gate:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    await asyncio.gather(*(drop(name) for name in names))
