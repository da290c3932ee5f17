"""One secret's history as people read it: every set, delete and kind change [D18] of a
name in an environment, oldest first, each with its event id (a moment `--to` and `at=`
accept), when, and who (a user's email or a token's name, as the audit sink names them;
revoked tokens too [D1]).

Values are hidden. With `show_values` the values of the sets listed are opened, after one
read is recorded (`secrets.read`, how "history", the name and the versions read): audit
fails closed [D16]. One secret's history is read through the store's (subject, stream)
index: nothing replays the environment's log.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from sigillo.domain.errors import NotFound
from sigillo.domain.events import Actor, SecretKind, SecretsRead
from sigillo.domain.moments import Moment
from sigillo.domain.projections.history import history
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.domain.streams import reads_stream
from sigillo.domain.values import secret_name
from sigillo.services.audit_entries import AuditActor
from sigillo.services.committed import ActorLabels
from sigillo.services.ports import Cipher, EventStore
from sigillo.services.writing import Writer

__all__ = ["HistoryItem", "SecretHistory", "SecretHistoryService", "rfc3339"]


class HistoryItem(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """One change. `kind`/`previousKind`: a kind change's new and former kind. `value`:
    only when values were asked for, on sets."""

    event_id: str
    version: int
    at: int  # ms since the epoch
    time: str  # the same moment, RFC 3339
    operation: Literal["set", "delete", "kind"]
    actor: AuditActor
    kind: SecretKind | None = None
    previous_kind: SecretKind | None = None
    value: str | None = None

    def __repr__(self) -> str:  # never a value in a log line or a traceback
        return f"HistoryItem(event_id={self.event_id!r}, operation={self.operation!r})"


class SecretHistory(msgspec.Struct, frozen=True, rename="camel"):
    environment_id: str
    name: str
    entries: list[HistoryItem]
    values_shown: bool


def rfc3339(ms: int) -> str:
    """`2026-12-07T09:30:00.000Z`."""
    return str(Moment(time=ms))


class SecretHistoryService:
    def __init__(self, store: EventStore, cipher: Cipher, writer: Writer) -> None:
        self._store, self._cipher, self._writer = store, cipher, writer
        self._labels = ActorLabels(store)

    async def history(
        self, environment: EnvironmentRow, name: str, actor: Actor, *, show_values: bool = False
    ) -> SecretHistory:
        """NotFound("secret NAME") when the name has no history in this environment. The
        caller has checked that the requester may read the environment."""
        checked = secret_name(name)
        events = await self._store.secret_history(environment.id, checked)
        entries = history(events, checked)
        if not entries:
            raise NotFound(f"secret {checked}")
        labels = await self._labels.labels(events)
        sets = [entry for entry in entries if entry.value is not None]
        if show_values and sets:
            read = SecretsRead(
                environment.id, [checked], "history", versions=[e.version for e in sets]
            )
            await self._writer.append(reads_stream(environment.id), [read], actor)
        items = []
        for entry in entries:
            value = None
            if show_values and entry.value is not None:
                value = self._cipher.open(entry.value, environment_id=environment.id, name=checked)
            who = entry.actor
            items.append(
                HistoryItem(
                    event_id=entry.event_id,
                    version=entry.version,
                    at=entry.occurred_at,
                    time=rfc3339(entry.occurred_at),
                    operation=entry.operation,
                    actor=AuditActor(who.kind, who.id, labels.get(who.id)),
                    kind=entry.kind,
                    previous_kind=entry.previous,
                    value=value,
                )
            )
        return SecretHistory(environment.id, checked, items, show_values)
