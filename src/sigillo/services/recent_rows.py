"""The live rows of recently read environments, kept while their stream has not moved.

Every download and `sigillo run` reads all live rows of an environment; most of them find
the rows exactly as the previous read did. An environment's live rows change only through
events of its own stream, so the stream's version (one index lookup) tells whether rows
read before are still current. The version is read first and the rows after, so rows are
never older than the version they are kept under: a write landing in between makes the
next read look again. Every replica checks against the database, so several servers on
one PostgreSQL stay exact. Rows hold ciphertext only, as the database does.

An environment deleted meanwhile keeps its entry until it ages out, but is never reached
again: callers find the environment before asking for its rows, and ids are not reused.
"""

from __future__ import annotations

from collections import OrderedDict

from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.domain.streams import environment_stream
from sigillo.services.ports import EventStore

__all__ = ["RecentRows"]

ENVIRONMENTS = 256


class RecentRows:
    def __init__(self, store: EventStore, capacity: int = ENVIRONMENTS) -> None:
        self._store, self._capacity = store, capacity
        self._kept: OrderedDict[str, tuple[int, list[CurrentSecretRow]]] = OrderedDict()

    async def current(self, environment_id: str) -> list[CurrentSecretRow]:
        return (await self.versioned(environment_id))[1]

    async def versioned(self, environment_id: str) -> tuple[int, list[CurrentSecretRow]]:
        """The live rows and the stream version read before them: an append expecting that
        version lands only if the rows are still current."""
        version, rows, _ = await self._read(environment_id)
        return version, rows

    async def exact(self, environment_id: str) -> tuple[int | None, list[CurrentSecretRow]]:
        """The live rows and the version they are exactly the live rows of, or None when a
        write landed while they were read (then they may be newer than any version read).
        Rows kept from before are exact; rows read afresh are when the stream's version,
        read again after them, has not moved (one more index entry, on a miss only)."""
        version, rows, fresh = await self._read(environment_id)
        if fresh and await self._version(environment_id) != version:
            return None, rows
        return version, rows

    async def _version(self, environment_id: str) -> int:
        return await self._store.stream_version(environment_stream(environment_id))

    async def _read(self, environment_id: str) -> tuple[int, list[CurrentSecretRow], bool]:
        version = await self._version(environment_id)
        kept = self._kept.get(environment_id)
        if kept is not None and kept[0] == version:
            self._kept.move_to_end(environment_id)
            return version, list(kept[1]), False
        rows = await self._store.select(CurrentSecretRow, "environment_id", environment_id)
        self._kept[environment_id] = (version, rows)
        self._kept.move_to_end(environment_id)
        while len(self._kept) > self._capacity:
            self._kept.popitem(last=False)
        return version, list(rows), True
