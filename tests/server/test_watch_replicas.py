"""The watch long poll (issue 18) across real `sigillo server` processes: two replicas on
one PostgreSQL database see each other's changes (a poll waiting on one is answered within
about a second of a write through the other), and SIGTERM ends a server at once even while
a long poll waits on it (the poll is answered, unchanged)."""

from __future__ import annotations

import base64
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import httpx

from tests.databases import Databases, skip_without_postgres
from tests.live_server import create_user_and_sign_in, keyed_server

KEY = base64.b64encode(b"w" * 32).decode()
Running = AbstractContextManager[tuple[subprocess.Popen[bytes], str]]


def running(data_dir: Path, url: str, log: Path) -> Running:
    return keyed_server(data_dir, url, log, KEY)


def environment_url(base: str, headers: dict[str, str]) -> str:
    """A new org and project: its dev environment's URL, with `{env}` for the slug."""
    org = httpx.post(f"{base}/api/v0/orgs", json={"name": "Acme"}, headers=headers).json()["id"]
    made = httpx.post(
        f"{base}/api/v0/projects", json={"name": "App", "orgId": org}, headers=headers
    ).json()
    return f"/api/v0/projects/{made['id']}/environments/{{env}}"


def test_replicas_on_postgresql_see_each_others_changes(
    tmp_path: Path, databases: Databases
) -> None:
    skip_without_postgres("postgresql")
    url = databases.fresh("postgresql")
    data = tmp_path / "data"
    with running(data, url, tmp_path / "a.log") as (_, first):
        session = create_user_and_sign_in(
            first, data, "ops@example.com", "a-long-passw0rd", database_url=url
        )
        headers = {"Authorization": f"Bearer {session}"}
        with running(data, url, tmp_path / "b.log") as (_, second):
            path = environment_url(first, headers)
            watch = second + path.format(env="dev") + "/watch"
            token = httpx.get(watch, headers=headers, timeout=10).json()["token"]
            with ThreadPoolExecutor(2) as pool:
                waiting = pool.submit(
                    httpx.get, watch, params={"since": token}, headers=headers, timeout=40
                )
                other = pool.submit(
                    httpx.get,
                    second + path.format(env="prod") + "/watch",
                    params={"since": token, "timeout": "3"},
                    headers=headers,
                    timeout=40,
                )
                time.sleep(1.0)
                assert not waiting.done()
                written = httpx.post(
                    first + path.format(env="dev") + "/secrets",
                    json={"name": "API_KEY", "value": "from-the-first-replica"},
                    headers=headers,
                    timeout=10,
                )
                assert written.status_code == 200, written.text
                changed_at = time.monotonic()
                answer = waiting.result(timeout=10)
                assert time.monotonic() - changed_at < 1.5
                assert answer.status_code == 200, answer.text
                assert answer.json()["changed"] is True
                # prod's poll, given dev's token, was answered at once as stale; then it
                # waits with its own token and a write to dev does not wake it
                assert other.result(timeout=10).json()["changed"] is True
            prod = second + path.format(env="prod") + "/watch"
            own = httpx.get(prod, headers=headers, timeout=10).json()["token"]
            started = time.monotonic()
            with ThreadPoolExecutor(1) as pool:
                quiet = pool.submit(
                    httpx.get,
                    prod,
                    params={"since": own, "timeout": "2"},
                    headers=headers,
                    timeout=40,
                )
                time.sleep(0.3)
                httpx.post(
                    first + path.format(env="dev") + "/secrets",
                    json={"name": "API_KEY", "value": "again-from-the-first"},
                    headers=headers,
                    timeout=10,
                )
                assert quiet.result(timeout=10).json() == {"token": own, "changed": False}
            assert time.monotonic() - started > 1.8


def test_sigterm_ends_a_server_with_a_pending_poll_at_once(
    tmp_path: Path, databases: Databases
) -> None:
    url = databases.fresh("sqlite")
    data = tmp_path / "data"
    with running(data, url, tmp_path / "server.log") as (process, base):
        session = create_user_and_sign_in(
            base, data, "ops@example.com", "a-long-passw0rd", database_url=url
        )
        headers = {"Authorization": f"Bearer {session}"}
        watch = base + environment_url(base, headers).format(env="dev") + "/watch"
        token = httpx.get(watch, headers=headers, timeout=10).json()["token"]
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(
                httpx.get, watch, params={"since": token, "timeout": "60"}, headers=headers,
                timeout=70,
            )  # fmt: skip
            time.sleep(1.0)
            assert not waiting.done()
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            took = time.monotonic() - started
            answer = waiting.result(timeout=5)
        assert took < 3, (tmp_path / "server.log").read_text()
        assert answer.status_code == 200
        assert answer.json() == {"token": token, "changed": False}
