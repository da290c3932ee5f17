"""The bodies of the secrets routes: what they take and, where a client reads fields, what
they answer, as typed Structs so the OpenAPI document describes them exactly."""

from __future__ import annotations

import msgspec

from sigillo.domain.events import SecretKind

__all__ = [
    "ChangeKinds",
    "KindChange",
    "KindsChanged",
    "SecretDeleted",
    "SecretEntry",
    "SecretItem",
    "SecretList",
    "SecretRead",
    "SecretSet",
    "SecretsSet",
    "SetSecret",
    "SetSecrets",
]


class SetSecret(msgspec.Struct, forbid_unknown_fields=True):
    """`kind` [D18]: `secret` or `plain`; left out, the name keeps its kind (`secret` when
    new)."""

    name: str
    value: str
    kind: SecretKind | None = None


class SecretEntry(msgspec.Struct, forbid_unknown_fields=True):
    """A value with the kind to give it, in a bulk set [D18]."""

    value: str
    kind: SecretKind | None = None


class SetSecrets(msgspec.Struct, forbid_unknown_fields=True):
    """Each name's value, or `{"value", "kind"}` to give it a kind too; names without a kind
    keep theirs (`secret` when new)."""

    secrets: dict[str, str | SecretEntry]

    def values(self) -> dict[str, str]:
        return {
            name: entry if isinstance(entry, str) else entry.value
            for name, entry in self.secrets.items()
        }

    def kinds(self) -> dict[str, SecretKind]:
        return {
            name: entry.kind
            for name, entry in self.secrets.items()
            if isinstance(entry, SecretEntry) and entry.kind is not None
        }


class ChangeKinds(msgspec.Struct, forbid_unknown_fields=True):
    """The kind each named live secret is to have [D18]; their values are not touched."""

    kinds: dict[str, SecretKind]


class KindChange(msgspec.Struct, frozen=True):
    name: str
    kind: SecretKind
    previous: SecretKind


class KindsChanged(msgspec.Struct, frozen=True, rename="camel"):
    ok: bool
    environment_id: str
    changed: list[KindChange]


class SecretItem(msgspec.Struct, frozen=True, rename="camel"):
    """A live secret in a listing: never its value (behaviour.md 6.7)."""

    id: str
    name: str
    created_at: int
    updated_at: int
    is_empty: bool
    kind: SecretKind


class SecretList(msgspec.Struct, frozen=True, rename="camel"):
    environment_id: str
    secrets: list[SecretItem]
    all_names: list[str]


class SecretRead(msgspec.Struct, frozen=True, rename="camel"):
    """One live value, as GET …/secrets/{name} answers it."""

    id: str
    name: str
    value: str
    environment_id: str
    created_at: int
    updated_at: int
    kind: SecretKind

    def __repr__(self) -> str:  # never the value
        return f"SecretRead(name={self.name!r}, kind={self.kind!r}, <value hidden>)"


class SecretSet(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The answer to setting one secret: `id` is the event's."""

    ok: bool = True
    environment_id: str
    id: str
    name: str


class SecretsSet(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The answer to a bulk set: the names set, in the body's order."""

    ok: bool = True
    environment_id: str
    secrets: list[str]


class SecretDeleted(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool = True
    name: str
