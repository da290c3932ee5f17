"""A real `sigillo server` process for tests that need one (first run, fuzzing, the CLI)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["create_user_and_sign_in", "free_port", "keyed_server", "server", "wait_healthy"]

START_TIMEOUT = 30.0


def wait_healthy(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    """Until `base`/health answers 200; fails with the server's log if it exits first or
    takes longer than START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(
    data_dir: Path,
    log: Path,
    *,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[int]:
    """`python -m sigillo server --data-dir DATA --port FREE` (or `port`, for a test that
    must tell another process the address first), healthy; yields its port. The process
    gets no SIGILLO_* variable of ours, only those in `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    port = port or free_port()
    command = [sys.executable, "-m", "sigillo", "server", "--data-dir", str(data_dir)]
    command += ["--port", str(port)]
    if database_url:
        command += ["--database-url", database_url]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**clean, **(env or {})}
        )
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}", log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def create_user_and_sign_in(
    base: str,
    data_dir: Path,
    email: str,
    password: str,
    *,
    name: str | None = None,
    database_url: str | None = None,
    command: Sequence[str] = (sys.executable, "-m", "sigillo"),
) -> str:
    """An account made as an operator makes one, `sigillo admin create-user` beside the
    running server; answers a session token from signing in as it."""
    arguments = [*command, "admin", "create-user", email, "--password-stdin"]
    arguments += ["--data-dir", str(data_dir)]
    if name is not None:
        arguments += ["--name", name]
    if database_url is not None:
        arguments += ["--database-url", database_url]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    created = subprocess.run(
        arguments, input=password, capture_output=True, text=True, env=clean, check=False
    )
    assert created.returncode == 0, created.stderr
    signed = httpx.post(
        f"{base}/api/auth/sign-in/email", json={"email": email, "password": password}, timeout=10
    )
    assert signed.status_code == 200, signed.text
    token: str = signed.json()["token"]
    return token


@contextmanager
def keyed_server(
    data_dir: Path, url: str, log: Path, key: str, env: Mapping[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`sigillo server` on the database `url` with the master key `key` in `data_dir`
    (where `sigillo admin` finds it too), healthy: yields the process and its base URL, and
    kills it at the end. Replicas of one database share the same `key`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    port = free_port()
    command = [sys.executable, "-m", "sigillo", "server", "--data-dir", str(data_dir)]
    command += ["--port", str(port), "--database-url", url]
    data_dir.mkdir(mode=0o700, exist_ok=True)
    (data_dir / "encryption.key").write_text(key + "\n")
    (data_dir / "encryption.key").chmod(0o600)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**clean, **(env or {})}
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, base, log)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
