"""Local accounts and server-side sessions [D17].

Sign-in answers the same `unauthorized` after the same work whether the email is
unknown or the password wrong. Sessions expire when idle and at an absolute limit,
are checked against the database on every request (replicas share them), and a
sign-in that presents an earlier session token ends that session: the id rotates.
"""

from __future__ import annotations

from sigillo.domain.errors import Conflict, InvalidInput, Unauthorized
from sigillo.domain.events import Actor, UserRegistered
from sigillo.domain.projections.access import EMAIL_TAKEN
from sigillo.domain.projections.rows import UserRow
from sigillo.domain.streams import user_stream
from sigillo.domain.values import display_name, email
from sigillo.services.ports import (
    AccountStore,
    Credentials,
    EventStore,
    PasswordHasher,
    SessionRecord,
)
from sigillo.services.writing import Writer

__all__ = ["ABSOLUTE_MS", "IDLE_MS", "AccountService"]

IDLE_MS = 7 * 24 * 3600 * 1000  # a session unused for a week ends
ABSOLUTE_MS = 30 * 24 * 3600 * 1000  # and every session ends after thirty days
TOUCH_EVERY_MS = 60 * 1000  # last-seen times are written at most once a minute
UNAUTHORIZED = "unauthorized"
SYSTEM = Actor("system", "sigillo")


class AccountService:
    def __init__(
        self,
        store: EventStore,
        accounts: AccountStore,
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
        await self._accounts.set_password(user_id, self._passwords.hash(password), self._now())
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
        """A new session for the right email and password: (token, session, user)."""
        user = await self._user_by_email(address)
        stored = await self._accounts.password_hash(user.id) if user else None
        if user is None or stored is None:
            self._passwords.verify_dummy(password)  # the same work as a real check
            raise Unauthorized(UNAUTHORIZED)
        if not self._passwords.verify(password, stored):
            raise Unauthorized(UNAUTHORIZED)
        if previous_token is not None:
            await self.sign_out(previous_token)
        token, token_hash = self._credentials.issue_session_token()
        now = self._now()
        session = SessionRecord(
            self._writer.ids(), user.id, now, now, now + ABSOLUTE_MS,
            ip_address[:64], user_agent[:512],
        )  # fmt: skip
        await self._accounts.create_session(session, token_hash)
        return token, session, user

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
        return session, user

    async def sign_out(self, token: str) -> None:
        """End the token's session; an unknown token is already signed out."""
        session = await self._accounts.session(self._credentials.hash_session_token(token))
        if session is not None:
            await self._accounts.end_session(session.id)

    async def _user_by_email(self, address: str) -> UserRow | None:
        try:
            normalized = email(address)
        except InvalidInput:
            return None
        return next(iter(await self._store.select(UserRow, "email", normalized)), None)

    def _now(self) -> int:
        return self._writer.clock.now()
