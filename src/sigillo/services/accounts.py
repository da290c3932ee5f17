"""Local accounts and server-side sessions [D17].

Sign-in answers the same `unauthorized` after the same work whether the email is
unknown or the password wrong. Sessions expire when idle and at an absolute limit,
are checked against the database on every request (replicas share them), and a
sign-in that presents an earlier session token ends that session: the id rotates.

Accounts come from three places: `sigillo admin create-user`, sign-up (open only when the
server allows it, else only with a live invitation) and first-run setup. While no account
exists, each server start issues a one-time setup token and logs its URL; the database
keeps only the token's SHA-256, so every replica accepts any token a replica logged, and
creating the first account through one of them voids them all.

Password guessing (issue 13, finding 5). Besides the per-address rate limit of the HTTP
layer, every sign-in counts against its email address (domain/sign_in.py): recorded before
the password is checked, in the database, so every replica of one database shares the count,
and kept when the password was wrong, which makes it the audit of failed sign-ins (a hash
of the email, the client address, the time; never the email or the password). Argon2 never
runs on the event loop (services/hashing.py).
"""

from __future__ import annotations

import contextlib
import math
from typing import Protocol

from sigillo.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthorized,
)
from sigillo.domain.events import Actor, UserRegistered
from sigillo.domain.projections.access import EMAIL_TAKEN
from sigillo.domain.projections.rows import UserRow
from sigillo.domain.sign_in import RETENTION_MS, WINDOW_MS, sign_in_key, sign_in_wait
from sigillo.domain.streams import user_stream
from sigillo.domain.values import display_name, email
from sigillo.services import signed_in
from sigillo.services.hashing import off_loop
from sigillo.services.ports import (
    AccountStore,
    Credentials,
    EventStore,
    PasswordHasher,
    SessionRecord,
    SignInAttempt,
    SignInLog,
)
from sigillo.services.signed_in import SignedInWith
from sigillo.services.writing import Writer

__all__ = [
    "ABSOLUTE_MS",
    "IDLE_MS",
    "NOT_THE_CURRENT",
    "SESSION_NOT_FOUND",
    "SETUP_DONE",
    "SETUP_REFUSED",
    "SIGNUP_CLOSED",
    "AccountRecords",
    "AccountService",
    "SetupTokenStore",
]

IDLE_MS = 7 * 24 * 3600 * 1000  # a session unused for a week ends
ABSOLUTE_MS = 30 * 24 * 3600 * 1000  # and every session ends after thirty days
TOUCH_EVERY_MS = 60 * 1000  # last-seen times are written at most once a minute
UNAUTHORIZED = "unauthorized"
SYSTEM = Actor("system", "sigillo")
SIGNUP_CLOSED = "sign-up is by invitation only"
SETUP_DONE = "setup is already complete: an account exists"
SETUP_REFUSED = "invalid setup token"
SESSION_NOT_FOUND = "session"
NOT_THE_CURRENT = "the current password is not right"
PASSWORD = SignedInWith()  # a password alone: no provider, no second factor


class SetupTokenStore(AccountStore, Protocol):
    """The account store, with the hashes of the one-time first-run setup tokens."""

    async def add_setup_token(self, token_hash: str, at: int) -> None: ...

    async def has_setup_token(self, token_hash: str) -> bool: ...

    async def claim_setup_token(self, token_hash: str) -> bool:
        """Delete every setup token if `token_hash` is one of them; True if it was. Of two
        racing claims, at most one is True."""
        ...


class AccountRecords(SetupTokenStore, SignInLog, Protocol):
    """Everything the account service keeps outside the log."""


