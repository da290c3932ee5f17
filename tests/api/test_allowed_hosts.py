"""Allowed hosts (security.md promise 9): another Host header is refused before routing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sigillo.api.hosts import allowed_hosts
from sigillo.domain.errors import StartupError
from sigillo.server import create_app, serve
from sigillo.settings import Settings
from tests.api.conftest import Api


async def health(api: Api, settings: Settings, host: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings, services=api.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get("/health", headers={"Host": host})


def settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, **overrides)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_by_default_only_loopback_names_are_answered(
    api: Api, tmp_path: Path, database_url: str
) -> None:
    default = settings(tmp_path, database_url)
    for host in ["localhost", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST:80"]:
        assert (await health(api, default, host)).status_code == 200, host
    for host in ["evil.example.com", "127.0.0.1.evil.example", "", "localhost.evil:8080"]:
        response = await health(api, default, host)
        assert (response.status_code, response.json()) == (400, {"error": "host not allowed"})


@pytest.mark.asyncio
async def test_configured_names_and_subdomain_patterns(
    api: Api, tmp_path: Path, database_url: str
) -> None:
    configured = settings(
        tmp_path, database_url, allowed_hosts=("secrets.example.com", "*.corp.example")
    )
    for host in ["secrets.example.com", "a.corp.example:443", "b.a.corp.example"]:
        assert (await health(api, configured, host)).status_code == 200, host
    for host in ["localhost", "example.com", "corp.example", "xcorp.example"]:
        assert (await health(api, configured, host)).status_code == 400, host
    anything = settings(tmp_path, database_url, allowed_hosts=("*",))
    assert (await health(api, anything, "whatever.example")).status_code == 200


def test_the_public_url_and_a_specific_bind_address_are_allowed_by_default(
    tmp_path: Path,
) -> None:
    hosts = allowed_hosts(
        Settings(
            data_dir=tmp_path,
            database_url="sqlite://",
            host="10.0.0.5",
            public_url="https://Secrets.Example.com:8443/base",
        )
    )
    assert {"10.0.0.5", "secrets.example.com", "localhost"} <= hosts


@pytest.mark.asyncio
async def test_a_wildcard_bind_without_allowed_hosts_refuses_to_start(tmp_path: Path) -> None:
    unsafe = Settings(data_dir=tmp_path, database_url="sqlite:///unused", host="0.0.0.0")  # noqa: S104
    with pytest.raises(StartupError, match="SIGILLO_ALLOWED_HOSTS"):
        await serve(unsafe)
    assert not (tmp_path / "unused").exists()
