"""The event store on SQLite or PostgreSQL: the log, its read models, and their rebuild.

An append takes the deployment-wide writer slot, checks the stream's version, numbers
the events (positions and versions both contiguous), inserts them with their audit
facts (actor, time), folds them into the read models and moves the checkpoint: one
transaction, all or nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sigillo import metrics
from sigillo.domain.codec import decode_event, encode_event, subject_of
from sigillo.domain.events import Actor, NewEvent, RecordedEvent, SecretsRead
from sigillo.domain.projections import TABLES
from sigillo.domain.projections.memory import MemoryTables
from sigillo.domain.projections.rows import Row
from sigillo.domain.streams import environment_stream
from sigillo.services.log_chain import Seals
from sigillo.services.ports import Append, RebuildReport
from sigillo.store import log_chain, rows_sql
from sigillo.store.database import Database, Transaction
from sigillo.store.numbering import number
from sigillo.store.projector import Projector

__all__ = ["EVENT_COLUMNS", "INSERT_EVENT", "SELECT_EVENTS", "SqlEventStore", "stored_row"]

EVENT_COLUMNS = (
    "position, stream_id, version, event_id, event_type, subject, data, "
    "actor_kind, actor_id, occurred_at"
)
INSERT_EVENT = (
    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
SELECT_EVENTS = f"SELECT {EVENT_COLUMNS} FROM events"
_CHECKPOINT = (
    "INSERT INTO projection_checkpoints (name, position) VALUES ('read_models', $1) "
    "ON CONFLICT (name) DO UPDATE SET position = excluded.position"
)
REBUILD_BATCH = 10_000
# Streams per statement when reading several backward: one union term each (SQLite allows
# 500 terms in a compound SELECT by default).
STREAMS_PER_QUERY = 100
VERSIONS_PER_QUERY = 1000  # streams per `stream_versions` statement (parameters are bounded)
_NO_BOUND = 2**63 - 1  # above every position
R = TypeVar("R", bound=Row)


def _recorded(record: Sequence[Any]) -> RecordedEvent:
    position, stream, version, event_id, _type, _subject, data, kind, actor_id, at = record
    return RecordedEvent(
        position, stream, version, event_id, at, Actor(kind, actor_id), decode_event(data)
    )


def stored_row(event: RecordedEvent) -> tuple[Any, ...]:
    """An event as a row of the events table, in EVENT_COLUMNS order: its wire form."""
    return (
        event.position,
        event.stream,
        event.version,
        event.event_id,
        type(event.event).__struct_config__.tag,
        subject_of(event.event),
        encode_event(event.event),
        event.actor.kind,
        event.actor.id,
        event.occurred_at,
    )


class SqlEventStore:
    def __init__(self, database: Database, seals: Seals | None = None) -> None:
        self._db = database
        self._seals = seals  # the tamper-evident chain's key (store.log_chain); None: unkeyed

    async def append(
        self, stream: str, expected_version: int | None, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        [recorded] = await self.append_many([Append(stream, expected_version, events)])
        return recorded

    async def append_many(self, appends: Sequence[Append]) -> list[list[RecordedEvent]]:
        if not any(append.events for append in appends):
            return [[] for _ in appends]
        started = time.perf_counter()
        async with self._db.writing() as tx:
            streams = sorted({a.stream for a in appends})
            position, versions, chain = await _heads(tx, streams, sealed=self._seals is not None)
            results = number(appends, position, versions)
            recorded = [event for events in results for event in events]
            rows = [stored_row(event) for event in recorded]
            if self._seals is None:
                await log_chain.refuse_unkeyed(tx)
                await tx.executemany(INSERT_EVENT, rows)
            else:
                sealed = await log_chain.seal(tx, self._seals, rows, streams, chain)
                await tx.executemany(log_chain.INSERT_SEALED, sealed)
            projector = Projector(tx)
            for event in recorded:
                await projector.project(event)
            await tx.execute(_CHECKPOINT, recorded[-1].position)
        _committed(recorded, time.perf_counter() - started)
        return results

    async def stream_version(self, stream: str) -> int:
        rows = await self._db.fetch("SELECT MAX(version) FROM events WHERE stream_id = $1", stream)
        return rows[0][0] or 0

    async def stream_versions(self, streams: Collection[str]) -> dict[str, int]:
        wanted = sorted(set(streams))
        found = dict.fromkeys(wanted, 0)
        for start in range(0, len(wanted), VERSIONS_PER_QUERY):
            batch = wanted[start : start + VERSIONS_PER_QUERY]
            marks = ", ".join(f"${i}" for i in range(1, len(batch) + 1))
            sql = (
                "SELECT stream_id, MAX(version) FROM events "
                f"WHERE stream_id IN ({marks}) GROUP BY stream_id"
            )
            for stream, version in await self._db.fetch(sql, *batch):
                found[stream] = int(version or 0)
        return found

    async def read_stream(self, stream: str, after_version: int = 0) -> list[RecordedEvent]:
        sql = f"{SELECT_EVENTS} WHERE stream_id = $1 AND version > $2 ORDER BY version"
        return [_recorded(r) for r in await self._db.fetch(sql, stream, after_version)]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        sql = f"{SELECT_EVENTS} WHERE position > $1 ORDER BY position LIMIT $2"
        return [_recorded(r) for r in await self._db.fetch(sql, after_position, limit)]

    async def secret_history(self, environment_id: str, name: str) -> list[RecordedEvent]:
        sql = f"{SELECT_EVENTS} WHERE subject = $1 AND stream_id = $2 ORDER BY version"
        return [
            _recorded(r)
            for r in await self._db.fetch(sql, name, environment_stream(environment_id))
        ]

    async def event_position(self, event_id: str) -> int | None:
        rows = await self._db.fetch("SELECT position FROM events WHERE event_id = $1", event_id)
        return int(rows[0][0]) if rows else None

    async def read_stream_between(
        self,
        stream: str,
        after_position: int = 0,
        until_position: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        sql = (
            f"{SELECT_EVENTS} WHERE stream_id = $1 AND position > $2 AND position <= $3 "
            "ORDER BY position LIMIT $4"
        )
        until = _NO_BOUND if until_position is None else until_position
        rows = await self._db.fetch(sql, stream, after_position, until, limit or _NO_BOUND)
        return [_recorded(r) for r in rows]

    async def first_later(self, stream: str, after_position: int, time: int) -> int | None:
        rows = await self._db.fetch(
            "SELECT position FROM events WHERE stream_id = $1 AND position > $2 "
            "AND occurred_at > $3 ORDER BY position LIMIT 1",
            stream,
            after_position,
            time,
        )
        return int(rows[0][0]) if rows else None

    async def read_streams_backward(
        self,
        streams: Collection[str],
        *,
        before: int | None = None,
        limit: int = 100,
        actor_id: str | None = None,
    ) -> list[RecordedEvent]:
        """One backward range of the (stream, position) index per stream, at most `limit`
        rows each, merged newest first: the cost of a page grows with the number of
        streams and the page's size, never with the length of the log."""
        names = sorted(set(streams))
        if limit <= 0 or not names:
            return []
        bound = _NO_BOUND if before is None else before
        records: list[tuple[Any, ...]] = []
        for start in range(0, len(names), STREAMS_PER_QUERY):
            chunk = names[start : start + STREAMS_PER_QUERY]
            sql, args = _backward_sql(chunk, bound, limit, actor_id)
            records.extend(await self._db.fetch(sql, *args))
        records.sort(key=lambda record: record[0], reverse=True)
        return [_recorded(r) for r in records[:limit]]

    async def get(self, table: type[R], key: tuple[str, ...]) -> R | None:
        records = await self._db.fetch(rows_sql.select_sql(table, *table.key), *key)
        return rows_sql.row_from(table, records[0]) if records else None

    async def select(self, table: type[R], field: str, value: str) -> list[R]:
        records = await self._db.fetch(rows_sql.select_sql(table, field), value)
        return [rows_sql.row_from(table, record) for record in records]

    async def checkpoint(self) -> int:
        rows = await self._db.fetch(
            "SELECT position FROM projection_checkpoints WHERE name = 'read_models'"
        )
        return rows[0][0] if rows else 0

    async def rebuild_projections(self, *, check_only: bool = False) -> RebuildReport:
        """Replay the whole log into fresh read models; compare them with the stored ones and,
        unless only checking, replace them. Holds the writer slot, so no append interleaves."""
        async with self._db.writing() as tx:
            tables, events, last = MemoryTables(), 0, 0
            while batch := await tx.fetch(
                f"{SELECT_EVENTS} WHERE position > $1 ORDER BY position LIMIT $2",
                last,
                REBUILD_BATCH,
            ):
                for record in batch:
                    tables.project(_recorded(record))
                events += len(batch)
                last = batch[-1][0]
            differences = {}
            for table in TABLES:
                stored = Counter(
                    tuple(rows_sql.values(rows_sql.row_from(table, r)))
                    for r in await tx.fetch(rows_sql.select_sql(table))
                )
                replayed = Counter(rows_sql.values(row) for row in tables.rows(table))
                differences[table.table] = sum(((stored - replayed) + (replayed - stored)).values())
            if not check_only:
                for table in TABLES:
                    await tx.execute(rows_sql.delete_all_sql(table))
                    rows = [rows_sql.values(row) for row in tables.rows(table)]
                    if rows:
                        await tx.executemany(rows_sql.insert_sql(table), rows)
                await tx.execute(_CHECKPOINT, last)
        return RebuildReport(
            events=events,
            rows={table.table: len(tables.rows(table)) for table in TABLES},
            differences=differences,
        )