class AccountService:
    def __init__(
        self,
        store: EventStore,
        accounts: AccountRecords,
        writer: Writer,
        passwords: PasswordHasher,
        credentials: Credentials,
    ) -> None:
        self._store, self._accounts, self._writer = store, accounts, writer
        self._passwords, self._credentials = passwords, credentials

    async def any_user(self) -> bool:
        """False until the first account exists: the server then offers first-run setup."""
        return await self._accounts.any_user()

    async def register(
        self, address: str, name: str, password: str, actor: Actor = SYSTEM
    ) -> UserRow:
        """A new account. Its password hash is stored before the account is announced in
        the log, so an account never exists without one; a duplicate email is a 409."""
        normalized, name = email(address), display_name(name)
        self._passwords.check_policy(password)
        if await self._store.select(UserRow, "email", normalized):
            raise Conflict(EMAIL_TAKEN)
        user_id = self._writer.ids()
        encoded = await off_loop(self._passwords.hash, password)
        await self._accounts.set_password(user_id, encoded, self._now())
        event = UserRegistered(user_id, normalized, name)
        await self._writer.store.append(user_stream(user_id), 0, self._writer.new([event], actor))
        user = await self._store.get(UserRow, (user_id,))
        assert user is not None  # projected by the append above
        return user

    async def register_sso(self, address: str, name: str, actor: Actor = SYSTEM) -> UserRow:
        """A new account made by its first single sign-on (services/sso.py decides when).
        It has no password row: a password sign-in to it does the same work as, and is
        refused like, a wrong password, until its owner sets one. A duplicate email: 409."""
        normalized, name = email(address), display_name(name)
        if await self._store.select(UserRow, "email", normalized):
            raise Conflict(EMAIL_TAKEN)
        user_id = self._writer.ids()
        event = UserRegistered(user_id, normalized, name)
        await self._writer.store.append(user_stream(user_id), 0, self._writer.new([event], actor))
        user = await self._store.get(UserRow, (user_id,))
        assert user is not None  # projected by the append above
        return user

    async def sign_in(
        self,
        address: str,
        password: str,
        *,
        ip_address: str = "",
        user_agent: str = "",
        previous_token: str | None = None,
    ) -> tuple[str, SessionRecord, UserRow]:
        """A new session for the right email and password: (token, session, user), whether
        or not the account has a second factor (callers that ask for one use
        `check_password`, then services.sign_ins)."""
        user = await self.check_password(address, password, ip_address=ip_address)
        if previous_token is not None:
            await self.sign_out(previous_token)
        token, session = await self.start_session(
            user, ip_address=ip_address, user_agent=user_agent
        )
        return token, session, user

    async def check_password(self, address: str, password: str, *, ip_address: str = "") -> UserRow:
        """The first factor of a sign-in: the user whose email and password these are.

        Refused with TooManyAttempts (before any password is checked) while the email's
        attempts are backing off, alike for an account and for an email no account has; a
        wrong password and an unknown email are the same Unauthorized after the same work."""
        attempt = await self._begin_attempt(address, ip_address)
        user = await self._user_by_email(address)
        stored = await self._accounts.password_hash(user.id) if user else None
        if user is None or stored is None:
            await off_loop(self._passwords.verify_dummy, password)  # the same work
            raise Unauthorized(UNAUTHORIZED)
        if not await off_loop(self._passwords.verify, password, stored):
            raise Unauthorized(UNAUTHORIZED)
        await self._accounts.forget_sign_in(attempt.id)  # not a failure: no longer counted
        return user

    async def begin_guess(self, counted_as: str, ip_address: str = "") -> SignInAttempt:
        """Count a guess at something other than a password (a two-factor code) against the
        same back-off as sign-ins, under its own key (`counted_as`, hashed like an email):
        guesses from any address share one budget. TooManyAttempts while it backs off;
        `forget_guess` once the guess was right."""
        return await self._begin_attempt(counted_as, ip_address)

    async def forget_guess(self, attempt: SignInAttempt) -> None:
        await self._accounts.forget_sign_in(attempt.id)

    async def user_by_email(self, address: str) -> UserRow | None:
        """The account with this email (any spelling accounts normalise alike); None."""
        return await self._user_by_email(address)

    async def mark_two_factor(self, session_id: str, two_factor: bool = True) -> None:
        """The session counts as signed in with a second factor (it enrolled one), or no
        longer does (its user turned two-factor authentication off)."""
        await self._accounts.mark_two_factor(session_id, two_factor)

    async def _begin_attempt(self, address: str, ip_address: str) -> SignInAttempt:
        """Count a password check against the email's back-off (domain/sign_in.py), before
        the password is looked at; TooManyAttempts while it is backing off."""
        attempt = SignInAttempt(self._writer.ids(), sign_in_key(address), ip_address, self._now())
        wait = await self._accounts.begin_sign_in(
            attempt,
            lambda times: sign_in_wait(times, attempt.at),
            since=attempt.at - WINDOW_MS,
            purge_before=attempt.at - RETENTION_MS,
        )
        if wait is not None:
            raise TooManyAttempts(max(1, math.ceil(wait / 1000)))
        return attempt

    async def failed_sign_ins(
        self, *, address: str | None = None, limit: int = 100
    ) -> list[SignInAttempt]:
        """The audit of failed sign-ins, newest first: all, or those of one email address
        (looked up by its hash; the email itself was never stored)."""
        email_hash = sign_in_key(address) if address is not None else None
        return await self._accounts.failed_sign_ins(email_hash=email_hash, limit=limit)

    async def start_session(
        self,
        user: UserRow,
        *,
        ip_address: str = "",
        user_agent: str = "",
        signed_in_with: SignedInWith = PASSWORD,
    ) -> tuple[str, SessionRecord]:
        """A new session for a user who just proved who they are (by password, a provider
        or making the account, and perhaps a second factor): (token, session)."""
        token, token_hash = self._credentials.issue_session_token()
        now = self._now()
        session = SessionRecord(
            self._writer.ids(), user.id, now, now, now + ABSOLUTE_MS,
            ip_address[:64], user_agent[:512],
            sso_provider=signed_in_with.sso_provider, two_factor=signed_in_with.two_factor,
        )  # fmt: skip
        await self._accounts.create_session(session, token_hash)
        return token, session

    async def sign_up(
        self, address: str, name: str, password: str, *, open_signup: bool, invited: bool
    ) -> UserRow:
        """A new account made by its owner: allowed when the server's sign-up is open, or
        when they hold a live invitation (`invited`, checked by the caller); else 403."""
        if not (open_signup or invited):
            raise Forbidden(SIGNUP_CLOSED)
        return await self.register(address, name, password)

    # -- first run ---------------------------------------------------------------------------

    async def issue_setup_token(self) -> str | None:
        """While no account exists, a new one-time setup token (only its hash is stored);
        once one exists, None."""
        if await self.any_user():
            return None
        token, token_hash = self._credentials.issue_invite_token()
        await self._accounts.add_setup_token(token_hash, self._now())
        return token

    async def setup_token_valid(self, token: str) -> bool:
        """Whether `complete_setup` would take this token now (for the setup page, which
        says so before anyone types a password). Uses nothing up."""
        if await self.any_user():
            return False
        return await self._accounts.has_setup_token(self._credentials.hash_invite_token(token))

    async def complete_setup(self, token: str, address: str, name: str, password: str) -> UserRow:
        """The first account, made with a setup token the server logged. Once any account
        exists: 409. A token the server did not issue: 403. Bad values (422) are refused
        before the token is used up, so a typo does not cost the token."""
        if await self.any_user():
            raise Conflict(SETUP_DONE)
        token_hash = self._credentials.hash_invite_token(token)
        if not await self._accounts.has_setup_token(token_hash):
            raise Forbidden(SETUP_REFUSED)
        normalized, name = email(address), display_name(name)
        self._passwords.check_policy(password)
        if not await self._accounts.claim_setup_token(token_hash):  # a racing setup won
            raise Conflict(SETUP_DONE) if await self.any_user() else Forbidden(SETUP_REFUSED)
        try:
            return await self.register(normalized, name, password)
        except Exception:
            with contextlib.suppress(Exception):  # the first error is the one to report
                if not await self.any_user():  # nothing was made: the token stays usable
                    await self._accounts.add_setup_token(token_hash, self._now())
            raise

    async def authenticate(self, token: str) -> tuple[SessionRecord, UserRow] | None:
        """The live session a token belongs to, with its user; None otherwise."""
        session = await self._accounts.session(self._credentials.hash_session_token(token))
        if session is None:
            return None
        now = self._now()
        if now >= session.expires_at or now - session.last_seen_at >= IDLE_MS:
            await self._accounts.end_session(session.id)
            return None
        user = await self._store.get(UserRow, (session.user_id,))
        if user is None:
            return None
        if now - session.last_seen_at >= TOUCH_EVERY_MS:
            await self._accounts.touch_session(session.id, now)
        signed_in.record(SignedInWith(session.sso_provider, session.two_factor))
        return session, user

    async def sign_out(self, token: str) -> None:
        """End the token's session; an unknown token is already signed out."""
        session = await self._accounts.session(self._credentials.hash_session_token(token))
        if session is not None:
            await self._accounts.end_session(session.id)

    # -- a user's own sessions (issue 20) ---------------------------------------------------
    # Sessions are a table, not events: like sign-in and sign-out, ending one or changing a
    # password writes nothing to the event log (the password's `updated_at` keeps when).

    async def sessions(self, user_id: str) -> list[SessionRecord]:
        """The user's live sessions, newest first."""
        return await self._accounts.user_sessions(user_id, self._now(), IDLE_MS)

    async def end_session(self, user_id: str, session_id: str) -> None:
        """End one of the user's sessions; another user's session is the same NotFound as
        one that does not exist, and stays alive."""
        if not await self._accounts.end_user_session(user_id, session_id):
            raise NotFound(SESSION_NOT_FOUND)

    async def end_other_sessions(self, user_id: str, keep_session_id: str | None) -> int:
        """End every session of the user but `keep_session_id` (None: all of them); how many
        ended. A password change calls it, and so will enabling 2FA."""
        return await self._accounts.end_user_sessions(user_id, keep=keep_session_id)

    async def change_password(
        self,
        user_id: str,
        current_password: str,
        new_password: str,
        keep_session_id: str | None,
        *,
        ip_address: str = "",
    ) -> int:
        """Replace the password of a signed-in user who knows the current one, then end
        every other session; answers how many ended. The new password follows sign-up's
        rules (InvalidInput on "newPassword", checked first, nothing counted). The current
        one is checked as sign-in checks it: counted against the email's back-off
        (TooManyAttempts), a wrong one Forbidden after the same work; nothing changes then."""
        try:
            self._passwords.check_policy(new_password)
        except InvalidInput as bad:
            raise InvalidInput("newPassword", bad.message) from None
        user = await self._store.get(UserRow, (user_id,))
        if user is None:
            raise Unauthorized(UNAUTHORIZED)
        await self.verify_password(user, current_password, ip_address=ip_address)
        encoded = await off_loop(self._passwords.hash, new_password)
        await self._accounts.set_password(user_id, encoded, self._now())
        return await self.end_other_sessions(user_id, keep_session_id)

    async def verify_password(self, user: UserRow, password: str, *, ip_address: str = "") -> None:
        """Check a signed-in user's current password (before a change that needs it) as
        sign-in checks one: counted against the email's back-off (TooManyAttempts), a wrong
        one Forbidden after the same work."""
        attempt = await self._begin_attempt(user.email, ip_address)
        stored = await self._accounts.password_hash(user.id)
        if stored is None:
            await off_loop(self._passwords.verify_dummy, password)  # the same work
            raise Forbidden(NOT_THE_CURRENT)
        if not await off_loop(self._passwords.verify, password, stored):
            raise Forbidden(NOT_THE_CURRENT)
        await self._accounts.forget_sign_in(attempt.id)

    async def _user_by_email(self, address: str) -> UserRow | None:
        try:
            normalized = email(address)
        except InvalidInput:
            return None
        return next(iter(await self._store.select(UserRow, "email", normalized)), None)

    def _now(self) -> int:
        return self._writer.clock.now()
