"""The OpenID Connect relying party's side of the protocol: discovery, the token exchange,
the ID token's checks and the userinfo endpoint (issue 20; services/sso.py uses it).

Nothing here parses a JWT by hand: `joserfc` verifies the signature against the provider's
published keys (JWKS, fetched again once when a token names a key id we do not know, as a
provider rotating its keys publishes the new one first) with algorithms from an allow-list
(asymmetric only: never `none`, never an HMAC keyed with the client secret), and checks
the claims: `iss` is the issuer, `aud` holds our client id (and `azp` is us when there are
several audiences), `exp`/`iat` within a minute of leeway, and `nonce` is the one this
sign-in sent. Discovery documents and key sets are cached in memory for an hour.

Failures are two kinds. `ProviderRefused`: the provider or its answer says no, or is not
to be trusted (a 4xx page). `ProviderUnreachable`: the network or the provider failed (a
502 page). Their messages are fixed words, never a token, a code or a secret.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote_plus

import httpx
import msgspec
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from sigillo.settings import OidcProvider

__all__ = [
    "ALGORITHMS",
    "Discovery",
    "OidcClient",
    "ProviderRefused",
    "ProviderUnreachable",
]

# Asymmetric signatures only: the provider's private key signed it, nobody else could.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA"]  # fmt: skip
CACHE_SECONDS = 3600.0
LEEWAY_SECONDS = 60
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_DOCUMENT = 512 * 1024  # a discovery document, key set or token answer is far smaller


class ProviderRefused(Exception):
    """The provider said no, or its answer failed a check: the sign-in is refused with
    `status` (400, or 403 for a person the rules keep out) and `reason`, in words."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class ProviderUnreachable(Exception):
    """The provider could not be reached, or answered with an error of its own."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Discovery(msgspec.Struct, frozen=True):
    """The parts of `/.well-known/openid-configuration` a code flow needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    token_endpoint_auth_methods_supported: list[str] = msgspec.field(
        default_factory=lambda: ["client_secret_basic"]
    )


class TokenAnswer(msgspec.Struct, frozen=True):
    id_token: str = ""
    access_token: str = ""

    def __repr__(self) -> str:
        return "TokenAnswer(<tokens hidden>)"


