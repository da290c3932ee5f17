"""The offline copy (issue 18): the real `sigillo` executable against a real server that is
stopped, restarted, and whose credentials are revoked between runs.

One server per module (per xdist worker), on a fixed port so that a restart answers at the
same API URL; every test leaves it running.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sigillo.cli.fallback_files import open_sealed
from tests.cli.conftest import (
    EMAIL,
    PASSWORD,
    Project,
    Server,
    Sigillo,
    clean_environment,
    sigillo_command,
)
from tests.live_server import create_user_and_sign_in, free_port, wait_healthy

MASKED = "********"
SECRET = "sk_live_offline_9f3c2a7b1e"
PLAIN = "3000"
NOTE = "sigillo: server unreachable (connection refused); running from the offline copy of "
REFUSED = "cannot connect to"


class Restartable:
    """`sigillo server` on one port and data directory, stopped and started at will."""

    def __init__(self, root: Path) -> None:
        self.data_dir, self.log = root / "data", root / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Started and healthy; tried again for a while when the port is briefly taken (a
        client's connection of another test may hold it as its local port)."""
        if self.process is not None:
            return
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
        command = [sys.executable, "-m", "sigillo", "server", "--data-dir", str(self.data_dir)]
        for attempt in range(10):
            with self.log.open("ab") as output:
                process = subprocess.Popen(
                    [*command, "--port", str(self.port)],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=clean,
                )
            try:
                wait_healthy(process, self.url, self.log)
            except AssertionError:
                process.kill()
                process.wait(timeout=10)
                if attempt == 9:
                    raise
                time.sleep(1)
                continue
            self.process = process
            return

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Restartable, Server]]:
    root = tmp_path_factory.mktemp("offline-server")
    running = Restartable(root)
    running.start()
    try:
        session = create_user_and_sign_in(
            running.url, running.data_dir, EMAIL, PASSWORD, command=sigillo_command()
        )
        headers = {"Authorization": f"Bearer {session}"}
        org = httpx.post(f"{running.url}/api/v0/orgs", json={"name": "Acme"}, headers=headers)
        yield running, Server(running.url, session, org.json()["id"], running.data_dir)
    finally:
        running.stop()


@pytest.fixture
def server(restartable: tuple[Restartable, Server]) -> Iterator[Restartable]:
    running, _ = restartable
    running.start()
    yield running
    running.start()  # the next test finds it running


@pytest.fixture
def api_server(restartable: tuple[Restartable, Server]) -> Server:
    return restartable[1]


@pytest.fixture
def project(api_server: Server) -> Project:
    with api_server.api() as api:
        body = {"name": f"app-{uuid.uuid4().hex[:8]}", "orgId": api_server.org_id}
        created = api.post("/api/v0/projects", json=body)
        assert created.status_code == 200, created.text
        project_id = created.json()["id"]
        listed = api.get(f"/api/v0/projects/{project_id}/environments").json()
    found = Project(project_id, body["name"], {e["slug"]: e["id"] for e in listed["environments"]})
    for slug in ("dev", "preview"):
        put(api_server, found, slug, {"SECRET_KEY": SECRET, "PORT": PLAIN})
    return found


def put(on: Server, project: Project, slug: str, values: dict[str, str]) -> None:
    entries = {n: {"value": v, "kind": "plain"} if n == "PORT" else v for n, v in values.items()}
    with on.api() as api:
        target = f"/api/v0/projects/{project.id}/environments/{slug}/secrets"
        done = api.put(target, json={"secrets": entries})
        assert done.status_code == 200, done.text


@pytest.fixture
def cli(api_server: Server, project: Project, tmp_path: Path) -> Sigillo:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = clean_environment(home, api_server.url)
    env.update(
        SIGILLO_TOKEN=api_server.session, SIGILLO_PROJECT=project.id, SIGILLO_ENVIRONMENT="dev"
    )
    return Sigillo(api_server, home, work, env)


ECHO = 'echo "key=$SECRET_KEY port=$PORT"'


def copies(cli: Sigillo) -> list[Path]:
    """The copies kept (not the keyed digests beside them, `<copy>.seen`)."""
    root = cli.home / ".sigillo" / "fallback"
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".seen")


def test_an_unchanged_answer_is_not_written_again(
    cli: Sigillo, api_server: Server, project: Project
) -> None:
    """Most runs read what the last one did: the copy (and its digest) stay as they are,
    so no helper process starts; a change writes it again."""
    ok(cli("run", "--", "true"))
    [copy] = copies(cli)
    first = copy.stat().st_mtime_ns
    ok(cli("run", "--", "true"))
    assert copy.stat().st_mtime_ns == first
    put(api_server, project, "dev", {"SECRET_KEY": "changed_value_123456", "PORT": "4000"})
    ok(cli("run", "--", "true"))
    assert copy.stat().st_mtime_ns != first


