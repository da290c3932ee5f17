"""Checking some streams' own chains (store.log_verify walks the whole log): the
dashboard's view of one environment, the verify API and `sigillo admin verify --org`.

Each stream's versions are contiguous and in order, every chained event's seal holds, the
head record matches the log's end, and an environment's stored live secrets equal a fold of
its stream (so an older ciphertext put back is caught here too).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sigillo.domain.projections.past_secrets import PastSecrets, fold
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.services.log_chain import ChainReport, Seals
from sigillo.store import rows_sql
from sigillo.store.database import Database
from sigillo.store.log_verify import (
    COLUMNS,
    NO_LIMIT,
    Broken,
    chain_record,
    check_head,
    check_stream_hash,
    check_version,
    recorded,
    what,
)

__all__ = ["verify_streams"]


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
        starts_at = (await chain_record(database))[0]
        # the head and the log's end in one statement: one snapshot, whatever is appended
        [(head_position, head_mac, end)] = await database.fetch(
            "SELECT head_position, head_mac, (SELECT MAX(position) FROM events) FROM log_chain "
            "WHERE id = 1"
        )
        chain = (starts_at, int(head_position), str(head_mac))
        for stream in sorted(streams):
            count, last, cut = await _walk_stream(database, seals, stream, starts_at, newest)
            checked, through, partial = checked + count, max(through, last), partial or cut
        await check_head(database, seals, chain, int(end or 0))
    except Broken as broken:
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
            f"SELECT {COLUMNS} FROM events WHERE stream_id = $1 "  # noqa: S608
            "ORDER BY version DESC LIMIT $2",
            stream,
            NO_LIMIT if newest is None else newest + 1,
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
            check_version(record, last_version, later)
        if position < last_position:
            raise Broken(
                f"events reordered: {what(record)} is before version {last_version} "
                f"(at position {last_position})",
                record[1],
                position,
            )
        if position >= starts_at:
            check_stream_hash(seals, record, last_hash)
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
    folded = fold(empty, (recorded(record) for record in records))
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
        raise Broken(
            f"current_secrets differs from the log: {name} in environment {environment} {what}",
            f"env:{environment}",
        )
