"""Read-model rows and the three operations a projection may ask for.

A projection never touches a database: it looks rows up through a View and answers
with Put / Remove / RemoveWhere operations. The SQL stores and the in-memory store
execute the same operations, so one fold serves every store and every rebuild.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import msgspec

from sigillo.domain.events import SealedValue, SecretKind

__all__ = [
    "ApiTokenRow",
    "CurrentSecretRow",
    "EnvironmentRow",
    "InvitationRow",
    "KeyUsageRow",
    "MembershipRow",
    "Op",
    "OrgProjectRow",
    "OrgRow",
    "ProjectRow",
    "Put",
    "Remove",
    "RemoveWhere",
    "Row",
    "UserRow",
    "View",
]


class Row(msgspec.Struct, frozen=True):
    table: ClassVar[str]
    key: ClassVar[tuple[str, ...]]
    order: ClassVar[str]  # the column listings follow; ties cannot occur (positions are unique)

    def key_values(self) -> tuple[str, ...]:
        return tuple(getattr(self, field) for field in self.key)


class OrgRow(Row, frozen=True):
    table: ClassVar[str] = "orgs"
    key: ClassVar[tuple[str, ...]] = ("id",)
    order: ClassVar[str] = "position"
    id: str
    name: str
    created_at: int
    updated_at: int
    position: int
    require_sso: bool = False  # added with issue 20: rows of older cases fold to the default
    require_two_factor: bool = False


class ProjectRow(Row, frozen=True):
    table: ClassVar[str] = "projects"
    key: ClassVar[tuple[str, ...]] = ("id",)
    order: ClassVar[str] = "position"
    id: str
    org_id: str
    name: str
    created_at: int
    updated_at: int
    position: int


class OrgProjectRow(Row, frozen=True):
    """Every project an org ever had: written when the project is created and never removed,
    not when the project is deleted, nor when its org is. The log keeps a deleted project's
    events; this is how the org's audit log still finds its streams."""

    table: ClassVar[str] = "org_projects"
    key: ClassVar[tuple[str, ...]] = ("project_id",)
    order: ClassVar[str] = "position"
    project_id: str
    org_id: str
    created_at: int
    position: int


class EnvironmentRow(Row, frozen=True):
    table: ClassVar[str] = "environments"
    key: ClassVar[tuple[str, ...]] = ("id",)
    order: ClassVar[str] = "position"
    id: str
    project_id: str
    name: str
    slug: str
    created_at: int
    updated_at: int
    position: int


class CurrentSecretRow(Row, frozen=True):
    """A live secret: its latest sealed value, when it became live (behaviour.md 3.5) and
    its kind [D18]: `secret` unless a person marked it `plain`."""

    table: ClassVar[str] = "current_secrets"
    key: ClassVar[tuple[str, ...]] = ("environment_id", "name")
    order: ClassVar[str] = "live_since"
    environment_id: str
    name: str
    secret_id: str
    key_id: str
    nonce: bytes
    ciphertext: bytes
    format: int
    created_at: int
    updated_at: int
    live_since: int
    actor_kind: str
    actor_id: str
    kind: SecretKind = "secret"  # added with D18: rows of older cases fold to the default

    def sealed(self) -> SealedValue:
        return SealedValue(self.key_id, self.nonce, self.ciphertext, self.format)

    def __repr__(self) -> str:
        where = f"environment_id={self.environment_id!r}, name={self.name!r}"
        return f"CurrentSecretRow({where}, secret_id={self.secret_id!r}, kind={self.kind!r})"


class KeyUsageRow(Row, frozen=True):
    """How many values each key has sealed: NIST SP 800-38D caps a key at 2^32 encryptions."""

    table: ClassVar[str] = "key_usage"
    key: ClassVar[tuple[str, ...]] = ("key_id",)
    order: ClassVar[str] = "key_id"
    key_id: str
    sealed_count: int


class UserRow(Row, frozen=True):
    table: ClassVar[str] = "users"
    key: ClassVar[tuple[str, ...]] = ("id",)
    order: ClassVar[str] = "position"
    id: str
    email: str
    name: str
    created_at: int
    position: int


class MembershipRow(Row, frozen=True):
    table: ClassVar[str] = "memberships"
    key: ClassVar[tuple[str, ...]] = ("id",)
    order: ClassVar[str] = "position"
    id: str
    org_id: str
    user_id: str
    role: str
    created_at: int
    position: int


class InvitationRow(Row, frozen=True):
    table: ClassVar[str] = "invitations"
    key: ClassVar[tuple[str, ...]] = ("id",)
    order: ClassVar[str] = "position"
    id: str
    org_id: str
    role: str
    token_hash: str
    expires_at: int
    created_by: str
    created_at: int
    revoked_at: int | None
    position: int


class ApiTokenRow(Row, frozen=True):
    """A token's record, kept after revocation so its events keep their author [D1]."""

    table: ClassVar[str] = "api_tokens"
    key: ClassVar[tuple[str, ...]] = ("id",)
    order: ClassVar[str] = "position"
    id: str
    project_id: str
    environment_id: str | None
    name: str
    prefix: str
    token_hash: str
    access: str
    expires_at: int | None
    created_by: str
    created_at: int
    revoked_at: int | None
    position: int


class Put(msgspec.Struct, frozen=True):
    row: Row


class Remove(msgspec.Struct, frozen=True):
    table: type[Row]
    key: tuple[str, ...]


class RemoveWhere(msgspec.Struct, frozen=True):
    table: type[Row]
    field: str
    value: str


Op = Put | Remove | RemoveWhere


class View(Protocol):
    """What a projection may read while it decides: rows by key, or by one column."""

    def get(self, table: type[Row], key: tuple[str, ...]) -> Row | None: ...

    def select(self, table: type[Row], field: str, value: str) -> list[Row]: ...
