"""`sigillo server` with a database it cannot reach at start (issue 15, item 4): it says
which host and what failed, one line per attempt, retries for SIGILLO_DATABASE_STARTUP_TIMEOUT
seconds with back-off, then exits non-zero; it never prints the URL's password. A real
process each time, as an operator starts it."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from sigillo.settings import Settings
from tests.databases import POSTGRES_ADMIN_URL, Databases, skip_without_postgres
from tests.live_server import free_port
from tests.tcp_proxy import tcp_proxy

PASSWORD = "Hunter2-n0t-in-any-log"  # must never be printed
KEY = base64.b64encode(b"k" * 32).decode()


def environment(startup_timeout: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    return clean | {
        "SIGILLO_ENCRYPTION_KEY": KEY,
        "SIGILLO_DATABASE_STARTUP_TIMEOUT": startup_timeout,
    }


def command(data_dir: Path, url: str, port: int | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sigillo",
        "server",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port or free_port()),
        "--database-url",
        url,
    ]


def start(data_dir: Path, url: str, startup_timeout: str) -> tuple[int, str, float]:
    """Run the server to its exit: (exit code, everything it printed, seconds it took)."""
    started = time.monotonic()
    done = subprocess.run(
        command(data_dir, url),
        capture_output=True,
        text=True,
        env=environment(startup_timeout),
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def attempts(output: str) -> list[str]:
    return [line for line in output.splitlines() if "retrying in" in line]


def closed_port() -> int:
    return free_port()  # nothing listens there once the probe socket is closed


def test_a_refused_connection_is_retried_then_the_server_exits(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://sigillo:{PASSWORD}@127.0.0.1:{port}/sigillo"
    code, output, took = start(tmp_path, url, "2")
    assert code != 0, output
    assert f"error: PostgreSQL at 127.0.0.1:{port} cannot be reached: connection refused" in output
    assert "gave up after" in output
    retried = attempts(output)
    assert len(retried) >= 2, output  # 0.5 s, then 1 s, … within the 2 s
    assert all(f"127.0.0.1:{port}" in line and "connection refused" in line for line in retried)
    assert 2.0 <= took < 20, output
    assert PASSWORD not in output


def test_no_retry_when_the_startup_timeout_is_zero(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://sigillo:{PASSWORD}@127.0.0.1:{port}/sigillo"
    code, output, _ = start(tmp_path, url, "0")
    assert code != 0, output
    assert attempts(output) == [], output
    assert "gave up after" not in output
    assert f"PostgreSQL at 127.0.0.1:{port} cannot be reached: connection refused" in output
    assert PASSWORD not in output


def test_an_unknown_host_is_named(tmp_path: Path) -> None:
    url = f"postgresql://sigillo:{PASSWORD}@no-such-host.invalid/sigillo"
    code, output, _ = start(tmp_path, url, "0")
    assert code != 0, output
    assert "PostgreSQL at no-such-host.invalid:5432 cannot be reached: unknown host" in output
    assert PASSWORD not in output


def test_a_server_that_never_answers_is_a_timeout(tmp_path: Path) -> None:
    """A port that accepts connections (the kernel completes the handshake) and never says
    a word: each attempt ends at its deadline."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        url = f"postgresql://sigillo:{PASSWORD}@127.0.0.1:{port}/sigillo"
        code, output, took = start(tmp_path, url, "2")
    assert code != 0, output
    assert f"PostgreSQL at 127.0.0.1:{port} cannot be reached: timeout" in output
    assert took < 20, output
    assert PASSWORD not in output


@pytest.fixture
def postgres() -> str:
    skip_without_postgres("postgresql")
    return POSTGRES_ADMIN_URL


def test_a_refused_login_is_an_authentication_error_at_once(postgres: str, tmp_path: Path) -> None:
    """PostgreSQL's own answer: retrying cannot help, so there is no waiting out the timeout."""
    where = urlsplit(postgres)
    user = f"no_such_role_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://{user}:{PASSWORD}@{where.hostname}:{where.port or 5432}/postgres"
    code, output, took = start(tmp_path, url, "30")
    assert code != 0, output
    assert (
        f"PostgreSQL at {where.hostname}:{where.port or 5432} refused the connection: "
        "authentication failed" in output
    )
    assert user in output  # the server's message names the role
    assert attempts(output) == []
    assert took < 20, output
    assert PASSWORD not in output


def test_a_missing_database_is_named(postgres: str, tmp_path: Path) -> None:
    where = urlsplit(postgres)
    name = f"no_such_db_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://{where.username}:{PASSWORD}@{where.hostname}:{where.port or 5432}/{name}"
    code, output, _ = start(tmp_path, url, "30")
    assert code != 0, output
    assert "the database does not exist" in output
    assert name in output
    assert PASSWORD not in output


def test_an_unopenable_sqlite_path_fails_at_once(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    path = blocker / "data" / "sigillo.db"
    code, output, took = start(tmp_path / "data", f"sqlite:///{path}", "30")
    assert code != 0, output
    assert f"error: cannot create the database file {path}" in output
    assert attempts(output) == []
    assert took < 20, output


def test_the_server_starts_once_the_database_appears(databases: Databases, tmp_path: Path) -> None:
    skip_without_postgres("postgresql")
    real = urlsplit(databases.fresh("postgresql"))
    port = free_port()
    url = real._replace(netloc=f"{real.netloc.rsplit(':', 1)[0]}:{port}").geturl()
    listen = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command(tmp_path / "data", url, listen),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment("30"),
        )
    try:
        time.sleep(2.0)  # refused meanwhile: the server retries
        assert process.poll() is None, log.read_text()
        with tcp_proxy((real.hostname or "127.0.0.1", real.port or 5432), port):
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                with suppress(httpx.TransportError):
                    ready = httpx.get(f"http://127.0.0.1:{listen}/health/ready", timeout=5)
                    if ready.status_code == 200:
                        break
                time.sleep(0.2)
            text = log.read_text()
            assert f"PostgreSQL at 127.0.0.1:{port} cannot be reached: connection refused" in text
            assert attempts(text), text
            assert f"PostgreSQL at 127.0.0.1:{port} answered" in text
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_the_setting() -> None:
    assert Settings.load({}).database_startup_timeout == 30.0
    assert Settings.load({"SIGILLO_DATABASE_STARTUP_TIMEOUT": "0"}).database_startup_timeout == 0
    assert (
        Settings.load({"SIGILLO_DATABASE_STARTUP_TIMEOUT": " 2.5 "}).database_startup_timeout == 2.5
    )
    for wrong in ("-1", "soon", "nan", "inf"):
        with pytest.raises(
            ValueError, match="SIGILLO_DATABASE_STARTUP_TIMEOUT must be a number of seconds"
        ):
            Settings.load({"SIGILLO_DATABASE_STARTUP_TIMEOUT": wrong})
