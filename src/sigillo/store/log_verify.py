"""Walking the tamper-evident chain (store.log_chain seals it, crypto.chain computes it).

`verify_log` walks the whole log in position order under the writer lock: positions
contiguous, each stream's versions contiguous and in order, each chained event's stream
hash (its content and its stream's previous hash) and log hash (the previous position's),
the head record (`log_chain`) against the log's end, the read models' checkpoint, and the
read models against a replay of the log: so a value put back into `current_secrets` (an
older ciphertext of the same secret, which decrypts fine) is caught too. It stops at the
first broken link and says what it is in words.

The checks of one event and of the head record are shared with `verify_streams`
(store.stream_verify), which checks only some streams' own chains.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

from sigillo.domain.codec import decode_event
from sigillo.domain.events import Actor, RecordedEvent
from sigillo.domain.projections import TABLES
from sigillo.domain.projections.memory import MemoryTables
from sigillo.domain.projections.rows import CurrentSecretRow, Row
from sigillo.services.log_chain import ChainReport, Seals
from sigillo.store import rows_sql
from sigillo.store.database import Database, Transaction

__all__ = [
    "COLUMNS",
    "NO_LIMIT",
    "Broken",
    "chain_record",
    "check_head",
    "check_stream_hash",
    "check_version",
    "recorded",
    "verify_log",
    "what",
]

COLUMNS = (
    "position, stream_id, version, event_id, event_type, subject, data, actor_kind, actor_id, "
    "occurred_at, stream_hash, log_hash"
)
BATCH = 10_000
MOVED = 16  # how far from its place an edited event is looked for, to tell a move
NO_LIMIT = 2**62


class Broken(Exception):
    def __init__(self, problem: str, stream: str | None = None, position: int | None = None):
        super().__init__(problem)
        self.problem, self.stream, self.position = problem, stream, position


def same(stored: str | None, computed: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, computed)


def what(record: Sequence[Any]) -> str:
    position, stream, version, _id, kind, subject = record[:6]
    named = f"{kind} {subject}" if subject else kind
    return f"event {position} of {stream} ({named}, version {version})"


def check_stream_hash(seals: Seals, record: Sequence[Any], previous: str | None) -> None:
    position, stream, stream_hash = record[0], record[1], record[10]
    if stream_hash is None or record[11] is None:
        raise Broken(
            f"{what(record)} carries no seal: it was written without the key, or its seal "
            "was removed",
            stream,
            position,
        )
    if same(stream_hash, seals.stream_hash(previous, record)):
        return
    for other in range(max(1, position - MOVED), position + MOVED + 1):
        if other != position and same(
            stream_hash, seals.stream_hash(previous, (other, *record[1:10]))
        ):
            raise Broken(
                f"events reordered: {what(record)} was written at position {other}",
                stream,
                position,
            )
    raise Broken(
        f"{what(record)} was edited: its content (data, actor or time) no longer matches its seal",
        stream,
        position,
    )


def check_version(record: Sequence[Any], previous_version: int, later: int | None) -> None:
    """`later`: the position of the stream's missing next version, if it is in the log."""
    position, stream, version = record[0], record[1], record[2]
    if version == previous_version + 1:
        return
    if version <= previous_version:
        raise Broken(
            f"events reordered: {what(record)} comes after version {previous_version} "
            "of its stream",
            stream,
            position,
        )
    if later is not None:
        raise Broken(
            f"events reordered: {what(record)} comes before version {previous_version + 1} "
            f"of its stream (at position {later})",
            stream,
            position,
        )
    missing = previous_version + 1
    span = (
        f"version {missing} is"
        if version == missing + 1
        else f"versions {missing} to {version - 1} are"
    )
    raise Broken(f"{stream} {span} missing (before event {position})", stream, position)


async def position_of(db: Database | Transaction, stream: str, version: int) -> int | None:
    rows = await db.fetch(
        "SELECT position FROM events WHERE stream_id = $1 AND version = $2", stream, version
    )
    return int(rows[0][0]) if rows else None


async def chain_record(db: Database | Transaction) -> tuple[int, int, str]:
    rows = await db.fetch("SELECT starts_at, head_position, head_mac FROM log_chain WHERE id = 1")
    if rows:
        starts_at, head_position, head_mac = rows[0]
        return int(starts_at), int(head_position), str(head_mac)
    [(sealed,)] = await db.fetch("SELECT MIN(position) FROM events WHERE log_hash IS NOT NULL")
    if sealed is not None:
        raise Broken(
            f"the chain record (table log_chain) was deleted, yet events are sealed from "
            f"event {sealed}",
            None,
            int(sealed),
        )
    raise Broken(
        "the log is not chained yet: start the server once with this release (it records "
        "where the chain starts)"
    )


async def log_hash_at(db: Database | Transaction, position: int) -> str | None:
    rows = await db.fetch("SELECT log_hash FROM events WHERE position = $1", position)
    return rows[0][0] if rows else None


async def check_head(
    db: Database | Transaction, seals: Seals, chain: tuple[int, int, str], end: int
) -> None:
    starts_at, head_position, head_mac = chain
    if head_position > end:
        raise Broken(
            f"the newest events were removed: the head says {head_position}, the log ends at {end}",
            None,
            end + 1,
        )
    if head_position < end:
        raise Broken(
            f"the head record says the log ends at event {head_position}, but it goes on to "
            f"{end}: the head was rolled back to an older copy",
            None,
            head_position + 1,
        )
    at_head = await log_hash_at(db, head_position) if head_position >= starts_at else None
    if not same(head_mac, seals.head_mac(starts_at, head_position, at_head)):
        raise Broken(
            f"the head record (table log_chain) was edited: its seal does not match event "
            f"{head_position}",
            None,
            head_position,
        )


