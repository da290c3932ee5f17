"""The in-memory event store: the fake that passes the same contract tests as the SQL ones."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Collection, Sequence
from typing import TypeVar

from sigillo.domain.codec import subject_of
from sigillo.domain.errors import Conflict
from sigillo.domain.events import NewEvent, RecordedEvent
from sigillo.domain.projections import TABLES
from sigillo.domain.projections.memory import MemoryTables
from sigillo.domain.projections.rows import Row
from sigillo.domain.streams import environment_stream
from sigillo.services.ports import Append, RebuildReport
from sigillo.store.numbering import number

__all__ = ["MemoryEventStore"]

R = TypeVar("R", bound=Row)


class MemoryEventStore:
    def __init__(self) -> None:
        self._events: list[RecordedEvent] = []
        self._event_ids: set[str] = set()
        self._versions: dict[str, int] = {}
        self._tables = MemoryTables()
        self._lock = asyncio.Lock()

    async def append(
        self, stream: str, expected_version: int | None, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        [recorded] = await self.append_many([Append(stream, expected_version, events)])
        return recorded

    async def append_many(self, appends: Sequence[Append]) -> list[list[RecordedEvent]]:
        async with self._lock:
            ids = [e.event_id for append in appends for e in append.events]
            if len(set(ids)) < len(ids) or not self._event_ids.isdisjoint(ids):
                raise Conflict("the write collides with stored data (a duplicate id)")
            versions = dict(self._versions)
            results = number(appends, len(self._events), versions)
            recorded = [event for events in results for event in events]
            tables = copy.deepcopy(self._tables)  # all or nothing, like a transaction
            for event in recorded:
                tables.project(event)
            self._tables = tables
            self._events.extend(recorded)
            self._event_ids.update(ids)
            self._versions = versions
        return results

    async def stream_version(self, stream: str) -> int:
        return self._versions.get(stream, 0)

    async def stream_versions(self, streams: Collection[str]) -> dict[str, int]:
        return {stream: self._versions.get(stream, 0) for stream in streams}

    async def read_stream(self, stream: str, after_version: int = 0) -> list[RecordedEvent]:
        return [e for e in self._events if e.stream == stream and e.version > after_version]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        return self._events[after_position : after_position + limit]

    async def secret_history(self, environment_id: str, name: str) -> list[RecordedEvent]:
        return [
            e
            for e in await self.read_stream(environment_stream(environment_id))
            if subject_of(e.event) == name  # as the SQL store: its kind changes too
        ]

    async def event_position(self, event_id: str) -> int | None:
        found = [e.position for e in self._events if e.event_id == event_id]
        return found[0] if found else None

    async def read_stream_between(
        self,
        stream: str,
        after_position: int = 0,
        until_position: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        until = len(self._events) if until_position is None else until_position
        found = [e for e in self._events[after_position:until] if e.stream == stream]
        return found if limit is None else found[:limit]

    async def first_later(self, stream: str, after_position: int, time: int) -> int | None:
        later = (
            e.position
            for e in self._events[after_position:]
            if e.stream == stream and e.occurred_at > time
        )
        return next(later, None)

    async def read_streams_backward(
        self,
        streams: Collection[str],
        *,
        before: int | None = None,
        limit: int = 100,
        actor_id: str | None = None,
    ) -> list[RecordedEvent]:
        wanted = set(streams)
        below = self._events if before is None else self._events[: max(before - 1, 0)]
        found: list[RecordedEvent] = []
        for event in reversed(below):  # positions are 1..N: the event at N sits at N - 1
            if len(found) >= limit:
                break
            if event.stream in wanted and (actor_id is None or event.actor.id == actor_id):
                found.append(event)
        return found

    async def get(self, table: type[R], key: tuple[str, ...]) -> R | None:
        return self._tables.get(table, key)

    async def select(self, table: type[R], field: str, value: str) -> list[R]:
        return self._tables.select(table, field, value)

    async def rebuild_projections(self, *, check_only: bool = False) -> RebuildReport:
        async with self._lock:
            replayed = MemoryTables.replay(self._events)
            differences = {
                t.table: len(set(replayed.rows(t)) ^ set(self._tables.rows(t))) for t in TABLES
            }
            if not check_only:
                self._tables = replayed
        return RebuildReport(
            events=len(self._events),
            rows={t.table: len(replayed.rows(t)) for t in TABLES},
            differences=differences,
        )
