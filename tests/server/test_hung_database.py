"""A database that stops answering (issue 15, item 1), for real: `sigillo server` as an
operator runs it, PostgreSQL behind a TCP proxy that swallows every byte (a network
partition that keeps connections open), and SQLite locked by another process.

Every request then answers 503 with the JSON error within SIGILLO_DATABASE_TIMEOUT and
a moment, more requests than the pool has connections included; the server recovers by
itself when the database answers again; SIGTERM ends it within 10 s whatever the
database does."""

from __future__ import annotations

import base64
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, closing
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.databases import Databases, skip_without_postgres
from tests.live_server import create_user_and_sign_in, keyed_server
from tests.tcp_proxy import TcpProxy, tcp_proxy

TIMEOUT = 2.0  # SIGILLO_DATABASE_TIMEOUT for these servers
# What a request may take on a hung database: the timeout, the client's grace past the
# server's own statement_timeout (store.postgres), and room for a loaded test machine.
BOUND = TIMEOUT + 1.0 + 2.0
KEY = base64.b64encode(b"h" * 32).decode()
Running = AbstractContextManager[tuple[subprocess.Popen[bytes], str]]


def running_server(data_dir: Path, url: str, log: Path) -> Running:
    return keyed_server(data_dir, url, log, KEY, {"SIGILLO_DATABASE_TIMEOUT": str(TIMEOUT)})


def signed_in(base: str, data_dir: Path, url: str) -> dict[str, str]:
    token = create_user_and_sign_in(
        base, data_dir, "ops@example.com", "a-long-passw0rd", database_url=url
    )
    return {"Authorization": f"Bearer {token}"}


def timed(
    call: httpx.Client, method: str, path: str, **kwargs: object
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call.request(method, path, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, took: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert "database" in error, error
    assert took < BOUND, took


@pytest.fixture
def proxied(databases: Databases) -> Iterator[tuple[TcpProxy, str]]:
    skip_without_postgres("postgresql")
    url = databases.fresh("postgresql")
    parts = urlsplit(url)
    port = parts.port or 5432
    with tcp_proxy((parts.hostname or "127.0.0.1", port)) as proxy:
        yield proxy, url.replace(f":{port}/", f":{proxy.port}/")


def test_a_hung_postgresql_answers_503_in_seconds_and_recovers(
    proxied: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied
    log = tmp_path / "server.log"
    with running_server(tmp_path / "data", url, log) as (_, base):
        auth = signed_in(base, tmp_path / "data", url)
        with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
            assert client.post("/api/v0/orgs", json={"name": "Before"}).status_code == 200
            proxy.swallow()
            read, took = timed(client, "GET", "/api/v0/orgs")
            assert_unavailable(read, took)
            assert "did not answer within 2 s" in read.json()["error"]
            write, took = timed(client, "POST", "/api/v0/orgs", json={"name": "During"})
            assert_unavailable(write, took)
            health, took = timed(client, "GET", "/health")
            assert_unavailable(health, took)
            live, took = timed(client, "GET", "/health/live")
            assert live.status_code == 200
            assert took < 1.0, took

            # more requests at once than the pool has connections (10): none waits longer
            def one(_: int) -> tuple[httpx.Response, float]:
                with httpx.Client(base_url=base, headers=auth, timeout=60) as own:
                    return timed(own, "GET", "/api/v0/orgs")

            with ThreadPoolExecutor(16) as pool:
                for response, took in pool.map(one, range(16)):
                    assert_unavailable(response, took)

            proxy.restore()
            deadline = time.monotonic() + 20
            while (answer := client.get("/api/v0/orgs")).status_code != 200:
                assert answer.status_code == 503, answer.text
                assert time.monotonic() < deadline, "the server did not recover by itself"
                time.sleep(0.2)
            names = {org["name"] for org in answer.json()["orgs"]}
            assert "Before" in names
            assert client.post("/api/v0/orgs", json={"name": "After"}).status_code == 200
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    said = [line for line in text.splitlines() if "sigillo.store" in line]
    assert len(said) == 2, said  # once when it started, once when it ended
    assert f"PostgreSQL at 127.0.0.1:{proxy.port} is unavailable: " in said[0], said
    assert "requests answer 503 until it answers" in said[0], said
    assert "answers again after" in said[1], said


def test_sigterm_exits_within_10_s_while_postgresql_hangs(
    proxied: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied
    log = tmp_path / "server.log"
    with running_server(tmp_path / "data", url, log) as (process, base):
        auth = signed_in(base, tmp_path / "data", url)
        proxy.swallow()
        with ThreadPoolExecutor(4) as pool:  # requests in flight, each waiting on the database

            def one(_: int) -> int:
                try:
                    with httpx.Client(base_url=base, headers=auth, timeout=30) as own:
                        return own.get("/api/v0/orgs").status_code
                except httpx.TransportError:
                    return 0  # cut off by the shutdown: also fine

            waiting = [pool.submit(one, n) for n in range(4)]
            time.sleep(0.5)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=15)
            took = time.monotonic() - started
            for future in waiting:
                assert future.result() in (0, 503)
    assert took < 10, f"SIGTERM took {took:.1f} s"
    # uvicorn shuts down gracefully, then ends with the signal it was given
    assert code in (0, -signal.SIGTERM), log.read_text(errors="replace")


def test_sqlite_locked_by_another_process_answers_503_within_the_timeout(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'sigillo.db'}"
    with running_server(data, url, tmp_path / "server.log") as (_, base):
        auth = signed_in(base, data, url)
        with (
            httpx.Client(base_url=base, headers=auth, timeout=60) as client,
            closing(sqlite3.connect(data / "sigillo.db", isolation_level=None)) as other,
        ):
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                write, took = timed(client, "POST", "/api/v0/orgs", json={"name": "Blocked"})
                assert_unavailable(write, took)
                assert write.json()["error"] == "the database is busy; try again"
                assert client.get("/api/v0/orgs").status_code == 200  # reads still work
            finally:
                other.execute("ROLLBACK")
            assert client.post("/api/v0/orgs", json={"name": "Free"}).status_code == 200
