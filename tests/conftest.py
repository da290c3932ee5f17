"""Shared fixtures: real SQLite and PostgreSQL databases, and event stores on each."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from sigillo.services.ports import EventStore
from sigillo.store.database import Database, open_database
from sigillo.store.event_store import SqlEventStore
from sigillo.store.memory import MemoryEventStore
from tests.databases import REQUIRE_POSTGRES, Databases, postgres_problem, skip_without_postgres

DATABASES = ["sqlite", "postgresql"]
STORES = ["memory", *DATABASES]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores. Many tests wait on a server process, a
    child or a browser rather than compute, so a core is rarely idle with one spare. (Two
    spare workers saved 3 of 22 minutes on two cores, and made the sign-in back-off tests,
    which count requests within a time window, fail under the load.)"""
    return (os.cpu_count() or 1) + 1


def pytest_configure(config: pytest.Config) -> None:
    problem = postgres_problem()
    if problem and REQUIRE_POSTGRES:
        raise pytest.UsageError(
            f"PostgreSQL is required (SIGILLO_REQUIRE_POSTGRES=1) but: {problem}"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    problem = postgres_problem()
    if problem:
        terminalreporter.write_sep("!", "PostgreSQL TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"PostgreSQL unreachable: {problem}", red=True)
        terminalreporter.write_line(
            "Start it, or set SIGILLO_TEST_POSTGRES_URL. CI fails on this.", red=True
        )


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("databases"))
    yield made
    made.drop_all()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, databases: Databases) -> str:
    """A fresh, migrated database of each kind."""
    skip_without_postgres(request.param)
    return databases.fresh(request.param)


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    opened = await open_database(database_url)
    yield opened
    await opened.close()


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, databases: Databases) -> str | None:
    """None for the in-memory store, else a fresh migrated database of that kind."""
    if request.param == "memory":
        return None
    skip_without_postgres(request.param)
    return databases.fresh(request.param)


@pytest_asyncio.fixture
async def store(store_url: str | None) -> AsyncIterator[EventStore]:
    """The event store contract's three implementations, each on a fresh database."""
    if store_url is None:
        yield MemoryEventStore()
        return
    opened = await open_database(store_url)
    yield SqlEventStore(opened)
    await opened.close()
