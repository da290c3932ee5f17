"""Current secrets of an environment, folded one event at a time (behaviour.md 3.5).

A set makes a name live (keeping createdAt, its place and its kind if it already was; a new
name is a `secret` [D18]); a kind change marks a live name; a delete removes it. Reading
the projection costs O(live secrets), never a replay of history.
"""

from __future__ import annotations

import msgspec

from sigillo.domain.errors import NotFound
from sigillo.domain.events import RecordedEvent, SecretDeleted, SecretKindChanged, SecretSet
from sigillo.domain.projections.rows import (
    CurrentSecretRow,
    EnvironmentRow,
    KeyUsageRow,
    Op,
    Put,
    Remove,
    View,
)

__all__ = ["apply", "row_after_set"]


def apply(view: View, recorded: RecordedEvent) -> list[Op]:
    event = recorded.event
    if not isinstance(event, SecretSet | SecretDeleted | SecretKindChanged):
        return []
    if view.get(EnvironmentRow, (event.environment_id,)) is None:
        raise NotFound("environment")
    key = (event.environment_id, event.name)
    if isinstance(event, SecretDeleted):
        return [Remove(CurrentSecretRow, key)]
    previous = view.get(CurrentSecretRow, key)
    if not isinstance(previous, CurrentSecretRow):
        previous = None
    if isinstance(event, SecretKindChanged):
        if previous is None:  # decided on live names only; a log never holds one otherwise
            raise NotFound("secret")
        return [Put(msgspec.structs.replace(previous, kind=event.kind))]
    row = row_after_set(previous, event, recorded)
    usage = view.get(KeyUsageRow, (row.key_id,))
    count = usage.sealed_count if isinstance(usage, KeyUsageRow) else 0
    return [Put(row), Put(KeyUsageRow(row.key_id, count + 1))]


def row_after_set(
    previous: CurrentSecretRow | None, event: SecretSet, recorded: RecordedEvent
) -> CurrentSecretRow:
    """The live row a set leaves (also folded by past_secrets, for reads of the past)."""
    sealed = event.value
    return CurrentSecretRow(
        environment_id=event.environment_id,
        name=event.name,
        secret_id=recorded.event_id,
        key_id=sealed.key_id,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
        format=sealed.format,
        created_at=previous.created_at if previous else recorded.occurred_at,
        updated_at=recorded.occurred_at,
        live_since=previous.live_since if previous else recorded.position,
        actor_kind=recorded.actor.kind,
        actor_id=recorded.actor.id,
        kind=previous.kind if previous else "secret",
    )
