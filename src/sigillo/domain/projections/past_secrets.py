"""An environment's secrets as they were at a moment in its history.

The same fold as the current_secrets read model (`row_after_set`), replayed over the
environment's own stream up to the moment: a set makes a name live (keeping its place,
its first time and its kind if it was live), a kind change marks it, a delete removes it.
A fold can start from an earlier fold (a snapshot) and go on with the events after it.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from sigillo.domain.events import RecordedEvent, SecretDeleted, SecretKindChanged, SecretSet
from sigillo.domain.projections.current_secrets import row_after_set
from sigillo.domain.projections.rows import CurrentSecretRow

__all__ = ["PastSecrets", "fold"]


class PastSecrets(msgspec.Struct, frozen=True):
    environment_id: str
    version: int  # the stream version folded up to (0: nothing yet)
    position: int  # the log position of that event (0: nothing yet)
    occurred_at: int  # its time, ms (0: nothing yet)
    rows: tuple[CurrentSecretRow, ...] = ()  # the live secrets, in the order they became live

    def live(self) -> list[CurrentSecretRow]:
        return list(self.rows)


def fold(past: PastSecrets, events: Iterable[RecordedEvent]) -> PastSecrets:
    """`past`, then `events` (this environment's, in stream order, after `past.version`)."""
    rows = {row.name: row for row in past.rows}
    version, position, occurred_at = past.version, past.position, past.occurred_at
    for recorded in events:
        event = recorded.event
        version, position, occurred_at = recorded.version, recorded.position, recorded.occurred_at
        if isinstance(event, SecretDeleted):
            rows.pop(event.name, None)
        elif isinstance(event, SecretKindChanged):
            if event.name in rows:
                rows[event.name] = msgspec.structs.replace(rows[event.name], kind=event.kind)
        elif isinstance(event, SecretSet):
            rows[event.name] = row_after_set(rows.get(event.name), event, recorded)
    ordered = tuple(sorted(rows.values(), key=lambda row: row.live_since))
    return PastSecrets(past.environment_id, version, position, occurred_at, ordered)
