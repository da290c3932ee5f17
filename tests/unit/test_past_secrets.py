"""Reads of the past (services/time_travel.py): a fold from a snapshot and the events after
it is exactly the full replay up to the moment, and the moment "now" is exactly the live
read model. Random histories over two environments, with clocks that sometimes step back;
small snapshot spacings and batches so that every history crosses many of both."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigillo.domain.errors import NotFound, StorageUnavailable
from sigillo.domain.events import (
    Actor,
    EnvironmentCreated,
    Event,
    NewEvent,
    OrgCreated,
    ProjectCreated,
    RecordedEvent,
    SealedValue,
    SecretDeleted,
    SecretKindChanged,
    SecretSet,
)
from sigillo.domain.moments import Moment, parse_moment
from sigillo.domain.projections.past_secrets import PastSecrets, fold
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.streams import environment_stream, org_stream, project_stream
from sigillo.services.ports import Snapshot
from sigillo.services.time_travel import NotYet, TimeTravel
from sigillo.store.memory import MemoryEventStore
from sigillo.store.snapshots import MemorySnapshots, decode_state, encode_state

ALICE = Actor("user", "01JE0000000000000000000A11")
ORG, PROJECT = "01JE00000000000000000000A1", "01JE00000000000000000000B1"
DEV, PROD = "01JE00000000000000000000D1", "01JE00000000000000000000D2"
CREATED = 1_000_000
NAMES = ("A", "B", "C", "D")


def event_id(number: int) -> str:
    return f"01JE{number:022d}"


@dataclass
class History:
    store: MemoryEventStore
    recorded: list[RecordedEvent]
    environments: dict[str, EnvironmentRow]


async def _history(steps: Sequence[tuple[str, str, str, int]]) -> History:
    """The catalog at CREATED, then `steps`: (environment, action, name, time step), each
    decided on the names live then (kind changes only of live names, as the service does)."""
    store = MemoryEventStore()
    ids = itertools.count(1)

    async def append(stream: str, event: Event, at: int) -> None:
        await store.append(stream, None, [NewEvent(event_id(next(ids)), at, ALICE, event)])

    await append(org_stream(ORG), OrgCreated(ORG, "Acme"), CREATED)
    await append(project_stream(PROJECT), ProjectCreated(PROJECT, ORG, "App"), CREATED)
    for environment, slug in ((DEV, "dev"), (PROD, "prod")):
        created = EnvironmentCreated(environment, PROJECT, slug.title(), slug)
        await append(project_stream(PROJECT), created, CREATED)
    live: dict[tuple[str, str], str] = {}
    now, values = CREATED, itertools.count()
    for environment, action, name, step in steps:
        now += step  # a negative step is a clock stepping back
        key = (environment, name)
        event: Event
        if action == "set" or (key not in live and action == "kind"):
            value = f"placeholder-ciphertext:{next(values)}".encode()
            event = SecretSet(environment, name, SealedValue("k1", b"n" * 12, value))
            live[key] = live.get(key, "secret")
        elif action == "delete":
            event = SecretDeleted(environment, name)
            live.pop(key, None)
        else:
            kind = "plain" if live[key] == "secret" else "secret"
            event = SecretKindChanged(environment, name, kind, live[key])  # type: ignore[arg-type]
            live[key] = kind
        await append(environment_stream(environment), event, now)
    recorded = await store.read_all(0, 1_000_000)
    environments = {
        environment: row
        for environment in (DEV, PROD)
        if (row := await store.get(EnvironmentRow, (environment,))) is not None
    }
    return History(store, recorded, environments)


def full_replay(history: History, environment: str, moment: Moment) -> PastSecrets:
    """The reference: the environment's stream, up to the moment as time_travel defines it,
    folded from nothing."""
    stream = [e for e in history.recorded if e.stream == environment_stream(environment)]
    if moment.event_id is not None:
        [position] = [e.position for e in history.recorded if e.event_id == moment.event_id]
        events = [e for e in stream if e.position <= position]
    else:
        events = list(itertools.takewhile(lambda e: e.occurred_at <= (moment.time or 0), stream))
    return fold(PastSecrets(environment, 0, 0, 0), events)


def same(one: PastSecrets, other: PastSecrets) -> None:
    assert (one.environment_id, one.version, one.position) == (
        other.environment_id,
        other.version,
        other.position,
    )
    assert msgspec.to_builtins(one.rows) == msgspec.to_builtins(other.rows)


steps = st.lists(
    st.tuples(
        st.sampled_from((DEV, PROD)),
        st.sampled_from(("set", "set", "delete", "kind")),
        st.sampled_from(NAMES),
        st.one_of(st.integers(0, 1000), st.integers(-300, 0)),  # clocks may step back
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, data=st.data())
def test_snapshots_and_tails_are_exactly_the_full_replay(
    steps: list[tuple[str, str, str, int]], data: st.DataObject
) -> None:
    asyncio.run(_check_history(steps, data))


async def _check_history(steps: list[tuple[str, str, str, int]], data: st.DataObject) -> None:
    history = await _history(steps)
    snapshots = MemorySnapshots()
    spacing = data.draw(st.integers(1, 5), label="spacing")
    batch = data.draw(st.integers(1, 7), label="batch")
    cached = TimeTravel(history.store, snapshots, spacing=spacing, batch=batch)
    plain = TimeTravel(history.store)
    times = [e.occurred_at for e in history.recorded]
    for _ in range(6):
        environment = data.draw(st.sampled_from((DEV, PROD)), label="environment")
        if data.draw(st.booleans(), label="by event id"):
            chosen = data.draw(st.sampled_from(history.recorded[3:]), label="event")
            moment = Moment(event_id=chosen.event_id)
        else:
            moment = Moment(time=data.draw(st.integers(CREATED, max(times) + 10), label="time"))
        expected = full_replay(history, environment, moment)
        row = history.environments[environment]
        same(await plain.at(row, moment), expected)
        same(await cached.at(row, moment), expected)  # cold, or from earlier snapshots
        same(await cached.at(row, moment), expected)  # warm
        assert cached.replayed < spacing
    # Now: the live read model, row for row and in its order.
    for environment, row in history.environments.items():
        past = await cached.at(row, Moment(time=max(times)))
        live = await history.store.select(CurrentSecretRow, "environment_id", environment)
        live.sort(key=lambda r: r.live_since)
        assert msgspec.to_builtins(past.live()) == msgspec.to_builtins(live)
        last = [e for e in history.recorded if e.stream == environment_stream(environment)]
        if last:
            by_id = await cached.at(row, Moment(event_id=last[-1].event_id))
            assert msgspec.to_builtins(by_id.live()) == msgspec.to_builtins(live)
    # Every kept snapshot is the full replay at its version.
    for stored in list(snapshots._rows.values()):
        environment, version = stored[1], stored[2]
        stream = [e for e in history.recorded if e.stream == environment_stream(environment)]
        assert version % spacing == 0
        replayed = fold(PastSecrets(environment, 0, 0, 0), stream[:version])
        assert msgspec.to_builtins(decode_state(stored[5])) == msgspec.to_builtins(replayed.rows)
        assert stored[4] == max(e.occurred_at for e in stream[:version])


def _steady(count: int) -> list[tuple[str, str, str, int]]:
    return [(DEV, "set" if i % 5 else "delete", NAMES[i % 4], 10) for i in range(count)]


@pytest.mark.asyncio
async def test_a_read_keeps_snapshots_so_the_next_replays_less_than_the_spacing() -> None:
    history = await _history(_steady(100))
    snapshots = MemorySnapshots()
    travel = TimeTravel(history.store, snapshots, spacing=16, batch=32)
    dev = history.environments[DEV]
    last = Moment(time=CREATED + 10 * 100)
    await travel.at(dev, last)
    assert travel.replayed == 100
    assert len(snapshots) == 100 // 16
    for moment in (last, Moment(time=CREATED + 10 * 50), Moment(time=CREATED + 10 * 95 + 5)):
        same(await travel.at(dev, moment), full_replay(history, DEV, moment))
        assert travel.replayed < 16


class _Unavailable(MemorySnapshots):
    async def keep(self, snapshots: Sequence[Snapshot]) -> None:
        raise StorageUnavailable("the database is busy")


@pytest.mark.asyncio
async def test_a_snapshot_that_cannot_be_kept_never_fails_the_read() -> None:
    history = await _history(_steady(40))
    travel = TimeTravel(history.store, _Unavailable(), spacing=4)
    moment = Moment(time=CREATED + 10_000)
    same(await travel.at(history.environments[DEV], moment), full_replay(history, DEV, moment))


@pytest.mark.asyncio
async def test_before_the_environment_existed_is_not_found_with_that_reason() -> None:
    history = await _history(_steady(3))
    travel = TimeTravel(history.store, MemorySnapshots())
    dev = history.environments[DEV]
    with pytest.raises(NotYet) as early:
        await travel.at(dev, parse_moment("1970-01-01T00:16:39.999Z"))
    assert str(early.value) == "environment: it did not exist yet at 1970-01-01T00:16:39.999Z"
    # The org's creation is an event of the log from before the environment.
    with pytest.raises(NotYet) as by_id:
        await travel.at(dev, Moment(event_id=history.recorded[0].event_id))
    assert str(by_id.value) == f"environment: it did not exist yet at {event_id(1)}"
    # At its very creation it exists, empty.
    empty = await travel.at(dev, Moment(time=CREATED))
    assert (empty.version, empty.rows) == (0, ())
    assert (await travel.at(dev, Moment(event_id=event_id(3)))).rows == ()


@pytest.mark.asyncio
async def test_an_unknown_event_id_is_not_found() -> None:
    history = await _history(_steady(3))
    with pytest.raises(NotFound) as unknown:
        await TimeTravel(history.store).at(
            history.environments[DEV], Moment(event_id="01JE0000000000000000009999")
        )
    assert str(unknown.value) == "event 01JE0000000000000000009999 not found"
    assert not isinstance(unknown.value, NotYet)


def test_a_snapshots_state_is_the_rows_in_their_wire_form() -> None:
    row = CurrentSecretRow(
        DEV, "A", event_id(9), "k1", b"\x00n", b"\xffc", 1, 1, 2, 9, "user", "u", "plain"
    )
    state = encode_state([row])
    assert msgspec.json.decode(state)[0]["nonce"] == "AG4="  # bytes in base64
    assert decode_state(state) == (row,)
    assert decode_state(encode_state([])) == ()
