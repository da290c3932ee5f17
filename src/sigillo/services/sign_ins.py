"""The steps of a sign-in after the first factor (issue 20).

A password (services/accounts.py) or an OpenID Connect provider (services/sso.py) says
who someone is. `finish` then either starts their session or, when a second step is still
due, opens a challenge: a short-lived, single-use token (kept by the browser in a cookie;
only its SHA-256 is stored) that the second step answers. Two purposes:

- "two-factor": the account has two-factor authentication on; a TOTP or recovery code
  completes the sign-in (services/two_factor.py).
- "link": a provider vouched for an email that a local account already has; the account's
  password links the provider identity to it, once (services/sso.py).

A challenge takes `MAX_ATTEMPTS` wrong answers, then is gone; it lives `LIFETIME_MS`.

API clients have no cookie to carry a challenge: they send the code with the password, and
`finish_at_once` checks both in one request (services/two_factor.py counts the guesses).
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

from sigillo.domain.errors import Unauthorized
from sigillo.domain.projections.rows import UserRow
from sigillo.services.accounts import AccountService
from sigillo.services.ports import Credentials, SessionRecord
from sigillo.services.signed_in import SignedInWith
from sigillo.services.writing import Writer

__all__ = [
    "CODE_INVALID",
    "CODE_REQUIRED",
    "LIFETIME_MS",
    "MAX_ATTEMPTS",
    "Challenge",
    "ChallengeStore",
    "Finished",
    "Pending",
    "Purpose",
    "SecondFactor",
    "SignIns",
    "WrongCode",
]

LIFETIME_MS = 5 * 60 * 1000
MAX_ATTEMPTS = 5
Purpose = Literal["two-factor", "link"]
# What an API sign-in is told when the account has two-factor authentication on: clients
# tell the two apart by these exact texts (docs/api.md), both 401.
CODE_REQUIRED = "two-factor code required"
CODE_INVALID = "invalid two-factor code"


class SecondFactor(Protocol):
    """Two-factor authentication as sign-in sees it (services/two_factor.py)."""

    async def enabled(self, user_id: str) -> bool: ...

    async def verify(self, user_id: str, code: str, *, ip_address: str = "") -> bool:
        """A TOTP code of an unused step or an unused recovery code (then spent); counted
        against the user's back-off (TooManyAttempts)."""
        ...


class Challenge(msgspec.Struct, frozen=True):
    """A sign-in waiting for its second step. Never holds the token, a code or a password."""

    id: str
    purpose: str
    user_id: str
    sso_provider: str  # the provider of the first step ("" for a password)
    sso_subject: str  # "link": the provider's subject to link to the account
    sso_email: str  # "link": the email the provider vouched for
    redirect: str  # where the browser goes once signed in
    ip_address: str
    user_agent: str
    attempts: int
    created_at: int
    expires_at: int

    def __repr__(self) -> str:
        return f"Challenge(id={self.id!r}, purpose={self.purpose!r}, user_id={self.user_id!r})"


class ChallengeStore(Protocol):
    async def open_challenge(self, challenge: Challenge, token_hash: str) -> None:
        """Store it (and delete the expired ones)."""
        ...

    async def challenge(self, token_hash: str) -> Challenge | None: ...

    async def fail_challenge(self, challenge_id: str, max_attempts: int) -> int:
        """Count a wrong answer; at `max_attempts` the challenge is deleted. Answers the
        count (max_attempts when it was already gone)."""
        ...

    async def close_challenge(self, challenge_id: str) -> bool:
        """Delete it; True only for the one call that did (single use)."""
        ...

    async def close_user_challenges(self, user_id: str) -> None: ...


class Finished(msgspec.Struct, frozen=True):
    """Signed in: the new session and its token."""

    token: str
    session: SessionRecord
    user: UserRow

    def __repr__(self) -> str:
        return f"Finished(session={self.session.id!r}, <token hidden>)"


class Pending(msgspec.Struct, frozen=True):
    """A second step is due: the challenge token goes to the browser (a cookie)."""

    token: str
    purpose: str
    user: UserRow
    redirect: str

    def __repr__(self) -> str:
        return f"Pending(purpose={self.purpose!r}, user={self.user.id!r}, <token hidden>)"


class WrongCode(msgspec.Struct, frozen=True):
    """A second step answered wrong: how many answers the challenge still takes (0: it is
    gone, sign in again)."""

    attempts_left: int


