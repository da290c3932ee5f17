"""Every committed event, told to the audit sink (SIGILLO_AUDIT_SINK) once its append has
committed.

Every write goes through the Writer's store (services.writing): `Writer.append`,
`Writer.decide`, group commit and the multi-environment writes all call its `append` or
`append_many`. When a sink is configured, that store is an `AnnouncingStore`: it appends,
and only when the append returned (its transaction committed) it tells the sink the
recorded events with their actors' emails or token names. An append that raises (a
version conflict, a duplicate id, storage down) was rolled back and tells nothing.

Telling the sink never fails the write: the sink's own errors are its to report, and a
failure here (looking up an actor's name) is logged at most once a minute and the events
are told without that name. Commits of concurrent requests may reach the sink a few
positions out of order (each line carries its position); each server process tells only
its own commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from typing import TypeVar

from sigillo.domain.events import NewEvent, RecordedEvent
from sigillo.domain.projections.rows import ApiTokenRow, Row, UserRow
from sigillo.services.ports import Append, AuditSink, EventStore, RebuildReport

__all__ = ["ActorLabels", "AnnouncingStore"]

log = logging.getLogger("sigillo.audit")
R = TypeVar("R", bound=Row)
LOG_EVERY = 60.0  # seconds between two log lines about the same trouble
KEPT_LABELS = 10_000


class ActorLabels:
    """Actor id -> the user's email or the token's name (kept after revocation [D1]),
    looked up in the read models once per actor (emails and token names never change)."""

    def __init__(self, store: EventStore, capacity: int = KEPT_LABELS) -> None:
        self._store, self._capacity = store, capacity
        self._known: dict[str, str | None] = {}

    async def labels(self, events: Sequence[RecordedEvent]) -> dict[str, str]:
        found: dict[str, str] = {}
        for recorded in events:
            actor = recorded.actor
            if actor.id in found or actor.kind == "system":
                continue
            if actor.id not in self._known:
                if len(self._known) >= self._capacity:
                    self._known.clear()
                self._known[actor.id] = await self._look_up(actor.kind, actor.id)
            label = self._known[actor.id]
            if label is not None:
                found[actor.id] = label
        return found

    async def _look_up(self, kind: str, actor_id: str) -> str | None:
        if kind == "user":
            user = await self._store.get(UserRow, (actor_id,))
            return user.email if user else None
        token = await self._store.get(ApiTokenRow, (actor_id,))
        return token.name if token else None


class AnnouncingStore:
    """An EventStore that tells `sink` what each append committed, after it committed."""

    def __init__(self, store: EventStore, sink: AuditSink) -> None:
        self._store, self._sink = store, sink
        self._labels = ActorLabels(store)
        self._logged_at: float | None = None

    async def append(
        self, stream: str, expected_version: int | None, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        recorded = await self._store.append(stream, expected_version, events)
        await self._tell(recorded)
        return recorded

    async def append_many(self, appends: Sequence[Append]) -> list[list[RecordedEvent]]:
        recorded = await self._store.append_many(appends)
        await self._tell([event for events in recorded for event in events])
        return recorded

    async def _tell(self, events: list[RecordedEvent]) -> None:
        if not events:
            return
        try:
            actors = await self._labels.labels(events)
        except Exception as error:  # the write committed: it must not fail now
            self._report(f"could not look up the actors' names ({type(error).__name__})")
            actors = {}
        try:
            self._sink.committed(events, actors)
        except Exception as error:
            self._report(f"the sink failed ({type(error).__name__}: {error})")

    def _report(self, problem: str) -> None:
        now = time.monotonic()
        if self._logged_at is None or now - self._logged_at >= LOG_EVERY:
            self._logged_at = now
            log.error("audit sink: %s; writes go on, the database keeps every event", problem)

    # Everything else is the store's own.

    async def stream_version(self, stream: str) -> int:
        return await self._store.stream_version(stream)

    async def read_stream(self, stream: str, after_version: int = 0) -> list[RecordedEvent]:
        return await self._store.read_stream(stream, after_version)

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        return await self._store.read_all(after_position, limit)

    async def secret_history(self, environment_id: str, name: str) -> list[RecordedEvent]:
        return await self._store.secret_history(environment_id, name)

    async def event_position(self, event_id: str) -> int | None:
        return await self._store.event_position(event_id)

    async def read_stream_between(
        self,
        stream: str,
        after_position: int = 0,
        until_position: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        return await self._store.read_stream_between(stream, after_position, until_position, limit)

    async def first_later(self, stream: str, after_position: int, time: int) -> int | None:
        return await self._store.first_later(stream, after_position, time)

    async def read_streams_backward(
        self,
        streams: Collection[str],
        *,
        before: int | None = None,
        limit: int = 100,
        actor_id: str | None = None,
    ) -> list[RecordedEvent]:
        return await self._store.read_streams_backward(
            streams, before=before, limit=limit, actor_id=actor_id
        )

    async def get(self, table: type[R], key: tuple[str, ...]) -> R | None:
        return await self._store.get(table, key)

    async def select(self, table: type[R], field: str, value: str) -> list[R]:
        return await self._store.select(table, field, value)

    async def rebuild_projections(self, *, check_only: bool = False) -> RebuildReport:
        return await self._store.rebuild_projections(check_only=check_only)
