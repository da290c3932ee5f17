"""The CLI under test is the real `sigillo` executable, run as a process against a real
`sigillo server` on a temporary SQLite database (one server for the whole session).

Each test gets its own HOME (so its own ~/.sigillo/config.json) and a fresh project with
dev, preview and prod. `sigillo(...)` runs the CLI with pipes; tests/cli/terminal.py runs
it in a pseudo-terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import create_user_and_sign_in, server

PASSWORD = "correct horse battery staple"
EMAIL = "ada@example.com"


def sigillo_command() -> list[str]:
    """The console script installed beside this Python (its virtual environment's), as a
    user runs it; `python -m sigillo` without one. Never another `sigillo` on PATH: it may
    be another checkout's."""
    beside = Path(sys.executable).with_name("sigillo")
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "sigillo"]


@dataclass
class Server:
    url: str
    session: str  # a session token of EMAIL, admin of `org_id`
    org_id: str
    data_dir: Path

    def new_account(self, prefix: str = "user") -> tuple[str, str]:
        """A fresh account made as an operator does, with `sigillo admin create-user` on the
        running server's data directory: its email and a session token."""
        email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
        session = create_user_and_sign_in(
            self.url, self.data_dir, email, PASSWORD, command=sigillo_command()
        )
        return email, session

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token or self.session}"},
            timeout=10,
        )


@pytest.fixture(scope="session")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("cli-server")
    data_dir = root / "data"
    with server(data_dir, root / "server.log") as port:
        url = f"http://127.0.0.1:{port}"
        session = create_user_and_sign_in(
            url, data_dir, EMAIL, PASSWORD, name="Ada Lovelace", command=sigillo_command()
        )
        headers = {"Authorization": f"Bearer {session}"}
        org = httpx.post(f"{url}/api/v0/orgs", json={"name": "Acme"}, headers=headers).json()
        yield Server(url, session, org["id"], data_dir)


@dataclass
class Project:
    id: str
    name: str
    environments: dict[str, str] = field(default_factory=dict)  # slug -> id


@pytest.fixture
def project(cli_server: Server) -> Project:
    """A fresh project of the session's org, with its three default environments."""
    name = f"app-{uuid.uuid4().hex[:8]}"
    with cli_server.api() as api:
        created = api.post("/api/v0/projects", json={"name": name, "orgId": cli_server.org_id})
        assert created.status_code == 200, created.text
        project_id = created.json()["id"]
        listed = api.get(f"/api/v0/projects/{project_id}/environments").json()
    return Project(project_id, name, {e["slug"]: e["id"] for e in listed["environments"]})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The test's HOME: its config file is home/.sigillo/config.json."""
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@dataclass
class Sigillo:
    """Runs the CLI with pipes: HOME is the test's, SIGILLO_API_URL the server's, no other
    SIGILLO_* and no agent marker of the machine running the tests leaks in."""

    server: Server
    home: Path
    cwd: Path
    env: dict[str, str]

    def __call__(
        self,
        *args: str,
        input: str | bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        data = input.encode() if isinstance(input, str) else input
        done = subprocess.run(
            [*sigillo_command(), *args],
            input=data if data is not None else b"",
            capture_output=True,
            env={**self.env, **(env or {})},
            cwd=cwd or self.cwd,
            timeout=timeout,
            check=False,
        )
        return subprocess.CompletedProcess(
            done.args,
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    def raw(self, *args: str, **options: Any) -> subprocess.CompletedProcess[bytes]:
        """Like calling it, but stdout and stderr as bytes."""
        return subprocess.run(
            [*sigillo_command(), *args],
            input=options.pop("input", b""),
            capture_output=True,
            env={**self.env, **options.pop("env", {})},
            cwd=options.pop("cwd", self.cwd),
            timeout=options.pop("timeout", 60),
            check=False,
        )


AGENT_MARKERS = (
    "AI_AGENT", "CLAUDECODE", "CLAUDE_CODE", "REPL_ID", "GEMINI_CLI", "CODEX_SANDBOX",
    "CODEX_THREAD_ID", "OPENCODE", "AUGMENT_AGENT", "GOOSE_PROVIDER", "CURSOR_AGENT",
)  # fmt: skip


def clean_environment(home: Path, api_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SIGILLO_") and k not in AGENT_MARKERS and k != "NO_COLOR"
    }
    env.update(HOME=str(home), SIGILLO_API_URL=api_url, EDITOR="vi", TERM_PROGRAM="")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".pi" not in p
    )
    return env


@pytest.fixture
def sigillo(cli_server: Server, home: Path, tmp_path: Path) -> Sigillo:
    work = tmp_path / "work"
    work.mkdir()
    return Sigillo(cli_server, home, work, clean_environment(home, cli_server.url))


@pytest.fixture
def signed_in(sigillo: Sigillo, cli_server: Server, project: Project) -> Sigillo:
    """The CLI configured as CI is: SIGILLO_TOKEN (a session), SIGILLO_PROJECT and
    SIGILLO_ENVIRONMENT=dev."""
    sigillo.env.update(
        SIGILLO_TOKEN=cli_server.session, SIGILLO_PROJECT=project.id, SIGILLO_ENVIRONMENT="dev"
    )
    return sigillo