class SignIns:
    def __init__(
        self,
        accounts: AccountService,
        challenges: ChallengeStore,
        writer: Writer,
        credentials: Credentials,
        second_factor: SecondFactor | None = None,
    ) -> None:
        self._accounts, self._challenges = accounts, challenges
        self._writer, self._credentials = writer, credentials
        self._second_factor = second_factor

    async def finish(
        self,
        user: UserRow,
        signed_in_with: SignedInWith,
        *,
        ip_address: str = "",
        user_agent: str = "",
        previous_token: str | None = None,
        redirect: str = "",
    ) -> Finished | Pending:
        """The first factor is proven: the session, or the challenge still to answer (the
        account has two-factor authentication on: `answer_code` completes it)."""
        if previous_token is not None:
            await self._accounts.sign_out(previous_token)  # the id rotates at sign-in
        if not signed_in_with.two_factor and await self._two_factor_on(user):
            return await self.open(
                "two-factor",
                user,
                ip_address=ip_address,
                user_agent=user_agent,
                redirect=redirect,
                sso_provider=signed_in_with.sso_provider,
            )
        token, session = await self._accounts.start_session(
            user, ip_address=ip_address, user_agent=user_agent, signed_in_with=signed_in_with
        )
        return Finished(token, session, user)

    async def finish_at_once(
        self,
        user: UserRow,
        signed_in_with: SignedInWith,
        code: str | None,
        *,
        ip_address: str = "",
        user_agent: str = "",
        previous_token: str | None = None,
    ) -> Finished:
        """For clients that send every factor in one request (the API): the session, once
        `code` passes when the account has two-factor authentication on. Unauthorized
        (CODE_REQUIRED, CODE_INVALID) otherwise; TooManyAttempts while guesses back off."""
        if not signed_in_with.two_factor and await self._two_factor_on(user):
            if not code:
                raise Unauthorized(CODE_REQUIRED)
            assert self._second_factor is not None  # _two_factor_on said so
            if not await self._second_factor.verify(user.id, code, ip_address=ip_address):
                raise Unauthorized(CODE_INVALID)
            signed_in_with = msgspec.structs.replace(signed_in_with, two_factor=True)
        if previous_token is not None:
            await self._accounts.sign_out(previous_token)  # the id rotates at sign-in
        token, session = await self._accounts.start_session(
            user, ip_address=ip_address, user_agent=user_agent, signed_in_with=signed_in_with
        )
        return Finished(token, session, user)

    async def answer_code(
        self, challenge: Challenge, user: UserRow, code: str, *, ip_address: str = ""
    ) -> Finished | WrongCode:
        """The second step of a "two-factor" challenge: a TOTP or recovery code. Right: the
        session (signed in with two factors, and the provider of the first step, if any).
        Wrong: counted against the challenge and the user's back-off (TooManyAttempts)."""
        second = self._second_factor
        if second is not None and await second.verify(user.id, code, ip_address=ip_address):
            facts = SignedInWith(sso_provider=challenge.sso_provider, two_factor=True)
            finished = await self.complete(challenge, user, facts)
            return finished if finished is not None else WrongCode(0)
        return WrongCode(await self.wrong_answer(challenge))

    async def _two_factor_on(self, user: UserRow) -> bool:
        return self._second_factor is not None and await self._second_factor.enabled(user.id)

    async def open(
        self,
        purpose: Purpose,
        user: UserRow,
        *,
        ip_address: str = "",
        user_agent: str = "",
        redirect: str = "",
        sso_provider: str = "",
        sso_subject: str = "",
        sso_email: str = "",
    ) -> Pending:
        token, token_hash = self._credentials.issue_invite_token()  # 256 random bits
        now = self._writer.clock.now()
        challenge = Challenge(
            self._writer.ids(), purpose, user.id, sso_provider, sso_subject, sso_email,
            redirect, ip_address[:64], user_agent[:512], 0, now, now + LIFETIME_MS,
        )  # fmt: skip
        await self._challenges.open_challenge(challenge, token_hash)
        return Pending(token, purpose, user, redirect)

    async def challenge(self, token: str, purpose: Purpose) -> Challenge | None:
        """The live challenge of that purpose the token opened; None otherwise."""
        found = await self._challenges.challenge(self._credentials.hash_invite_token(token))
        if found is None or found.purpose != purpose:
            return None
        if self._writer.clock.now() >= found.expires_at:
            await self._challenges.close_challenge(found.id)
            return None
        return found

    async def wrong_answer(self, challenge: Challenge) -> int:
        """Count a wrong answer: how many are left before the challenge is gone."""
        return MAX_ATTEMPTS - await self._challenges.fail_challenge(challenge.id, MAX_ATTEMPTS)

    async def complete(
        self, challenge: Challenge, user: UserRow, signed_in_with: SignedInWith
    ) -> Finished | None:
        """The second step was right: use the challenge up and start the session. None when
        a racing answer used it first."""
        if not await self._challenges.close_challenge(challenge.id):
            return None
        token, session = await self._accounts.start_session(
            user,
            ip_address=challenge.ip_address,
            user_agent=challenge.user_agent,
            signed_in_with=signed_in_with,
        )
        return Finished(token, session, user)
