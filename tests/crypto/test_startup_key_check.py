"""The start-up key check (security.md promise 2): a wrong or missing key at start exits
non-zero with a clear message and opens no port; the right key, or a new one beside it, runs."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sigillo.crypto.keyring import Keyring, key_id_of
from sigillo.domain.errors import StartupError
from sigillo.domain.events import SealedValue
from sigillo.services.ids import Clock
from sigillo.services.keys import verify_keys
from sigillo.store.database import Database, open_database
from sigillo.store.key_registry import SqlKeyRegistry


def _key() -> bytes:
    return os.urandom(32)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _material(key: bytes) -> list[str]:
    """Every form of a key that must never be printed."""
    return [
        _b64(key),
        _b64(key)[:24],
        base64.urlsafe_b64encode(key).decode(),
        key.hex(),
        key.hex()[:24],
        repr(key),
    ]


# -- verify_keys against the real key registry ----------------------------------------------


@pytest.mark.asyncio
async def test_first_start_registers_the_key_and_the_same_key_passes_again(
    database: Database,
) -> None:
    registry = SqlKeyRegistry(database)
    key = _key()
    assert await registry.registered() == {}

    await verify_keys(registry, Keyring([key]), Clock().now())
    registered = await registry.registered()
    assert list(registered) == [key_id_of(key)]
    assert Keyring([key]).verify_check(registered[key_id_of(key)])

    await verify_keys(registry, Keyring([key]), Clock().now())  # a restart
    assert await registry.registered() == registered  # nothing re-registered or replaced


@pytest.mark.asyncio
async def test_a_different_key_is_refused_naming_the_key_id_only(database: Database) -> None:
    registry = SqlKeyRegistry(database)
    right, wrong = _key(), _key()
    await verify_keys(registry, Keyring([right]), Clock().now())
    before = await registry.registered()

    with pytest.raises(StartupError) as caught:
        await verify_keys(registry, Keyring([wrong]), Clock().now())

    message = str(caught.value)
    assert key_id_of(right) in message
    assert "SIGILLO_ENCRYPTION_KEY" in message
    for leak in _material(right) + _material(wrong):
        assert leak not in message
    assert await registry.registered() == before  # the wrong key was not registered


@pytest.mark.asyncio
async def test_a_new_primary_beside_the_old_key_passes_and_is_registered(
    database: Database,
) -> None:
    registry = SqlKeyRegistry(database)
    old, new = _key(), _key()
    await verify_keys(registry, Keyring([old]), Clock().now())
    sealed_by_old = Keyring([old]).seal("old data", environment_id="e", name="N")

    rotated = Keyring([new, old])
    await verify_keys(registry, rotated, Clock().now())
    registered = await registry.registered()
    assert set(registered) == {key_id_of(old), key_id_of(new)}
    assert Keyring([new]).verify_check(registered[key_id_of(new)])
    assert rotated.open(sealed_by_old, environment_id="e", name="N") == "old data"

    await verify_keys(registry, rotated, Clock().now())  # restarting rotated is fine
    await verify_keys(registry, Keyring([old, new]), Clock().now())  # order does not matter
    with pytest.raises(StartupError, match=key_id_of(old)):
        await verify_keys(registry, Keyring([new]), Clock().now())  # the old key went missing
    with pytest.raises(StartupError, match=key_id_of(new)):
        await verify_keys(registry, Keyring([old]), Clock().now())


@pytest.mark.asyncio
async def test_a_key_whose_check_value_fails_is_refused(database: Database) -> None:
    registry = SqlKeyRegistry(database)
    key = _key()
    await verify_keys(registry, Keyring([key]), Clock().now())
    [(ciphertext,)] = await database.fetch("SELECT check_ciphertext FROM encryption_keys")
    tampered = bytearray(bytes(ciphertext))
    tampered[0] ^= 1
    async with database.writing() as tx:
        await tx.execute("UPDATE encryption_keys SET check_ciphertext = $1", bytes(tampered))

    with pytest.raises(StartupError, match="known-value check") as caught:
        await verify_keys(registry, Keyring([key]), Clock().now())
    assert key_id_of(key) in str(caught.value)
    for leak in _material(key):
        assert leak not in str(caught.value)


@pytest.mark.asyncio
async def test_a_registered_check_value_from_another_key_is_refused(database: Database) -> None:
    """A row claiming our key id but sealed by someone else's key fails the known-value check."""
    registry = SqlKeyRegistry(database)
    mine, theirs = _key(), _key()
    check = Keyring([theirs]).seal_check()
    forged = SealedValue(key_id_of(mine), check.nonce, check.ciphertext)
    await registry.register_checked(lambda _: forged, 0)
    with pytest.raises(StartupError, match="known-value check"):
        await verify_keys(registry, Keyring([mine]), Clock().now())