def failed(done: subprocess.CompletedProcess[str], *said: str) -> None:
    """Exit 1, each of `said` on stderr, and no offline copy used."""
    assert done.returncode == 1, done.stderr
    for text in said:
        assert text in done.stderr, done.stderr
    assert "offline" not in done.stderr, done.stderr


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def test_a_run_keeps_a_0600_copy_that_holds_no_value(cli: Sigillo, project: Project) -> None:
    done = ok(cli("run", "--command", ECHO))
    assert done.stdout == f"key={MASKED} port={PLAIN}\n"
    assert "offline" not in done.stderr
    [copy] = copies(cli)
    root = cli.home / ".sigillo" / "fallback"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    data = copy.read_bytes()
    token = cli.env["SIGILLO_TOKEN"]
    for clear in (SECRET, "SECRET_KEY", "PORT", token, project.id, "dev", "json-kinds"):
        assert clear.encode() not in data
        assert clear not in str(copy.relative_to(root))


def test_the_copy_alone_cannot_be_opened(cli: Sigillo, api_server: Server) -> None:
    ok(cli("run", "--", "true"))
    [copy] = copies(cli)
    data = copy.read_bytes()
    _, other = api_server.new_account("other")
    binding = b'["sigillo offline copy 1", "%s", "%s", "dev", "json-kinds"]' % (
        api_server.url.encode(),
        cli.env["SIGILLO_PROJECT"].encode(),
    )
    opened = open_sealed(cli.env["SIGILLO_TOKEN"], binding, data)
    assert opened is not None  # the right key opens it
    assert SECRET.encode() in opened
    assert open_sealed(other, binding, data) is None
    assert open_sealed("", binding, data) is None
    # Another credential on the same machine finds nothing it could use.
    failed(cli("run", "--", "true", env={"SIGILLO_TOKEN": other}))
    assert len(copies(cli)) == 1


def test_a_stopped_server_is_stood_in_for_by_the_copy(cli: Sigillo, server: Restartable) -> None:
    ok(cli("run", "--", "true"))
    live = ok(cli("secrets", "download", "--format", "env"))
    assert len(copies(cli)) == 2
    server.stop()
    done = ok(cli("run", "--command", ECHO))
    assert done.stdout == f"key={MASKED} port={PLAIN}\n"  # redaction as before
    assert re.search(
        f"{re.escape(NOTE)}20[0-9-]{{8}} [0-9:]{{5}} UTC \\([0-9]+ s old\\)", done.stderr
    )
    assert SECRET not in done.stderr
    offline = ok(cli("secrets", "download", "--format", "env"))
    assert offline.stdout == live.stdout
    assert "downloading the offline copy of" in offline.stderr
    failed(cli("secrets", "download", "--format", "yaml"), REFUSED)  # never fetched: no copy
    failed(cli("run", "--at", "2026-01-01T00:00:00Z", "--", "true"), REFUSED)  # never with --at


def test_a_restarted_server_refreshes_the_copy(
    cli: Sigillo, server: Restartable, api_server: Server, project: Project
) -> None:
    ok(cli("run", "--", "true"))
    put(api_server, project, "dev", {"SECRET_KEY": "rotated_value_123456", "PORT": "4000"})
    server.stop()
    done = ok(cli("run", "--", "printenv", "PORT"))
    assert done.stdout == f"{PLAIN}\n"  # the old copy
    assert NOTE in done.stderr
    server.start()
    ok(cli("run", "--", "true"))  # a fresh fetch replaces the copy
    server.stop()
    done = ok(cli("run", "--", "printenv", "PORT"))
    assert done.stdout == "4000\n"
    assert NOTE in done.stderr


def test_a_revoked_token_deletes_its_copies(
    cli: Sigillo, server: Restartable, api_server: Server, project: Project
) -> None:
    with api_server.api() as api:
        created = api.post(f"/api/v0/projects/{project.id}/tokens", json={"name": "ci"}).json()
    token = {"SIGILLO_TOKEN": created["key"]}
    ok(cli("run", "--", "true", env=token))
    ok(cli("secrets", "download", "--format", "env", "-c", "preview", env=token))
    ok(cli("run", "--", "true"))  # the session's copy stays
    assert len(copies(cli)) == 3
    with api_server.api() as api:
        revoked = api.delete(f"/api/v0/projects/{project.id}/tokens/{created['id']}")
        assert revoked.status_code == 200, revoked.text
    failed(cli("run", "--", "true", env=token), "(401)")
    assert len(copies(cli)) == 1
    server.stop()
    failed(cli("run", "--", "true", env=token), REFUSED)
    ok(cli("run", "--", "true"))  # the session's copy still stands in


