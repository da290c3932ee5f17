"""Master key rotation (issue 15, item 6), on SQLite and PostgreSQL: envelope encryption,
a keyring of several master keys, `sigillo admin rotate-key` under write load, a server
started with only the new key reading every value ever sealed (values sealed by the old
master key itself before data keys existed included), and an interrupted rotation that
is finished by the next server to start with the new key first."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sigillo.crypto.envelope import Envelope
from sigillo.crypto.keyring import Keyring, key_id_of
from sigillo.domain.errors import StartupError
from sigillo.domain.events import Actor, SealedValue
from sigillo.key_rotation import rotate_key
from sigillo.server import open_services
from sigillo.services.container import Services
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.secrets import SecretsService
from sigillo.services.writing import Writer
from sigillo.settings import Settings
from sigillo.store.data_keys import SqlDataKeys
from sigillo.store.database import open_database

ALICE = Actor("user", "alice")
OLD, NEW = os.urandom(32), os.urandom(32)


def _b64(*keys: bytes) -> str:
    return ",".join(base64.b64encode(key).decode("ascii") for key in keys)


def _settings(url: str, data_dir: Path, *keys: bytes) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, encryption_key=_b64(*keys))


async def _world(services: Services) -> dict[str, str]:
    org = await services.catalog.create_org("Acme", ALICE)
    project = await services.catalog.create_project(org.id, "Shop", ALICE)
    return {e.slug: e.id for e in await services.catalog.environments(project.id)}


async def _every_sealed_value(url: str, keyring: Keyring) -> dict[tuple[str, str, int], str]:
    """Every value in the event log, opened as a server with `keyring` opens it."""
    database = await open_database(url)
    try:
        cipher = Envelope(keyring)
        assert cipher.learn(await SqlDataKeys(database).wrapped_keys()) == []
        rows = await database.fetch(
            "SELECT position, data FROM events WHERE event_type = $1 ORDER BY position",
            "secret.set",
        )
    finally:
        await database.close()
    opened = {}
    for position, data in rows:
        event = json.loads(data)
        value = event["value"]
        sealed = SealedValue(
            value["key_id"],
            base64.b64decode(value["nonce"]),
            base64.b64decode(value["ciphertext"]),
            value["format"],
        )
        env, name = event["environment_id"], event["name"]
        opened[(env, name, int(position))] = cipher.open(sealed, environment_id=env, name=name)
    return opened


async def _seal_as_before_data_keys(services: Services, env: str, values: dict[str, str]) -> None:
    """Values sealed by the master key itself, as every release before data keys did."""
    store = services.store
    legacy = SecretsService(store, Keyring([OLD]), Writer(store, Clock(), UlidFactory()))
    await legacy.set(env, values, ALICE)


@pytest.mark.asyncio
async def test_rotate_under_load_then_only_the_new_key_reads_everything(
    database_url: str, tmp_path: Path
) -> None:
    old_only = _settings(database_url, tmp_path, OLD)
    services = await open_services(old_only)
    try:
        envs = await _world(services)
        await _seal_as_before_data_keys(services, envs["dev"], {"LEGACY": "sealed-by-master"})
        await services.secrets.set(envs["dev"], {"FIRST": "by-data-key-1"}, ALICE)
    finally:
        await services.close()
    before = await _every_sealed_value(database_url, Keyring([OLD]))
    assert sorted(before.values()) == ["by-data-key-1", "sealed-by-master"]

    both = _settings(database_url, tmp_path, NEW, OLD)  # every server: the new key first
    services = await open_services(both)
    written: dict[str, str] = {}
    try:
        stop = asyncio.Event()

        async def load(env: str) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                name, value = f"LOAD_{n % 7}", f"value-{env[-4:]}-{n}"
                await services.secrets.set(envs[env], {name: value}, ALICE)
                written[f"{env}/{name}"] = value
                assert (await services.secrets.values(envs[env], ALICE))[name] == value
                await asyncio.sleep(0)

        writers = [asyncio.create_task(load(env)) for env in ("dev", "prod")]
        await asyncio.sleep(0.3)
        lines = await rotate_key(both, status_only=False, activate_after=0)
        await services.refresh_keys()  # a running server's periodic look
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*writers)
    finally:
        await services.close()
    assert lines[0].startswith(f"rotated to encryption key {key_id_of(NEW)}")
    assert len(written) >= 4, written

    # Nothing wraps a data key with the old key any more: it is retired and not needed.
    status = await rotate_key(
        _settings(database_url, tmp_path, NEW), status_only=True, activate_after=0
    )
    assert status[0].startswith(f"key {key_id_of(NEW)}: primary, configured; wraps "), status
    (old_line,) = [line for line in status if line.startswith(f"key {key_id_of(OLD)}")]
    assert "not configured; wraps 0 data keys; retired" in old_line, old_line
    assert old_line.endswith("no longer needed: remove it from the configuration"), old_line

    # A server with only the new key starts, and reads every value ever written.
    every = await _every_sealed_value(database_url, Keyring([NEW]))
    assert {k: v for k, v in every.items() if k in before} == before
    new_only = _settings(database_url, tmp_path, NEW)
    services = await open_services(new_only)
    try:
        dev = await services.secrets.values(envs["dev"], ALICE)
        prod = await services.secrets.values(envs["prod"], ALICE)
        assert dev["LEGACY"] == "sealed-by-master"
        assert dev["FIRST"] == "by-data-key-1"
        for key, value in written.items():
            env, name = key.split("/")
            assert (dev if env == "dev" else prod)[name] == value, key
        await services.secrets.set(envs["dev"], {"AFTER": "sealed-with-the-new-data-key"}, ALICE)
    finally:
        await services.close()
    database = await open_database(database_url)
    try:
        keys = await SqlDataKeys(database).wrapped_keys()
        newest = await database.fetch(
            "SELECT data FROM events WHERE event_type = 'secret.set' ORDER BY position DESC LIMIT 1"
        )
    finally:
        await database.close()
    assert {key.wrapped.key_id for key in keys} == {key_id_of(NEW)}
    assert key_id_of(OLD) in {key.key_id for key in keys}  # the old master, kept as a data key
    rotation_key = max(keys, key=lambda key: key.active_from)
    assert json.loads(newest[0][0])["value"]["key_id"] == rotation_key.key_id

    # The old key alone no longer starts a server: the database needs the new one.
    with pytest.raises(StartupError, match=key_id_of(NEW)):
        await open_services(old_only)


@pytest.mark.asyncio
async def test_an_interrupted_rotation_is_finished_by_the_next_start(
    database_url: str, tmp_path: Path
) -> None:
    services = await open_services(_settings(database_url, tmp_path, OLD))
    try:
        envs = await _world(services)
        await _seal_as_before_data_keys(services, envs["prod"], {"LEGACY": "old-style"})
        await services.secrets.set(envs["prod"], {"CURRENT": "data-key-1"}, ALICE)
    finally:
        await services.close()

    # The first step of a rotation to NEW, then the process died: the rotation is recorded
    # with its new data key; nothing is re-wrapped; the old key is not retired.
    services = await open_services(_settings(database_url, tmp_path, OLD))  # loads data keys
    await services.close()
    database = await open_database(database_url)
    try:
        from sigillo.services.keys import verify_keys
        from sigillo.store.key_registry import SqlKeyRegistry

        cipher = Envelope(Keyring([NEW, OLD]))
        await verify_keys(SqlKeyRegistry(database), cipher, Clock().now())
        store = SqlDataKeys(database)
        cipher.learn(await store.wrapped_keys())
        now = Clock().now()
        await store.begin_rotation(key_id_of(NEW), now, cipher.new_data_key(now, now))
    finally:
        await database.close()

    with pytest.raises(StartupError, match=key_id_of(OLD)):  # the new key alone cannot yet
        await open_services(_settings(database_url, tmp_path, NEW))

    services = await open_services(_settings(database_url, tmp_path, NEW, OLD))  # resumes
    await services.close()
    services = await open_services(_settings(database_url, tmp_path, NEW))
    try:
        values = await services.secrets.values(envs["prod"], ALICE)
    finally:
        await services.close()
    assert values == {"LEGACY": "old-style", "CURRENT": "data-key-1"}


@pytest.mark.asyncio
async def test_rotation_refuses_what_it_cannot_do(database_url: str, tmp_path: Path) -> None:
    services = await open_services(_settings(database_url, tmp_path, OLD))
    await services.close()
    # the new key alone: the database still needs the old one, which the command lacks
    with pytest.raises(StartupError, match=key_id_of(OLD)):
        await rotate_key(
            _settings(database_url, tmp_path, NEW), status_only=False, activate_after=0
        )
    # a rotation to NEW is unfinished, and another key is configured first
    other = os.urandom(32)
    database = await open_database(database_url)
    try:
        cipher = Envelope(Keyring([NEW, OLD]))
        store = SqlDataKeys(database)
        cipher.learn(await store.wrapped_keys())
        now = Clock().now()
        await store.begin_rotation(key_id_of(NEW), now, cipher.new_data_key(now, now))
    finally:
        await database.close()
    with pytest.raises(StartupError, match=f"a rotation to encryption key {key_id_of(NEW)}"):
        await rotate_key(
            _settings(database_url, tmp_path, other, NEW, OLD), status_only=False, activate_after=0
        )


def test_rotate_key_command(tmp_path: Path) -> None:
    """The command as an operator runs it: two keys, newest first, in one variable."""
    data = tmp_path / "data"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    base = [sys.executable, "-m", "sigillo", "admin"]

    def admin(*args: str, keys: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args, "--data-dir", str(data)],
            capture_output=True,
            text=True,
            env=clean | {"SIGILLO_ENCRYPTION_KEY": keys},
            check=False,
        )

    assert admin("migrate", keys=_b64(OLD)).returncode == 0
    services_ready = asyncio.run(_prepare(data))
    assert services_ready
    rotated = admin("rotate-key", "--activate-after", "0", keys=_b64(NEW, OLD))
    assert rotated.returncode == 0, rotated.stderr
    assert f"rotated to encryption key {key_id_of(NEW)}" in rotated.stdout
    status = admin("rotate-key", "--status", keys=_b64(NEW))
    assert status.returncode == 0, status.stderr
    assert "no longer needed: remove it from the configuration" in status.stdout
    assert base64.b64encode(NEW).decode() not in rotated.stdout + rotated.stderr
    bad = admin("rotate-key", keys="not-a-key")
    assert bad.returncode == 1
    assert "SIGILLO_ENCRYPTION_KEY must be the base64 encoding" in bad.stderr


async def _prepare(data: Path) -> bool:
    services = await open_services(_settings(f"sqlite:///{data / 'sigillo.db'}", data, OLD))
    try:
        envs = await _world(services)
        await services.secrets.set(envs["dev"], {"A": "1"}, ALICE)
    finally:
        await services.close()
    return True
