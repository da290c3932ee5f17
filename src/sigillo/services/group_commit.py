"""Group commit: unconditional appends that arrive together share one transaction.

Every read of a value is recorded before the value leaves [D16], so under load the audit
append, not the read, sets the pace: each one is a write transaction with its own flush
to disk. Here a caller puts its events in the open batch and queues for the commit slot;
the first of a batch to get the slot commits the whole batch (one transaction, one
flush), and the others find their events already durable when their turn comes. A lone
caller commits alone at once: nothing waits for company.

A batch fails as a whole: then every caller in it gets an error, and no value leaves. A
caller cancelled while queuing leaves its events in the batch: that read is recorded as
attempted, which errs on the side of the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from sigillo.domain.errors import StorageUnavailable
from sigillo.domain.events import Actor, Event, RecordedEvent
from sigillo.services.ports import Append
from sigillo.services.writing import Writer

__all__ = ["GroupCommit"]


class _Batch:
    def __init__(self) -> None:
        self.appends: list[Append] = []
        self.recorded: list[list[RecordedEvent]] | None = None  # None until committed


class GroupCommit:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._open = _Batch()
        self._slot = anyio.Lock()

    async def append(
        self, stream: str, events: Sequence[Event], actor: Actor
    ) -> list[RecordedEvent]:
        """Append at the end of `stream`; returns once the events are committed."""
        batch, index = self._open, len(self._open.appends)
        batch.appends.append(Append(stream, None, self._writer.new(events, actor)))
        async with self._slot:
            if batch is self._open:
                self._open = _Batch()
                batch.recorded = await self._writer.store.append_many(batch.appends)
        if batch.recorded is None:
            raise StorageUnavailable("the audit record could not be written; try again")
        return batch.recorded[index]
