"""The one way services change state: load a stream, decide, append; retry if it moved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from sigillo.domain.errors import ConcurrencyError
from sigillo.domain.events import Actor, Event, NewEvent, RecordedEvent
from sigillo.services.committed import AnnouncingStore
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import AuditSink, EventStore

__all__ = ["Aggregate", "Writer"]

S = TypeVar("S")
C = TypeVar("C", contravariant=True)


class Aggregate(Protocol[S, C]):
    """A domain module's aggregate: `replay(events) -> state`, `decide(state, command, …)`."""

    def replay(self, events: list[Event]) -> S: ...

    def decide(
        self, state: S, command: C, *, now: int, new_id: Callable[[], str]
    ) -> Sequence[Event]: ...


ATTEMPTS = 5


class Writer:
    def __init__(
        self, store: EventStore, clock: Clock, ids: UlidFactory, sink: AuditSink | None = None
    ) -> None:
        # Every append goes through `self.store`; with a sink, it tells the sink each
        # committed event, after the commit (services.committed).
        self.store: EventStore = store if sink is None else AnnouncingStore(store, sink)
        self.clock, self.ids = clock, ids

    async def append(
        self, stream: str, events: Sequence[Event], actor: Actor
    ) -> list[RecordedEvent]:
        """Append events whose validity does not depend on the stream's state."""
        return await self.store.append(stream, None, self.new(events, actor))

    async def decide(
        self, stream: str, decide: Callable[[list[Event]], Sequence[Event]], actor: Actor
    ) -> list[RecordedEvent]:
        """Replay the stream, decide on it, append at the version decided on.

        When another writer got there first, decide again on the new state.
        """
        for attempt in range(ATTEMPTS):
            history = await self.store.read_stream(stream)
            events = decide([e.event for e in history])
            version = history[-1].version if history else 0
            try:
                return await self.store.append(stream, version, self.new(events, actor))
            except ConcurrencyError:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def command(
        self,
        stream: str,
        aggregate: Aggregate[S, C],
        command: C,
        actor: Actor,
    ) -> list[RecordedEvent]:
        """Replay an aggregate's stream, decide a command on it with this moment's time and
        fresh ids, append; decide again if another writer moved the stream meanwhile."""

        def decide(history: list[Event]) -> Sequence[Event]:
            state = aggregate.replay(history)
            return aggregate.decide(state, command, now=self.clock.now(), new_id=self.ids)

        return await self.decide(stream, decide, actor)

    def new(self, events: Sequence[Event], actor: Actor) -> list[NewEvent]:
        """Events stamped with fresh ids, this moment and their actor, ready to append."""
        now = self.clock.now()
        return [NewEvent(self.ids(), now, actor, event) for event in events]
