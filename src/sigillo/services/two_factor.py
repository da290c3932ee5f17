"""Two-factor authentication with a TOTP authenticator (RFC 6238) and recovery codes.

Enrolment is two steps: `begin` makes a secret (kept with `enabled_at = 0`, replacing an
earlier unconfirmed one) and answers what the authenticator app needs; `confirm` takes a
first code from the app, turns 2FA on, and answers ten single-use recovery codes, shown
once. Turning it on ends the user's other sessions (one of them may be the reason for
it) and marks the current one as signed in with a second factor.

The secret is sealed like a secret value, with the server's data keys (crypto.envelope),
in the place of a value whose "environment" is `two-factor:<user id>`: the associated data
binds it to its user, so a row copied to another user fails to open, and re-wrapping the
data keys (`sigillo admin rotate-key`) leaves it readable. No environment id has a colon,
so it never opens as a secret either. It never appears in a log line or a repr.

A code is taken once: accepting it moves the user's `last_step` forward in one atomic
update that only succeeds for a newer step, so a code replayed within its 90 seconds
fails, on every replica. A recovery code is spent by a similar update. Guesses count
against the sign-in back-off (services/accounts.py), under a key of the user's own, so
guesses from every address share one budget.

The events (`user.two_factor_enabled`, `…_disabled`, `…_reset`) go to the user's stream:
the audit of who turned it on or off. The secret and the codes stay out of the log.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from sigillo.domain.errors import Conflict, Forbidden, NotFound
from sigillo.domain.events import (
    Actor,
    Event,
    SealedValue,
    UserTwoFactorDisabled,
    UserTwoFactorEnabled,
    UserTwoFactorReset,
)
from sigillo.domain.projections.rows import UserRow
from sigillo.domain.streams import user_stream
from sigillo.services import two_factor_codes as codes
from sigillo.services.accounts import SYSTEM, AccountService
from sigillo.services.ports import Cipher
from sigillo.services.writing import Writer

__all__ = [
    "ALREADY_ON",
    "CODE_OR_PASSWORD",
    "INVALID_CODE",
    "NOTHING_PENDING",
    "NOT_ON",
    "Enrolment",
    "TwoFactorRecord",
    "TwoFactorService",
    "TwoFactorStatus",
    "TwoFactorStore",
]

INVALID_CODE = "invalid two-factor code"
ALREADY_ON = "two-factor authentication is already on"
NOT_ON = "two-factor authentication is not on"
CODE_OR_PASSWORD = "a current two-factor code or the account's password is required"  # noqa: S105
NOTHING_PENDING = "no two-factor enrolment is waiting for a code: start again"
_SEALED_AS = "totp"  # the "name" in the associated data


def _place(user_id: str) -> str:
    """The "environment" the secret is sealed for: its associated data names the user."""
    return f"two-factor:{user_id}"


class TwoFactorRecord(msgspec.Struct, frozen=True):
    """A user's TOTP secret, sealed. `enabled_at` 0: enrolment awaits its first code."""

    user_id: str
    sealed: SealedValue
    created_at: int
    enabled_at: int = 0
    last_step: int = 0

    def __repr__(self) -> str:
        return f"TwoFactorRecord(user_id={self.user_id!r}, enabled_at={self.enabled_at})"


class TwoFactorStore(Protocol):
    async def record(self, user_id: str) -> TwoFactorRecord | None: ...

    async def begin(self, record: TwoFactorRecord) -> bool:
        """Store a new unconfirmed secret, replacing an unconfirmed one; False (nothing
        stored) when 2FA is on."""
        ...

    async def enable(
        self, user_id: str, at: int, step: int, recovery: list[tuple[str, str]]
    ) -> bool:
        """Turn it on, with `step` taken and these recovery codes ((id, SHA-256) pairs),
        atomically; False when it is not waiting for a first code (a racing confirmation
        won)."""
        ...

    async def take_step(self, user_id: str, step: int) -> bool:
        """Move `last_step` to `step` if 2FA is on and `step` is newer; True only then."""
        ...

    async def use_recovery_code(self, user_id: str, code_hash: str, at: int) -> bool:
        """Spend an unused recovery code of the user's; True only for the one call that did."""
        ...

    async def replace_recovery_codes(self, user_id: str, recovery: list[tuple[str, str]]) -> None:
        """The user's recovery codes are these ((id, SHA-256) pairs) and no others."""
        ...

    async def recovery_codes_left(self, user_id: str) -> int: ...

    async def remove(self, user_id: str) -> bool:
        """Delete the secret and the recovery codes; True if 2FA was on."""
        ...


