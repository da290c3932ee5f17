"""The audit log's entries: what an event looks like in a page of the log (services.audit),
read by the API's audit routes, the dashboard's event log and the audit export.

An entry names secrets, versions, how values were read, roles, and token names and access;
never a value, a ciphertext, a nonce, a token or invitation hash. Users' and tokens' names
are looked up once per page (`Names`), tokens' names and scopes learnt from their project
streams (`Tokens`): a revoked token keeps its name [D1].
"""

from __future__ import annotations

from typing import Literal

import msgspec

from sigillo.domain.events import (
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentRenamed,
    Event,
    InvitationCreated,
    InvitationRevoked,
    InvitationUsed,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
    OrgCreated,
    OrgSignInPolicySet,
    ProjectCreated,
    ProjectRenamed,
    RecordedEvent,
    SecretDeleted,
    SecretKindChanged,
    SecretSet,
    SecretsRead,
    TokenCreated,
    TokenRevoked,
)
from sigillo.domain.projections.rows import ApiTokenRow, UserRow
from sigillo.services.ports import EventStore

__all__ = [
    "ActorChoice",
    "AuditActor",
    "AuditEntry",
    "AuditPage",
    "Names",
    "Place",
    "Tokens",
    "entry",
]


class AuditActor(msgspec.Struct, frozen=True):
    """Who caused an event. `name` is the user's name or the token's name (revoked tokens
    too [D1]); null for the system, or when the name can no longer be found."""

    kind: Literal["user", "token", "system"]
    id: str
    name: str | None = None


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """One event as the audit log shows it. Fields that do not apply are left out."""

    position: int
    id: str
    at: int
    type: str
    actor: AuditActor
    version: int  # the event's number within its stream (an environment's secrets: 1..N)
    org_id: str | None = None
    project_id: str | None = None
    environment_id: str | None = None
    names: list[str] | None = None  # secret.set / .deleted / .kind_changed, secrets.read
    how: str | None = None  # secrets.read: get, download, reveal, run, compare, history or diff
    versions: list[int] | None = None  # secrets.read how history: the versions read
    # secrets.read of a whole environment (no names): the version of the environment's
    # secrets it read, and how many secrets were live at that version
    secrets_version: int | None = None
    count: int | None = None
    as_of: str | None = None  # secrets.read of the past (`at=`): the moment read
    kind: str | None = None  # secret.kind_changed: the kind now, secret or plain [D18]
    previous_kind: str | None = None  # secret.kind_changed: the kind before
    name: str | None = None  # the new name of an org, project or environment; a token's name
    slug: str | None = None
    role: str | None = None
    membership_id: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    invitation_id: str | None = None
    token_id: str | None = None
    access: str | None = None
    expires_at: int | None = None
    reason: str | None = None
    require_sso: bool | None = None  # org.sign_in_policy_set: the org's policy now
    require_two_factor: bool | None = None


class AuditPage(msgspec.Struct, frozen=True, rename="camel"):
    """Newest first; `next_before` is the cursor of the next (older) page, or None."""

    events: list[AuditEntry]
    next_before: int | None


class ActorChoice(msgspec.Struct, frozen=True):
    """Someone who can appear in an environment's log, for a filter's list of choices."""

    kind: Literal["user", "token"]
    id: str
    name: str | None
    revoked: bool = False


class Place(msgspec.Struct, frozen=True):
    org_id: str
    project_id: str | None = None
    environment_id: str | None = None


class Tokens:
    """Tokens' names and scopes as their project streams tell them."""

    def __init__(self, project_events: list[RecordedEvent]) -> None:
        self.names: dict[str, str] = {}
        self.scopes: dict[str, str | None] = {}
        self.learn(project_events)

    def learn(self, project_events: list[RecordedEvent]) -> None:
        for recorded in project_events:
            if isinstance(recorded.event, TokenCreated):
                self.names[recorded.event.token_id] = recorded.event.name
                self.scopes[recorded.event.token_id] = recorded.event.environment_id


