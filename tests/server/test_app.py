"""The Litestar app built by create_app(settings), against real databases."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from sigillo.server import create_app
from sigillo.settings import Settings
from tests.databases import POSTGRES_ADMIN_URL, Databases, skip_without_postgres


def settings_for(database_url: str, data_dir: Path) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        encryption_key=key,
        allowed_hosts=("testserver.local",),
    )


@pytest_asyncio.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(settings_for(database_url, tmp_path))) as test_client:
        yield test_client


@pytest.mark.asyncio
async def test_health_answers_once_the_database_is_reachable(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "service": "sigillo-app"}


@pytest.mark.asyncio
async def test_info(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/api/info")).json() == {"colo": "unknown"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/route", 404),
        ("GET", "/api/v0/%2F..%2Fetc", 404),
        ("POST", "/health", 405),
        ("DELETE", "/api/info", 405),
    ],
)
async def test_errors_are_json_with_an_error_string(
    client: AsyncTestClient,  # type: ignore[type-arg]
    method: str,
    path: str,
    status: int,
) -> None:
    response = await client.request(method, path, content=b'{"not": "json"')
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["error"], str)


@pytest.fixture
def postgres_url(databases: Databases) -> str:
    skip_without_postgres("postgresql")
    return databases.fresh("postgresql")


@pytest.mark.asyncio
async def test_health_reports_an_unreachable_database_and_recovers(
    postgres_url: str, tmp_path: Path
) -> None:
    """An outage made real: PostgreSQL stops accepting connections to the database."""
    name = postgres_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        async with AsyncTestClient(app=create_app(settings_for(postgres_url, tmp_path))) as client:
            assert (await client.get("/health")).status_code == 200
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            down = await client.get("/health")
            assert down.status_code == 503
            assert down.json() == {
                "ok": False,
                "service": "sigillo-app",
                "error": "database unavailable",
            }
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert (await client.get("/health")).status_code == 200
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
