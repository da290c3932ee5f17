"""The secrets of one environment: commands and the decision that turns them into events.

Every write appends, including setting an identical value and deleting a name that is
not live (behaviour.md 3.5), so the decision needs no state beyond the commands' own
validity. Values arrive sealed: plaintext never reaches the domain's events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from sigillo.domain.events import SealedValue, SecretDeleted, SecretSet
from sigillo.domain.values import secret_name

__all__ = ["DeleteSecrets", "SetSecrets", "decide"]


class SetSecrets(msgspec.Struct, frozen=True):
    """Set one or more secrets at once: all are appended or none (bulk set)."""

    environment_id: str
    values: Mapping[str, SealedValue]


class DeleteSecrets(msgspec.Struct, frozen=True):
    environment_id: str
    names: Sequence[str]


def decide(command: SetSecrets | DeleteSecrets) -> list[SecretSet | SecretDeleted]:
    if isinstance(command, SetSecrets):
        return [
            SecretSet(environment_id=command.environment_id, name=secret_name(name), value=value)
            for name, value in command.values.items()
        ]
    return [
        SecretDeleted(environment_id=command.environment_id, name=secret_name(name))
        for name in command.names
    ]