@pytest.mark.asyncio
async def test_two_servers_starting_at_once_with_different_keys_do_not_both_pass(
    database_url: str,
) -> None:
    """Two replicas (each with its own connections) start on a fresh database with different
    keys: one of them must be refused, or the database ends up sealed by two unrelated keys
    and neither server can read the other's values."""
    first, second = await open_database(database_url), await open_database(database_url)
    try:
        outcomes = await asyncio.gather(
            verify_keys(SqlKeyRegistry(first), Keyring([_key()]), Clock().now()),
            verify_keys(SqlKeyRegistry(second), Keyring([_key()]), Clock().now()),
            return_exceptions=True,
        )
        registered = await SqlKeyRegistry(first).registered()
    finally:
        await first.close()
        await second.close()
    refused = [o for o in outcomes if isinstance(o, StartupError)]
    assert [o for o in outcomes if o is not None and not isinstance(o, StartupError)] == []
    assert len(refused) == 1, f"both servers passed the key check; registered: {sorted(registered)}"
    assert len(registered) == 1


# -- real server processes ------------------------------------------------------------------

SIGILLO = [sys.executable, "-m", "sigillo"]
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except ConnectionRefusedError:
        return False


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    def output(self) -> tuple[str, str]:
        return self.stdout.read_text(errors="replace"), self.stderr.read_text(errors="replace")


@contextmanager
def _server(tmp_path: Path, url: str, label: str, **env_vars: str) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    env.update(SIGILLO_DATA_DIR=str(tmp_path / "data"), **env_vars)
    port = _free_port()
    out, err = tmp_path / f"{label}.out", tmp_path / f"{label}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*SIGILLO, "server", "--host", "127.0.0.1", "--port", str(port), "--database-url", url],
            stdout=stdout,
            stderr=stderr,
            env=env,
        )
    try:
        yield Server(process, port, out, err)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _wait_healthy(server: Server) -> dict[str, object]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"the server exited: {server.output()}"
        try:
            response = httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body
    pytest.fail(f"no healthy answer within {START_TIMEOUT}s: {server.output()}")


def _wait_exit_never_listening(server: Server) -> tuple[int, int]:
    """Poll the port for the process's whole life; answer its exit code and the probe count."""
    deadline = time.monotonic() + START_TIMEOUT
    probes = 0
    while server.process.poll() is None:
        assert time.monotonic() < deadline, f"still running after {START_TIMEOUT}s"
        assert not _port_open(server.port), "a port was opened despite the failed check"
        probes += 1
        time.sleep(0.01)
    assert not _port_open(server.port)
    return server.process.returncode, probes + 1


def _assert_clean_failure(server: Server, secrets: list[str]) -> str:
    stdout, stderr = server.output()
    assert "error:" in stderr
    assert "Traceback" not in stderr
    for leak in secrets:
        assert leak not in stderr
        assert leak not in stdout
    return stderr


def _registered_key_ids(url: str) -> set[str]:
    async def read() -> set[str]:
        database = await open_database(url)
        try:
            return set(await SqlKeyRegistry(database).registered())
        finally:
            await database.close()

    return asyncio.run(read())


def test_the_server_runs_with_its_key_and_refuses_another(
    database_url: str, tmp_path: Path
) -> None:
    right, wrong = _key(), _key()

    with _server(tmp_path, database_url, "right", SIGILLO_ENCRYPTION_KEY=_b64(right)) as server:
        body = _wait_healthy(server)
        assert body["ok"] is True
        assert body["service"] == "sigillo-app"
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=STOP_TIMEOUT)
        assert code in (0, -signal.SIGTERM), server.output()
        assert not _port_open(server.port)
    assert _registered_key_ids(database_url) == {key_id_of(right)}

    with _server(tmp_path, database_url, "wrong", SIGILLO_ENCRYPTION_KEY=_b64(wrong)) as server:
        code, probes = _wait_exit_never_listening(server)
        assert code != 0
        assert probes >= 1
        stderr = _assert_clean_failure(server, _material(right) + _material(wrong))
        assert key_id_of(right) in stderr
        assert "does not have" in stderr
    assert _registered_key_ids(database_url) == {key_id_of(right)}  # the wrong key left no trace

    with _server(tmp_path, database_url, "again", SIGILLO_ENCRYPTION_KEY=_b64(right)) as server:
        assert _wait_healthy(server)["ok"] is True  # the refusal changed nothing


def test_an_invalid_encryption_key_stops_the_server(tmp_path: Path) -> None:
    bad = "not-a-valid-key-" + os.urandom(8).hex()
    url = f"sqlite:///{tmp_path / 'db' / 'sigillo.db'}"
    with _server(tmp_path, url, "invalid", SIGILLO_ENCRYPTION_KEY=bad) as server:
        code, _ = _wait_exit_never_listening(server)
        assert code != 0
        stderr = _assert_clean_failure(server, [bad, bad[-16:]])
        assert "SIGILLO_ENCRYPTION_KEY must be the base64 encoding of exactly 32 bytes" in stderr


def test_an_unreachable_postgresql_stops_the_server(tmp_path: Path) -> None:
    key = _key()
    url = "postgresql://postgres:hunter2-password@127.0.0.1:1/sigillo"
    # one attempt (the retries for a database still starting: tests/server/test_startup_database)
    env = {"SIGILLO_ENCRYPTION_KEY": _b64(key), "SIGILLO_DATABASE_STARTUP_TIMEOUT": "0"}
    with _server(tmp_path, url, "unreachable", **env) as server:
        code, _ = _wait_exit_never_listening(server)
        assert code != 0
        stderr = _assert_clean_failure(server, [*_material(key), "hunter2-password"])
        assert "127.0.0.1:1 cannot be reached: connection refused" in stderr
