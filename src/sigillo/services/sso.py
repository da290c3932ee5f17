"""Single sign-on with OpenID Connect providers (issue 20): who a provider vouches for, and
which account that is.

A sign-in starts at `begin`: a fresh `state` (only its SHA-256 is kept), `nonce` and PKCE
verifier are stored for ten minutes, and the browser goes to the provider. `vouched` takes
the provider's answer: the state row is deleted as it is read (a replayed or forged
callback finds nothing), the code is exchanged, the ID token checked (services/oidc.py) and
the email must be verified, and in an allowed domain when the provider lists domains.

`account` then decides whose account it is:
- the provider's (issuer, subject) pair is already linked: that account;
- a local account has the email: the pair is linked only after its owner proves the
  account's password (`link`, behind a sign-in challenge), because an email a provider
  vouches for is not proof enough to take over an account made with a password;
- no account: one is made (without a password) when the provider's domains allow it, or,
  with no domains configured, when the server's sign-up is open; otherwise refused.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from typing import Any, Protocol
from urllib.parse import urlencode

import msgspec

from sigillo.domain.errors import Conflict, InvalidInput, Unauthorized
from sigillo.domain.projections.rows import UserRow
from sigillo.domain.values import display_name, email
from sigillo.services.accounts import AccountService
from sigillo.services.oidc import OidcClient, ProviderRefused, ProviderUnreachable
from sigillo.services.ports import EventStore
from sigillo.services.sign_ins import Challenge, ChallengeStore
from sigillo.services.writing import Writer
from sigillo.settings import OidcProvider

__all__ = [
    "LOGIN_LIFETIME_MS",
    "LinkNeeded",
    "ProviderRefused",
    "ProviderUnreachable",
    "SsoIdentity",
    "SsoLogin",
    "SsoService",
    "SsoStore",
    "Vouched",
]

LOGIN_LIFETIME_MS = 10 * 60 * 1000
SCOPE = "openid email profile"
log = logging.getLogger("sigillo.sso")


class SsoLogin(msgspec.Struct, frozen=True):
    """A sign-in sent to a provider and not yet back."""

    provider: str
    nonce: str
    code_verifier: str
    redirect: str
    created_at: int
    expires_at: int

    def __repr__(self) -> str:
        return f"SsoLogin(provider={self.provider!r}, <secrets hidden>)"


class SsoIdentity(msgspec.Struct, frozen=True):
    """An account's identity at a provider: the provider's `sub` for it."""

    id: str
    provider: str
    subject: str
    user_id: str
    email: str
    created_at: int
    last_used_at: int


class Vouched(msgspec.Struct, frozen=True):
    """Who a provider's checked answer says is signing in."""

    provider: str
    subject: str
    email: str
    name: str
    redirect: str


class LinkNeeded(msgspec.Struct, frozen=True):
    """A local account has the vouched email: its password must link the identity."""

    user: UserRow
    vouched: Vouched


class SsoStore(Protocol):
    async def add_login(self, state_hash: str, login: SsoLogin) -> None:
        """Store it (and delete the expired ones)."""
        ...

    async def take_login(self, state_hash: str) -> SsoLogin | None:
        """Delete and answer the login of that state: only one caller ever gets it."""
        ...

    async def identity(self, provider: str, subject: str) -> SsoIdentity | None: ...

    async def identities(self, user_id: str) -> list[SsoIdentity]: ...

    async def link(self, identity: SsoIdentity) -> bool:
        """Store it; False when (provider, subject) is linked already."""
        ...

    async def touch(self, identity_id: str, address: str, at: int) -> None: ...


