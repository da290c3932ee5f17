"""`sigillo admin backup` and `verify-backup` as real processes: a backup taken while a real
server writes restores every write acknowledged before it began; copies are private;
verification fails clearly on a wrong key and on damaged or foreign files; the printed
PostgreSQL procedure works end to end."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from tests.databases import _admin, postgres_url, skip_without_postgres
from tests.live_server import create_user_and_sign_in, server

PASSWORD = "correct horse battery staple"


def sigillo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    return subprocess.run(
        [sys.executable, "-m", "sigillo", *args],
        capture_output=True, text=True, timeout=120, env={**clean, **(env or {})}, check=False,
    )  # fmt: skip


def make_project(
    base: str, data: Path, database_url: str | None = None
) -> tuple[str, dict[str, str]]:
    token = create_user_and_sign_in(
        base, data, "ada@example.com", PASSWORD, database_url=database_url
    )
    auth = {"Authorization": f"Bearer {token}"}
    org = httpx.post(f"{base}/api/v0/orgs", json={"name": "Acme"}, headers=auth, timeout=10)
    made = httpx.post(
        f"{base}/api/v0/projects", json={"name": "App", "orgId": org.json()["id"]},
        headers=auth, timeout=10,
    )  # fmt: skip
    assert made.status_code == 200, made.text
    return f"{base}/api/v0/projects/{made.json()['id']}/environments/dev/secrets", auth


class Writer(threading.Thread):
    """Sets SECRET_<n> = value-<n> one after another; remembers what was acknowledged."""

    def __init__(self, secrets: str, auth: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.secrets, self.auth = secrets, auth
        self.acknowledged: dict[str, str] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(headers=self.auth, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                name, value = f"SECRET_{n}", f"value-{n}-{uuid.uuid4().hex}"
                answer = client.post(self.secrets, json={"name": name, "value": value})
                assert answer.status_code == 200, answer.text
                with self.lock:
                    self.acknowledged[name] = value
                n += 1

    def snapshot(self) -> dict[str, str]:
        with self.lock:
            return dict(self.acknowledged)


class BackedUp:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.backup = root / "backup.db"
        self.before: dict[str, str] = {}
        self.auth: dict[str, str] = {}
        self.secrets_path = ""
        self.output = ""


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> BackedUp:
    """A server taking writes through the API while `sigillo admin backup` copies its file."""
    made = BackedUp(tmp_path_factory.mktemp("backup"))
    with server(made.data, made.root / "server.log") as port:
        base = f"http://127.0.0.1:{port}"
        secrets, made.auth = make_project(base, made.data)
        made.secrets_path = secrets.removeprefix(base)
        writer = Writer(secrets, made.auth)
        writer.start()
        try:
            while len(writer.snapshot()) < 30:
                assert writer.is_alive()
                threading.Event().wait(0.02)
            made.before = writer.snapshot()  # acknowledged before the backup began
            result = sigillo("admin", "backup", str(made.backup), "--data-dir", str(made.data))
            assert result.returncode == 0, result.stderr
            made.output = result.stdout
            during = len(writer.snapshot())
            while len(writer.snapshot()) < during + 10:  # the server kept writing
                assert writer.is_alive()
                threading.Event().wait(0.02)
        finally:
            writer.stop.set()
            writer.join(timeout=30)
    return made


def test_a_backup_taken_while_the_server_writes_restores_every_acknowledged_write(
    backed_up: BackedUp, tmp_path: Path
) -> None:
    assert "backed up" in backed_up.output
    assert backed_up.backup.stat().st_mode & 0o777 == 0o600
    assert not list(backed_up.root.glob("*.part*"))  # no temporary file left behind
    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    shutil.copyfile(backed_up.backup, restored / "sigillo.db")
    os.chmod(restored / "sigillo.db", 0o600)
    shutil.copyfile(backed_up.data / "encryption.key", restored / "encryption.key")
    os.chmod(restored / "encryption.key", 0o600)
    with server(restored, tmp_path / "restored.log") as port:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=backed_up.auth, timeout=10) as client:
            for name, value in backed_up.before.items():
                answer = client.get(f"{backed_up.secrets_path}/{name}")
                assert answer.status_code == 200, (name, answer.text)
                assert answer.json()["value"] == value


def test_backup_refuses_to_overwrite_without_force(backed_up: BackedUp, tmp_path: Path) -> None:
    target = tmp_path / "existing.db"
    target.write_bytes(b"keep me")
    data = ("--data-dir", str(backed_up.data))
    refused = sigillo("admin", "backup", str(target), *data)
    assert refused.returncode == 1
    assert "already exists; pass --force" in refused.stderr
    assert target.read_bytes() == b"keep me"
    target.chmod(0o644)
    forced = sigillo("admin", "backup", str(target), "--force", *data)
    assert forced.returncode == 0, forced.stderr
    assert target.read_bytes().startswith(b"SQLite format 3\x00")
    assert target.stat().st_mode & 0o777 == 0o600
    missing = sigillo("admin", "backup", str(tmp_path / "x.db"), "--data-dir", str(tmp_path / "no"))
    assert missing.returncode == 1
    assert "there is no database at" in missing.stderr
    assert not (tmp_path / "no").exists() or not (tmp_path / "no" / "sigillo.db").exists()


def test_verify_backup_passes_on_a_good_backup_and_writes_nothing(backed_up: BackedUp) -> None:
    before = backed_up.backup.read_bytes()
    result = sigillo(
        "admin", "verify-backup", str(backed_up.backup), "--data-dir", str(backed_up.data)
    )
    assert result.returncode == 0, result.stderr
    assert "backup is sound" in result.stdout
    assert "3 environments" in result.stdout  # a new project has dev, staging and prod
    live = int(result.stdout.split(" live secrets")[0].rsplit(" ", 1)[1])
    assert live >= len(backed_up.before)
    assert "a sealed value opened" in result.stdout
    assert backed_up.backup.read_bytes() == before
    assert not list(backed_up.root.glob("backup.db-*"))  # no -wal, -shm or -journal


def test_verify_backup_fails_with_a_wrong_key(backed_up: BackedUp, tmp_path: Path) -> None:
    result = sigillo(
        "admin", "verify-backup", str(backed_up.backup), "--data-dir", str(tmp_path),
        env={"SIGILLO_SECRET_KEY": "not the key this database was written with"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "is not the configured key" in result.stderr
    assert "Traceback" not in result.stderr
    no_key = sigillo("admin", "verify-backup", str(backed_up.backup), "--data-dir", str(tmp_path))
    assert no_key.returncode == 1
    assert "no key to check the backup with" in no_key.stderr
    assert not (tmp_path / "encryption.key").exists()  # never makes a key


def test_verify_backup_fails_on_damaged_and_foreign_files(
    backed_up: BackedUp, tmp_path: Path
) -> None:
    data = ("--data-dir", str(backed_up.data))
    whole = backed_up.backup.read_bytes()
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(whole[: len(whole) // 2])
    corrupted = tmp_path / "corrupted.db"
    page = 4096
    corrupted.write_bytes(whole[:page] + b"\xff" * page * 4 + whole[page * 5 :])
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    connection.close()
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    for path, message in [
        (truncated, "is damaged"),
        (corrupted, "is damaged"),
        (foreign, "is a SQLite database, but not a Sigillo one"),
        (text, "is not a SQLite database"),
        (tmp_path / "absent.db", "cannot read"),
    ]:
        result = sigillo("admin", "verify-backup", str(path), *data)
        assert result.returncode == 1, (path, result.stdout)
        assert result.stderr.startswith("error: "), result.stderr
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_postgres_backup_prints_pg_dump_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://sigillo:s3cret-pass@db.internal:5433/sigillo"
    result = sigillo("admin", "backup", str(tmp_path / "dump"), "--database-url", url)
    assert result.returncode == 0, result.stderr
    assert "s3cret-pass" not in result.stdout + result.stderr
    assert "pg_dump --format=custom --file" in result.stdout
    assert "postgresql://sigillo@db.internal:5433/sigillo" in result.stdout
    assert "PGPASSWORD" in result.stdout
    assert not (tmp_path / "dump").exists()
    not_a_dump = tmp_path / "not-a-dump"
    not_a_dump.write_text("hello")
    checked = sigillo("admin", "backup", str(not_a_dump), "--database-url", url)
    if shutil.which("pg_restore"):
        assert checked.returncode == 1
        assert "is not a pg_dump custom-format dump" in checked.stderr


@pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="no pg_dump here"
)
def test_the_postgres_procedure_end_to_end(tmp_path: Path) -> None:
    skip_without_postgres("postgresql")
    live, scratch = f"sigillo_bk_{uuid.uuid4().hex[:8]}", f"sigillo_vf_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{live}"', f'CREATE DATABASE "{scratch}"'))
    try:
        data, url = tmp_path / "data", postgres_url(live)
        with server(data, tmp_path / "server.log", database_url=url) as port:
            base = f"http://127.0.0.1:{port}"
            secrets, auth = make_project(base, data, url)
            for n in range(5):
                made = httpx.post(
                    secrets, json={"name": f"S{n}", "value": f"v{n}"}, headers=auth, timeout=10
                )
                assert made.status_code == 200, made.text
            dump = tmp_path / "sigillo.dump"
            printed = sigillo("admin", "backup", str(dump), "--database-url", url)
            assert printed.returncode == 0, printed.stderr
            [command] = [line.strip() for line in printed.stdout.splitlines() if "pg_dump " in line]
            subprocess.run(command, shell=True, check=True, timeout=120)  # noqa: S602
        assert dump.stat().st_mode & 0o777 == 0o600
        checked = sigillo("admin", "backup", str(dump), "--database-url", url)
        assert checked.returncode == 0, checked.stderr
        assert "is a readable pg_dump archive" in checked.stdout
        restore = ["pg_restore", "--no-owner", "--dbname", postgres_url(scratch), str(dump)]
        subprocess.run(restore, check=True, timeout=120)
        scratch_url = ("--database-url", postgres_url(scratch))
        verified = sigillo("admin", "verify-backup", *scratch_url, "--data-dir", str(data))
        assert verified.returncode == 0, verified.stderr
        assert "backup is sound" in verified.stdout
        assert "5 live secrets" in verified.stdout
        wrong = sigillo(
            "admin", "verify-backup", *scratch_url, "--data-dir", str(tmp_path),
            env={"SIGILLO_SECRET_KEY": "another key entirely"},
        )  # fmt: skip
        assert wrong.returncode == 1
        assert "is not the configured key" in wrong.stderr
        as_file = sigillo("admin", "verify-backup", str(dump), "--data-dir", str(data))
        assert as_file.returncode == 1
        assert "is a PostgreSQL dump: restore it into a scratch database" in as_file.stderr
    finally:
        asyncio.run(
            _admin(
                f'DROP DATABASE IF EXISTS "{live}" WITH (FORCE)',
                f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)',
            )
        )
