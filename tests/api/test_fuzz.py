"""Schemathesis fuzzes every operation of our own OpenAPI document against a running
server, signed in, on SQLite and PostgreSQL, with its checks (no 5xx, answers match the
document, authentication is not ignored) and stateful links (security.md, "Bad input")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.live_server import server

PASSWORD = "correct horse battery staple"
SCHEMATHESIS = "from schemathesis.cli import schemathesis; schemathesis()"


def test_schemathesis_finds_no_failure(database_url: str, tmp_path: Path) -> None:
    with server(tmp_path / "data", tmp_path / "server.log", database_url=database_url) as port:
        base = f"http://127.0.0.1:{port}"
        token = sign_up_with_an_org(base, database_url, tmp_path / "data")
        everything = schemathesis(
            base,
            token,
            # Fuzzing with our own session: signing out would end it mid-run. Downloads
            # answer seven formats the document can only loosely describe (an empty YAML
            # document reads as null): they get the 5xx check alone, below.
            *("--exclude-operation-id", "signOut", "--exclude-operation-id", "downloadSecrets"),
            *("--checks", "all"),
            # Not checked: Litestar's automatic OPTIONS answer lists only the methods
            # of one handler in `Allow` (allow_header_conformance); and a few
            # schema-valid requests are refused by rules a schema cannot say: an unknown
            # device code (400 per RFC 8628), PATCH with neither name nor slug, a display
            # name of control characters (positive_data_acceptance).
            *("--exclude-checks", "allow_header_conformance,positive_data_acceptance"),
        )
        downloads = schemathesis(
            base,
            token,
            *("--include-operation-id", "downloadSecrets", "--checks", "not_a_server_error"),
        )
    log = (tmp_path / "server.log").read_text(errors="replace")
    for run in (everything, downloads):
        assert run.returncode == 0, failures(run.stdout) + run.stderr[-2000:]
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


def schemathesis(base: str, token: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-c", SCHEMATHESIS, "run", f"{base}/api/openapi.json"),
            # A throwaway session of a throwaway test server.
            *("--header", f"Authorization: Bearer {token}"),
            *options,
            *("--phases", "coverage,fuzzing,stateful", "--max-examples", "10"),
            *("--seed", "20261130", "--no-color"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def failures(report: str) -> str:
    """The report from its FAILURES section on, where the reproductions are."""
    return report[report.find("FAILURES") :][:8000]
