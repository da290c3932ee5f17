"""Sealing appends into the tamper-evident chain (crypto.chain computes the seals).

`log_chain` (one row, id 1) records where the chain starts and a keyed seal of its head.
A database that existed before the chain gets that row the first time a server (or an
admin command that opens the keys) starts with this release: `begin_chain` records
starts_at = the log's end + 1 under the writer lock. That is the migration that chains
existing databases: a Piccolo migration cannot, as it has no key. Events before
`starts_at` keep NULL hashes and are not proven.

Once the log is chained, a store without the key refuses to append (`refuse_unkeyed`):
an unsealed event would break the chain for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sigillo.domain.errors import StartupError
from sigillo.services.log_chain import Seals
from sigillo.store.database import Database, Transaction

__all__ = ["INSERT_SEALED", "begin_chain", "heads_sql", "refuse_unkeyed", "seal"]

INSERT_SEALED = (
    "INSERT INTO events (position, stream_id, version, event_id, event_type, subject, data, "
    "actor_kind, actor_id, occurred_at, stream_hash, log_hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
)
_STARTS_AT = "(SELECT starts_at FROM log_chain WHERE id = 1)"
_BEGIN = (
    "INSERT INTO log_chain (id, starts_at, head_position, head_mac) VALUES (1, $1, $2, $3) "
    "ON CONFLICT (id) DO NOTHING"
)


async def begin_chain(database: Database, seals: Seals) -> int:
    """Record where the chain starts, once; answers starts_at. Refuses to start again when
    the record is gone although events are sealed (someone deleted it)."""
    async with database.writing() as tx:
        rows = await tx.fetch("SELECT starts_at FROM log_chain WHERE id = 1")
        if rows:
            return int(rows[0][0])
        [(end, sealed)] = await tx.fetch(
            "SELECT (SELECT MAX(position) FROM events), "
            "(SELECT MIN(position) FROM events WHERE log_hash IS NOT NULL)"
        )
        if sealed is not None:
            raise StartupError(
                f"the log is chained from event {sealed} but its chain record (table "
                "log_chain) is gone: the database was edited; run `sigillo admin verify`"
            )
        end = int(end or 0)
        await tx.execute(_BEGIN, end + 1, end, seals.head_mac(end + 1, end, None))
        return end + 1


async def refuse_unkeyed(tx: Transaction) -> None:
    """For a store without the key: appending unsealed events to a chained log is refused."""
    if await tx.fetch("SELECT 1 FROM log_chain WHERE id = 1"):
        raise StartupError(
            "this event log is chained (tamper-evident): appending needs the encryption key"
        )


def heads_sql(streams: int) -> str:
    """The columns the append's heads statement adds to seal it (streams are $1..$n):
    where the chain starts, the log's last log hash, each stream's last stream hash."""
    terms = "".join(
        f", (SELECT stream_hash FROM events WHERE stream_id = ${i} "  # noqa: S608
        "ORDER BY version DESC LIMIT 1)"
        for i in range(1, streams + 1)
    )
    last_log = "(SELECT log_hash FROM events ORDER BY position DESC LIMIT 1)"
    return f", {_STARTS_AT}, {last_log}{terms}"


async def seal(
    tx: Transaction,
    seals: Seals,
    rows: Sequence[tuple[Any, ...]],
    streams: Sequence[str],
    heads: Sequence[Any],
) -> list[Any]:
    """`rows` (numbered, in position order, EVENT_COLUMNS) with their stream and log hashes
    appended; moves the head. `heads`: what heads_sql read for `streams`, in the append's
    transaction, under the writer lock."""
    starts_at, log, *previous = heads
    if starts_at is None:  # a database no start-up has chained yet: it starts here
        starts_at = rows[0][0]
        await tx.execute(_BEGIN, starts_at, starts_at - 1, "")
    last: dict[str, str | None] = dict(zip(streams, previous, strict=True))
    sealed = []
    for row in rows:
        stream_hash = seals.stream_hash(last[row[1]], row)
        log = seals.log_hash(log, stream_hash)
        last[row[1]] = stream_hash
        sealed.append((*row, stream_hash, log))
    end = rows[-1][0]
    await tx.execute(
        "UPDATE log_chain SET head_position = $1, head_mac = $2 WHERE id = 1",
        end,
        seals.head_mac(int(starts_at), end, log),
    )
    return sealed
