"""Helpers shared by the event-store tests: events to append, a place to append them, and
raw looks at what a SQL database really holds."""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigillo.domain.codec import decode_event, subject_of
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
    SecretSet,
)
from sigillo.domain.projections import TABLES
from sigillo.domain.projections.rows import Row
from sigillo.domain.streams import environment_stream, org_stream, project_stream
from sigillo.services.ids import UlidFactory
from sigillo.services.ports import EventStore
from sigillo.store import rows_sql
from sigillo.store.database import Database

ALICE = Actor("user", "alice")
BOB = Actor("user", "bob")
ROBOT = Actor("token", "tok_01")
SYSTEM = Actor("system", "sigillo")

_ids = UlidFactory()
_clock = itertools.count(1_700_000_000_000)


def new_id() -> str:
    return _ids()


def sealed(value: bytes | None = None, key_id: str = "k1") -> SealedValue:
    """A SealedValue with arbitrary bytes: the store never looks inside."""
    return SealedValue(key_id, os.urandom(12), value if value is not None else os.urandom(24))


def new(
    event: Event, *, at: int | None = None, actor: Actor = ALICE, event_id: str | None = None
) -> NewEvent:
    return NewEvent(event_id or new_id(), next(_clock) if at is None else at, actor, event)


def news(*events: Event, actor: Actor = ALICE) -> list[NewEvent]:
    return [new(event, actor=actor) for event in events]


def set_(
    environment_id: str, name: str, key_id: str = "k1", value: bytes | None = None
) -> SecretSet:
    return SecretSet(environment_id, name, sealed(value, key_id))


def delete(environment_id: str, name: str) -> SecretDeleted:
    return SecretDeleted(environment_id, name)


@dataclass(frozen=True)
class Place:
    """An org, a project and its environments, made by appending their events directly."""

    org_id: str
    project_id: str
    environment_ids: tuple[str, ...]

    @property
    def env(self) -> str:
        return self.environment_ids[0]

    @property
    def stream(self) -> str:
        return environment_stream(self.env)

    def env_stream(self, index: int) -> str:
        return environment_stream(self.environment_ids[index])


async def make_org(store: EventStore, name: str = "Acme") -> str:
    org_id = new_id()
    await store.append(org_stream(org_id), 0, news(OrgCreated(org_id, name)))
    return org_id


async def make_project(
    store: EventStore, org_id: str, name: str = "App", slugs: Sequence[str] = ("dev", "prod")
) -> Place:
    project_id = new_id()
    env_ids = tuple(new_id() for _ in slugs)
    await store.append(
        project_stream(project_id),
        0,
        news(
            ProjectCreated(project_id, org_id, name),
            *(
                EnvironmentCreated(env_id, project_id, slug.title(), slug)
                for env_id, slug in zip(env_ids, slugs, strict=True)
            ),
        ),
    )
    return Place(org_id, project_id, env_ids)


async def make_place(store: EventStore, slugs: Sequence[str] = ("dev", "prod")) -> Place:
    return await make_project(store, await make_org(store), slugs=slugs)


async def everything(store: EventStore) -> list[RecordedEvent]:
    """The whole log, read in pages."""
    events: list[RecordedEvent] = []
    while page := await store.read_all(events[-1].position if events else 0, 500):
        events.extend(page)
    return events


async def all_rows(
    store: EventStore, table: type[Row], field: str, values: Iterable[str]
) -> list[Row]:
    rows: list[Row] = []
    for value in values:
        rows.extend(await store.select(table, field, value))
    return rows


# Raw SQL: what the database holds, bypassing the store's reading code.


async def table_contents(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table (domain columns, sorted) and the projection checkpoint."""
    contents: dict[str, list[tuple[Any, ...]]] = {}
    for table in TABLES:
        records = await database.fetch(rows_sql.select_sql(table))
        contents[table.table] = sorted(
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in records
        )
    contents["projection_checkpoints"] = sorted(
        await database.fetch("SELECT name, position FROM projection_checkpoints")
    )
    return contents


@dataclass(frozen=True)
class StoredEvent:
    position: int
    stream: str
    version: int
    event_id: str
    event: Event


async def stored_events(database: Database) -> list[StoredEvent]:
    """Every row of the events table, each decoded and checked against its indexed columns."""
    records = await database.fetch(
        "SELECT position, stream_id, version, event_id, event_type, subject, data "
        "FROM events ORDER BY position"
    )
    result = []
    for position, stream, version, event_id, event_type, subject, data in records:
        event = decode_event(data)
        assert event_type == type(event).__struct_config__.tag, (position, event_type)
        assert subject == subject_of(event), (position, subject)
        result.append(StoredEvent(position, stream, version, event_id, event))
    return result


def assert_log_is_contiguous(events: Sequence[StoredEvent] | Sequence[RecordedEvent]) -> None:
    """Global positions 1..M with no gap; each stream's versions 1..N in position order."""
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    versions: dict[str, list[int]] = {}
    for e in events:
        versions.setdefault(e.stream, []).append(e.version)
    for stream, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), (stream, seen)
    ids = [e.event_id for e in events]
    assert len(set(ids)) == len(ids), "an event id appears twice"


# The acknowledgement files of tests/store/durability_writer.py


@dataclass
class Acks:
    ready: int | None
    intents: list[tuple[str, list[str]]]  # (stream, event ids), in the order written
    acked: list[list[str]]
    positions: list[list[int]]
    done: int | None
    conflicts: int = 0

    @property
    def unacknowledged(self) -> list[list[str]]:
        acked = {tuple(ids) for ids in self.acked}
        return [ids for _, ids in self.intents if tuple(ids) not in acked]


def read_acks(path: Path) -> Acks:
    """Parse an ack file; a last line cut short by a kill (no newline) is ignored."""
    acks = Acks(None, [], [], [], None)
    if not path.exists():
        return acks
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for line in lines[:-1]:  # everything after the last newline was cut short
        fact = json.loads(line)
        if "ready" in fact:
            acks.ready = fact["ready"]
        elif "intent" in fact:
            acks.intents.append((fact["stream"], fact["intent"]))
        elif "ack" in fact:
            acks.acked.append(fact["ack"])
            acks.positions.append(fact["positions"])
        elif "done" in fact:
            acks.done, acks.conflicts = fact["done"], fact["conflicts"]
    return acks


def writer_command(url: str, ackfile: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "tests.store.durability_writer", url, str(ackfile), *options]


REPO = Path(__file__).resolve().parents[2]