class SsoService:
    def __init__(
        self,
        providers: tuple[OidcProvider, ...],
        client: OidcClient,
        store: SsoStore,
        events: EventStore,
        accounts: AccountService,
        challenges: ChallengeStore,
        writer: Writer,
        *,
        public_url: str | None = None,
        allow_signup: bool = False,
    ) -> None:
        self._providers = {provider.name: provider for provider in providers}
        self._client, self._store, self._events = client, store, events
        self._accounts, self._challenges, self._writer = accounts, challenges, writer
        self._public_url, self._allow_signup = public_url, allow_signup

    def providers(self) -> list[OidcProvider]:
        return list(self._providers.values())

    def provider(self, name: str) -> OidcProvider | None:
        return self._providers.get(name)

    def callback_uri(self, name: str, origin: str) -> str:
        """The redirect URI to register at the provider; the public URL wins over the
        request's origin, as for the device flow's links."""
        return f"{(self._public_url or origin).rstrip('/')}/login/sso/{name}/callback"

    async def close(self) -> None:
        await self._client.close()

    async def begin(self, name: str, *, origin: str, redirect: str, login_hint: str = "") -> str:
        """Store a new sign-in and answer the provider's authorization URL for it."""
        provider = self._known(name)
        discovery = await self._client.discover(provider)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        now = self._writer.clock.now()
        login = SsoLogin(name, nonce, verifier, redirect, now, now + LOGIN_LIFETIME_MS)
        await self._store.add_login(_digest(state), login)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": self.callback_uri(name, origin),
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        } | ({"login_hint": login_hint[:254]} if login_hint else {})
        separator = "&" if "?" in discovery.authorization_endpoint else "?"
        return f"{discovery.authorization_endpoint}{separator}{urlencode(query)}"

    async def vouched(
        self, name: str, *, origin: str, state: str, code: str, issuer: str | None = None
    ) -> Vouched:
        """The provider's answer, checked (module doc); ProviderRefused otherwise. `issuer`
        is the callback's `iss` (RFC 9207), which, when sent, must be the provider's."""
        provider = self._known(name)
        login = await self._store.take_login(_digest(state)) if state else None
        if login is None or login.provider != name:
            raise ProviderRefused("this sign-in link was already used or is unknown")
        if self._writer.clock.now() >= login.expires_at:
            raise ProviderRefused("this sign-in took too long: start again")
        if not code:
            raise ProviderRefused("the provider sent no code")
        discovery = await self._client.discover(provider)
        if issuer is not None and issuer != discovery.issuer:  # a mix-up of providers
            raise ProviderRefused("the answer came from another issuer")
        uri = self.callback_uri(name, origin)
        tokens = await self._client.exchange(provider, discovery, code, login.code_verifier, uri)
        claims = await self._client.id_token_claims(
            provider, discovery, tokens.id_token, login.nonce
        )
        if "email" not in claims or "email_verified" not in claims:  # from userinfo only
            extra = await self._client.userinfo(discovery, tokens.access_token)
            if extra.get("sub") == claims["sub"]:  # OIDC core 5.3.2: else ignore it
                claims = extra | claims
        address = _verified_email(claims)
        domain = address.rpartition("@")[2]
        if provider.allowed_domains and domain not in provider.allowed_domains:
            raise ProviderRefused("accounts of this email domain may not sign in here", 403)
        return Vouched(name, claims["sub"], address, _name_of(claims, address), login.redirect)

    async def account(self, vouched: Vouched) -> UserRow | LinkNeeded:
        """The account the vouched person signs in to, made if the rules allow (module doc)."""
        now = self._writer.clock.now()
        linked = await self._store.identity(vouched.provider, vouched.subject)
        if linked is not None:
            user = await self._events.get(UserRow, (linked.user_id,))
            if user is None:
                raise ProviderRefused("the account linked to this identity no longer exists", 403)
            await self._store.touch(linked.id, vouched.email, now)
            return user
        existing = await self._events.select(UserRow, "email", vouched.email)
        if existing:
            return LinkNeeded(existing[0], vouched)
        provider = self._known(vouched.provider)
        if not (provider.allowed_domains or self._allow_signup):
            raise ProviderRefused(f"No account for {vouched.email}: ask an admin to invite you",
                                  403)  # fmt: skip
        try:
            user = await self._accounts.register_sso(vouched.email, vouched.name)
        except Conflict:  # a racing sign-in made it a moment ago: link by password, then
            raise ProviderRefused("this account was just created: sign in again", 409) from None
        await self._link(vouched.provider, vouched.subject, user.id, vouched.email)
        log.info("account %s made by single sign-on through %s", user.id, vouched.provider)
        return user

    async def link(
        self, challenge: Challenge, password: str, *, ip_address: str = ""
    ) -> UserRow | None:
        """The account's password proves the owner agrees: link the provider's identity
        and use the challenge up. None when the password is wrong (the caller counts it);
        TooManyAttempts while the email's sign-ins back off; ProviderRefused when a racing
        answer used the challenge, or the identity was linked meanwhile."""
        user = await self._events.get(UserRow, (challenge.user_id,))
        if user is None:
            raise ProviderRefused("this account no longer exists", 403)
        try:  # with sign-in's back-off and equal-cost refusal
            await self._accounts.check_password(user.email, password, ip_address=ip_address)
        except Unauthorized:
            return None
        if not await self._challenges.close_challenge(challenge.id):
            raise ProviderRefused("this sign-in was already finished: start again")
        await self._link(challenge.sso_provider, challenge.sso_subject, user.id,
                         challenge.sso_email)  # fmt: skip
        log.info("identity at %s linked to account %s", challenge.sso_provider, user.id)
        return user

    async def identities(self, user_id: str) -> list[SsoIdentity]:
        return await self._store.identities(user_id)

    async def _link(self, provider: str, subject: str, user_id: str, address: str) -> None:
        now = self._writer.clock.now()
        identity = SsoIdentity(self._writer.ids(), provider, subject, user_id, address, now, now)
        if not await self._store.link(identity):
            raise ProviderRefused("this identity was just linked to an account: sign in again",
                                  409)  # fmt: skip

    def _known(self, name: str) -> OidcProvider:
        provider = self._providers.get(name)
        if provider is None:
            raise ProviderRefused("this server has no such sign-in provider", 404)
        return provider


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _verified_email(claims: dict[str, Any]) -> str:
    """The claims' email, when the provider says it verified it (`email_verified` true:
    a boolean, or the string "true" some providers send)."""
    verified = claims.get("email_verified")
    if not isinstance(claims.get("email"), str):
        raise ProviderRefused("the provider did not share an email address", 403)
    if verified is not True and verified != "true":
        raise ProviderRefused("the provider has not verified this email address", 403)
    try:
        return email(claims["email"])
    except InvalidInput:
        raise ProviderRefused("the provider's email address is not valid", 403) from None


def _name_of(claims: dict[str, Any], address: str) -> str:
    """A display name for a new account: the provider's `name`, else the email's local part."""
    for candidate in (claims.get("name"), address.partition("@")[0], address):
        if isinstance(candidate, str):
            try:
                return display_name(candidate[:100])
            except InvalidInput:
                continue
    return address[:100]
