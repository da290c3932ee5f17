"""The schema, as Piccolo tables. Migrations in `migrations/` are generated from these;
CI fails when the two drift apart (`python -m sigillo.store.drift`).

Composite unique keys are not declared here: Piccolo adds them with ALTER TABLE ... ADD
CONSTRAINT, which SQLite lacks, so the first migration creates them as unique indexes
(UNIQUE_INDEXES below), which both databases support and enforce the same way.

Queries do not go through Piccolo's engines: the event store speaks SQL over asyncpg and
persistent aiosqlite connections (see store/database.py). Column names equal the field
names of the domain's read-model rows, which is what lets one generic writer serve them.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, Bytea, Integer, Serial, Text, Varchar
from piccolo.table import Table

__all__ = [
    "INDEXES",
    "TABLES",
    "UNIQUE_INDEXES",
    "ApiTokens",
    "CurrentSecrets",
    "DataKeys",
    "DeviceCodes",
    "EncryptionKeys",
    "EnvironmentSnapshots",
    "Environments",
    "Events",
    "HealthChecks",
    "Invitations",
    "KeyRotations",
    "KeyUsage",
    "LogChain",
    "Memberships",
    "OrgProjects",
    "Orgs",
    "Passwords",
    "ProjectionCheckpoints",
    "Projects",
    "RecoveryCodes",
    "ReferenceStart",
    "Sessions",
    "SetupTokens",
    "SignInChallenges",
    "SignInFailures",
    "SsoIdentities",
    "SsoLogins",
    "TwoFactor",
    "Users",
]

ID = 26  # ULID


class Events(Table, tablename="events"):
    """The log: append-only, one row per event, gap-free positions, versions per stream."""

    position = BigInt(primary_key=True)
    stream_id = Varchar(length=100)
    version = Integer()
    event_id = Varchar(length=ID, unique=True)
    event_type = Varchar(length=64)
    subject = Varchar(length=256, null=True, default=None, index=True)
    data = Text()
    actor_kind = Varchar(length=16)
    actor_id = Varchar(length=100)
    occurred_at = BigInt()
    # The tamper-evident chain (HMAC-SHA-256, hex): over the event and its stream's previous
    # event, and over that and the log's previous event. NULL before the chain began.
    stream_hash = Varchar(length=64, null=True, default=None)
    log_hash = Varchar(length=64, null=True, default=None)


class Orgs(Table, tablename="orgs"):
    id = Varchar(length=ID, primary_key=True)
    name = Varchar(length=100)
    created_at = BigInt()
    updated_at = BigInt()
    position = BigInt()
    require_sso = Boolean(default=False)  # members sign in with single sign-on (issue 20)
    require_two_factor = Boolean(default=False)  # members' sessions passed a second factor


class Projects(Table, tablename="projects"):
    id = Varchar(length=ID, primary_key=True)
    org_id = Varchar(length=ID, index=True)
    name = Varchar(length=100)
    created_at = BigInt()
    updated_at = BigInt()
    position = BigInt()


class OrgProjects(Table, tablename="org_projects"):
    """Every project an org ever had; rows outlive their project and its org (the org audit
    log reads a deleted project's streams through them)."""

    project_id = Varchar(length=ID, primary_key=True)
    org_id = Varchar(length=ID, index=True)
    created_at = BigInt()
    position = BigInt()


class Environments(Table, tablename="environments"):
    id = Varchar(length=ID, primary_key=True)
    project_id = Varchar(length=ID, index=True)
    name = Varchar(length=100)
    slug = Varchar(length=63)
    created_at = BigInt()
    updated_at = BigInt()
    position = BigInt()


class CurrentSecrets(Table, tablename="current_secrets"):
    id = Serial(primary_key=True)
    environment_id = Varchar(length=ID)
    name = Varchar(length=256)
    secret_id = Varchar(length=ID)
    key_id = Varchar(length=32)
    nonce = Bytea()
    ciphertext = Bytea()
    format = Integer()
    created_at = BigInt()
    updated_at = BigInt()
    live_since = BigInt()
    actor_kind = Varchar(length=16)
    actor_id = Varchar(length=100)
    # [D18] rows that existed before kinds were all secrets: the column's default says so
    kind = Varchar(length=16, default="secret")


class Users(Table, tablename="users"):
    """Read model of user.registered; the email index backs the projection's own check."""

    id = Varchar(length=ID, primary_key=True)
    email = Varchar(length=254, unique=True)
    name = Varchar(length=100)
    created_at = BigInt()
    position = BigInt()


class Passwords(Table, tablename="passwords"):
    """Not a read model: password hashes stay out of the log (see events.UserRegistered)."""

    user_id = Varchar(length=ID, primary_key=True)
    hash = Varchar(length=512)
    updated_at = BigInt()


class Sessions(Table, tablename="sessions"):
    """Server-side sessions, shared by every replica; only the token's SHA-256 is stored."""

    id = Varchar(length=ID, primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    user_id = Varchar(length=ID, index=True)
    created_at = BigInt()
    last_seen_at = BigInt()
    expires_at = BigInt()
    ip_address = Varchar(length=64)
    user_agent = Varchar(length=512)
    client_name = Varchar(length=128, default="")  # a device-flow login: the CLI that asked
    sso_provider = Varchar(length=64, default="")  # signed in through this OIDC provider
    two_factor = Boolean(default=False)  # the sign-in passed a second factor (or enrolled one)


class SsoIdentities(Table, tablename="sso_identities"):
    """An account's identity at an OpenID Connect provider: the provider's `sub` for it.
    One per (provider, subject), made at the first SSO sign-in or by linking."""

    id = Varchar(length=ID, primary_key=True)
    provider = Varchar(length=64)
    subject = Varchar(length=255)
    user_id = Varchar(length=ID, index=True)
    email = Varchar(length=254)
    created_at = BigInt()
    last_used_at = BigInt()


class SsoLogins(Table, tablename="sso_logins"):
    """OpenID Connect sign-ins in flight: the SHA-256 of their `state`, with the nonce and
    PKCE verifier the callback needs. Single use: the callback deletes the row it uses."""

    state_hash = Varchar(length=64, primary_key=True)
    provider = Varchar(length=64)
    nonce = Varchar(length=128)
    code_verifier = Varchar(length=128)
    redirect = Varchar(length=2048, default="")
    created_at = BigInt()
    expires_at = BigInt(index=True)


class SignInChallenges(Table, tablename="sign_in_challenges"):
    """A sign-in half done: a password or a provider said who it is, and a second step is
    still to come: a two-factor code, or the password that links an SSO identity to an
    existing account. Only the SHA-256 of the challenge token (a cookie) is stored."""

    id = Varchar(length=ID, primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    purpose = Varchar(length=16)  # "two-factor" or "link"
    user_id = Varchar(length=ID, index=True)
    sso_provider = Varchar(length=64, default="")
    sso_subject = Varchar(length=255, default="")
    sso_email = Varchar(length=254, default="")
    redirect = Varchar(length=2048, default="")
    ip_address = Varchar(length=64)
    user_agent = Varchar(length=512)
    attempts = Integer(default=0)
    created_at = BigInt()
    expires_at = BigInt(index=True)


class TwoFactor(Table, tablename="two_factor"):
    """A user's TOTP secret (RFC 6238), sealed like a value with the server's keys and
    bound to the user. `enabled_at` is 0 while enrolment waits for its first code;
    `last_step` is the newest time step a code was accepted for: none at or before it
    is taken again."""

    user_id = Varchar(length=ID, primary_key=True)
    secret = Bytea()
    key_id = Varchar(length=64)
    nonce = Bytea()
    created_at = BigInt()
    enabled_at = BigInt(default=0)
    last_step = BigInt(default=0)


class RecoveryCodes(Table, tablename="recovery_codes"):
    """The single-use recovery codes of a user's two-factor authentication: SHA-256 only."""

    id = Varchar(length=ID, primary_key=True)
    user_id = Varchar(length=ID, index=True)
    code_hash = Varchar(length=64, unique=True)
    used_at = BigInt(default=0)


class SetupTokens(Table, tablename="setup_tokens"):
    """First-run setup: the SHA-256 of each one-time setup token a server start logged while
    no account existed. Any of them creates the first account; doing so removes them all."""

    token_hash = Varchar(length=64, primary_key=True)
    created_at = BigInt()


class SignInFailures(Table, tablename="sign_in_failures"):
    """Failed sign-ins (and those in flight): the per-account limit and its audit. The email
    only as a hash, never the password."""

    id = Varchar(length=ID, primary_key=True)
    email_hash = Varchar(length=64, index=True)
    ip_address = Varchar(length=64)
    attempted_at = BigInt(index=True)


class DeviceCodes(Table, tablename="device_codes"):
    """Device authorizations in progress (RFC 8628); only the codes' SHA-256 are stored."""

    id = Varchar(length=ID, primary_key=True)
    device_code_hash = Varchar(length=64, unique=True)
    user_code_hash = Varchar(length=64, unique=True)
    client_id = Varchar(length=128)
    scope = Varchar(length=1024)
    ip_address = Varchar(length=64)
    status = Varchar(length=16)
    user_id = Varchar(length=ID, null=True, default=None)
    created_at = BigInt()
    expires_at = BigInt(index=True)
    interval_ms = Integer()
    last_polled_at = BigInt(null=True, default=None)
    sso_provider = Varchar(length=64, default="")  # how the approving session signed in:
    two_factor = Boolean(default=False)  # the CLI's session inherits it (issue 20)


class Memberships(Table, tablename="memberships"):
    id = Varchar(length=ID, primary_key=True)
    org_id = Varchar(length=ID, index=True)
    user_id = Varchar(length=100, index=True)
    role = Varchar(length=16)
    created_at = BigInt()
    position = BigInt()


class Invitations(Table, tablename="invitations"):
    id = Varchar(length=ID, primary_key=True)
    org_id = Varchar(length=ID, index=True)
    role = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    expires_at = BigInt()
    created_by = Varchar(length=100)
    created_at = BigInt()
    revoked_at = BigInt(null=True, default=None)
    position = BigInt()


class ApiTokens(Table, tablename="api_tokens"):
    id = Varchar(length=ID, primary_key=True)
    project_id = Varchar(length=ID, index=True)
    environment_id = Varchar(length=ID, null=True, default=None)
    name = Varchar(length=100)
    prefix = Varchar(length=12)
    token_hash = Varchar(length=64, unique=True)
    access = Varchar(length=16)
    expires_at = BigInt(null=True, default=None)
    created_by = Varchar(length=100)
    created_at = BigInt()
    revoked_at = BigInt(null=True, default=None)
    position = BigInt()


class KeyUsage(Table, tablename="key_usage"):
    key_id = Varchar(length=32, primary_key=True)
    sealed_count = BigInt()


class ProjectionCheckpoints(Table, tablename="projection_checkpoints"):
    """The last log position folded into the read models, written with them."""

    name = Varchar(length=64, primary_key=True)
    position = BigInt()


class EncryptionKeys(Table, tablename="encryption_keys"):
    """Every key this database has seen, with a value it sealed: the start-up key check."""

    key_id = Varchar(length=32, primary_key=True)
    check_nonce = Bytea()
    check_ciphertext = Bytea()
    check_format = Integer()
    created_at = BigInt()
    retired_at = BigInt(default=0)  # a rotation replaced it: servers may start without it


class DataKeys(Table, tablename="data_keys"):
    """The keys values are sealed with, each wrapped (sealed) by a master key
    (crypto.envelope). Rotation re-wraps these rows; the event log is never rewritten."""

    key_id = Varchar(length=32, primary_key=True)
    wrapped_by = Varchar(length=32)
    nonce = Bytea()
    ciphertext = Bytea()
    format = Integer()
    created_at = BigInt()
    active_from = BigInt()  # new values are sealed with the newest active key; -1: never


class KeyRotations(Table, tablename="key_rotations"):
    """Each rotation of the master key, so that an interrupted one is resumed."""

    target = Varchar(length=32, primary_key=True)
    started_at = BigInt()
    finished_at = BigInt(default=0)  # 0 while unfinished


class LogChain(Table, tablename="log_chain"):
    """One row (id 1): where the chain began and a keyed seal of its head, so that removing
    the newest events is caught too."""

    id = Integer(primary_key=True)
    starts_at = BigInt()  # the first chained position
    head_position = BigInt()
    head_mac = Varchar(length=64)


class ReferenceStart(Table, tablename="reference_start"):
    """One row (id 1): from when values are read as templates (issue 18). Values set
    before (milliseconds) stay literal, as they were read before references existed."""

    id = Integer(primary_key=True)
    since = BigInt()


class EnvironmentSnapshots(Table, tablename="environment_snapshots"):
    """An environment's live secrets (still sealed) at a version of its stream, kept so a
    read of the past replays only the events after the nearest one. A cache of the log:
    rebuildable, and safe to delete."""

    id = Varchar(length=64, primary_key=True)  # "<environment id>:<version>"
    environment_id = Varchar(length=26, index=True)
    version = BigInt()
    position = BigInt()
    occurred_at = BigInt()
    state = Text()


class HealthChecks(Table, tablename="health_checks"):
    """One row (id 1), written by each readiness probe (`GET /health/ready`): proof that
    the database takes writes. Not part of the log or of any read model."""

    id = Integer(primary_key=True)
    checked_at = BigInt()


UNIQUE_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "events_stream_version": ("events", ("stream_id", "version")),
    "environments_project_slug": ("environments", ("project_id", "slug")),
    "current_secrets_environment_name": ("current_secrets", ("environment_id", "name")),
    "sso_identities_provider_subject": ("sso_identities", ("provider", "subject")),
}

# Composite indexes that are not unique, made by raw migrations for the same reason.
# (stream_id, position): the events of some streams below a position, newest first (the
# audit log's pages), each stream a short backward range of the index.
INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "events_stream_position": ("events", ("stream_id", "position")),
}

TABLES: list[type[Table]] = [
    Events,
    Orgs,
    Projects,
    OrgProjects,
    Environments,
    CurrentSecrets,
    KeyUsage,
    Users,
    Passwords,
    Sessions,
    SsoIdentities,
    SsoLogins,
    SignInChallenges,
    TwoFactor,
    RecoveryCodes,
    SetupTokens,
    SignInFailures,
    DeviceCodes,
    Memberships,
    Invitations,
    ApiTokens,
    ProjectionCheckpoints,
    EncryptionKeys,
    DataKeys,
    KeyRotations,
    LogChain,
    ReferenceStart,
    EnvironmentSnapshots,
    HealthChecks,
]
