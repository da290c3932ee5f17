"""The interfaces services need from the outside world; store/ and crypto/ implement them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import msgspec

from sigillo.domain.events import NewEvent, RecordedEvent, SealedValue
from sigillo.domain.projections.rows import Row

__all__ = [
    "AccountStore",
    "Cipher",
    "Credentials",
    "Database",
    "EventStore",
    "KeyRegistry",
    "PasswordHasher",
    "RebuildReport",
    "SessionRecord",
]


R = TypeVar("R", bound=Row)


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

    async def stream_version(self, stream: str) -> int: ...

    async def read_stream(self, stream: str, after_version: int = 0) -> list[RecordedEvent]: ...

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]: ...

    async def secret_history(self, environment_id: str, name: str) -> list[RecordedEvent]: ...

    async def get(self, table: type[R], key: tuple[str, ...]) -> R | None: ...

    async def select(self, table: type[R], field: str, value: str) -> list[R]:
        """Rows whose `field` equals `value`, in the table's natural order."""
        ...

    async def rebuild_projections(self, *, check_only: bool = False) -> RebuildReport: ...


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


class SessionRecord(msgspec.Struct, frozen=True):
    """A server-side session. Its token is never stored, only the token's SHA-256."""

    id: str
    user_id: str
    created_at: int
    last_seen_at: int
    expires_at: int
    ip_address: str
    user_agent: str


class AccountStore(Protocol):
    """Password hashes and sessions: ordinary tables, outside the log."""

    async def any_user(self) -> bool: ...

    async def set_password(self, user_id: str, password_hash: str, at: int) -> None: ...

    async def password_hash(self, user_id: str) -> str | None: ...

    async def create_session(self, session: SessionRecord, token_hash: str) -> None: ...

    async def session(self, token_hash: str) -> SessionRecord | None: ...

    async def touch_session(self, session_id: str, at: int) -> None: ...

    async def end_session(self, session_id: str) -> None: ...


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


class Database(Protocol):
    async def ping(self) -> None: ...
