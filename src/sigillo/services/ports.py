"""The interfaces services need from the outside world; store/ and crypto/ implement them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Literal, Protocol, TypeVar

import msgspec

from sigillo.domain.data_keys import KeyRotation, WrappedKey
from sigillo.domain.device import DeviceCode, Transition
from sigillo.domain.events import NewEvent, RecordedEvent, SealedValue
from sigillo.domain.projections.past_secrets import PastSecrets
from sigillo.domain.projections.rows import Row

__all__ = [
    "AccountStore",
    "Append",
    "AuditSink",
    "Cipher",
    "Credentials",
    "DataKeyCipher",
    "DataKeyStore",
    "Database",
    "DeviceCodeStore",
    "DeviceCodes",
    "EventStore",
    "KeyRegistry",
    "PasswordHasher",
    "RebuildReport",
    "SessionRecord",
    "SignInAttempt",
    "SignInLog",
    "Snapshot",
    "SnapshotStore",
    "StreamVersions",
]


R = TypeVar("R", bound=Row)


class Append(msgspec.Struct, frozen=True):
    """One stream's part of an atomic append: `expected_version` None appends at its end."""

    stream: str
    expected_version: int | None
    events: Sequence[NewEvent]


class RebuildReport(msgspec.Struct, frozen=True):
    events: int
    rows: dict[str, int]
    differences: dict[str, int]  # table -> rows that differ between stored and replayed

    @property
    def identical(self) -> bool:
        return not any(self.differences.values())


