"""Reading an environment as it was at a moment (sigillo.domain.moments): its live secrets
then, by folding its stream up to that moment (domain.projections.past_secrets). Values
stay sealed here; reads that open them are audited by the caller, as every read is.

Which events a moment covers:

* an event id: every event of the stream at or before that event's log position;
* a time: the stream's events from its first, up to (not including) the first one that
  occurred after the time. Appends are serialized, so an event stamped after the time
  committed after it, and so did every later event of the stream: a read at that time
  could have seen none of them. (Clocks that agree make this simply "every event that
  occurred at or before the time".)

Speed: a fold starts from the nearest kept snapshot at or below the moment (SnapshotStore)
and reads only the stream's events after it, through the (stream, position) index, in
batches (a time is first turned into a log position: the stream's first event after it,
found in the same index range). Snapshots sit on a grid, every `spacing` versions of a
stream: a fold that crosses grid versions keeps its state at each, so the next read near
there replays fewer than `spacing` events. Snapshots are exactly the full replay's folds
(tests/unit/test_past_secrets.py), a cache that is only ever added to; failing to keep one
never fails the read.
"""

from __future__ import annotations

import logging

from sigillo.domain.errors import Conflict, NotFound, StorageUnavailable
from sigillo.domain.events import RecordedEvent
from sigillo.domain.moments import Moment
from sigillo.domain.projections.past_secrets import PastSecrets, fold
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.domain.streams import environment_stream
from sigillo.services.ports import EventStore, Snapshot, SnapshotStore

__all__ = ["BATCH", "SPACING", "NotYet", "TimeTravel"]

log = logging.getLogger("sigillo.time_travel")

SPACING = 128  # a snapshot every SPACING versions of a stream (bench/point_in_time.py)
BATCH = 4096  # events read per statement while folding


class NotYet(NotFound):
    """The moment is before the environment was created (404, with that reason)."""

    def __init__(self, moment: Moment) -> None:
        super().__init__("environment")
        self.args = (f"environment: it did not exist yet at {moment}",)


class TimeTravel:
    def __init__(
        self,
        store: EventStore,
        snapshots: SnapshotStore | None = None,
        *,
        spacing: int = SPACING,
        batch: int = BATCH,
    ) -> None:
        self._store, self._snapshots = store, snapshots
        self._spacing, self._batch = spacing, batch
        self.replayed = 0  # events folded by the last call (tests and bench/ read it)

    async def at(self, environment: EnvironmentRow, moment: Moment) -> PastSecrets:
        """The environment's secrets at `moment`. NotFound when the moment is before the
        environment existed (NotYet), or names no event."""
        position, time = await self._bound(environment, moment)
        past, latest = await self._start(environment.id, position, time)
        stream = environment_stream(environment.id)
        kept: list[Snapshot] = []
        self.replayed = 0
        if time is not None:  # up to the first event after it: a bound in the log, too
            later = await self._store.first_later(stream, past.position, time)
            position = None if later is None else later - 1
        while True:
            events = await self._store.read_stream_between(
                stream, past.position, position, self._batch
            )
            for piece in self._pieces(events):
                past = fold(past, piece)
                latest = max(latest, max(event.occurred_at for event in piece))
                if past.version % self._spacing == 0:
                    kept.append(Snapshot(past, latest))
            self.replayed += len(events)
            if len(events) < self._batch:
                break
        await self._keep(kept)
        return past

    async def _bound(
        self, environment: EnvironmentRow, moment: Moment
    ) -> tuple[int | None, int | None]:
        """The moment as a bound: (log position, None) or (None, time)."""
        if moment.event_id is not None:
            position = await self._store.event_position(moment.event_id)
            if position is None:
                raise NotFound(f"event {moment.event_id}")
            if position < environment.position:
                raise NotYet(moment)
            return position, None
        assert moment.time is not None
        if moment.time < environment.created_at:
            raise NotYet(moment)
        return None, moment.time

    async def _start(
        self, environment_id: str, position: int | None, time: int | None
    ) -> tuple[PastSecrets, int]:
        """The nearest kept snapshot at or below the bound, else the empty environment."""
        if self._snapshots is not None:
            found = await self._snapshots.nearest(environment_id, position=position, time=time)
            if found is not None:
                return found.past, found.latest
        return PastSecrets(environment_id, 0, 0, 0), 0

    def _pieces(self, events: list[RecordedEvent]) -> list[list[RecordedEvent]]:
        """`events` (consecutive versions of a stream) cut after every grid version."""
        pieces: list[list[RecordedEvent]] = []
        start = 0
        while start < len(events):
            # The events up to the next grid version (versions are contiguous).
            room = self._spacing - (events[start].version - 1) % self._spacing
            pieces.append(events[start : start + room])
            start += room
        return pieces

    async def _keep(self, snapshots: list[Snapshot]) -> None:
        if self._snapshots is None or not snapshots:
            return
        try:
            await self._snapshots.keep(snapshots)
        except (StorageUnavailable, Conflict) as error:  # a cache: the read goes on
            log.warning("snapshots not kept: %s", type(error).__name__)
