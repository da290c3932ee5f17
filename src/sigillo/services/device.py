"""The device authorization grant (RFC 8628; behaviour.md 8; security.md promise 10).

A CLI asks for a code pair; a person who is signed in opens the verification page, sees who
asked (client, IP address, time) and approves or denies; the CLI's polls then end in a new
session for that person, made exactly as a password sign-in makes one. An approved code is
exchanged once: the poll that takes it deletes it in the same transaction [D6].

Sign-ins are not written to the audit log (services/accounts.py records none), so neither
are device approvals, denials and exchanges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from sigillo.domain import device
from sigillo.domain.device import DeviceCode, DeviceFlowError, Transition
from sigillo.services import signed_in
from sigillo.services.accounts import ABSOLUTE_MS, IDLE_MS
from sigillo.services.ids import Clock
from sigillo.services.ports import (
    AccountStore,
    Credentials,
    DeviceCodes,
    DeviceCodeStore,
    SessionRecord,
)
from sigillo.services.signed_in import SignedInWith

__all__ = ["DeviceService", "DeviceToken", "IssuedCodes", "PendingRequest"]

USER_CODE_ATTEMPTS = 5  # 20^8 codes: a collision among live ones is already unlikely
PURGE_AFTER_MS = device.LIFETIME_MS  # expired codes stay a while, so a late poller hears so


@dataclass(frozen=True, slots=True)
class IssuedCodes:
    device_code: str
    user_code: str  # shown as XXXX-XXXX
    expires_in: int  # seconds
    interval: int  # seconds


@dataclass(frozen=True, slots=True)
class DeviceToken:
    access_token: str  # a session token of the approving user
    expires_in: int  # seconds until that session ends, if unused
    scope: str


@dataclass(frozen=True, slots=True)
class PendingRequest:
    user_code: str  # normalized: 8 upper-case letters
    code: DeviceCode


class DeviceService:
    def __init__(
        self,
        codes: DeviceCodeStore,
        accounts: AccountStore,
        credentials: Credentials,
        issuer: DeviceCodes,
        clock: Clock,
        ids: Callable[[], str],
        *,
        public_url: str | None = None,
    ) -> None:
        self._codes, self._accounts, self._credentials = codes, accounts, credentials
        self._issuer, self._clock = issuer, clock
        self._ids = ids
        self._public_url = public_url

    def verification_uri(self, origin: str) -> str:
        """`<origin>/device`; the configured public URL wins over the request's origin."""
        return f"{(self._public_url or origin).rstrip('/')}/device"

    def verification_uri_complete(self, origin: str, user_code: str) -> str:
        return f"{self.verification_uri(origin)}?user_code={quote(user_code)}"

    async def request(self, client_id: str, scope: str, *, ip_address: str) -> IssuedCodes:
        """A new pending code pair; who asked (client, address) and when is kept for the
        consent screen."""
        now = self._clock.now()
        for _ in range(USER_CODE_ATTEMPTS):
            device_code = self._issuer.issue_device_code()
            user_code = self._issuer.issue_user_code()
            code = device.new_code(self._new_id(), client_id, scope, ip_address[:64], now=now)
            created = await self._codes.create(
                code,
                self._issuer.hash_device_code(device_code),
                self._issuer.hash_user_code(user_code),
                purge_before=now - PURGE_AFTER_MS,
            )
            if created:
                return IssuedCodes(
                    device_code,
                    self._issuer.format_user_code(user_code),
                    device.LIFETIME_MS // 1000,
                    device.INTERVAL_MS // 1000,
                )
        raise RuntimeError("no free user code")  # pragma: no cover - 20^8 codes

    async def exchange(
        self, device_code: str, client_id: str, *, ip_address: str = "", user_agent: str = ""
    ) -> DeviceToken:
        """One poll: a session token once the code is approved; DeviceFlowError until then."""
        now = self._clock.now()
        transition = await self._codes.transition(
            "device_code",
            self._issuer.hash_device_code(device_code),
            lambda code: device.poll(code, client_id, now=now),
        )
        code = _allowed(transition)
        assert code is not None  # approved: the poll answered no refusal
        assert code.user_id is not None  # an approved code names who approved it
        token, token_hash = self._credentials.issue_session_token()
        session = SessionRecord(
            self._new_id(), code.user_id, now, now, now + ABSOLUTE_MS,
            ip_address[:64], user_agent[:512], code.client_id[:128],
            code.sso_provider, code.two_factor,  # as the approving session was signed in
        )  # fmt: skip
        await self._accounts.create_session(session, token_hash)
        lifetime = min(session.expires_at, session.last_seen_at + IDLE_MS) - now
        return DeviceToken(token, lifetime // 1000, code.scope)

    async def pending(self, user_code: str) -> PendingRequest:
        """The request behind a user code, for the verification page; DeviceFlowError when
        the code is unknown or expired."""
        normalized = self._issuer.normalize_user_code(user_code)
        if normalized is None:
            raise DeviceFlowError(device.INVALID_USER_CODE)
        code = await self._codes.find(self._issuer.hash_user_code(normalized))
        refusal = device.review(code, now=self._clock.now())
        if code is None or refusal is not None:
            raise DeviceFlowError(refusal or device.INVALID_USER_CODE)
        return PendingRequest(normalized, code)

    async def approve(self, user_code: str, user_id: str) -> None:
        await self._decide(user_code, user_id, approve=True)

    async def deny(self, user_code: str, user_id: str) -> None:
        await self._decide(user_code, user_id, approve=False)

    async def _decide(self, user_code: str, user_id: str, *, approve: bool) -> None:
        normalized = self._issuer.normalize_user_code(user_code)
        if normalized is None:
            raise DeviceFlowError(device.INVALID_USER_CODE)
        now = self._clock.now()
        facts = signed_in.current() or SignedInWith()  # the approving session's
        transition = await self._codes.transition(
            "user_code",
            self._issuer.hash_user_code(normalized),
            lambda code: device.decide(
                code,
                user_id,
                approve=approve,
                now=now,
                sso_provider=facts.sso_provider,
                two_factor=facts.two_factor,
            ),
        )
        _allowed(transition)

    def _new_id(self) -> str:
        return self._ids()


def _allowed(transition: Transition) -> DeviceCode | None:
    if transition.refusal is not None:
        raise DeviceFlowError(transition.refusal)
    return transition.before