def recorded(record: Sequence[Any]) -> RecordedEvent:
    position, stream, version, event_id, _type, _subject, data, kind, actor_id, at = record[:10]
    try:
        event = decode_event(data)
    except Exception:  # any failure to decode is the finding
        raise Broken(f"{what(record)} is not a readable event", stream, position) from None
    return RecordedEvent(position, stream, version, event_id, at, Actor(kind, actor_id), event)


async def _walk(
    tx: Transaction, seals: Seals, recorded_head: tuple[int, str] | None
) -> tuple[int, int, tuple[int, int, str]]:
    chain = await chain_record(tx)
    starts_at = chain[0]
    tables = MemoryTables()
    versions: dict[str, tuple[int, str | None]] = {}  # stream -> its last version and hash
    previous_log: str | None = None
    end = checked = 0
    while batch := await tx.fetch(
        f"SELECT {COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",  # noqa: S608
        end,
        BATCH,
    ):
        for record in batch:
            position, stream, version = record[0], record[1], record[2]
            if position != end + 1:
                raise Broken(
                    f"event {end + 1} is missing (positions jump from {end} to {position})",
                    None,
                    end + 1,
                )
            last_version, last_hash = versions.get(stream, (0, None))
            if version != last_version + 1:
                later = await position_of(tx, stream, last_version + 1)
                check_version(record, last_version, later)
            if position >= starts_at:
                check_stream_hash(seals, record, last_hash)
                if not same(record[11], seals.log_hash(previous_log, record[10])):
                    raise Broken(
                        f"the log's link at event {position} is broken: an event before it "
                        "was replaced, or its seals were copied from elsewhere",
                        stream,
                        position,
                    )
                previous_log = record[11]
                checked += 1
            versions[stream] = (version, record[10] if position >= starts_at else None)
            tables.project(recorded(record))
            end = position
    await check_head(tx, seals, chain, end)
    if recorded_head is not None:
        await _check_recorded(tx, seals, starts_at, end, recorded_head)
    rows = await tx.fetch("SELECT position FROM projection_checkpoints WHERE name = 'read_models'")
    checkpoint = int(rows[0][0]) if rows else 0
    if checkpoint != end:
        raise Broken(
            f"the read models were brought up to event {checkpoint}, but the log ends at "
            f"{end}: "
            + (
                "events were removed after they were applied"
                if checkpoint > end
                else "the read models are behind the log"
            ),
            None,
            min(checkpoint, end) + 1,
        )
    await _compare(tx, tables)
    return checked, end, chain


async def _check_recorded(
    tx: Transaction, seals: Seals, starts_at: int, end: int, recorded: tuple[int, str]
) -> None:
    position, mac = recorded
    if position > end:
        raise Broken(
            f"the newest events were removed: the head you recorded is event {position}, "
            f"the log ends at {end}",
            None,
            end + 1,
        )
    at = await log_hash_at(tx, position) if position >= starts_at else None
    if not same(mac.lower(), seals.head_mac(starts_at, position, at)):
        raise Broken(
            f"the head you recorded (event {position}) does not match this log: events up to "
            "it were changed, or the chain was restarted",
            None,
            position,
        )


async def _compare(tx: Transaction, replayed: MemoryTables) -> None:
    """The first read model row that differs from a replay of the log, in words."""
    for table in TABLES:
        stored = {
            _key(row): rows_sql.values(row)
            for row in (
                rows_sql.row_from(table, r) for r in await tx.fetch(rows_sql.select_sql(table))
            )
        }
        made = {_key(row): rows_sql.values(row) for row in replayed.rows(table)}
        for key in sorted(set(stored) | set(made)):
            if stored.get(key) == made.get(key):
                continue
            if table is CurrentSecretRow and key in stored and key in made:
                environment, name = key
                raise Broken(
                    f"current_secrets differs from the log: {name} in environment "
                    f"{environment} holds another value than its last set",
                    f"env:{environment}",
                )
            what = (
                "lacks a row the log makes"
                if key not in stored
                else (
                    "holds a row the log never made" if key not in made else "differs from the log"
                )
            )
            raise Broken(f"{table.table} {what} ({', '.join(key)})")


def _key(row: Row) -> tuple[str, ...]:
    return tuple(str(getattr(row, field)) for field in type(row).key)


async def verify_log(
    database: Database, seals: Seals, *, recorded_head: tuple[int, str] | None = None
) -> ChainReport:
    """The whole log, its head and its read models, while no append interleaves.
    `recorded_head`: (position, mac) an operator wrote down earlier; the log must hold it."""
    async with database.writing() as tx:
        try:
            checked, end, (starts_at, head_position, head_mac) = await _walk(
                tx, seals, recorded_head
            )
        except Broken as broken:
            chain = await _maybe_chain(tx)
            return ChainReport(
                0, chain[0], 0, chain[1], chain[2], broken.problem, broken.stream, broken.position
            )
    return ChainReport(checked, starts_at, end, head_position, head_mac)


async def _maybe_chain(db: Database | Transaction) -> tuple[int, int, str]:
    try:
        return await chain_record(db)
    except Broken:
        return 0, 0, ""
