"""The events of Sigillo's log and the envelope they are stored in.

Each event is a frozen msgspec Struct named in the past tense with an explicit wire tag.
Tags never change: a new field gets a default; a changed meaning gets a new tag.
Events hold ciphertext (SealedValue), never plaintext.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "Actor",
    "EnvironmentCreated",
    "EnvironmentDeleted",
    "EnvironmentRenamed",
    "Event",
    "NewEvent",
    "OrgCreated",
    "ProjectCreated",
    "ProjectDeleted",
    "ProjectRenamed",
    "RecordedEvent",
    "SealedValue",
    "SecretDeleted",
    "SecretSet",
]


class _Event(msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True):
    pass


class SealedValue(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An AES-256-GCM ciphertext (tag appended), its nonce and the id of the key that sealed it."""

    key_id: str
    nonce: bytes
    ciphertext: bytes
    format: int = 1

    def __repr__(self) -> str:
        size = len(self.ciphertext)
        return f"SealedValue(key_id={self.key_id!r}, format={self.format}, <{size} bytes>)"


class SecretSet(_Event, tag="secret.set", frozen=True):
    environment_id: str
    name: str
    value: SealedValue


class SecretDeleted(_Event, tag="secret.deleted", frozen=True):
    environment_id: str
    name: str


class OrgCreated(_Event, tag="org.created", frozen=True):
    org_id: str
    name: str


class ProjectCreated(_Event, tag="project.created", frozen=True):
    project_id: str
    org_id: str
    name: str


class ProjectRenamed(_Event, tag="project.renamed", frozen=True):
    project_id: str
    name: str


class ProjectDeleted(_Event, tag="project.deleted", frozen=True):
    project_id: str


class EnvironmentCreated(_Event, tag="environment.created", frozen=True):
    environment_id: str
    project_id: str
    name: str
    slug: str


class EnvironmentRenamed(_Event, tag="environment.renamed", frozen=True):
    environment_id: str
    name: str
    slug: str


class EnvironmentDeleted(_Event, tag="environment.deleted", frozen=True):
    environment_id: str


Event = (
    SecretSet
    | SecretDeleted
    | OrgCreated
    | ProjectCreated
    | ProjectRenamed
    | ProjectDeleted
    | EnvironmentCreated
    | EnvironmentRenamed
    | EnvironmentDeleted
)


class Actor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who caused an event: a user, an API token, or the system itself (migrations, admin CLI)."""

    kind: Literal["user", "token", "system"]
    id: str


class NewEvent(msgspec.Struct, frozen=True):
    """An event about to be appended, with the audit facts the caller supplies."""

    event_id: str
    occurred_at: int
    actor: Actor
    event: Event


class RecordedEvent(msgspec.Struct, frozen=True):
    """An event as the log holds it: its global position and its version within its stream."""

    position: int
    stream: str
    version: int
    event_id: str
    occurred_at: int
    actor: Actor
    event: Event
