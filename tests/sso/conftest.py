"""Single sign-on against a real OpenID Connect provider (tests/sso/provider.mjs, the
certified `oidc-provider` package on this machine's node), one per test session, and a
Sigillo app on a fresh SQLite or PostgreSQL database configured with its clients.

The browser is two httpx clients with their own cookies: one for Sigillo (the app in
process, so its logs reach caplog), one for the provider (over real HTTP). `Sso.flow`
follows the redirects between them by hand, as a browser would."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio

from sigillo.server import open_services
from sigillo.services.container import Services
from sigillo.settings import OidcProvider, Settings
from tests.apps import app_for
from tests.passwords import OneHashPerPassword
from tests.sso.provider import oidc_provider

HERE = Path(__file__).parent
CONSUMERS = HERE.parent / "consumers" / "node_modules" / "oidc-provider"
ORIGIN = "http://sigillo.test"
CLIENT_SECRET = "client-secret-" + "x9Q2" * 8
SPOILED = ("tampered", "rogue-key", "unknown-kid", "wrong-aud", "wrong-iss", "expired",
           "wrong-nonce")  # fmt: skip


@pytest.fixture(scope="session")
def issuer() -> Iterator[str]:
    """The provider's issuer URL, once per session (per xdist worker)."""
    with oidc_provider(ORIGIN, CLIENT_SECRET) as url:
        yield url


def providers(issuer: str) -> tuple[OidcProvider, ...]:
    """Sigillo's side: `test` (no domains, so accounts are made only with open sign-up),
    `domains` (accounts of allowed.test are made), one per spoiled client, and `down`."""
    made = [
        OidcProvider("test", issuer, "sigillo", CLIENT_SECRET, label="Sign in with Test"),
        OidcProvider("domains", issuer, "sigillo", CLIENT_SECRET, ("allowed.test",)),
        OidcProvider("down", "http://127.0.0.1:9", "sigillo", CLIENT_SECRET),
    ]
    made += [OidcProvider(name, issuer, f"sigillo-{name}", CLIENT_SECRET) for name in SPOILED]
    return tuple(made)


@dataclass
class Sso:
    client: httpx.AsyncClient  # the browser at Sigillo (cookies kept)
    services: Services
    issuer: str

    async def flow(self, provider: str, hint: str, redirect: str = "/dash") -> httpx.Response:
        """Start a sign-in at Sigillo as `hint`, let the provider log them in, and answer
        Sigillo's response to the provider's callback (redirects after it not followed)."""
        callback = await self.to_callback(provider, hint, redirect)
        return await self.client.get(callback)

    async def to_callback(self, provider: str, hint: str, redirect: str = "/dash") -> str:
        """The callback URL (path and query) the provider sends the browser to."""
        query = urlencode({"redirect": redirect, "login_hint": hint})
        started = await self.client.get(f"/login/sso/{provider}?{query}")
        assert started.status_code == 303, started.text
        location = started.headers["location"]
        async with httpx.AsyncClient(timeout=10) as browser:  # fresh provider cookies
            for _ in range(10):
                if location.startswith(ORIGIN):
                    parts = urlsplit(location)
                    return f"{parts.path}?{parts.query}"
                answer = await browser.get(location)
                assert answer.status_code in (302, 303), answer.text
                location = str(answer.url.join(answer.headers["location"]))
        raise AssertionError("the provider never sent the browser back")


@pytest_asyncio.fixture
async def sso(issuer: str, database_url: str, tmp_path: Path) -> AsyncIterator[Sso]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
        allowed_hosts=("sigillo.test",),
        public_url=ORIGIN,
        oidc_providers=providers(issuer),
    )
    services = await open_services(settings, passwords=OneHashPerPassword())
    transport = httpx.ASGITransport(app=app_for(settings, services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            yield Sso(client, services, issuer)
    finally:
        await services.close()
