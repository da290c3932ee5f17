"""Rate limits on credential endpoints, keyed on the client address; X-Forwarded-For is
believed only from a trusted proxy (security.md promise 9)."""

from __future__ import annotations

import itertools
from pathlib import Path

import httpx
import pytest

from sigillo.api.ratelimit import Budget, RateLimits
from sigillo.server import create_app
from sigillo.settings import Settings
from tests.api.conftest import Api

SIGN_IN = "/api/auth/sign-in/email"
_guesses = itertools.count()


def wrong() -> dict[str, str]:
    """A wrong sign-in for an email of its own: these tests count per client address, and
    each email has its own per-account limit too (tests/api/test_hardening_limits.py)."""
    return {"email": f"nobody{next(_guesses)}@example.com", "password": "wrong password"}


def client(api: Api, peer: str, settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, services=api.services)
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def settings_for(tmp_path: Path, database_url: str, **more: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        allowed_hosts=("testserver",),
        **more,  # type: ignore[arg-type]
    )


@pytest.mark.asyncio
async def test_the_eleventh_sign_in_in_a_minute_is_refused_with_retry_after(
    api: Api, tmp_path: Path, database_url: str
) -> None:
    async with client(api, "203.0.113.7", settings_for(tmp_path, database_url)) as c:
        statuses = [(await c.post(SIGN_IN, json=wrong())).status_code for _ in range(10)]
        assert statuses == [401] * 10
        refused = await c.post(SIGN_IN, json=wrong())
        assert (refused.status_code, refused.json()) == (429, {"error": "too many requests"})
        assert 1 <= int(refused.headers["retry-after"]) <= 6
        # Other routes are not limited.
        assert (await c.get("/health")).status_code == 200


@pytest.mark.asyncio
async def test_clients_are_counted_apart_and_a_forged_forwarded_for_changes_nothing(
    api: Api, tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url)
    app = create_app(settings, services=api.services)
    peers = {}
    for peer in ("203.0.113.7", "203.0.113.8"):
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        peers[peer] = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    first, second = peers.values()
    for n in range(10):
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert (await first.post(SIGN_IN, json=wrong(), headers=forged)).status_code == 401
    assert (await first.post(SIGN_IN, json=wrong())).status_code == 429
    assert (await second.post(SIGN_IN, json=wrong())).status_code == 401
    for c in peers.values():
        await c.aclose()


@pytest.mark.asyncio
async def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(
    api: Api, tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url, trusted_proxies=("10.0.0.0/8",))
    async with client(api, "10.1.2.3", settings) as proxy:
        # The client prepends a forged hop; the proxy appends the real one.
        for _ in range(10):
            headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
            assert (await proxy.post(SIGN_IN, json=wrong(), headers=headers)).status_code == 401
        spent = await proxy.post(SIGN_IN, json=wrong(), headers={"X-Forwarded-For": "203.0.113.9"})
        assert spent.status_code == 429
        other = await proxy.post(SIGN_IN, json=wrong(), headers={"X-Forwarded-For": "203.0.113.10"})
        assert other.status_code == 401


def test_a_bucket_refills_evenly() -> None:
    now = [0.0]
    limits = RateLimits(limits={"x": Budget(2, 10)}, clock=lambda: now[0])
    assert limits.take("x", "a") is None
    assert limits.take("x", "a") is None
    assert limits.take("x", "a") == pytest.approx(5.0)
    now[0] = 5.0
    assert limits.take("x", "a") is None
    assert limits.take("x", "a") == pytest.approx(5.0)
    assert limits.take("x", "b") is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("peer", "seen"),
    [("10.1.2.3", "203.0.113.9"), ("192.0.2.50", "192.0.2.50")],
    ids=["trusted-proxy", "forged-header"],
)
async def test_the_device_consent_shows_the_client_a_trusted_proxy_names(
    api: Api, tmp_path: Path, database_url: str, peer: str, seen: str
) -> None:
    """The address the /device consent screen shows is the one the rate limiter counts:
    behind a trusted proxy the forwarded client, else the peer, whatever X-Forwarded-For
    the client wrote itself."""
    settings = settings_for(tmp_path, database_url, trusted_proxies=("10.0.0.0/8",))
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    async with client(api, peer, settings) as c:
        asked = await c.post(
            "/api/auth/device/code", json={"client_id": "sigillo-cli"}, headers=headers
        )
        assert asked.status_code == 200, asked.text
        ada = await api.user("Ada", f"ada-{peer}@example.com")
        shown = await c.get(
            "/api/auth/device", params={"user_code": asked.json()["user_code"]}, headers=ada
        )
        assert shown.status_code == 200, shown.text
        assert shown.json()["ip"] == seen
