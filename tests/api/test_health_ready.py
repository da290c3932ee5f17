"""/health/live and /health/ready (issue 15, item 3) on real databases of both kinds, and a
PostgreSQL that stops answering, made real by a TCP proxy that can swallow everything."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from sigillo.server import create_app, open_services
from sigillo.services.health import READY_REUSE, READY_TIMEOUT
from sigillo.settings import Settings
from tests.databases import POSTGRES_ADMIN_URL, Databases, skip_without_postgres
from tests.tcp_proxy import TcpProxy, tcp_proxy

OK = {"ok": True, "service": "sigillo-app"}


def settings_for(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
        allowed_hosts=("testserver",),
    )


@contextlib.asynccontextmanager
async def client_for(database_url: str, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(database_url, data_dir)
    services = await open_services(settings)
    transport = httpx.ASGITransport(app=create_app(settings, services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await asyncio.wait_for(services.close(), 10)


async def checked_at(database_url: str) -> int | None:
    """The row readiness writes, read beside the server."""
    if database_url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            rows = db.execute("SELECT checked_at FROM health_checks WHERE id = 1").fetchall()
    else:
        connection = await asyncpg.connect(database_url)
        try:
            rows = await connection.fetch("SELECT checked_at FROM health_checks WHERE id = 1")
        finally:
            await connection.close()
    return int(rows[0][0]) if rows else None


@pytest.mark.asyncio
async def test_live_ready_and_health_on_a_healthy_database(
    database_url: str, tmp_path: Path
) -> None:
    async with client_for(database_url, tmp_path) as client:
        assert await checked_at(database_url) is None
        before = int(time.time() * 1000)
        for path in ("/health/live", "/health/ready", "/health"):
            response = await client.get(path)
            assert (response.status_code, response.json()) == (200, OK), path
            assert response.headers["content-type"].startswith("application/json")
            if path != "/health":
                assert response.headers["cache-control"] == "no-store", path
        written = await checked_at(database_url)
        assert written is not None, "readiness did not write"
        assert written >= before - 1000
        await asyncio.sleep(READY_REUSE + 0.1)
        assert (await client.get("/health/ready")).status_code == 200
        again = await checked_at(database_url)
        assert again is not None
        assert again > written, "a second probe, past the reuse window, wrote nothing"


@pytest.mark.asyncio
async def test_the_endpoints_are_public_and_documented(database_url: str, tmp_path: Path) -> None:
    async with client_for(database_url, tmp_path) as client:
        document = (await client.get("/api/openapi.json")).json()
        for path, operation_id in (
            ("/health/live", "healthLive"),
            ("/health/ready", "healthReady"),
        ):
            operation = document["paths"][path]["get"]
            assert operation["operationId"] == operation_id
            assert operation["security"] == []
            assert "200" in operation["responses"]
        assert "503" in document["paths"]["/health/ready"]["get"]["responses"]
        # no credentials asked, none needed, whatever is sent
        bogus = {"Authorization": "Bearer sig_not_a_token"}
        assert (await client.get("/health/live", headers=bogus)).status_code == 200
        assert (await client.get("/health/ready", headers=bogus)).status_code == 200
        assert (await client.post("/health/ready")).status_code == 405


@pytest.fixture
def postgres_db(databases: Databases) -> str:
    skip_without_postgres("postgresql")
    return databases.fresh("postgresql")


@pytest.mark.asyncio
async def test_ready_needs_a_write_not_only_a_read(postgres_db: str, tmp_path: Path) -> None:
    """A read-only PostgreSQL (a standby after a failover, say) answers reads, so /health
    stays 200; /health/ready is 503 because the write is refused."""
    name = postgres_db.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        async with client_for(postgres_db, tmp_path) as client:
            assert (await client.get("/health/ready")).status_code == 200
            await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            deadline = time.monotonic() + 15
            while True:
                await asyncio.sleep(READY_REUSE + 0.1)
                ready = await client.get("/health/ready")
                if ready.status_code == 503 and "read-only" in ready.json()["error"]:
                    break
                assert time.monotonic() < deadline, ready.text
            assert ready.json() == {
                "ok": False,
                "service": "sigillo-app",
                "error": "the database is read-only",
            }
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/health/live")).status_code == 200
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        await admin.close()


@pytest.fixture
def proxy(postgres_db: str) -> Iterator[tuple[TcpProxy, str]]:
    """PostgreSQL behind a proxy that can swallow everything, and the URL through it."""
    parts = urlsplit(postgres_db)
    port = parts.port or 5432
    with tcp_proxy((parts.hostname or "127.0.0.1", port)) as running:
        yield running, postgres_db.replace(f":{port}/", f":{running.port}/")


@pytest.mark.asyncio
async def test_a_hung_database_is_not_ready_within_the_timeout(
    proxy: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    running, url = proxy
    async with client_for(url, tmp_path) as client:
        assert (await client.get("/health/ready")).status_code == 200
        running.swallow()
        await asyncio.sleep(READY_REUSE + 0.1)
        for _ in range(3):  # the first finds the hung pool, the next ones a hung connect
            started = time.monotonic()
            ready = await client.get("/health/ready")
            took = time.monotonic() - started
            assert ready.status_code == 503
            assert ready.headers["content-type"].startswith("application/json")
            assert ready.headers["cache-control"] == "no-store"
            body = ready.json()
            assert body["ok"] is False
            assert body["service"] == "sigillo-app"
            assert body["error"] == f"the database did not answer within {READY_TIMEOUT:g} s"
            assert took < READY_TIMEOUT + 1.0, took
            live = await client.get("/health/live")
            assert (live.status_code, live.json()) == (200, OK)
            await asyncio.sleep(READY_REUSE + 0.1)
        running.restore()
        deadline = time.monotonic() + 20
        while (await client.get("/health/ready")).status_code != 200:
            assert time.monotonic() < deadline, "readiness did not recover"
            await asyncio.sleep(READY_REUSE + 0.1)
