"""`sigillo admin audit export`: the audit trail as JSON lines, one per event in commit
order (sigillo.audit_lines: never a value, ciphertext, nonce, token or invitation hash).

It reads the database directly, as `sigillo admin backup` does, a batch of events at a time
(never the whole log in memory), while the server runs. `--since` keeps events from that
time on; `--org` keeps the org's streams: its own, its projects' (deleted ones too) and
their environments' `env:` and `reads:` streams (services.audit finds them). Actors are
named by the read models: a user's email, a token's name (kept after revocation [D1]).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sigillo.audit_lines import audit_line
from sigillo.domain.codec import decode_event
from sigillo.domain.events import Actor, RecordedEvent
from sigillo.domain.projections.rows import OrgRow
from sigillo.domain.streams import org_stream
from sigillo.services.audit import AuditService
from sigillo.services.committed import ActorLabels
from sigillo.settings import Settings
from sigillo.store import rows_sql
from sigillo.store.database import Database, open_database
from sigillo.store.event_store import SELECT_EVENTS, SqlEventStore

__all__ = ["BATCH", "ExportError", "export", "open_private", "parse_since"]

BATCH = 1000
# An org's streams are named in the query while they fit in one statement's parameters
# (SQLite and PostgreSQL both allow 32,766 or more); past that every event is read and the
# org's kept.
STREAMS_IN_QUERY = 30_000


class ExportError(Exception):
    """A usage error, said in words: an unknown org, a name several orgs share."""


def parse_since(text: str) -> int:
    """`--since`: an RFC 3339 time (`2026-12-07T09:00:00Z`, `…+01:00`; without an offset,
    UTC) or a date (`2026-12-07`, its midnight UTC), as milliseconds since the epoch."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither an RFC 3339 time (2026-12-07T09:00:00Z) "
            "nor a date (2026-12-07)"
        ) from None
    return int(moment.timestamp() * 1000)


def open_private(path: Path) -> BinaryIO:
    """`path` for writing, truncated, readable by its owner only (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


async def export(
    settings: Settings, out: BinaryIO, *, since: int | None = None, org: str | None = None
) -> int:
    """Writes the lines to `out`; answers how many."""
    database = await open_database(settings.database_url)
    try:
        store = SqlEventStore(database)
        streams = None if org is None else await _org_streams(database, store, org)
        return await _write(database, store, out, since, streams)
    finally:
        await database.close()


async def _org_streams(database: Database, store: SqlEventStore, text: str) -> list[str]:
    """The org's streams, the org named by its id or its name (a deleted org by its id)."""
    wanted = text.strip()
    org_id = None
    if await store.get(OrgRow, (wanted,)) is not None:
        org_id = wanted
    else:
        every = await database.fetch(rows_sql.select_sql(OrgRow))
        named = [o for o in (rows_sql.row_from(OrgRow, r) for r in every) if o.name == wanted]
        if len(named) > 1:
            ids = ", ".join(row.id for row in named)
            raise ExportError(f"{len(named)} orgs are named {wanted!r}: give one's id ({ids})")
        if named:
            org_id = named[0].id
        elif await store.stream_version(org_stream(wanted)) > 0:
            org_id = wanted  # a deleted org: its stream remains
    if org_id is None:
        raise ExportError(f"no org has the id or the name {wanted!r}")
    return await AuditService(store).org_streams(org_id)


async def _write(
    database: Database,
    store: SqlEventStore,
    out: BinaryIO,
    since: int | None,
    streams: Sequence[str] | None,
) -> int:
    labels = ActorLabels(store)
    wanted = None if streams is None else set(streams)
    named = wanted is not None and len(wanted) <= STREAMS_IN_QUERY
    sql, extra = _query(since, sorted(wanted or ()) if named else None)
    after, written = 0, 0
    while batch := await database.fetch(sql, after, BATCH, *extra):
        after = batch[-1][0]
        events = [_recorded(record) for record in batch]
        if wanted is not None and not named:
            events = [e for e in events if e.stream in wanted]
        actors = await labels.labels(events)
        out.write(b"".join(audit_line(recorded, actors) for recorded in events))
        written += len(events)
        if len(batch) < BATCH:
            break
    out.flush()
    return written


def _query(since: int | None, streams: Sequence[str] | None) -> tuple[str, list[Any]]:
    """Events after $1, at most $2, in commit order; from `since`, of `streams`."""
    where: list[str] = ["position > $1"]
    extra: list[Any] = []
    if since is not None:
        extra.append(since)
        where.append(f"occurred_at >= ${len(extra) + 2}")
    if streams is not None:
        marks = ", ".join(f"${len(extra) + 3 + i}" for i in range(len(streams)))
        extra.extend(streams)
        where.append(f"stream_id IN ({marks})" if streams else "1 = 0")
    return f"{SELECT_EVENTS} WHERE {' AND '.join(where)} ORDER BY position LIMIT $2", extra


def _recorded(record: Sequence[Any]) -> RecordedEvent:
    position, stream, version, event_id, _type, _subject, data, kind, actor_id, at = record
    return RecordedEvent(
        position, stream, version, event_id, at, Actor(kind, actor_id), decode_event(data)
    )
