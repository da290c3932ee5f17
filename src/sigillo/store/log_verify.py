"""Walking the tamper-evident chain (store.log_chain seals it, crypto.chain computes it).

`verify_log` walks the whole log in position order under the writer lock: positions
contiguous, each stream's versions contiguous and in order, each chained event's stream
hash (its content and its stream's previous hash) and log hash (the previous position's),
the head record (`log_chain`) against the log's end, the read models' checkpoint, and the
read models against a replay of the log: so a value put back into `current_secrets` (an
older ciphertext of the same secret, which decrypts fine) is caught too. It stops at the
first broken link and says what it is in words.

`verify_streams` checks only some streams' own chains, and the head record: the
dashboard's view of one environment, and `sigillo admin verify --org`.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Sequence
from typing import Any

from sigillo.domain.codec import decode_event
from sigillo.domain.events import Actor, RecordedEvent
from sigillo.domain.projections import TABLES
from sigillo.domain.projections.memory import MemoryTables
from sigillo.domain.projections.past_secrets import PastSecrets, fold
from sigillo.domain.projections.rows import CurrentSecretRow, Row
from sigillo.services.log_chain import ChainReport, Seals
from sigillo.store import rows_sql
from sigillo.store.database import Database, Transaction

__all__ = ["verify_log", "verify_streams"]

_COLUMNS = (
    "position, stream_id, version, event_id, event_type, subject, data, actor_kind, actor_id, "
    "occurred_at, stream_hash, log_hash"
)
_BATCH = 10_000
_MOVED = 16  # how far from its place an edited event is looked for, to tell a move
_NO_LIMIT = 2**62


class _Broken(Exception):
    def __init__(self, problem: str, stream: str | None = None, position: int | None = None):
        super().__init__(problem)
        self.problem, self.stream, self.position = problem, stream, position


def _same(stored: str | None, computed: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, computed)


def _what(record: Sequence[Any]) -> str:
    position, stream, version, _id, kind, subject = record[:6]
    named = f"{kind} {subject}" if subject else kind
    return f"event {position} of {stream} ({named}, version {version})"


def _check_stream_hash(seals: Seals, record: Sequence[Any], previous: str | None) -> None:
    position, stream, stream_hash = record[0], record[1], record[10]
    if stream_hash is None or record[11] is None:
        raise _Broken(
            f"{_what(record)} carries no seal: it was written without the key, or its seal "
            "was removed",
            stream,
            position,
        )
    if _same(stream_hash, seals.stream_hash(previous, record)):
        return
    for other in range(max(1, position - _MOVED), position + _MOVED + 1):
        if other != position and _same(
            stream_hash, seals.stream_hash(previous, (other, *record[1:10]))
        ):
            raise _Broken(
                f"events reordered: {_what(record)} was written at position {other}",
                stream,
                position,
            )
    raise _Broken(
        f"{_what(record)} was edited: its content (data, actor or time) no longer matches its seal",
        stream,
        position,
    )


def _check_version(record: Sequence[Any], previous_version: int, later: int | None) -> None:
    """`later`: the position of the stream's missing next version, if it is in the log."""
    position, stream, version = record[0], record[1], record[2]
    if version == previous_version + 1:
        return
    if version <= previous_version:
        raise _Broken(
            f"events reordered: {_what(record)} comes after version {previous_version} "
            "of its stream",
            stream,
            position,
        )
    if later is not None:
        raise _Broken(
            f"events reordered: {_what(record)} comes before version {previous_version + 1} "
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
    raise _Broken(f"{stream} {span} missing (before event {position})", stream, position)


async def _position_of(db: Database | Transaction, stream: str, version: int) -> int | None:
    rows = await db.fetch(
        "SELECT position FROM events WHERE stream_id = $1 AND version = $2", stream, version
    )
    return int(rows[0][0]) if rows else None


async def _chain_record(db: Database | Transaction) -> tuple[int, int, str]:
    rows = await db.fetch("SELECT starts_at, head_position, head_mac FROM log_chain WHERE id = 1")
    if rows:
        starts_at, head_position, head_mac = rows[0]
        return int(starts_at), int(head_position), str(head_mac)
    [(sealed,)] = await db.fetch("SELECT MIN(position) FROM events WHERE log_hash IS NOT NULL")
    if sealed is not None:
        raise _Broken(
            f"the chain record (table log_chain) was deleted, yet events are sealed from "
            f"event {sealed}",
            None,
            int(sealed),
        )
    raise _Broken(
        "the log is not chained yet: start the server once with this release (it records "
        "where the chain starts)"
    )


async def _log_hash_at(db: Database | Transaction, position: int) -> str | None:
    rows = await db.fetch("SELECT log_hash FROM events WHERE position = $1", position)
    return rows[0][0] if rows else None


async def _check_head(
    db: Database | Transaction, seals: Seals, chain: tuple[int, int, str], end: int
) -> None:
    starts_at, head_position, head_mac = chain
    if head_position > end:
        raise _Broken(
            f"the newest events were removed: the head says {head_position}, the log ends at {end}",
            None,
            end + 1,
        )
    if head_position < end:
        raise _Broken(
            f"the head record says the log ends at event {head_position}, but it goes on to "
            f"{end}: the head was rolled back to an older copy",
            None,
            head_position + 1,
        )
    at_head = await _log_hash_at(db, head_position) if head_position >= starts_at else None
    if not _same(head_mac, seals.head_mac(starts_at, head_position, at_head)):
        raise _Broken(
            f"the head record (table log_chain) was edited: its seal does not match event "
            f"{head_position}",
            None,
            head_position,
        )


def _recorded(record: Sequence[Any]) -> RecordedEvent:
    position, stream, version, event_id, _type, _subject, data, kind, actor_id, at = record[:10]
    try:
        event = decode_event(data)
    except Exception:  # any failure to decode is the finding
        raise _Broken(f"{_what(record)} is not a readable event", stream, position) from None
    return RecordedEvent(position, stream, version, event_id, at, Actor(kind, actor_id), event)


async def _walk(
    tx: Transaction, seals: Seals, recorded_head: tuple[int, str] | None
) -> tuple[int, int, tuple[int, int, str]]:
    chain = await _chain_record(tx)
    starts_at = chain[0]
    tables = MemoryTables()
    versions: dict[str, tuple[int, str | None]] = {}  # stream -> its last version and hash
    previous_log: str | None = None
    end = checked = 0
    while batch := await tx.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",  # noqa: S608
        end,
        _BATCH,
    ):
        for record in batch:
            position, stream, version = record[0], record[1], record[2]
            if position != end + 1:
                raise _Broken(
                    f"event {end + 1} is missing (positions jump from {end} to {position})",
                    None,
                    end + 1,
                )
            last_version, last_hash = versions.get(stream, (0, None))
            if version != last_version + 1:
                later = await _position_of(tx, stream, last_version + 1)
                _check_version(record, last_version, later)
            if position >= starts_at:
                _check_stream_hash(seals, record, last_hash)
                if not _same(record[11], seals.log_hash(previous_log, record[10])):
                    raise _Broken(
                        f"the log's link at event {position} is broken: an event before it "
                        "was replaced, or its seals were copied from elsewhere",
                        stream,
                        position,
                    )
                previous_log = record[11]
                checked += 1
            versions[stream] = (version, record[10] if position >= starts_at else None)
            tables.project(_recorded(record))
            end = position
    await _check_head(tx, seals, chain, end)
    if recorded_head is not None:
        await _check_recorded(tx, seals, starts_at, end, recorded_head)
    rows = await tx.fetch("SELECT position FROM projection_checkpoints WHERE name = 'read_models'")
    checkpoint = int(rows[0][0]) if rows else 0
    if checkpoint != end:
        raise _Broken(
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
        raise _Broken(
            f"the newest events were removed: the head you recorded is event {position}, "
            f"the log ends at {end}",
            None,
            end + 1,
        )
    at = await _log_hash_at(tx, position) if position >= starts_at else None
    if not _same(mac.lower(), seals.head_mac(starts_at, position, at)):
        raise _Broken(
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
                raise _Broken(
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
            raise _Broken(f"{table.table} {what} ({', '.join(key)})")


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
        except _Broken as broken:
            chain = await _maybe_chain(tx)
            return ChainReport(
                0, chain[0], 0, chain[1], chain[2], broken.problem, broken.stream, broken.position
            )
    return ChainReport(checked, starts_at, end, head_position, head_mac)


async def _maybe_chain(db: Database | Transaction) -> tuple[int, int, str]:
    try:
        return await _chain_record(db)
    except _Broken:
        return 0, 0, ""


async def verify_streams(
    database: Database, seals: Seals, streams: Collection[str], *, newest: int | None = None
) -> ChainReport:
    """Each stream's own chain (versions contiguous, every seal), the head record, and for an
    environment's stream its live secrets against a fold of the stream. It does not walk the
    global chain: a stream's newest events, removed while other streams' events came after
    them, show only to `verify_log`. With `newest`, a longer stream has only its newest
    events checked (linked to the stored seal before them) and no fold: `partial`."""
    checked = through = 0
    partial = False
    chain = (0, 0, "")
    try:
        starts_at = (await _chain_record(database))[0]
        # the head and the log's end in one statement: one snapshot, whatever is appended
        [(head_position, head_mac, end)] = await database.fetch(
            "SELECT head_position, head_mac, (SELECT MAX(position) FROM events) FROM log_chain "
            "WHERE id = 1"
        )
        chain = (starts_at, int(head_position), str(head_mac))
        for stream in sorted(streams):
            count, last, cut = await _walk_stream(database, seals, stream, starts_at, newest)
            checked, through, partial = checked + count, max(through, last), partial or cut
        await _check_head(database, seals, chain, int(end or 0))
    except _Broken as broken:
        return ChainReport(
            checked,
            chain[0],
            through,
            chain[1],
            chain[2],
            broken.problem,
            broken.stream,
            broken.position,
            scope="streams",
            partial=partial,
        )
    return ChainReport(
        checked, chain[0], through, chain[1], chain[2], scope="streams", partial=partial
    )


async def _walk_stream(
    database: Database, seals: Seals, stream: str, starts_at: int, newest: int | None
) -> tuple[int, int, bool]:
    """(chained events checked, last position, partial) of one stream. An environment's live secrets
    are compared with a fold of the stream read between two equal reads of them (each set,
    delete or kind change alters them: nothing was appended meanwhile); after three
    attempts under writes the comparison is left out."""
    environment = stream.removeprefix("env:") if stream.startswith("env:") else None
    for _attempt in range(3):
        live = None if environment is None else await _live_rows(database, environment)
        records = await database.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 "  # noqa: S608
            "ORDER BY version DESC LIMIT $2",
            stream,
            _NO_LIMIT if newest is None else newest + 1,
        )
        records.reverse()
        anchor = records.pop(0) if newest is not None and len(records) > newest else None
        checked = _check_stream(seals, records, starts_at, anchor)
        last = records[-1][0] if records else 0
        if environment is None or live is None or anchor is not None:
            return checked, last, anchor is not None
        if await _live_rows(database, environment) == live:
            _compare_environment(environment, live, records)
            return checked, last, False
    return checked, last, False


def _check_stream(
    seals: Seals,
    records: Sequence[Sequence[Any]],
    starts_at: int,
    anchor: Sequence[Any] | None = None,
) -> int:
    """`anchor`: the stored event just before `records`, when they are not the whole stream."""
    last_version, last_hash, last_position, checked = 0, None, 0, 0
    if anchor is not None:
        last_version, last_position = anchor[2], anchor[0]
        last_hash = anchor[10] if anchor[0] >= starts_at else None
    for record in records:
        position = record[0]
        if record[2] != last_version + 1:
            later = next((r[0] for r in records if r[2] == last_version + 1), None)
            _check_version(record, last_version, later)
        if position < last_position:
            raise _Broken(
                f"events reordered: {_what(record)} is before version {last_version} "
                f"(at position {last_position})",
                record[1],
                position,
            )
        if position >= starts_at:
            _check_stream_hash(seals, record, last_hash)
            checked += 1
        last_version, last_position = record[2], position
        last_hash = record[10] if position >= starts_at else None
    return checked


async def _live_rows(database: Database, environment: str) -> dict[str, tuple[Any, ...]] | None:
    """The environment's stored live secrets; None when it is deleted (or unknown)."""
    if not await database.fetch("SELECT 1 FROM environments WHERE id = $1", environment):
        return None
    records = await database.fetch(
        rows_sql.select_sql(CurrentSecretRow, "environment_id"), environment
    )
    rows = (rows_sql.row_from(CurrentSecretRow, record) for record in records)
    return {row.name: rows_sql.values(row) for row in rows}


def _compare_environment(
    environment: str, live: dict[str, tuple[Any, ...]], records: Sequence[Sequence[Any]]
) -> None:
    """The stored live secrets of an environment against a fold of its stream."""
    empty = PastSecrets(environment, 0, 0, 0)
    folded = fold(empty, (_recorded(record) for record in records))
    made = {row.name: rows_sql.values(row) for row in folded.rows}
    for name in sorted(set(live) | set(made)):
        if live.get(name) == made.get(name):
            continue
        if name not in made:
            what = "is live, but the log deleted it or never set it"
        elif name not in live:
            what = "is missing, but the log has it live"
        else:
            what = "holds another value than its last set"
        raise _Broken(
            f"current_secrets differs from the log: {name} in environment {environment} {what}",
            f"env:{environment}",
        )