def test_a_deleted_environment_404_deletes_its_copy(
    cli: Sigillo, server: Restartable, api_server: Server, project: Project
) -> None:
    ok(cli("run", "-c", "preview", "--", "true"))
    ok(cli("run", "--", "true"))
    with api_server.api() as api:
        gone = api.delete(
            f"/api/v0/projects/{project.id}/environments/{project.environments['preview']}"
        )
        assert gone.status_code == 200, gone.text
    failed(cli("run", "-c", "preview", "--", "true"), "preview was not found")
    assert len(copies(cli)) == 1  # dev's
    server.stop()
    failed(cli("run", "-c", "preview", "--", "true"), REFUSED)


def test_a_403_deletes_the_copy(
    cli: Sigillo, server: Restartable, api_server: Server, project: Project
) -> None:
    """A member removed from the org is refused (403): the copy goes, never used."""
    email, session = api_server.new_account("member")
    with api_server.api() as api:
        invite = api.post(f"/api/v0/orgs/{api_server.org_id}/invitations", json={"role": "member"})
    with api_server.api(session) as api:
        assert api.post(f"/api/v0/invitations/{invite.json()['token']}/accept").status_code == 200
    member = {"SIGILLO_TOKEN": session}
    ok(cli("run", "--", "true", env=member))
    assert len(copies(cli)) == 1
    with api_server.api() as api:
        members = api.get(f"/api/v0/orgs/{api_server.org_id}/members").json()["members"]
        [membership] = [m for m in members if m.get("email") == email]
        removed = api.delete(f"/api/v0/orgs/{api_server.org_id}/members/{membership['id']}")
        assert removed.status_code == 200, removed.text
    failed(cli("run", "--", "true", env=member), "(403)")
    assert copies(cli) == []
    server.stop()
    failed(cli("run", "--", "true", env=member), REFUSED)


@pytest.mark.parametrize("off", [("--no-fallback",), ()], ids=["flag", "variable"])
def test_turned_off_nothing_is_kept_or_used(
    cli: Sigillo, server: Restartable, off: tuple[str, ...]
) -> None:
    variable = {} if off else {"SIGILLO_NO_FALLBACK": "1"}
    ok(cli("run", *off, "--", "true", env=variable))
    ok(cli("secrets", "download", *off, "--format", "env", env=variable))
    assert copies(cli) == []
    ok(cli("run", "--", "true"))
    assert len(copies(cli)) == 1
    server.stop()
    failed(cli("run", *off, "--", "true", env=variable), REFUSED)
    assert copies(cli) == []  # the target's copy was deleted too
    failed(cli("secrets", "download", *off, "--format", "env", env=variable), REFUSED)


def test_a_copy_older_than_the_limit_is_refused(cli: Sigillo, server: Restartable) -> None:
    ok(cli("run", "--", "true"))
    time.sleep(2.2)
    server.stop()
    done = cli("run", "--fallback-max-age", "1s", "--", "true")
    assert done.returncode == 1
    assert REFUSED in done.stderr
    assert re.search(r"; the offline copy of dev is [2-9] s old \(20\d\d-\d\d-\d\d ", done.stderr)
    assert "older than --fallback-max-age (1 s)" in done.stderr
    assert NOTE not in done.stderr
    ok(cli("run", "--fallback-max-age", "1h", "--", "true"))


@pytest.mark.parametrize("given", ["5x", "0s", "-1h", "1.5h", "", "24 h"])
def test_a_bad_max_age_is_a_clear_error(cli: Sigillo, given: str) -> None:
    for command in (("run",), ("secrets", "download")):
        extra = ("--", "true") if command == ("run",) else ()
        done = cli(*command, f"--fallback-max-age={given}", *extra)
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith(f'error: invalid --fallback-max-age "{given}"'), done.stderr
        assert "90s, 30m, 24h or 7d" in done.stderr


def test_logout_deletes_the_copies_of_its_credential(
    cli: Sigillo, api_server: Server, project: Project
) -> None:
    """(With an API token: logging out a session would end the module's shared one.)"""
    with api_server.api() as api:
        created = api.post(f"/api/v0/projects/{project.id}/tokens", json={"name": "laptop"})
    del cli.env["SIGILLO_TOKEN"]
    ok(cli("login", "--token", created.json()["key"], "--scope", "/"))
    ok(cli("run", "--", "true"))
    ok(cli("secrets", "download", "--format", "json"))
    assert len(copies(cli)) == 2
    ok(cli("logout", "--scope", "/"))
    assert copies(cli) == []
