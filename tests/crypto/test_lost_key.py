"""A lost key is reported, never replaced (issue 15, items 5 and 7), on SQLite and PostgreSQL.

A key file is generated only for a database with no registered key; a database that has one
and a server without its key is refused, naming the key id it expects, and nothing is
written. A key given as a file (SIGILLO_ENCRYPTION_KEY_FILE) reads what the same key given
as a variable wrote.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sigillo.crypto.keyring import key_id_of
from sigillo.crypto.keys import KEY_FILE_NAME, KeySources
from sigillo.domain.errors import StartupError
from sigillo.domain.events import Actor, SealedValue
from sigillo.server import open_services
from sigillo.services.ids import Clock
from sigillo.services.keys import open_keys
from sigillo.settings import Settings
from sigillo.store.database import open_database
from sigillo.store.key_registry import SqlKeyRegistry

ALICE = Actor("user", "alice")
VALUES = {
    "dev": {"API_KEY": "dev-api-key-value", "DB_PASSWORD": "pässwörd ✓", "EMPTY": ""},
    "prod": {"API_KEY": "prod-api-key-value", "MULTI": "line one\nline two"},
}


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


async def _registered(url: str) -> dict[str, SealedValue]:
    database = await open_database(url)
    try:
        registered: dict[str, SealedValue] = await SqlKeyRegistry(database).registered()
        return registered
    finally:
        await database.close()


async def _write(settings: Settings) -> dict[str, str]:
    """Write VALUES through real services; answer environment id by slug."""
    services = await open_services(settings)
    try:
        org = await services.catalog.create_org("Acme", ALICE)
        project = await services.catalog.create_project(org.id, "Shop", ALICE)
        envs = {e.slug: e.id for e in await services.catalog.environments(project.id)}
        for slug, values in VALUES.items():
            await services.secrets.set(envs[slug], values, ALICE)
        return envs
    finally:
        await services.close()


async def _read(settings: Settings, envs: dict[str, str]) -> dict[str, dict[str, str]]:
    services = await open_services(settings)
    try:
        return {slug: await services.secrets.values(envs[slug], ALICE) for slug in VALUES}
    finally:
        await services.close()


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# -- open_services --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_fresh_database_creates_the_key_file_once(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    path = settings.data_dir / KEY_FILE_NAME
    caplog.set_level(logging.WARNING, logger="sigillo.keys")

    envs = await _write(settings)
    content = path.read_text()
    key = base64.b64decode(content.strip(), validate=True)
    assert set(await _registered(database_url)) == {key_id_of(key)}
    assert await _read(settings, envs) == VALUES  # a restart reads the same file
    assert path.read_text() == content
    assert _files(settings.data_dir) == [KEY_FILE_NAME]
    generated = [r for r in caplog.records if "generated a new encryption key" in r.getMessage()]
    assert len(generated) == 1
    assert _b64(key) not in caplog.text


@pytest.mark.asyncio
async def test_a_deleted_key_file_is_reported_and_not_replaced(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    path = settings.data_dir / KEY_FILE_NAME
    envs = await _write(settings)
    backup = path.read_text()
    key_id = key_id_of(base64.b64decode(backup))
    registered = await _registered(database_url)
    path.unlink()

    for _ in range(2):  # and again: the first refusal left nothing behind to find
        with pytest.raises(StartupError) as caught:
            await open_services(settings)
        message = str(caught.value)
        assert f"this database was written with encryption key {key_id}" in message
        assert f"the key file {path} does not exist" in message
        for source in (
            "SIGILLO_ENCRYPTION_KEY,",
            "SIGILLO_ENCRYPTION_KEY_FILE",
            "SIGILLO_SECRET_KEY",
        ):
            assert source in message
        assert "backup" in message
        assert backup.strip() not in message
        assert not path.exists()  # no new key was written
        assert _files(settings.data_dir) == []
        assert await _registered(database_url) == registered  # nor registered

    path.write_text(backup)  # restored from the backup, everything reads again
    path.chmod(0o600)
    assert await _read(settings, envs) == VALUES


@pytest.mark.asyncio
async def test_no_key_variable_on_a_database_with_keys_is_refused_writing_nothing(
    database_url: str, tmp_path: Path
) -> None:
    """The PostgreSQL case of the issue (and SQLite's, with the database outside the data
    directory): the variable was forgotten on a server with an empty data directory."""
    key = os.urandom(32)
    given = Settings(
        data_dir=tmp_path / "first", database_url=database_url, encryption_key=_b64(key)
    )
    await _write(given)
    registered = await _registered(database_url)
    assert set(registered) == {key_id_of(key)}

    forgotten = Settings(data_dir=tmp_path / "second", database_url=database_url)
    with pytest.raises(StartupError) as caught:
        await open_services(forgotten)
    assert key_id_of(key) in str(caught.value)
    assert "no key is configured" in str(caught.value)
    assert _b64(key) not in str(caught.value)
    assert not forgotten.data_dir.exists()
    assert not (tmp_path / "first").exists()  # the variable never made a key file either
    assert await _registered(database_url) == registered


@pytest.mark.asyncio
async def test_a_key_file_variable_reads_what_the_key_variable_wrote(
    database_url: str, tmp_path: Path
) -> None:
    key = os.urandom(32)
    by_variable = Settings(
        data_dir=tmp_path / "data", database_url=database_url, encryption_key=_b64(key)
    )
    envs = await _write(by_variable)
    registered = await _registered(database_url)

    secret = tmp_path / "run" / "secrets" / "sigillo_key"
    secret.parent.mkdir(parents=True)
    secret.write_text(_b64(key) + "\n")
    secret.chmod(0o400)
    by_file = Settings(
        data_dir=tmp_path / "data", database_url=database_url, encryption_key_file=secret
    )
    assert await _read(by_file, envs) == VALUES
    assert await _registered(database_url) == registered  # the same key, not a new one
    assert not (tmp_path / "data").exists()


@pytest.mark.asyncio
async def test_servers_racing_on_a_fresh_database_make_one_key(
    database_url: str, tmp_path: Path
) -> None:
    """Two replicas without a key, each with its own data directory, start together on one
    fresh database: one creates and registers its key file, the other is refused and writes
    nothing (the choice is made under the writer lock, not before it)."""
    first, second = await open_database(database_url), await open_database(database_url)
    dirs = [tmp_path / "a", tmp_path / "b"]
    try:
        outcomes = await asyncio.gather(
            open_keys(
                SqlKeyRegistry(first),
                KeySources(Settings(data_dir=dirs[0], database_url=database_url)),
                Clock().now(),
            ),
            open_keys(
                SqlKeyRegistry(second),
                KeySources(Settings(data_dir=dirs[1], database_url=database_url)),
                Clock().now(),
            ),
            return_exceptions=True,
        )
    finally:
        await first.close()
        await second.close()
    refused = [o for o in outcomes if isinstance(o, StartupError)]
    assert len(refused) == 1, outcomes
    assert "no key is configured" in str(refused[0])
    with_key = [d for d in dirs if (d / KEY_FILE_NAME).exists()]
    assert len(with_key) == 1
    key = base64.b64decode((with_key[0] / KEY_FILE_NAME).read_text())
    assert set(await _registered(database_url)) == {key_id_of(key)}


# -- real processes -------------------------------------------------------------------------


def _sigillo(*args: str, data_dir: Path, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sigillo",
            *args,
            "--data-dir",
            str(data_dir),
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_server_whose_key_file_was_deleted_exits_naming_the_key(
    database_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = _sigillo("admin", "sign-in-failures", data_dir=data, url=database_url)
    assert first.returncode == 0, first.stderr
    assert "generated a new encryption key" in first.stderr
    path = data / KEY_FILE_NAME
    content = path.read_text().strip()
    key_id = key_id_of(base64.b64decode(content))
    path.unlink()

    port = str(_free_port())
    server = _sigillo(
        "server", "--host", "127.0.0.1", "--port", port, data_dir=data, url=database_url
    )  # a server that started would outlive the timeout
    assert server.returncode == 1, server.stderr
    assert f"error: this database was written with encryption key {key_id}" in server.stderr
    assert "Traceback" not in server.stderr
    assert "generated a new encryption key" not in server.stderr
    assert content not in server.stderr + server.stdout
    assert _files(data) == []

    admin = _sigillo("admin", "sign-in-failures", data_dir=data, url=database_url)
    assert admin.returncode == 1
    assert key_id in admin.stderr
    assert _files(data) == []


def test_a_server_reads_its_key_from_the_key_file_variable(
    database_url: str, tmp_path: Path
) -> None:
    key = os.urandom(32)
    secret = tmp_path / "sigillo_key"
    secret.write_text(_b64(key) + "\n")
    secret.chmod(0o600)
    data = tmp_path / "data"
    run = _sigillo(
        "admin",
        "sign-in-failures",
        data_dir=data,
        url=database_url,
        SIGILLO_ENCRYPTION_KEY_FILE=str(secret),
    )
    assert run.returncode == 0, run.stderr
    assert set(asyncio.run(_registered(database_url))) == {key_id_of(key)}
    assert not data.exists()

    bad = tmp_path / "bad_key"
    bad.write_text("not a key at all\n")
    refused = _sigillo(
        "admin",
        "sign-in-failures",
        data_dir=data,
        url=database_url,
        SIGILLO_ENCRYPTION_KEY_FILE=str(bad),
    )
    assert refused.returncode == 1
    assert f"error: SIGILLO_ENCRYPTION_KEY_FILE names {bad}" in refused.stderr
    assert "not a key at all" not in refused.stderr
    assert "Traceback" not in refused.stderr
