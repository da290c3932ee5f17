"""Reading an environment as it was at a moment (sigillo.domain.moments): its live secrets
then, by replaying its stream up to that moment (domain.projections.past_secrets). Values
stay sealed here; reads that open them are audited by the caller, as every read is."""

from __future__ import annotations

from sigillo.domain.errors import NotFound
from sigillo.domain.events import RecordedEvent
from sigillo.domain.moments import Moment
from sigillo.domain.projections.past_secrets import PastSecrets, fold
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.domain.streams import environment_stream
from sigillo.services.ports import EventStore

__all__ = ["TimeTravel"]


class TimeTravel:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def at(self, environment: EnvironmentRow, moment: Moment) -> PastSecrets:
        """The environment's secrets at `moment`. NotFound when the moment is before the
        environment existed, or names no event."""
        events = await self._store.read_stream(environment_stream(environment.id))
        return fold(
            PastSecrets(environment.id, 0, 0, 0), await self._until(events, moment, environment)
        )

    async def _until(
        self, events: list[RecordedEvent], moment: Moment, environment: EnvironmentRow
    ) -> list[RecordedEvent]:
        if moment.event_id is not None:
            position = await self._store.event_position(moment.event_id)
            if position is None:
                raise NotFound(f"event {moment.event_id}")
            if position < environment.position:
                raise NotFound(f"environment: it did not exist yet at event {moment.event_id}")
            return [e for e in events if e.position <= position]
        assert moment.time is not None
        if moment.time < environment.created_at:
            raise NotFound(f"environment: it did not exist yet at {moment}")
        return [e for e in events if e.occurred_at <= moment.time]
