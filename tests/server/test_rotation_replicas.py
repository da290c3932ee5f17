"""Master key rotation (issue 15, item 6) for real: two `sigillo server` replicas on one
PostgreSQL database, under write load, while `sigillo admin rotate-key` runs beside them.

What it proves: each replica opens every value the other sealed, before, during and
after the rotation (no request fails); no replica seals with the rotation's new data key
before it becomes active, and both seal with it once it is; every data key ends wrapped
by the new master key, and `--status` says the old one is no longer needed; a server
with only the new key reads every value ever written (those sealed before the rotation
included); and a server with only the old key refuses to start, naming the new one.
(tests/crypto/test_key_rotation.py covers the same feature in one process.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from sigillo.crypto.keyring import key_id_of
from sigillo.services.data_keys import REFRESH_EVERY
from tests.databases import Databases, skip_without_postgres
from tests.live_server import free_port, wait_healthy

OLD, NEW = os.urandom(32), os.urandom(32)
EMAIL, PASSWORD = "ops@example.com", "a-long-passw0rd"
ENVIRONMENTS = ("dev", "preview", "prod")
BEFORE = {  # set before the rotation, sealed with the first data key (wrapped by OLD)
    "dev": {"DATABASE_URL": "postgres://db/dev", "API_KEY": "k-dev"},
    "prod": {"DATABASE_URL": "postgres://db/prod", "API_KEY": "k-prod"},
}
ACTIVATE_AFTER = REFRESH_EVERY + 5  # s: every replica has looked for new data keys by then
THREADS = 4


def _now() -> int:
    return int(time.time() * 1000)


def _configured(*keys: bytes) -> dict[str, str]:
    """A clean environment (none of our SIGILLO_* variables) with `keys`, newest first."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    encoded = ",".join(base64.b64encode(key).decode("ascii") for key in keys)
    return clean | {"SIGILLO_ENCRYPTION_KEY": encoded}


def _command(url: str, data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "sigillo", *args, "--data-dir", str(data), "--database-url", url]


def _sigillo(
    url: str, data: Path, keys: Sequence[bytes], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`sigillo ARGS` run to its end, as an operator runs it with `keys` configured."""
    return subprocess.run(
        _command(url, data, *args),
        input=stdin,
        capture_output=True,
        text=True,
        env=_configured(*keys),
        timeout=60,
        check=False,
    )


@contextmanager
def _replicas(url: str, data: Path, keys: Sequence[bytes], *logs: Path) -> Iterator[list[str]]:
    """One `sigillo server` per log file, all started at once with `keys`; yields their
    base URLs once every one is healthy, and stops them (SIGTERM) at the end."""
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    try:
        for log in logs:
            port = free_port()
            with log.open("wb") as output:
                process = subprocess.Popen(
                    _command(url, data, "server", "--port", str(port)),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=_configured(*keys),
                )
            started.append((process, f"http://127.0.0.1:{port}"))
        for (process, base), log in zip(started, logs, strict=True):
            wait_healthy(process, base, log)
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _sign_in(base: str, url: str, data: Path) -> dict[str, str]:
    """`sigillo admin create-user` (with OLD, beside the server), then a session."""
    created = _sigillo(
        url, data, [OLD], "admin", "create-user", EMAIL, "--password-stdin", stdin=PASSWORD
    )
    assert created.returncode == 0, created.stderr
    signed = httpx.post(
        f"{base}/api/auth/sign-in/email", json={"email": EMAIL, "password": PASSWORD}, timeout=10
    )
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['token']}"}


def _ok(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, (response.request.url, response.text)
    answer: dict[str, str] = response.json()
    return answer


def _project(client: httpx.Client) -> str:
    """A new org and project (with its environments dev, preview and prod): its secrets URL
    with `{env}` left to fill in."""
    org = _ok(client.post("/api/v0/orgs", json={"name": "Acme"}))["id"]
    project = _ok(client.post("/api/v0/projects", json={"name": "Shop", "orgId": org}))["id"]
    return f"/api/v0/projects/{project}/environments/{{env}}/secrets"


def _download(client: httpx.Client, secrets: str, env: str) -> dict[str, str]:
    return _ok(client.get(secrets.format(env=env) + "/download", params={"format": "json"}))


@dataclass(frozen=True)
class Write:
    event_id: str
    replica: int  # the index of the replica that sealed it
    sent_at: int  # ms, just before the request: it was sealed later


@dataclass
class Load:
    """Threads that each set secrets through one replica, then the other, and read every
    write back at once through the replica that did not seal it."""

    bases: list[str]
    auth: dict[str, str]
    secrets: str
    latest: dict[tuple[str, str], str] = field(default_factory=dict)  # (env, name) -> value
    writes: list[Write] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self, thread: int) -> None:
        env = ENVIRONMENTS[thread % len(ENVIRONMENTS)]
        secrets = self.secrets.format(env=env)
        clients = [httpx.Client(base_url=b, headers=self.auth, timeout=30) for b in self.bases]
        try:
            n = 0
            while not self.stopped.is_set():
                via, other = n % 2, (n + 1) % 2
                name, value = f"LOAD_{thread}_{n % 4}", f"value-{thread}-{n}-via-{via}"
                sent_at = _now()
                written = _ok(clients[via].post(secrets, json={"name": name, "value": value}))
                self.latest[(env, name)] = value
                self.writes.append(Write(written["id"], via, sent_at))
                assert _download(clients[other], self.secrets, env)[name] == value, name
                n += 1
        except BaseException:
            self.stopped.set()  # the others stop too; the failure is raised at the end
            raise
        finally:
            for client in clients:
                client.close()


@contextmanager
def _load(bases: list[str], auth: dict[str, str], secrets: str) -> Iterator[Load]:
    load = Load(bases, auth, secrets)
    with ThreadPoolExecutor(THREADS) as pool:
        running = [pool.submit(load.run, thread) for thread in range(THREADS)]
        try:
            yield load
        finally:
            load.stopped.set()
        for thread in running:
            thread.result()


@dataclass(frozen=True)
class DataKey:
    key_id: str
    wrapped_by: str
    created_at: int
    active_from: int


async def _data_keys(url: str) -> list[DataKey]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT key_id, wrapped_by, created_at, active_from FROM data_keys"
        )
    finally:
        await connection.close()
    return [DataKey(*row) for row in rows]


async def _sealed_with(url: str) -> dict[str, tuple[str, int]]:
    """Every set event's id -> (the data key that sealed its value, when it was written)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT event_id, data, occurred_at FROM events WHERE event_type = 'secret.set'"
        )
    finally:
        await connection.close()
    return {event_id: (json.loads(data)["value"]["key_id"], at) for event_id, data, at in rows}


