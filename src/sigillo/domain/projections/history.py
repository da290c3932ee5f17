"""The history of one secret: every set, delete and kind change [D18] of a name, oldest
first. Values stay sealed here; a reader that opens them records the read first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

from sigillo.domain.events import (
    Actor,
    RecordedEvent,
    SealedValue,
    SecretDeleted,
    SecretKind,
    SecretKindChanged,
    SecretSet,
)

__all__ = ["HistoryEntry", "history"]


class HistoryEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """`kind` and `previous`: the kind a kind change gave and the one it replaced (left out
    of sets and deletes, so the entries of logs without kinds encode as they always did)."""

    event_id: str
    version: int
    operation: Literal["set", "delete", "kind"]
    value: SealedValue | None
    occurred_at: int
    actor: Actor
    kind: SecretKind | None = None
    previous: SecretKind | None = None


def history(events: Iterable[RecordedEvent], name: str) -> list[HistoryEntry]:
    entries = []
    for recorded in events:
        event = recorded.event
        if not isinstance(event, SecretSet | SecretDeleted | SecretKindChanged):
            continue
        if event.name != name:
            continue
        facts = (recorded.event_id, recorded.version)
        when = (recorded.occurred_at, recorded.actor)
        if isinstance(event, SecretSet):
            entries.append(HistoryEntry(*facts, "set", event.value, *when))
        elif isinstance(event, SecretDeleted):
            entries.append(HistoryEntry(*facts, "delete", None, *when))
        else:
            entries.append(
                HistoryEntry(*facts, "kind", None, *when, kind=event.kind, previous=event.previous)
            )
    return entries