class TwoFactorStatus(msgspec.Struct, frozen=True):
    enabled: bool
    enabled_at: int  # epoch milliseconds; 0 while off
    pending: bool  # an enrolment waits for its first code
    recovery_codes_left: int


class Enrolment(msgspec.Struct, frozen=True):
    """What an authenticator app needs: shown once, never logged."""

    secret: str
    uri: str

    def __repr__(self) -> str:
        return "Enrolment(<hidden>)"


class TwoFactorService:
    def __init__(
        self,
        records: TwoFactorStore,
        cipher: Cipher,
        accounts: AccountService,
        writer: Writer,
    ) -> None:
        self._records, self._cipher = records, cipher
        self._accounts, self._writer = accounts, writer

    async def enabled(self, user_id: str) -> bool:
        record = await self._records.record(user_id)
        return record is not None and record.enabled_at > 0

    async def status(self, user_id: str) -> TwoFactorStatus:
        record = await self._records.record(user_id)
        if record is None:
            return TwoFactorStatus(False, 0, False, 0)
        if not record.enabled_at:
            return TwoFactorStatus(False, 0, True, 0)
        left = await self._records.recovery_codes_left(user_id)
        return TwoFactorStatus(True, record.enabled_at, False, left)

    # -- turning it on ------------------------------------------------------------------

    async def begin(self, user: UserRow) -> Enrolment:
        """A new secret awaiting its first code (an earlier unconfirmed one is replaced).
        Conflict while 2FA is on: turn it off first."""
        secret = codes.new_secret()
        sealed = self._cipher.seal(secret, environment_id=_place(user.id), name=_SEALED_AS)
        assert sealed.format == 1, "the two_factor table keeps no format: only the first"
        record = TwoFactorRecord(user.id, sealed, self._now())
        if not await self._records.begin(record):
            raise Conflict(ALREADY_ON)
        return Enrolment(secret, codes.provisioning_uri(secret, user.email))

    async def pending(self, user: UserRow) -> Enrolment | None:
        """The enrolment still waiting for its first code, again (a reloaded page shows the
        same QR code); None when there is none, and never once 2FA is on."""
        record = await self._records.record(user.id)
        if record is None or record.enabled_at:
            return None
        secret = self._open(record)
        return Enrolment(secret, codes.provisioning_uri(secret, user.email))

    async def confirm(
        self, user_id: str, code: str, *, session_id: str | None, ip_address: str = ""
    ) -> tuple[list[str], int]:
        """The first code from the app turns 2FA on: answers the recovery codes (shown
        once) and how many other sessions of the user it ended; `session_id`'s now counts
        as signed in with two factors.
        Forbidden for a wrong code; Conflict when no enrolment waits."""
        record = await self._records.record(user_id)
        if record is None or record.enabled_at:
            raise Conflict(ALREADY_ON if record else NOTHING_PENDING)
        attempt = await self._accounts.begin_guess(_guess_key(user_id), ip_address)
        now = self._now()
        step = codes.matching_step(self._open(record), code, now)
        if step is None:
            raise Forbidden(INVALID_CODE)
        await self._accounts.forget_guess(attempt)
        recovery = codes.new_recovery_codes()
        hashes = [(self._writer.ids(), codes.recovery_code_hash(c)) for c in recovery]
        if not await self._records.enable(user_id, now, step, hashes):
            raise Conflict(NOTHING_PENDING)
        ended = await self._accounts.end_other_sessions(user_id, session_id)
        if session_id is not None:
            await self._accounts.mark_two_factor(session_id, True)
        await self._announce(user_id, UserTwoFactorEnabled(user_id), Actor("user", user_id))
        return recovery, ended

    # -- using it -----------------------------------------------------------------------

    async def verify(self, user_id: str, code: str, *, ip_address: str = "") -> bool:
        """Whether `code` is a TOTP code of a step not used before, or an unused recovery
        code (then spent). False when 2FA is off. Counted against the user's back-off
        (TooManyAttempts while it backs off), forgotten when right."""
        record = await self._records.record(user_id)
        if record is None or not record.enabled_at:
            return False
        attempt = await self._accounts.begin_guess(_guess_key(user_id), ip_address)
        if await self._accept(record, code):
            await self._accounts.forget_guess(attempt)
            return True
        return False

    async def _accept(self, record: TwoFactorRecord, code: str) -> bool:
        if codes.is_totp_code(code):
            step = codes.matching_step(self._open(record), code, self._now())
            return step is not None and await self._records.take_step(record.user_id, step)
        if codes.is_recovery_code(code):
            spent = codes.recovery_code_hash(code)
            return await self._records.use_recovery_code(record.user_id, spent, self._now())
        return False

    async def regenerate_recovery_codes(
        self, user_id: str, code: str, *, ip_address: str = ""
    ) -> list[str]:
        """A new set of recovery codes for a current code; the old ones are void."""
        await self._require(user_id, code, ip_address)
        recovery = codes.new_recovery_codes()
        hashes = [(self._writer.ids(), codes.recovery_code_hash(c)) for c in recovery]
        await self._records.replace_recovery_codes(user_id, hashes)
        return recovery

    # -- turning it off -----------------------------------------------------------------

    async def disable(
        self,
        user: UserRow,
        *,
        code: str | None = None,
        password: str | None = None,
        session_id: str | None,
        ip_address: str = "",
    ) -> int:
        """Off, for a current code (TOTP or recovery; checked when both are given) or the
        account's password (Forbidden with neither): the secret
        and recovery codes are deleted, the other sessions end (answered: how many) and
        this one no longer counts as two-factor."""
        if not await self.enabled(user.id):
            raise Conflict(NOT_ON)
        if code is not None:
            await self._require(user.id, code, ip_address)
        elif password is not None:
            await self._accounts.verify_password(user, password, ip_address=ip_address)
        else:  # nothing to prove it with: refused like a wrong one
            raise Forbidden(CODE_OR_PASSWORD)
        if not await self._records.remove(user.id):
            raise Conflict(NOT_ON)  # a racing request turned it off first
        ended = await self._accounts.end_other_sessions(user.id, session_id)
        if session_id is not None:
            await self._accounts.mark_two_factor(session_id, False)
        await self._announce(user.id, UserTwoFactorDisabled(user.id), Actor("user", user.id))
        return ended

    async def reset(self, address: str, actor: Actor = SYSTEM) -> tuple[UserRow, bool]:
        """An administrator's reset for a lost device (`sigillo admin reset-two-factor`):
        2FA removed, every session of the user ended, audited. Answers the user and whether
        2FA was on (if not, nothing changes). NotFound for an email no account has."""
        user = await self._accounts.user_by_email(address)
        if user is None:
            raise NotFound("account")
        if not await self._records.remove(user.id):
            return user, False
        await self._accounts.end_other_sessions(user.id, None)
        await self._announce(user.id, UserTwoFactorReset(user.id), actor)
        return user, True

    # -- helpers ------------------------------------------------------------------------

    async def _require(self, user_id: str, code: str, ip_address: str) -> None:
        if not await self.enabled(user_id):
            raise Conflict(NOT_ON)
        if not await self.verify(user_id, code, ip_address=ip_address):
            raise Forbidden(INVALID_CODE)

    async def _announce(self, user_id: str, event: Event, actor: Actor) -> None:
        await self._writer.decide(user_stream(user_id), lambda _: [event], actor)

    def _open(self, record: TwoFactorRecord) -> str:
        """The secret; DecryptionError when the row is not this user's (or was altered)."""
        return self._cipher.open(
            record.sealed, environment_id=_place(record.user_id), name=_SEALED_AS
        )

    def _now(self) -> int:
        return self._writer.clock.now()


def _guess_key(user_id: str) -> str:
    """The back-off key of a user's code guesses (hashed like an email: sign_in_key)."""
    return f"two-factor:{user_id}"
