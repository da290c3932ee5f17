"""From when values are read as templates (issue 18, services.references).

`reference_start` (one row, id 1) is written the first time a server of this release
starts on a database: `since` is 0 for a database with no events yet (every value is a
template), else that moment (values set before it stay literal: a `${HOME}` stored before
references existed is still read as `${HOME}`). A Piccolo migration cannot decide it, as
it does not know the time the log is written with; replicas starting together agree on
the first row written.
"""

from __future__ import annotations

from sigillo.store.database import Database

__all__ = ["begin_references"]

_BEGIN = "INSERT INTO reference_start (id, since) VALUES (1, $1) ON CONFLICT (id) DO NOTHING"


async def begin_references(database: Database, now: int) -> int:
    """Record `since` once; answer it (milliseconds)."""
    async with database.writing() as tx:
        rows = await tx.fetch("SELECT since FROM reference_start WHERE id = 1")
        if rows:
            return int(rows[0][0])
        [(events,)] = await tx.fetch("SELECT EXISTS (SELECT 1 FROM events)")
        since = now if events else 0
        await tx.execute(_BEGIN, since)
        return since
