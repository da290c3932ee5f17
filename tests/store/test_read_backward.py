"""EventStore.read_streams_backward: some streams, newest first, below a position, a page at
a time; on the in-memory fake, SQLite and PostgreSQL alike. And the cost: on both
databases each stream's page is a backward range of the (stream, position) index."""

from __future__ import annotations

import pytest

from sigillo.domain.events import RecordedEvent, SecretsRead
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.services.ports import EventStore
from sigillo.store import event_store
from sigillo.store.database import Database
from tests.store.helpers import (
    ALICE,
    BOB,
    ROBOT,
    Place,
    delete,
    everything,
    make_place,
    news,
    set_,
)

pytestmark = pytest.mark.asyncio


async def _busy_log(store: EventStore) -> tuple[Place, Place]:
    """Two places whose secret writes and reads interleave, by three actors."""
    a, b = await make_place(store), await make_place(store)
    for i in range(12):
        actor = (ALICE, BOB, ROBOT)[i % 3]
        place = a if i % 2 else b
        await store.append(place.stream, None, news(set_(place.env, f"S{i}"), actor=actor))
        read = SecretsRead(place.env, [f"S{i}"], "get")
        await store.append(reads_stream(place.env), None, news(read, actor=actor))
        if i % 4 == 0:
            await store.append(place.stream, None, news(delete(place.env, f"S{i}"), actor=actor))
    return a, b


def _of(events: list[RecordedEvent], streams: set[str]) -> list[RecordedEvent]:
    return [e for e in reversed(events) if e.stream in streams]


async def test_streams_newest_first_and_no_others(store: EventStore) -> None:
    a, b = await _busy_log(store)
    streams = {a.stream, reads_stream(a.env)}
    expected = _of(await everything(store), streams)

    assert await store.read_streams_backward(streams, limit=1000) == expected
    assert await store.read_streams_backward(streams, limit=5) == expected[:5]
    assert await store.read_streams_backward([a.stream], limit=1000) == _of(
        await everything(store), {a.stream}
    )
    positions = [e.position for e in expected]
    assert positions == sorted(positions, reverse=True)
    assert all(e.stream in streams for e in expected)
    assert b.stream not in {e.stream for e in expected}


async def test_before_is_exclusive(store: EventStore) -> None:
    a, _ = await _busy_log(store)
    streams = [a.stream, reads_stream(a.env)]
    expected = _of(await everything(store), set(streams))
    pivot = expected[3].position

    assert await store.read_streams_backward(streams, before=pivot, limit=1000) == expected[4:]
    assert await store.read_streams_backward(streams, before=pivot + 1, limit=2) == expected[3:5]


async def test_pages_have_no_gaps_and_no_repeats(store: EventStore) -> None:
    a, b = await _busy_log(store)
    streams = [a.stream, reads_stream(a.env), b.stream, reads_stream(b.env)]
    expected = _of(await everything(store), set(streams))
    for size in (1, 2, 3, 7, len(expected), len(expected) + 1):
        seen: list[RecordedEvent] = []
        before = None
        while page := await store.read_streams_backward(streams, before=before, limit=size):
            assert len(page) <= size
            seen.extend(page)
            before = page[-1].position
        assert seen == expected, size


async def test_actor_filter(store: EventStore) -> None:
    a, b = await _busy_log(store)
    streams = [a.stream, reads_stream(a.env), b.stream, reads_stream(b.env)]
    log = _of(await everything(store), set(streams))
    for actor in (ALICE, BOB, ROBOT):
        mine = [e for e in log if e.actor.id == actor.id]
        assert mine
        found = await store.read_streams_backward(streams, limit=1000, actor_id=actor.id)
        assert found == mine
        assert (
            await store.read_streams_backward(
                streams, before=mine[1].position, limit=2, actor_id=actor.id
            )
            == mine[2:4]
        )
    assert await store.read_streams_backward(streams, limit=10, actor_id="nobody") == []


async def test_nothing_to_read(store: EventStore) -> None:
    a, _ = await _busy_log(store)
    assert await store.read_streams_backward([], limit=10) == []
    assert await store.read_streams_backward(["env:nowhere"], limit=10) == []
    assert await store.read_streams_backward([a.stream], limit=0) == []
    assert await store.read_streams_backward([a.stream], before=1, limit=10) == []
    first = (await store.read_stream(a.stream))[0]
    assert await store.read_streams_backward([a.stream], before=first.position, limit=10) == []


async def test_many_streams_in_one_read(store: EventStore) -> None:
    """More streams than one SQL statement takes: the chunks merge into one order."""
    count = event_store.STREAMS_PER_QUERY * 2 + 7
    place = await make_place(store)
    streams = [environment_stream(f"E{i:04d}") for i in range(count)]
    for i, stream in enumerate(streams):
        read = SecretsRead(place.env, [f"N{i}"], "run")
        await store.append(stream, None, news(read))
    everything_read = _of(await everything(store), set(streams))
    assert len(everything_read) == count

    assert await store.read_streams_backward(streams, limit=count + 5) == everything_read
    assert await store.read_streams_backward(streams, limit=3) == everything_read[:3]
    middle = everything_read[count // 2].position
    assert (
        await store.read_streams_backward(streams, before=middle, limit=4)
        == everything_read[count // 2 + 1 : count // 2 + 5]
    )


async def test_each_stream_is_an_index_range(database: Database) -> None:
    """The query plan: every stream's page uses the (stream, position) index, on both
    databases, so a page never scans the log."""
    sql, args = event_store._backward_sql(["env:a", "reads:a"], 100, 10, "u1")
    sqlite = hasattr(database, "path")
    plan = await database.fetch(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, *args)
    text = "\n".join(str(row[-1]) for row in plan)
    assert text.count("events_stream_position") == 2, text
    assert "SCAN events" not in text, text
    assert "Seq Scan" not in text, text
