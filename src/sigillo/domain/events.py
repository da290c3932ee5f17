"""The events of Sigillo's log and the envelope they are stored in.

Each event is a frozen msgspec Struct named in the past tense with an explicit wire tag.
Tags never change: a new field gets a default; a changed meaning gets a new tag.
Events hold ciphertext (SealedValue), never plaintext.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "Access",
    "Actor",
    "EnvironmentCreated",
    "EnvironmentDeleted",
    "EnvironmentRenamed",
    "Event",
    "InvitationCreated",
    "InvitationRevoked",
    "InvitationUsed",
    "MemberAdded",
    "MemberRemoved",
    "MemberRoleChanged",
    "NewEvent",
    "OrgCreated",
    "OrgDeleted",
    "OrgSignInPolicySet",
    "ProjectCreated",
    "ProjectDeleted",
    "ProjectRenamed",
    "RecordedEvent",
    "Role",
    "SealedValue",
    "SecretDeleted",
    "SecretKind",
    "SecretKindChanged",
    "SecretSet",
    "SecretsRead",
    "TokenCreated",
    "TokenRevoked",
    "UserRegistered",
    "UserTwoFactorDisabled",
    "UserTwoFactorEnabled",
    "UserTwoFactorReset",
]


Role = Literal["admin", "member"]
Access = Literal["read", "read-write"]
SecretKind = Literal["secret", "plain"]
"""[D18] `secret` (the default): masked by `sigillo run` and hidden until revealed;
`plain`: configuration a person chose to show (`PORT`, `NODE_ENV`)."""


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


class SecretKindChanged(_Event, tag="secret.kind_changed", frozen=True):
    """A person said whether a live secret is a secret or plain configuration [D18].
    It never touches the value. A set keeps the kind its name has; a name that becomes
    live again after a delete starts as `secret`."""

    environment_id: str
    name: str
    kind: SecretKind
    previous: SecretKind


class SecretsRead(_Event, tag="secrets.read", frozen=True, omit_defaults=True):
    """Plaintext left the server [D16]: which names, how (get, download, reveal, run,
    compare: the import preview told changed from unchanged values without showing them,
    history: past values of one secret, `versions` naming which, or diff: the values of two
    environments or moments compared or shown).
    Appended before the values are returned, so a read that is not recorded does not
    happen. Kept on the environment's own `reads:` stream, out of its secrets' versions.

    A read of the whole environment (download, run) names its scope instead of listing
    it: `names` empty, `version` the version of the environment's secrets stream it read
    and `count` how many secrets were live there; the names are those live at that
    version (replay the `env:` stream up to it). Reads of some names (get, reveal) list
    them, as every read did before `version` was added; those encode as they always did."""

    environment_id: str
    names: list[str]
    how: Literal["get", "download", "reveal", "run", "mcp", "compare", "history", "diff"]
    version: int | None = None
    count: int | None = None
    # how "history": the versions of the environment's secrets stream whose values were read
    versions: list[int] | None = None
    # a read of the past (`at=`): the moment read, as normalised (domain.moments.Moment)
    at: str | None = None

    @property
    def whole(self) -> bool:
        """Whether this read is of every secret live at `version` (names not listed)."""
        return self.version is not None and not self.names


class UserRegistered(_Event, tag="user.registered", frozen=True):
    """A local account [D17]. Its password hash lives outside the log: the log is kept
    forever, and a changed password must not leave its old hash behind."""

    user_id: str
    email: str
    name: str


class UserTwoFactorEnabled(_Event, tag="user.two_factor_enabled", frozen=True):
    """The user confirmed a TOTP authenticator (issue 20). The secret and the recovery codes
    stay out of the log: it is kept forever, and they must go when 2FA is turned off."""

    user_id: str


class UserTwoFactorDisabled(_Event, tag="user.two_factor_disabled", frozen=True):
    """The user turned their two-factor authentication off (with a code or their password)."""

    user_id: str


class UserTwoFactorReset(_Event, tag="user.two_factor_reset", frozen=True):
    """An administrator removed a user's two-factor authentication, for a lost device
    (`sigillo admin reset-two-factor`); the actor says who."""

    user_id: str


class OrgCreated(_Event, tag="org.created", frozen=True):
    org_id: str
    name: str


class OrgDeleted(_Event, tag="org.deleted", frozen=True):
    org_id: str


class OrgSignInPolicySet(_Event, tag="org.sign_in_policy_set", frozen=True):
    """How the org's members must have signed in to reach it (issue 20): through single
    sign-on, with a second factor, both or neither. API tokens are not people: not bound."""

    org_id: str
    require_sso: bool
    require_two_factor: bool


class MemberAdded(_Event, tag="member.added", frozen=True):
    org_id: str
    membership_id: str
    user_id: str
    role: Role


class MemberRoleChanged(_Event, tag="member.role_changed", frozen=True):
    org_id: str
    membership_id: str
    role: Role


class MemberRemoved(_Event, tag="member.removed", frozen=True):
    org_id: str
    membership_id: str


class InvitationCreated(_Event, tag="invitation.created", frozen=True):
    """An invite link: anyone holding its token may join once, until it expires or is revoked.
    Only the token's SHA-256 is stored."""

    org_id: str
    invitation_id: str
    role: Role
    token_hash: str
    expires_at: int


class InvitationRevoked(_Event, tag="invitation.revoked", frozen=True):
    org_id: str
    invitation_id: str


class InvitationUsed(_Event, tag="invitation.used", frozen=True):
    """Someone joined through a link (their MemberAdded follows in the same append)."""

    org_id: str
    invitation_id: str
    user_id: str


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


class TokenCreated(_Event, tag="token.created", frozen=True):
    """An API token: scoped to the project, or to one environment of it. Only the key's
    SHA-256 and a display prefix are stored; the key itself is shown once."""

    project_id: str
    token_id: str
    name: str
    prefix: str
    token_hash: str
    access: Access
    environment_id: str | None = None
    expires_at: int | None = None


class TokenRevoked(_Event, tag="token.revoked", frozen=True):
    """Revoked, never erased: the events a token wrote keep naming it [D1]."""

    project_id: str
    token_id: str
    reason: Literal["revoked", "environment deleted"] = "revoked"


Event = (
    SecretSet
    | SecretDeleted
    | SecretKindChanged
    | SecretsRead
    | UserRegistered
    | UserTwoFactorEnabled
    | UserTwoFactorDisabled
    | UserTwoFactorReset
    | OrgCreated
    | OrgDeleted
    | OrgSignInPolicySet
    | MemberAdded
    | MemberRoleChanged
    | MemberRemoved
    | InvitationCreated
    | InvitationRevoked
    | InvitationUsed
    | ProjectCreated
    | ProjectRenamed
    | ProjectDeleted
    | EnvironmentCreated
    | EnvironmentRenamed
    | EnvironmentDeleted
    | TokenCreated
    | TokenRevoked
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
