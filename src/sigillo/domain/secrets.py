"""The secrets of one environment: commands and the decision that turns them into events.

Every write appends, including setting an identical value and deleting a name that is
not live (behaviour.md 3.5). Values arrive sealed: plaintext never reaches the domain's
events. Kinds [D18] are the one thing decided on state: a kind change names the kind it
replaces, so the decision needs the kinds of the live names (`live`), and a kind change
of a name that is not live is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.events import (
    SealedValue,
    SecretDeleted,
    SecretKind,
    SecretKindChanged,
    SecretSet,
)
from sigillo.domain.values import secret_name

__all__ = [
    "KINDS",
    "ChangeKinds",
    "DeleteSecrets",
    "SecretEvent",
    "SetSecrets",
    "decide",
    "secret_kind",
]

KINDS: tuple[SecretKind, ...] = ("secret", "plain")
SecretEvent = SecretSet | SecretDeleted | SecretKindChanged
"""What the secrets of an environment are made of."""


class SetSecrets(msgspec.Struct, frozen=True):
    """Set one or more secrets at once: all are appended or none (bulk set). `kinds` names
    the kind of some of them; the others keep the kind they have (`secret` when new)."""

    environment_id: str
    values: Mapping[str, SealedValue]
    kinds: Mapping[str, SecretKind] = {}


class DeleteSecrets(msgspec.Struct, frozen=True):
    environment_id: str
    names: Sequence[str]


class ChangeKinds(msgspec.Struct, frozen=True):
    """Mark live secrets as `secret` or `plain` without touching their values."""

    environment_id: str
    kinds: Mapping[str, SecretKind]


def secret_kind(kind: object, field: str = "kind") -> SecretKind:
    if kind == "secret":
        return "secret"
    if kind == "plain":
        return "plain"
    raise InvalidInput(field, 'must be "secret" or "plain"')


def decide(
    command: SetSecrets | DeleteSecrets | ChangeKinds, live: Mapping[str, SecretKind] = {}
) -> list[SecretEvent]:
    """The events of `command`, given the kinds of the environment's live names."""
    if isinstance(command, DeleteSecrets):
        return [
            SecretDeleted(environment_id=command.environment_id, name=secret_name(name))
            for name in command.names
        ]
    if isinstance(command, ChangeKinds):
        if any(secret_name(name) not in live for name in command.kinds):
            raise NotFound("secret")
        return _kind_changes(command.environment_id, command.kinds, live)
    events: list[SecretEvent] = [
        SecretSet(environment_id=command.environment_id, name=secret_name(name), value=value)
        for name, value in command.values.items()
    ]
    if unset := [name for name in command.kinds if name not in command.values]:
        raise InvalidInput("kinds", f"names a secret this write does not set: {unset[0]}")
    return events + _kind_changes(command.environment_id, command.kinds, live)


def _kind_changes(
    environment_id: str, kinds: Mapping[str, SecretKind], live: Mapping[str, SecretKind]
) -> list[SecretEvent]:
    """One change per name whose kind differs from the one it has (`secret` when new)."""
    changes: list[SecretEvent] = []
    for name, kind in kinds.items():
        previous = live.get(name, "secret")
        if secret_kind(kind) != previous:
            changes.append(SecretKindChanged(environment_id, secret_name(name), kind, previous))
    return changes
