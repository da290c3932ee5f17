"""Group commit of audit reads (services/group_commit.py) on each store: concurrent callers
share transactions, each gets its own events back once they are committed, and a failed
batch fails every caller in it."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from sigillo.domain.errors import StorageUnavailable
from sigillo.domain.events import Actor, RecordedEvent, SecretsRead
from sigillo.services.group_commit import GroupCommit
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import Append, EventStore
from sigillo.services.writing import Writer

pytestmark = pytest.mark.asyncio

CALLERS = 50


class Counting:
    """The real store, counting its transactions; `fail` makes the next one raise."""

    def __init__(self, store: EventStore) -> None:
        self.store, self.transactions, self.fail = store, 0, False

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def append_many(self, appends: Sequence[Append]) -> list[list[RecordedEvent]]:
        self.transactions += 1
        await anyio.sleep(0.01)  # a flush to disk, during which the others queue
        if self.fail:
            raise StorageUnavailable("the disk is full")
        return await self.store.append_many(appends)


def read(i: int) -> SecretsRead:
    return SecretsRead(f"env{i % 3}", [f"NAME_{i}"], "download")


async def test_concurrent_reads_share_transactions_and_each_is_recorded(store: EventStore) -> None:
    counting = Counting(store)
    group = GroupCommit(Writer(counting, Clock(), UlidFactory()))  # type: ignore[arg-type]
    answers: dict[int, list[RecordedEvent]] = {}

    async def caller(i: int) -> None:
        answers[i] = await group.append(f"reads:env{i % 3}", [read(i)], Actor("token", f"t{i}"))

    async with anyio.create_task_group() as tasks:
        for i in range(CALLERS):
            tasks.start_soon(caller, i)

    log = await store.read_all(limit=1000)
    assert len(log) == CALLERS
    assert [e.position for e in log] == list(range(1, CALLERS + 1))
    for i, [recorded] in answers.items():
        assert recorded.event == read(i)
        assert recorded.actor == Actor("token", f"t{i}")
        assert recorded in log
    for stream in ("reads:env0", "reads:env1", "reads:env2"):
        versions = [e.version for e in log if e.stream == stream]
        assert versions == list(range(1, len(versions) + 1))
    # The first caller commits alone; everyone who queued behind it shares the next one.
    assert counting.transactions <= 3, counting.transactions


async def test_a_lone_read_commits_at_once(store: EventStore) -> None:
    counting = Counting(store)
    group = GroupCommit(Writer(counting, Clock(), UlidFactory()))  # type: ignore[arg-type]
    for i in range(3):
        [recorded] = await group.append("reads:env0", [read(i)], Actor("user", "u"))
        assert recorded.version == i + 1
    assert counting.transactions == 3


async def test_a_failed_batch_fails_every_caller_in_it(store: EventStore) -> None:
    counting = Counting(store)
    group = GroupCommit(Writer(counting, Clock(), UlidFactory()))  # type: ignore[arg-type]
    counting.fail = True
    outcomes: list[str] = []

    async def caller(i: int) -> None:
        try:
            await group.append("reads:env0", [read(i)], Actor("user", "u"))
            outcomes.append("recorded")
        except StorageUnavailable:
            outcomes.append("refused")

    async with anyio.create_task_group() as tasks:
        for i in range(10):
            tasks.start_soon(caller, i)

    assert outcomes == ["refused"] * 10
    assert await store.read_all() == []
    counting.fail = False
    [recorded] = await group.append("reads:env0", [read(0)], Actor("user", "u"))
    assert recorded.position == 1