class Names:
    """Display names of users and tokens, looked up once per page."""

    def __init__(self, store: EventStore, tokens: Tokens) -> None:
        self._store = store
        self._users: dict[str, str | None] = {}
        self._tokens: dict[str, str | None] = dict(tokens.names)
        self.scopes = tokens.scopes

    async def user(self, user_id: str) -> str | None:
        if user_id not in self._users:
            row = await self._store.get(UserRow, (user_id,))
            self._users[user_id] = row.name if row else None
        return self._users[user_id]

    async def token(self, token_id: str) -> str | None:
        if self._tokens.get(token_id) is None:
            row = await self._store.get(ApiTokenRow, (token_id,))  # kept when revoked [D1]
            self._tokens[token_id] = row.name if row else None
        return self._tokens[token_id]


async def entry(
    recorded: RecordedEvent, place: Place, names: Names, memberships: dict[str, str]
) -> AuditEntry:
    actor = recorded.actor
    if actor.kind == "user":
        actor_name = await names.user(actor.id)
    elif actor.kind == "token":
        actor_name = await names.token(actor.id)
    else:
        actor_name = None
    entry = AuditEntry(
        position=recorded.position,
        id=recorded.event_id,
        at=recorded.occurred_at,
        type=str(type(recorded.event).__struct_config__.tag),
        actor=AuditActor(actor.kind, actor.id, actor_name),
        version=recorded.version,
        org_id=place.org_id or None,
        project_id=place.project_id,
        environment_id=place.environment_id,
    )
    return msgspec.structs.replace(entry, **await _details(recorded.event, names, memberships))


async def _details(event: Event, names: Names, memberships: dict[str, str]) -> dict[str, object]:
    """What changed, without any value, ciphertext or hash."""
    if isinstance(event, SecretSet | SecretDeleted):
        return {"names": [event.name]}
    if isinstance(event, SecretKindChanged):
        return {"names": [event.name], "kind": event.kind, "previous_kind": event.previous}
    if isinstance(event, SecretsRead):
        past = {"as_of": event.at} if event.at is not None else {}
        if event.whole:  # every secret live at that version, not listed
            return {
                "how": event.how,
                "secrets_version": event.version,
                "count": event.count,
                **past,
            }
        versions = {"versions": list(event.versions)} if event.versions is not None else {}
        return {"names": list(event.names), "how": event.how, **versions, **past}
    if isinstance(event, OrgSignInPolicySet):
        return {"require_sso": event.require_sso, "require_two_factor": event.require_two_factor}
    if isinstance(event, OrgCreated | ProjectRenamed):
        return {"name": event.name}
    if isinstance(event, ProjectCreated):
        return {"name": event.name, "project_id": event.project_id}
    if isinstance(event, EnvironmentCreated | EnvironmentRenamed):
        return {"environment_id": event.environment_id, "name": event.name, "slug": event.slug}
    if isinstance(event, EnvironmentDeleted):
        return {"environment_id": event.environment_id}
    if isinstance(event, MemberAdded):
        user = await names.user(event.user_id)
        return {
            "membership_id": event.membership_id,
            "user_id": event.user_id,
            "user_name": user,
            "role": event.role,
        }
    if isinstance(event, MemberRoleChanged | MemberRemoved):
        user_id = memberships.get(event.membership_id)
        user = await names.user(user_id) if user_id else None
        role = {"role": event.role} if isinstance(event, MemberRoleChanged) else {}
        return {"membership_id": event.membership_id, "user_id": user_id, "user_name": user, **role}
    if isinstance(event, InvitationCreated):
        return {
            "invitation_id": event.invitation_id,
            "role": event.role,
            "expires_at": event.expires_at,
        }
    if isinstance(event, InvitationRevoked):
        return {"invitation_id": event.invitation_id}
    if isinstance(event, InvitationUsed):
        user = await names.user(event.user_id)
        return {"invitation_id": event.invitation_id, "user_id": event.user_id, "user_name": user}
    if isinstance(event, TokenCreated):
        return {
            "token_id": event.token_id,
            "name": event.name,
            "access": event.access,
            "environment_id": event.environment_id,
            "expires_at": event.expires_at,
        }
    if isinstance(event, TokenRevoked):
        return {
            "token_id": event.token_id,
            "name": await names.token(event.token_id),
            "environment_id": names.scopes.get(event.token_id),
            "reason": event.reason,
        }
    return {}
