"""The history of one secret: every set and delete of a name, oldest first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

from sigillo.domain.events import Actor, RecordedEvent, SealedValue, SecretDeleted, SecretSet

__all__ = ["HistoryEntry", "history"]


class HistoryEntry(msgspec.Struct, frozen=True):
    event_id: str
    version: int
    operation: Literal["set", "delete"]
    value: SealedValue | None
    occurred_at: int
    actor: Actor


def history(events: Iterable[RecordedEvent], name: str) -> list[HistoryEntry]:
    entries = []
    for recorded in events:
        event = recorded.event
        if isinstance(event, SecretSet | SecretDeleted) and event.name == name:
            entries.append(
                HistoryEntry(
                    event_id=recorded.event_id,
                    version=recorded.version,
                    operation="set" if isinstance(event, SecretSet) else "delete",
                    value=event.value if isinstance(event, SecretSet) else None,
                    occurred_at=recorded.occurred_at,
                    actor=recorded.actor,
                )
            )
    return entries
