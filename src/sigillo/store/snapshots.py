"""Kept folds of environments' streams (implements SnapshotStore; services.time_travel).

One row of `environment_snapshots` per environment and version: id `<environment>:<version>`,
the position of that version's event, `occurred_at` the latest time of any event folded
(so the snapshot answers every moment from then on until the stream's next event), and
`state` the live rows as msgspec JSON (still sealed: ciphertexts, as current_secrets holds
them). A cache of the log: rows are only ever added, never changed, and deleting any of
them loses nothing but speed.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import msgspec

from sigillo.domain.projections.past_secrets import PastSecrets
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.services.ports import Snapshot
from sigillo.store.database import Database

__all__ = ["MemorySnapshots", "SqlSnapshots", "decode_state", "encode_state"]

ENVIRONMENTS = 256  # environments whose list of snapshots is kept in memory
STATES = 64  # snapshots kept decoded in memory, the most recently used

_ROWS = msgspec.json.Decoder(tuple[CurrentSecretRow, ...])
_ENCODER = msgspec.json.Encoder()
# Which snapshots an environment has (their small columns only), and one snapshot's state.
_INDEX = (
    "SELECT version, position, occurred_at FROM environment_snapshots WHERE environment_id = $1"
)
_STATE = (
    "SELECT id, environment_id, version, position, occurred_at, state "
    "FROM environment_snapshots WHERE id = $1"
)
_INSERT = (
    "INSERT INTO environment_snapshots "
    "(id, environment_id, version, position, occurred_at, state) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING"
)


def encode_state(rows: Sequence[CurrentSecretRow]) -> str:
    return _ENCODER.encode(tuple(rows)).decode()


def decode_state(state: str) -> tuple[CurrentSecretRow, ...]:
    return _ROWS.decode(state)


def _snapshot(record: Sequence[Any]) -> Snapshot:
    _id, environment_id, version, position, latest, state = record
    rows = decode_state(state)
    past = PastSecrets(environment_id, int(version), int(position), int(latest), rows)
    return Snapshot(past, int(latest))


def _row(snapshot: Snapshot) -> tuple[Any, ...]:
    past = snapshot.past
    return (
        f"{past.environment_id}:{past.version}",
        past.environment_id,
        past.version,
        past.position,
        snapshot.latest,
        encode_state(past.rows),
    )


def _bound(position: int | None, time: int | None) -> tuple[str, int]:
    if (position is None) == (time is None):
        raise ValueError("give exactly one of position and time")
    return ("position", position) if position is not None else ("occurred_at", time or 0)


class SqlSnapshots:
    """Snapshots in `environment_snapshots`. Which ones an environment has is read once and
    then kept in memory (with the ones this process keeps added), so that finding the nearest
    is a search in memory and one primary-key read (or none: the most recently used states
    are kept too). Snapshots never change, so what is kept is never wrong; another server's
    snapshots made since are only unseen, which costs a longer tail until this process
    keeps its own. A snapshot found gone (the table emptied) reads the list again."""

    def __init__(
        self, database: Database, *, environments: int = ENVIRONMENTS, states: int = STATES
    ) -> None:
        self._db = database
        self._environments, self._states_kept = environments, states
        self._indexes: OrderedDict[str, list[tuple[int, int, int]]] = OrderedDict()
        self._states: OrderedDict[str, Snapshot] = OrderedDict()

    async def nearest(
        self, environment_id: str, *, position: int | None = None, time: int | None = None
    ) -> Snapshot | None:
        column, bound = _bound(position, time)
        for again in (False, True):
            index = await self._index(environment_id, again)
            keys = [entry[1] if column == "position" else entry[2] for entry in index]
            at = bisect_right(keys, bound) - 1  # both grow with the version
            if at < 0:
                return None
            found = await self._state(environment_id, index[at][0])
            if found is not None:
                return found
        return None

    async def keep(self, snapshots: Sequence[Snapshot]) -> None:
        if not snapshots:
            return
        async with self._db.writing() as tx:
            await tx.executemany(_INSERT, [_row(snapshot) for snapshot in snapshots])
        for snapshot in snapshots:
            past = snapshot.past
            index = self._indexes.get(past.environment_id)
            entry = (past.version, past.position, snapshot.latest)
            if index is not None and entry not in index:
                insort(index, entry)
            self._remember(f"{past.environment_id}:{past.version}", snapshot)

    async def _index(self, environment_id: str, reload: bool) -> list[tuple[int, int, int]]:
        index = None if reload else self._indexes.get(environment_id)
        if index is None:
            rows = await self._db.fetch(_INDEX, environment_id)
            index = sorted((int(v), int(p), int(t)) for v, p, t in rows)
            self._indexes[environment_id] = index
            while len(self._indexes) > self._environments:
                self._indexes.popitem(last=False)
        self._indexes.move_to_end(environment_id)
        return index

    async def _state(self, environment_id: str, version: int) -> Snapshot | None:
        key = f"{environment_id}:{version}"
        found = self._states.get(key)
        if found is None:
            rows = await self._db.fetch(_STATE, key)
            if not rows:
                return None
            found = _snapshot(rows[0])
        self._remember(key, found)
        return found

    def _remember(self, key: str, snapshot: Snapshot) -> None:
        self._states[key] = snapshot
        self._states.move_to_end(key)
        while len(self._states) > self._states_kept:
            self._states.popitem(last=False)


class MemorySnapshots:
    """The same in memory, stored in their wire form (for tests and the in-memory store)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Any, ...]] = {}

    async def nearest(
        self, environment_id: str, *, position: int | None = None, time: int | None = None
    ) -> Snapshot | None:
        column, bound = _bound(position, time)
        index = 3 if column == "position" else 4
        found = [
            row for row in self._rows.values() if row[1] == environment_id and row[index] <= bound
        ]
        return _snapshot(max(found, key=lambda row: row[2])) if found else None

    async def keep(self, snapshots: Sequence[Snapshot]) -> None:
        for snapshot in snapshots:
            row = _row(snapshot)
            self._rows.setdefault(row[0], row)

    def __len__(self) -> int:
        return len(self._rows)
