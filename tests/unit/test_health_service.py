"""HealthService.ready: bounded by its timeout, one probe at a time, answers reused briefly.
The database is a fake here; tests/api/test_health_ready.py has the real ones."""

from __future__ import annotations

import asyncio
import time

import pytest

from sigillo.domain.errors import StorageUnavailable
from sigillo.services.health import HealthService


class FakeDatabase:
    def __init__(self, *, hang: bool = False, error: BaseException | None = None) -> None:
        self.hang = hang
        self.error = error
        self.probes = 0
        self.release = asyncio.Event()

    async def ping(self) -> None:
        return None

    async def probe(self, seconds: float) -> None:
        self.probes += 1
        if self.hang:
            await self.release.wait()  # a database that never answers (ignores `seconds`)
        if self.error is not None:
            raise self.error


@pytest.mark.asyncio
async def test_ready_when_the_probe_succeeds() -> None:
    database = FakeDatabase()
    assert await HealthService(database).ready() is None
    assert database.probes == 1


@pytest.mark.asyncio
async def test_a_hung_probe_answers_within_the_timeout_and_is_not_started_again() -> None:
    database = FakeDatabase(hang=True)
    health = HealthService(database, ready_timeout=0.2, reuse=0)
    started = time.monotonic()
    problem = await health.ready()
    assert time.monotonic() - started < 1.0
    assert problem == "the database did not answer within 0.2 s"
    assert await health.ready() == problem
    assert database.probes == 1, "a second probe was piled onto the hung one"
    database.hang = False
    database.release.set()
    await asyncio.sleep(0.05)
    assert await health.ready() is None  # the hung probe finished: the next one is fresh
    assert database.probes == 2


@pytest.mark.asyncio
async def test_concurrent_callers_share_one_probe_and_answers_are_reused() -> None:
    database = FakeDatabase()
    health = HealthService(database, reuse=60)
    assert await asyncio.gather(*(health.ready() for _ in range(20))) == [None] * 20
    assert await health.ready() is None
    assert database.probes == 1  # each probe is a write: a flood of requests makes one


@pytest.mark.asyncio
async def test_an_unavailable_database_says_why() -> None:
    database = FakeDatabase(error=StorageUnavailable("the database is read-only"))
    assert await HealthService(database, reuse=0).ready() == "the database is read-only"


@pytest.mark.asyncio
async def test_an_unexpected_error_is_not_ready_and_not_leaked() -> None:
    database = FakeDatabase(error=RuntimeError("postgresql://u:hunter2@db/x"))
    problem = await HealthService(database, reuse=0).ready()
    assert problem == "the database check failed"