def _committed(recorded: Sequence[RecordedEvent], seconds: float) -> None:
    """Metrics of a committed append: its time, and the audited reads it recorded (their
    `how` and how many names, never the names)."""
    metrics.APPENDS.observe(seconds)
    for item in recorded:
        if isinstance(read := item.event, SecretsRead):  # a whole read counts its scope
            metrics.SECRET_READS.labels(read.how).inc()
            metrics.SECRET_VALUES_READ.labels(read.how).inc(len(read.names) or read.count or 0)


def _backward_sql(
    streams: Sequence[str], before: int, limit: int, actor_id: str | None
) -> tuple[str, list[Any]]:
    """A union of one index range per stream; $1 is the bound, $2 the limit, $3 the actor."""
    args: list[Any] = [before, limit]
    actor = ""
    if actor_id is not None:
        args.append(actor_id)
        actor = " AND actor_id = $3"
    terms: list[str] = []
    for stream in streams:
        args.append(stream)
        terms.append(
            f"SELECT * FROM ({SELECT_EVENTS} WHERE stream_id = ${len(args)} AND position < $1"
            f"{actor} ORDER BY position DESC LIMIT $2) AS s{len(terms)}"
        )
    return " UNION ALL ".join(terms) + " ORDER BY position DESC LIMIT $2", args


async def _heads(
    tx: Transaction, streams: Sequence[str], *, sealed: bool = False
) -> tuple[int, dict[str, int], list[Any]]:
    """The log's last position and each stream's last version, in one statement (and, to
    seal the append, the chain's heads: store.log_chain.heads_sql)."""
    versions = ", ".join(
        f"(SELECT MAX(version) FROM events WHERE stream_id = ${i})"
        for i in range(1, len(streams) + 1)
    )
    chain = log_chain.heads_sql(len(streams)) if sealed else ""
    [row] = await tx.fetch(
        f"SELECT (SELECT MAX(position) FROM events), {versions}{chain}", *streams
    )
    position, *heads = row
    last = dict(zip(streams, heads[: len(streams)], strict=True))
    return position or 0, {s: head or 0 for s, head in last.items()}, heads[len(streams) :]