def _assert_clean(*logs: Path) -> None:
    for log in logs:
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text


def test_two_replicas_rotate_under_write_load_then_only_the_new_key_reads_everything(
    databases: Databases, tmp_path: Path
) -> None:
    skip_without_postgres("postgresql")
    url, data = databases.fresh("postgresql"), tmp_path / "data"
    data.mkdir(mode=0o700)
    logs = {name: tmp_path / f"{name}.log" for name in ("a0", "a", "b", "new")}

    # 1. One server with only OLD: an account, a project, a few secrets.
    with _replicas(url, data, [OLD], logs["a0"]) as [base]:
        auth = _sign_in(base, url, data)
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            secrets = _project(client)
            for env, values in BEFORE.items():
                _ok(client.put(secrets.format(env=env), json={"secrets": values}))

    # 2-4. Two replicas with NEW first; the rotation runs beside them under write load.
    with (
        _replicas(url, data, [NEW, OLD], logs["a"], logs["b"]) as bases,
        _load(bases, auth, secrets) as load,
    ):
        load.stopped.wait(0.5)
        rotated = _sigillo(
            url, data, [NEW, OLD], "admin", "rotate-key", "--activate-after", str(ACTIVATE_AFTER)
        )
        assert rotated.returncode == 0, rotated.stderr
        assert rotated.stdout.startswith(f"rotated to encryption key {key_id_of(NEW)}")
        keys = asyncio.run(_data_keys(url))
        rotation = max(keys, key=lambda key: key.active_from)
        # both replicas have loaded the new data key (10 s polls) and seal with it
        load.stopped.wait(max(0.0, (rotation.active_from - _now()) / 1000 + 2))
    _assert_clean(logs["a"], logs["b"])

    # 5. What was sealed with which data key; every data key is wrapped by NEW.
    assert {key.wrapped_by for key in keys} == {key_id_of(NEW)}, keys
    assert len(keys) >= 2, keys
    sealed = asyncio.run(_sealed_with(url))
    during, after = 0, {0: 0, 1: 0}
    for write in load.writes:
        key_id, occurred_at = sealed[write.event_id]
        if write.sent_at >= rotation.active_from:
            assert key_id == rotation.key_id, write
            after[write.replica] += 1
        elif occurred_at < rotation.active_from:
            assert key_id != rotation.key_id, write
            during += write.sent_at >= rotation.created_at  # sent after the rotation began
    assert during > 0, "no write between the rotation and its activation"
    assert min(after.values()) > 0, after  # both replicas sealed with the new data key

    # 6. The old key is no longer needed.
    status = _sigillo(url, data, [NEW], "admin", "rotate-key", "--status")
    assert status.returncode == 0, status.stderr
    (old,) = [line for line in status.stdout.splitlines() if key_id_of(OLD) in line]
    assert "no longer needed" in old, status.stdout

    # 7. One server with only NEW reads every value: the latest of each write, and those
    # set before the rotation.
    expected: dict[str, dict[str, str]] = {env: dict(BEFORE.get(env, {})) for env in ENVIRONMENTS}
    for (env, name), value in load.latest.items():
        expected[env][name] = value
    with (
        _replicas(url, data, [NEW], logs["new"]) as [base],
        httpx.Client(base_url=base, headers=auth, timeout=30) as client,
    ):
        for env in ENVIRONMENTS:
            assert _download(client, secrets, env) == expected[env], env
    _assert_clean(*logs.values())

    # 8. Only OLD no longer starts: the database needs NEW.
    refused = _sigillo(url, data, [OLD], "server", "--port", str(free_port()))
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert key_id_of(NEW) in refused.stdout + refused.stderr, refused.stdout + refused.stderr