class EventStore(Protocol):
    """The log and its read models. Appends commit events and projection rows atomically."""

    async def append(
        self, stream: str, expected_version: int | None, events: Sequence[NewEvent]
    ) -> list[RecordedEvent]:
        """Append to `stream`; `expected_version` None appends at the end whatever it is.

        Raises ConcurrencyError when the stream is not at `expected_version`, and Conflict
        when an event id is already in the log (or twice in `events`); nothing is appended.
        """
        ...

    async def append_many(self, appends: Sequence[Append]) -> list[list[RecordedEvent]]:
        """Several appends in one transaction, in order, all or nothing: the recorded events
        of each. Two appends to one stream check their versions one after the other."""
        ...

    async def stream_version(self, stream: str) -> int: ...

    async def read_stream(self, stream: str, after_version: int = 0) -> list[RecordedEvent]: ...

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]: ...

    async def secret_history(self, environment_id: str, name: str) -> list[RecordedEvent]: ...

    async def event_position(self, event_id: str) -> int | None:
        """The log position of the event with this id; None when there is none."""
        ...

    async def read_stream_between(
        self,
        stream: str,
        after_position: int = 0,
        until_position: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """The events of `stream` at log positions above `after_position` (and at most
        `until_position` when given), in order, at most `limit`: one range of the (stream,
        position) index, however long the stream (reads of the past, services.time_travel)."""
        ...

    async def first_later(self, stream: str, after_position: int, time: int) -> int | None:
        """The log position of the first event of `stream` above `after_position` that
        occurred after `time` (ms); None when there is none. One forward range of the
        (stream, position) index, from `after_position` to that event."""
        ...

    async def read_streams_backward(
        self,
        streams: Collection[str],
        *,
        before: int | None = None,
        limit: int = 100,
        actor_id: str | None = None,
    ) -> list[RecordedEvent]:
        """The events of `streams`, newest first: those at positions below `before` (every
        one when None), only those of the actor with id `actor_id` when given, at most
        `limit`. A page reads at most `limit` events of each stream through the (stream,
        position) index: it never scans or replays the log."""
        ...

    async def get(self, table: type[R], key: tuple[str, ...]) -> R | None: ...

    async def select(self, table: type[R], field: str, value: str) -> list[R]:
        """Rows whose `field` equals `value`, in the table's natural order."""
        ...

    async def rebuild_projections(self, *, check_only: bool = False) -> RebuildReport: ...


class StreamVersions(Protocol):
    """The current version of many streams at once (services.watch polls it)."""

    async def stream_versions(self, streams: Collection[str]) -> dict[str, int]:
        """Each stream's last version, 0 for a stream with no events; in as few statements
        as the database allows (one for up to a thousand streams)."""
        ...


class Snapshot(msgspec.Struct, frozen=True):
    """An environment's fold at a version of its stream (services.time_travel), and the
    latest time of any event folded into it: it is the environment at every moment from
    that time (or from its position) until the stream's next event."""

    past: PastSecrets
    latest: int


class SnapshotStore(Protocol):
    """Kept folds of environments' streams: a cache of the log, rebuildable and safe to lose."""

    async def nearest(
        self, environment_id: str, *, position: int | None = None, time: int | None = None
    ) -> Snapshot | None:
        """The kept snapshot of the highest version at or below log `position`, or (given
        `time`) of the highest version whose `latest` is at or before `time`; None if none."""
        ...

    async def keep(self, snapshots: Sequence[Snapshot]) -> None:
        """Store these; one already stored (same environment and version) stays as it is."""
        ...


class AuditSink(Protocol):
    """Receives every committed event, as a copy of the audit trail kept elsewhere (a file,
    syslog). Told only after the append's transaction committed, so an append rolled back
    never reaches it. It must neither raise nor block: a failing sink never fails a write."""

    def committed(self, events: Sequence[RecordedEvent], actors: Mapping[str, str]) -> None:
        """`actors`: actor id -> the user's email or the token's name, where known."""
        ...

    def close(self) -> None:
        """Deliver what is pending, then stop."""
        ...


class KeyRegistry(Protocol):
    """Which encryption keys this database has seen, each with a sealed known value."""

    async def registered(self) -> dict[str, SealedValue]: ...

    async def register_checked(
        self, decide: Callable[[dict[str, SealedValue]], SealedValue | None], at: int
    ) -> None:
        """Read the registered keys and register the check value `decide` answers (if any),
        in one transaction that no other writer interleaves with; `decide` may raise."""
        ...


class Cipher(Protocol):
    primary_key_id: str
    key_ids: frozenset[str]

    def seal(self, plaintext: str, *, environment_id: str, name: str) -> SealedValue: ...

    def open(self, sealed: SealedValue, *, environment_id: str, name: str) -> str: ...

    def seal_check(self) -> SealedValue: ...

    def verify_check(self, sealed: SealedValue) -> bool: ...


class DataKeyCipher(Cipher, Protocol):
    """A Cipher over data keys wrapped by master keys (crypto.envelope)."""

    @property
    def data_key_ids(self) -> frozenset[str]: ...

    def learn(self, keys: Iterable[WrappedKey]) -> list[WrappedKey]:
        """Unwrap the keys not known yet; answers those no configured master key opens."""
        ...

    def new_data_key(self, now: int, active_from: int) -> WrappedKey: ...

    def rewrapped(self, key: WrappedKey) -> WrappedKey:
        """The same data key, wrapped by the primary master key."""
        ...

    def demoted(self, master_key_id: str, now: int) -> WrappedKey:
        """A configured master key that sealed values itself, kept as a data key."""
        ...


class DataKeyStore(Protocol):
    async def wrapped_keys(self) -> list[WrappedKey]: ...

    async def add_first(self, make: Callable[[], WrappedKey]) -> None:
        """Store make()'s key if there is no data key at all (one writer at a time)."""
        ...

    async def add(self, key: WrappedKey) -> None:
        """Store a key unless one with its id is stored."""
        ...

    async def rewrap(self, key: WrappedKey, previous_wrapper: str) -> None:
        """Store key's new wrapping if it is still wrapped by `previous_wrapper`."""
        ...

    async def rotations(self) -> list[KeyRotation]: ...

    async def begin_rotation(self, target: str, at: int, key: WrappedKey) -> None: ...

    async def finish_rotation(self, target: str, retired: Sequence[str], at: int) -> None: ...

    async def retired(self) -> dict[str, int]:
        """Master key id -> when a rotation retired it (ms)."""
        ...

    async def sealed_counts(self) -> dict[str, int]:
        """Key id -> how many values it sealed."""
        ...


class SessionRecord(msgspec.Struct, frozen=True):
    """A server-side session. Its token is never stored, only the token's SHA-256."""

    id: str
    user_id: str
    created_at: int
    last_seen_at: int
    expires_at: int
    ip_address: str
    user_agent: str
    client_name: str = ""  # a device-flow login: the client that asked (its client id)
    sso_provider: str = ""  # signed in through this OpenID Connect provider (issue 20)
    two_factor: bool = False  # the sign-in passed a second factor, or enrolled one

    def __repr__(self) -> str:  # ids and times only: never the address or the device
        return f"SessionRecord(id={self.id!r}, user_id={self.user_id!r})"


class AccountStore(Protocol):
    """Password hashes and sessions: ordinary tables, outside the log."""

    async def any_user(self) -> bool: ...

    async def set_password(self, user_id: str, password_hash: str, at: int) -> None: ...

    async def password_hash(self, user_id: str) -> str | None: ...

    async def create_session(self, session: SessionRecord, token_hash: str) -> None: ...

    async def session(self, token_hash: str) -> SessionRecord | None: ...

    async def touch_session(self, session_id: str, at: int) -> None: ...

    async def end_session(self, session_id: str) -> None: ...

    async def user_sessions(self, user_id: str, now: int, idle_ms: int) -> list[SessionRecord]:
        """The user's live sessions (not past `expires_at`, used within `idle_ms`), newest
        first."""
        ...

    async def end_user_session(self, user_id: str, session_id: str) -> bool:
        """End one session of this user; False when the user has no such session (another
        user's session is left alone)."""
        ...

    async def end_user_sessions(self, user_id: str, *, keep: str | None) -> int:
        """End every session of the user except `keep`; how many ended."""
        ...

    async def mark_two_factor(self, session_id: str, two_factor: bool) -> None:
        """Record whether the session counts as signed in with a second factor: the session
        that enrols one does, without signing in again (issue 20)."""
        ...


class SignInAttempt(msgspec.Struct, frozen=True):
    """A sign-in whose password is being, or was, checked: kept only when it failed. Never
    the email (only `email_hash`, see domain/sign_in.py sign_in_key) nor the password."""

    id: str
    email_hash: str
    ip_address: str
    at: int


class SignInLog(Protocol):
    """Sign-in attempts per email hash: the per-account limit, shared by every replica of
    one database, and the audit of failed sign-ins. An ordinary table, outside the log."""

    async def begin_sign_in(
        self,
        attempt: SignInAttempt,
        decide: Callable[[list[int]], int | None],
        *,
        since: int,
        purge_before: int,
    ) -> int | None:
        """In one transaction no other writer interleaves with: read the times of the
        attempts with `attempt.email_hash` at or after `since`, ask `decide` for a wait;
        when it answers None store `attempt` (deleting attempts older than `purge_before`).
        Answers `decide`'s answer."""
        ...

    async def forget_sign_in(self, attempt_id: str) -> None:
        """Delete one attempt: its password was right."""
        ...

    async def failed_sign_ins(
        self, *, email_hash: str | None = None, limit: int = 100
    ) -> list[SignInAttempt]:
        """The latest recorded attempts, newest first; only those of one hash when given."""
        ...


class PasswordHasher(Protocol):
    def check_policy(self, password: str) -> None:
        """Raise InvalidInput (field "password") for a password the policy refuses."""
        ...

    def hash(self, password: str) -> str: ...

    def verify(self, password: str, encoded: str) -> bool: ...

    def verify_dummy(self, password: str) -> bool:
        """Cost what `verify` costs, and answer False: for emails with no account."""
        ...


class Credentials(Protocol):
    """Makes the secrets that grant access, and the hashes they are stored as."""

    def issue_api_token(self) -> tuple[str, str, str]:
        """A new API token: (key shown once, display prefix, stored hash)."""
        ...

    def hash_api_token(self, key: str) -> str: ...

    def issue_invite_token(self) -> tuple[str, str]:
        """A new invite link token: (token for the link, stored hash)."""
        ...

    def hash_invite_token(self, token: str) -> str: ...

    def issue_session_token(self) -> tuple[str, str]:
        """A new session token: (token for the client, stored hash)."""
        ...

    def hash_session_token(self, token: str) -> str: ...


class DeviceCodes(Protocol):
    """Device-flow codes (RFC 8628): the device code is a bearer secret, stored only as its
    hash; the user code is what a person types, normalized before it is looked up."""

    def issue_device_code(self) -> str: ...

    def issue_user_code(self) -> str: ...

    def hash_device_code(self, code: str) -> str: ...

    def hash_user_code(self, code: str) -> str:
        """The lookup key of a normalized user code."""
        ...

    def normalize_user_code(self, text: str) -> str | None:
        """8 upper-case letters, from input with or without the dash, in any case; or None."""
        ...

    def format_user_code(self, code: str) -> str:
        """`XXXX-XXXX`, for showing."""
        ...


class DeviceCodeStore(Protocol):
    """Pending device authorizations: an ordinary table, outside the log."""

    async def create(
        self, code: DeviceCode, device_code_hash: str, user_code_hash: str, *, purge_before: int
    ) -> bool:
        """Store a new code, first deleting codes that expired before `purge_before`.
        False (and nothing stored) when the user code hash is already taken."""
        ...

    async def find(self, user_code_hash: str) -> DeviceCode | None: ...

    async def transition(
        self,
        by: Literal["device_code", "user_code"],
        code_hash: str,
        decide: Callable[[DeviceCode | None], Transition],
    ) -> Transition:
        """Read the code, let `decide` say what becomes of it, store or delete that, all in
        one transaction no other writer interleaves with; answers `decide`'s transition."""
        ...


class Database(Protocol):
    async def ping(self) -> None: ...
