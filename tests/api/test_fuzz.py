"""Schemathesis fuzzes every operation of our own OpenAPI document against a running
server, signed in, on SQLite and PostgreSQL: no generated request may get a 5xx
(security.md, test family "Bad input")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.live_server import server

PASSWORD = "correct horse battery staple"
SCHEMATHESIS = "from schemathesis.cli import schemathesis; schemathesis()"


def test_no_generated_request_gets_a_server_error(database_url: str, tmp_path: Path) -> None:
    with server(tmp_path / "data", tmp_path / "server.log", database_url=database_url) as port:
        base = f"http://127.0.0.1:{port}"
        token = sign_up_with_an_org(base, database_url, tmp_path / "data")
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                SCHEMATHESIS,
                "run",
                f"{base}/api/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",  # a throwaway session of a test server
                "--checks",
                "not_a_server_error",
                "--phases",
                "coverage,fuzzing",
                "--max-examples",
                "10",
                "--seed",
                "20261130",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "unhandled" not in log, log[-4000:]


def sign_up_with_an_org(base: str, database_url: str, data_dir: Path) -> str:
    """The first account (by the admin command), signed in, with an org and a project."""
    created = subprocess.run(
        [
            *(sys.executable, "-m", "sigillo", "admin", "create-user", "fuzz@example.com"),
            *("--password-stdin", "--database-url", database_url, "--data-dir", str(data_dir)),
        ],
        input=PASSWORD,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    signed = httpx.post(
        f"{base}/api/auth/sign-in/email",
        json={"email": "fuzz@example.com", "password": PASSWORD},
        timeout=10,
    )
    token: str = signed.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    org = httpx.post(f"{base}/api/v0/orgs", json={"name": "Fuzz"}, headers=headers).json()
    project = {"name": "App", "orgId": org["id"]}
    assert httpx.post(f"{base}/api/v0/projects", json=project, headers=headers).status_code == 200
    return token