class OidcClient:
    """One per server: an HTTP client with timeouts and the caches of every provider."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(timeout=TIMEOUT, transport=transport,
                                       follow_redirects=False)  # fmt: skip
        self._discoveries: dict[str, tuple[float, Discovery]] = {}
        self._key_sets: dict[str, tuple[float, KeySet]] = {}

    async def close(self) -> None:
        await self._http.aclose()

    async def discover(self, provider: OidcProvider) -> Discovery:
        cached = self._discoveries.get(provider.issuer)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        body = await self._get(url, "its discovery document")
        try:
            found = msgspec.json.decode(body, type=Discovery)
        except msgspec.ValidationError:
            raise ProviderUnreachable("its discovery document is not valid") from None
        if found.issuer.rstrip("/") != provider.issuer.rstrip("/"):
            raise ProviderUnreachable("its discovery document names another issuer")
        self._discoveries[provider.issuer] = (time.monotonic(), found)
        return found

    async def exchange(
        self,
        provider: OidcProvider,
        discovery: Discovery,
        code: str,
        code_verifier: str,
        redirect_uri: str,
    ) -> TokenAnswer:
        """The authorization code for tokens (RFC 6749 4.1.3 with PKCE's verifier), the
        client authenticated as the provider prefers (`client_secret_basic` by default)."""
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": code_verifier}  # fmt: skip
        auth: httpx.Auth | None = None
        methods = discovery.token_endpoint_auth_methods_supported
        if not provider.client_secret:
            form["client_id"] = provider.client_id  # a public client: PKCE alone
        elif "client_secret_basic" in methods or "client_secret_post" not in methods:
            auth = httpx.BasicAuth(_form_encode(provider.client_id),
                                   _form_encode(provider.client_secret))  # fmt: skip
        else:
            form |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
        try:
            answer = await self._http.post(
                discovery.token_endpoint,
                data=form,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError:
            raise ProviderUnreachable("its token endpoint did not answer") from None
        if answer.status_code in (400, 401):  # invalid_grant: a used or foreign code
            raise ProviderRefused("the provider refused the sign-in's code")
        if answer.status_code != 200 or len(answer.content) > MAX_DOCUMENT:
            raise ProviderUnreachable("its token endpoint answered with an error")
        try:
            tokens = msgspec.json.decode(answer.content, type=TokenAnswer)
        except msgspec.ValidationError:
            raise ProviderUnreachable("its token endpoint's answer is not valid") from None
        if not tokens.id_token:
            raise ProviderRefused("the provider sent no ID token")
        return tokens

    async def id_token_claims(
        self, provider: OidcProvider, discovery: Discovery, id_token: str, nonce: str
    ) -> dict[str, Any]:
        """The ID token's claims once its signature and claims are checked (module doc)."""
        keys = await self._keys(discovery, refresh=False)
        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            except InvalidKeyIdError:  # perhaps rotated: fetch the key set once more
                keys = await self._keys(discovery, refresh=True)
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        except JoseError:
            raise ProviderRefused("the ID token's signature is not valid") from None
        except ValueError:  # not even the shape of a JWT
            raise ProviderRefused("the ID token's signature is not valid") from None
        claims = token.claims
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": discovery.issuer},
            aud={"essential": True, "value": provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise ProviderRefused("the ID token has expired") from None
        except JoseError as error:
            claim = getattr(error, "claim", "") or "a claim"
            raise ProviderRefused(f"the ID token's {claim} is not right") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != provider.client_id:
            raise ProviderRefused("the ID token's azp is not right")
        if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
            raise ProviderRefused("the ID token's sub is not right")
        return claims

    async def userinfo(self, discovery: Discovery, access_token: str) -> dict[str, Any]:
        """The userinfo endpoint's claims (for providers whose ID token has no email)."""
        if not discovery.userinfo_endpoint or not access_token:
            return {}
        try:
            answer = await self._http.get(
                discovery.userinfo_endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError:
            raise ProviderUnreachable("its userinfo endpoint did not answer") from None
        if answer.status_code != 200 or len(answer.content) > MAX_DOCUMENT:
            raise ProviderUnreachable("its userinfo endpoint answered with an error")
        try:
            found = msgspec.json.decode(answer.content)
        except msgspec.DecodeError:
            raise ProviderUnreachable("its userinfo answer is not valid") from None
        return found if isinstance(found, dict) else {}

    async def _keys(self, discovery: Discovery, *, refresh: bool) -> KeySet:
        cached = self._key_sets.get(discovery.jwks_uri)
        if cached and not refresh and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        body = await self._get(discovery.jwks_uri, "its signing keys")
        try:
            published = msgspec.json.decode(body)
            keys = KeySet([KeySet.registry_cls.import_key(entry)
                           for entry in published["keys"]
                           if isinstance(entry, dict) and entry.get("use", "sig") == "sig"
                           and entry.get("kty") in ("RSA", "EC", "OKP")])  # fmt: skip
        except (msgspec.DecodeError, KeyError, TypeError, ValueError, JoseError):
            raise ProviderUnreachable("its signing keys are not valid") from None
        self._key_sets[discovery.jwks_uri] = (time.monotonic(), keys)
        return keys

    async def _get(self, url: str, what: str) -> bytes:
        try:
            answer = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError:
            raise ProviderUnreachable(f"{what} could not be fetched") from None
        if answer.status_code != 200 or len(answer.content) > MAX_DOCUMENT:
            raise ProviderUnreachable(f"{what} could not be fetched")
        return answer.content


def _form_encode(value: str) -> str:
    """RFC 6749 2.3.1: the client id and secret are form-encoded before Basic auth."""
    return quote_plus(value)
