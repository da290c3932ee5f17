"""Schemathesis fuzzes every operation of our own OpenAPI document against a running
server, signed in, on SQLite and PostgreSQL, with all its checks (no 5xx, answers match the
document, valid data is accepted and invalid data refused, `Allow` lists the path's
methods, authentication is not ignored) and stateful links (security.md, "Bad input")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.live_server import create_user_and_sign_in, server

PASSWORD = "correct horse battery staple"
SCHEMATHESIS = "from schemathesis.cli import schemathesis; schemathesis()"
# Every check as schemathesis sets it, but for four operations that refuse some schema-valid
# requests by the server's state or the clock, which no document can state: for these, and
# only these, positive_data_acceptance also takes that refusal's status.
CONFIG = """
# A user code is a one-time credential (RFC 8628 5.1): the document says which codes are
# well formed, not which are live; a well-formed code that is not gets 400 `invalid_request`.
[[operations]]
include-operation-id = ["getDeviceCode", "approveDeviceCode", "denyDeviceCode"]
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx",
]

# A token's `environmentId` must name an environment of the project, and its `expiresAt`
# must be in the future: else 422.
[[operations]]
include-operation-id = "createToken"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]

# A sign-in policy the admin's own session would fail, or single sign-on on a server that
# offers none (this one): 422 (issue 20).
[[operations]]
include-operation-id = "setSignInPolicy"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]

# A moment (a diff's `from_at`/`to_at`, a rollback's `to`) is an RFC 3339 time or an event
# id: no pattern can say which dates exist. A rollback's `names` are secret names: else 422.
[[operations]]
include-operation-id = ["diffSecrets", "rollbackSecrets"]
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]

# The same moment as `at=` of a list, a get or a download (issue 17): 422 when it is no
# date that exists (2026-02-30T…), whatever the pattern of its characters.
[[operations]]
include-operation-id = [
    "listSecrets", "getSecret", "downloadSecrets", "listEnvironmentSecrets",
    "downloadEnvironmentSecrets",
]
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]
"""


def test_schemathesis_finds_no_failure(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with server(tmp_path / "data", tmp_path / "server.log", database_url=database_url) as port:
        base = f"http://127.0.0.1:{port}"
        token = sign_up_with_an_org(base, database_url, tmp_path / "data")
        run = schemathesis(
            base,
            token,
            config,
            "--checks",
            "all",
            # Fuzzing with our own session: signing out would end it mid-run.
            *("--exclude-operation-id", "signOut"),
        )
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert run.returncode == 0, failures(run.stdout) + run.stderr[-2000:]
    assert "unhandled" not in log, log[-4000:]


def sign_up_with_an_org(base: str, database_url: str, data_dir: Path) -> str:
    """The first account (by the admin command), signed in, with an org and a project."""
    token = create_user_and_sign_in(
        base, data_dir, "fuzz@example.com", PASSWORD, database_url=database_url
    )
    headers = {"Authorization": f"Bearer {token}"}
    org = httpx.post(f"{base}/api/v0/orgs", json={"name": "Fuzz"}, headers=headers).json()
    project = {"name": "App", "orgId": org["id"]}
    assert httpx.post(f"{base}/api/v0/projects", json=project, headers=headers).status_code == 200
    return token


def schemathesis(
    base: str, token: str, config: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-c", SCHEMATHESIS, "--config-file", str(config)),
            *("run", f"{base}/api/openapi.json"),
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
