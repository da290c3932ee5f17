"""Concurrent appends: optimistic concurrency holds, versions and positions stay gap-free.

In one process (asyncio.gather) on all three stores, and across two processes sharing one
SQLite file or one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from pathlib import Path

import pytest

from sigillo.domain.errors import ConcurrencyError
from sigillo.domain.events import RecordedEvent
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.domain.streams import org_stream, project_stream
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import EventStore
from sigillo.services.writing import Writer
from sigillo.store.database import open_database
from sigillo.store.event_store import SqlEventStore
from tests.databases import Databases
from tests.store.helpers import (
    ALICE,
    REPO,
    assert_log_is_contiguous,
    everything,
    make_place,
    news,
    read_acks,
    set_,
    stored_events,
    writer_command,
)

APPENDERS = 50


@pytest.mark.asyncio
async def test_fifty_retrying_appenders_get_versions_one_to_fifty(store: EventStore) -> None:
    place = await make_place(store)
    attempts: list[int] = []
    conflicts: list[tuple[int, int]] = []

    async def appender(i: int) -> RecordedEvent:
        for attempt in range(1, 10 * APPENDERS):
            version = await store.stream_version(place.stream)
            await asyncio.sleep(0)  # decide, as a service would, while others move on
            try:
                [recorded] = await store.append(
                    place.stream, version, news(set_(place.env, f"S{i}"))
                )
            except ConcurrencyError as conflict:
                conflicts.append((version, conflict.actual))
                continue
            attempts.append(attempt)
            return recorded
        raise AssertionError(f"appender {i} never got through")

    results = await asyncio.gather(*(appender(i) for i in range(APPENDERS)))

    assert sorted(r.version for r in results) == list(range(1, APPENDERS + 1))
    assert sum(attempts) > APPENDERS, "no appender ever conflicted: nothing was tested"
    assert len(conflicts) == sum(attempts) - APPENDERS
    assert all(actual > expected for expected, actual in conflicts), conflicts
    stream = await store.read_stream(place.stream)
    assert [e.version for e in stream] == list(range(1, APPENDERS + 1))
    assert sorted(e.event_id for e in stream) == sorted(r.event_id for r in results)
    assert sorted(e.event.name for e in stream) == sorted(f"S{i}" for i in range(APPENDERS))  # type: ignore[union-attr]
    assert_log_is_contiguous(await everything(store))
    live = await store.select(CurrentSecretRow, "environment_id", place.env)
    assert [row.secret_id for row in live] == [e.event_id for e in stream]
    assert (await store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_fifty_appenders_at_one_version_exactly_one_wins(store: EventStore) -> None:
    place = await make_place(store)
    await store.append(place.stream, 0, news(set_(place.env, "FIRST")))
    before = await everything(store)
    batches = [
        news(set_(place.env, f"A{i}"), set_(place.env, f"B{i}"), set_(place.env, f"C{i}"))
        for i in range(APPENDERS)
    ]

    outcomes = await asyncio.gather(
        *(store.append(place.stream, 1, batch) for batch in batches), return_exceptions=True
    )

    winners = [(i, o) for i, o in enumerate(outcomes) if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert len(losers) == APPENDERS - 1
    assert all(isinstance(o, ConcurrencyError) for o in losers), losers
    assert all((o.expected, o.actual) == (1, 4) for o in losers)  # type: ignore[attr-defined]
    [(index, recorded)] = winners
    assert [e.event_id for e in recorded] == [e.event_id for e in batches[index]]  # type: ignore[union-attr]

    log = await everything(store)
    assert log[: len(before)] == before
    assert log[len(before) :] == recorded
    assert_log_is_contiguous(log)
    assert await store.stream_version(place.stream) == 4
    names = [row.name for row in await store.select(CurrentSecretRow, "environment_id", place.env)]  # type: ignore[attr-defined]
    assert names == ["FIRST", f"A{index}", f"B{index}", f"C{index}"]
    assert (await store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_fifty_concurrent_writer_appends_get_versions_one_to_fifty(
    store: EventStore,
) -> None:
    place = await make_place(store)
    writer = Writer(store, Clock(), UlidFactory())

    results = await asyncio.gather(
        *(
            writer.append(
                place.stream, [set_(place.env, f"S{i}"), set_(place.env, "SHARED")], ALICE
            )
            for i in range(APPENDERS)
        )
    )

    versions = sorted(e.version for batch in results for e in batch)
    assert versions == list(range(1, 2 * APPENDERS + 1))
    for batch in results:  # each batch got two adjacent versions and positions
        assert batch[1].version == batch[0].version + 1
        assert batch[1].position == batch[0].position + 1
    assert_log_is_contiguous(await everything(store))
    assert len(await store.select(CurrentSecretRow, "environment_id", place.env)) == APPENDERS + 1
    assert (await store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_a_tailing_reader_never_skips_a_position(store: EventStore) -> None:
    """A projection reader following read_all sees every event, in order, while fifty
    writers append to five streams: no event ever commits behind one already visible."""
    place = await make_place(store)
    writer = Writer(store, Clock(), UlidFactory())
    streams = [f"stream-{i}" for i in range(5)]
    writing = True

    async def tail() -> list[int]:
        seen: list[int] = []
        while True:
            still_writing = writing  # read before the page, so the last page is complete
            page = await store.read_all(seen[-1] if seen else 0, limit=7)
            expected_start = (seen[-1] if seen else 0) + 1
            positions = [e.position for e in page]
            assert positions == list(range(expected_start, expected_start + len(page)))
            seen.extend(positions)
            if not page:
                if not still_writing:
                    return seen
                await asyncio.sleep(0)

    async def append(i: int) -> None:
        stream = streams[i % len(streams)]
        await writer.append(stream, [set_(place.env, f"T{i}")] * (1 + i % 3), ALICE)

    tailer = asyncio.create_task(tail())
    await asyncio.gather(*(append(i) for i in range(APPENDERS)))
    writing = False
    seen = await tailer
    log = await everything(store)
    assert seen == [e.position for e in log]
    assert len(log) == 4 + sum(1 + i % 3 for i in range(APPENDERS))  # after the place's 4
    assert_log_is_contiguous(log)


# Two processes, one database.

PER_PROCESS = 200


@pytest.mark.asyncio
async def test_two_processes_append_to_one_database(database_url: str, tmp_path: Path) -> None:
    """Two writer processes, one SQLite file (or PostgreSQL database), the same streams:
    no error reaches either ("database is locked" least of all), nothing lost or doubled."""
    database = await open_database(database_url)
    try:
        place = await make_place(SqlEventStore(database), slugs=("dev", "preview", "prod"))
    finally:
        await database.close()
    go = tmp_path / "go"
    names = ["one", "two"]
    processes = []
    for name in names:
        command = writer_command(
            database_url,
            tmp_path / f"{name}.acks",
            "--count",
            str(PER_PROCESS),
            "--go",
            str(go),
            "--pause-ms",
            "3",
        )
        with (tmp_path / f"{name}.err").open("wb") as err:
            processes.append(
                await asyncio.create_subprocess_exec(
                    *command, cwd=REPO, stdout=asyncio.subprocess.DEVNULL, stderr=err
                )
            )
    try:
        async with asyncio.timeout(30):
            while not all(read_acks(tmp_path / f"{n}.acks").ready for n in names):
                assert all(p.returncode is None for p in processes), _errors(tmp_path, names)
                await asyncio.sleep(0.01)
        go.touch()
        async with asyncio.timeout(120):
            codes = [await p.wait() for p in processes]
    finally:
        for p in processes:
            if p.returncode is None:
                p.kill()
                await p.wait()

    errors = _errors(tmp_path, names)
    assert "locked" not in errors.lower()
    assert codes == [0, 0], errors
    acks = [read_acks(tmp_path / f"{n}.acks") for n in names]
    assert [a.done for a in acks] == [PER_PROCESS, PER_PROCESS]

    database = await open_database(database_url)
    try:
        events = await stored_events(database)
        report = await SqlEventStore(database).rebuild_projections(check_only=True)
    finally:
        await database.close()
    assert_log_is_contiguous(events)
    setup = [e.stream for e in events[:5]]
    assert setup == [org_stream(place.org_id), *[project_stream(place.project_id)] * 4]
    by_id = {e.event_id: e for e in events}
    owner: dict[int, int] = {}
    for index, a in enumerate(acks):
        assert len(a.acked) == PER_PROCESS
        for ids, positions in zip(a.acked, a.positions, strict=True):
            assert [by_id[i].position for i in ids] == positions
            for position in positions:
                owner[position] = index
    written = sum(len(ids) for a in acks for ids in a.acked)
    assert len(events) == 5 + written, "events appeared that no writer acknowledged"
    order = [owner[p] for p in sorted(owner)]
    switches = sum(1 for x, y in itertools.pairwise(order) if x != y)
    conflicts = sum(a.conflicts for a in acks)
    print(f"the writers took turns {switches} times; {conflicts} conflicts were retried")
    assert switches >= 20, "the two writers never interleaved: nothing concurrent was tested"
    assert conflicts >= 1, "no append ever met the other process's: nothing raced"
    assert report.identical, report


def _errors(tmp_path: Path, names: list[str]) -> str:
    return "\n".join(
        (tmp_path / f"{n}.err").read_text(errors="replace")
        for n in names
        if (tmp_path / f"{n}.err").exists()
    )


# Cancelled appends (a timeout, a client that went away) leave the store whole and usable.


@pytest.mark.asyncio
async def test_an_append_cancelled_at_any_point_leaves_the_store_usable(
    store: EventStore,
) -> None:
    place = await make_place(store)
    cancelled = []
    for ticks in range(12):  # cancel after 0, 1, 2, … turns of the event loop
        batch = news(set_(place.env, f"CANCELLED_{ticks}"), set_(place.env, "SHARED"))
        cancelled.append(batch)
        task = asyncio.create_task(store.append(place.stream, None, batch))
        for _ in range(ticks):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with asyncio.timeout(10):
            [after] = await store.append(
                place.stream, None, news(set_(place.env, f"AFTER_{ticks}"))
            )
        assert after.version == await store.stream_version(place.stream), ticks

    log = await everything(store)
    assert_log_is_contiguous(log)
    present = {e.event_id for e in log}
    for batch in cancelled:  # each cancelled append is all in or all out
        assert len({e.event_id for e in batch} & present) in (0, len(batch))
    assert (await store.rebuild_projections(check_only=True)).identical


@pytest.fixture
def sqlite_url(databases: Databases) -> str:
    return databases.fresh("sqlite")  # made outside the event loop: it may use asyncio.run


@pytest.mark.asyncio
async def test_an_append_that_times_out_waiting_for_another_sqlite_writer(
    sqlite_url: str,
) -> None:
    """Another process holds SQLite's write lock; an append gives up (a timeout cancels it).
    Once the lock is free the store must append again, and other processes must too."""
    url = sqlite_url
    path = url.removeprefix("sqlite:///")
    database = await open_database(url)
    store = SqlEventStore(database)
    try:
        place = await make_place(store)
        other = sqlite3.connect(path, isolation_level=None, timeout=5)
        try:
            other.execute("BEGIN IMMEDIATE")  # stands for a second process mid-append
            # The other writer finishes a second later, while the append below is giving up
            # (the event loop runs this while the append awaits SQLite's thread).
            asyncio.get_running_loop().call_later(1.0, other.execute, "COMMIT")
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await store.append(place.stream, None, news(set_(place.env, "GAVE_UP")))
            assert not other.in_transaction
            assert await store.secret_history(place.env, "GAVE_UP") == []

            async with asyncio.timeout(10):
                [recorded] = await store.append(place.stream, None, news(set_(place.env, "NEXT")))
            assert recorded.version == await store.stream_version(place.stream)
            other.execute("BEGIN IMMEDIATE")  # the other process can write again too
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert_log_is_contiguous(await everything(store))
    finally:
        await database.close()
