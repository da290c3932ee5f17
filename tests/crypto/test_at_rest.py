"""Ciphertext at rest, bound to its place (security.md promise 1 and the Crypto family).

Real services wired by server.open_services on real SQLite and PostgreSQL databases;
rows are moved, copied and tampered with in raw SQL, and the whole database is dumped
to look for a canary value.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest
import pytest_asyncio

from sigillo.crypto.envelope import Envelope
from sigillo.crypto.keyring import Keyring, key_id_of
from sigillo.domain.errors import DecryptionError
from sigillo.domain.events import Actor, SealedValue
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.server import open_services
from sigillo.services.container import Services
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.secrets import SecretsService
from sigillo.services.writing import Writer
from sigillo.settings import Settings
from sigillo.store.data_keys import SqlDataKeys
from sigillo.store.database import Database, sqlite_path

ALICE = Actor("user", "alice")


@dataclass
class World:
    services: Services
    key: bytes
    dev: EnvironmentRow
    prod: EnvironmentRow
    elsewhere: EnvironmentRow  # an environment of another org


def _settings(url: str, data_dir: Path, key: bytes) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        encryption_key=base64.b64encode(key).decode(),
    )


async def _world(url: str, data_dir: Path) -> World:
    key = os.urandom(32)
    services = await open_services(_settings(url, data_dir, key))
    catalog = services.catalog
    org = await catalog.create_org("Acme", ALICE)
    project = await catalog.create_project(org.id, "Shop", ALICE)
    envs = {e.slug: e for e in await catalog.environments(project.id)}
    other_org = await catalog.create_org("Other", ALICE)
    other_project = await catalog.create_project(other_org.id, "Shop", ALICE)
    elsewhere = (await catalog.environments(other_project.id))[0]
    return World(services, key, envs["dev"], envs["prod"], elsewhere)


@pytest_asyncio.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    made = await _world(database_url, tmp_path)
    yield made
    await made.services.close()


async def _sealed(db: Database, environment_id: str, name: str) -> tuple[Any, ...]:
    [row] = await db.fetch(
        "SELECT key_id, nonce, ciphertext, format FROM current_secrets "
        "WHERE environment_id = $1 AND name = $2",
        environment_id,
        name,
    )
    key_id, nonce, ciphertext, format = row
    return key_id, bytes(nonce), bytes(ciphertext), format


async def _overwrite(db: Database, environment_id: str, name: str, sealed: tuple[Any, ...]) -> None:
    async with db.writing() as tx:
        await tx.execute(
            "UPDATE current_secrets SET key_id = $1, nonce = $2, ciphertext = $3, format = $4 "
            "WHERE environment_id = $5 AND name = $6",
            *sealed,
            environment_id,
            name,
        )
    assert await _sealed(db, environment_id, name) == tuple(sealed)


# -- copying and moving ciphertext ----------------------------------------------------------


@pytest.mark.asyncio
async def test_a_ciphertext_copied_to_another_name_does_not_decrypt(
    world: World, database: Database
) -> None:
    secrets = world.services.secrets
    await secrets.set(
        world.dev.id, {"API_KEY": "value-of-api-key", "DB_PASSWORD": "value-of-db-pw"}, ALICE
    )
    await _overwrite(
        database, world.dev.id, "DB_PASSWORD", await _sealed(database, world.dev.id, "API_KEY")
    )
    with pytest.raises(DecryptionError) as caught:
        await secrets.value(world.dev.id, "DB_PASSWORD", ALICE)
    assert "value-of-api-key" not in str(caught.value)
    with pytest.raises(DecryptionError):
        await secrets.values(world.dev.id, ALICE)
    assert await secrets.value(world.dev.id, "API_KEY", ALICE) == "value-of-api-key"


@pytest.mark.asyncio
@pytest.mark.parametrize("target", ["prod", "elsewhere"])
async def test_a_ciphertext_copied_to_another_environment_does_not_decrypt(
    world: World, database: Database, target: str
) -> None:
    secrets = world.services.secrets
    other: EnvironmentRow = getattr(world, target)
    await secrets.set(world.dev.id, {"API_KEY": "dev-value"}, ALICE)
    await secrets.set(other.id, {"API_KEY": "other-value"}, ALICE)
    await _overwrite(
        database, other.id, "API_KEY", await _sealed(database, world.dev.id, "API_KEY")
    )
    with pytest.raises(DecryptionError) as caught:
        await secrets.value(other.id, "API_KEY", ALICE)
    assert "dev-value" not in str(caught.value)
    assert await secrets.value(world.dev.id, "API_KEY", ALICE) == "dev-value"


@pytest.mark.asyncio
async def test_a_row_moved_to_another_name_or_environment_does_not_decrypt(
    world: World, database: Database
) -> None:
    secrets = world.services.secrets
    await secrets.set(world.dev.id, {"TO_RENAME": "moved-value", "TO_MOVE": "moved-value"}, ALICE)
    async with database.writing() as tx:
        await tx.execute(
            "UPDATE current_secrets SET name = 'RENAMED' WHERE environment_id = $1 AND name = $2",
            world.dev.id,
            "TO_RENAME",
        )
        await tx.execute(
            "UPDATE current_secrets SET environment_id = $1 "
            "WHERE environment_id = $2 AND name = $3",
            world.prod.id,
            world.dev.id,
            "TO_MOVE",
        )
    with pytest.raises(DecryptionError):
        await secrets.value(world.dev.id, "RENAMED", ALICE)
    with pytest.raises(DecryptionError):
        await secrets.value(world.prod.id, "TO_MOVE", ALICE)


@pytest.mark.asyncio
async def test_a_check_value_copied_into_a_secret_row_does_not_decrypt(
    world: World, database: Database
) -> None:
    secrets = world.services.secrets
    await secrets.set(world.dev.id, {"API_KEY": "value"}, ALICE)
    [(key_id, nonce, ciphertext, format)] = await database.fetch(
        "SELECT key_id, check_nonce, check_ciphertext, check_format FROM encryption_keys"
    )
    await _overwrite(
        database, world.dev.id, "API_KEY", (key_id, bytes(nonce), bytes(ciphertext), format)
    )
    with pytest.raises(DecryptionError):
        await secrets.value(world.dev.id, "API_KEY", ALICE)


def _flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


TAMPERINGS = {
    "ciphertext-first-byte": lambda k, n, c, f: (k, n, _flip(c, 0), f),
    "ciphertext-last-byte": lambda k, n, c, f: (k, n, _flip(c, len(c) - 1), f),
    "ciphertext-truncated": lambda k, n, c, f: (k, n, c[:-1], f),
    "ciphertext-extended": lambda k, n, c, f: (k, n, c + b"\x00", f),
    "nonce": lambda k, n, c, f: (k, _flip(n, 5), c, f),
    "key-id": lambda k, n, c, f: ("0" * 16, n, c, f),
    "format": lambda k, n, c, f: (k, n, c, f + 1),
}


@pytest.mark.asyncio
async def test_tampered_rows_do_not_decrypt(world: World, database: Database) -> None:
    await world.services.secrets.set(world.dev.id, {"API_KEY": "the-real-value"}, ALICE)
    original = await _sealed(database, world.dev.id, "API_KEY")
    for label, tamper in TAMPERINGS.items():
        await _overwrite(database, world.dev.id, "API_KEY", tamper(*original))
        try:
            value = await (await _fresh_secrets(world, database)).value(
                world.dev.id, "API_KEY", ALICE
            )
        except DecryptionError:
            pass
        else:
            pytest.fail(f"{label}: a tampered row decrypted to {value!r}")
        await _overwrite(database, world.dev.id, "API_KEY", original)
        fresh = await _fresh_secrets(world, database)
        assert await fresh.value(world.dev.id, "API_KEY", ALICE) == "the-real-value", label


async def _fresh_secrets(world: World, database: Database) -> SecretsService:
    """The secrets service of a server that has not read the environment yet. A running
    one keeps live rows while the environment's stream stays at the same version
    (services/recent_rows.py), and an edit behind the log's back does not move it."""
    store = world.services.store
    cipher = await _envelope(world, database)
    return SecretsService(store, cipher, Writer(store, Clock(), UlidFactory()))


async def _envelope(world: World, database: Database) -> Envelope:
    """The world's master key and the data keys it wraps, as a server loads them."""
    cipher = Envelope(Keyring([world.key]))
    assert cipher.learn(await SqlDataKeys(database).wrapped_keys()) == []
    return cipher


# -- the event log holds ciphertext only ----------------------------------------------------


@pytest.mark.asyncio
async def test_secret_events_hold_only_sealed_values(world: World, database: Database) -> None:
    secrets = world.services.secrets
    written = [("A_KEY", "first-" + uuid.uuid4().hex), ("A_KEY", "second"), ("B_KEY", "🔐 Ключ")]
    for name, value in written:
        await secrets.set(world.dev.id, {name: value}, ALICE)
    await secrets.delete(world.dev.id, ["A_KEY"], ALICE)

    records = await database.fetch(
        "SELECT event_type, subject, data FROM events WHERE stream_id LIKE $1 ORDER BY position",
        "%" + world.dev.id,
    )
    keyring = await _envelope(world, database)
    (data_key,) = await SqlDataKeys(database).wrapped_keys()
    assert data_key.wrapped.key_id == key_id_of(world.key)  # wrapped by the master key
    sets = [(s, json.loads(d)) for t, s, d in records if t == "secret.set"]
    assert [s for s, _ in sets] == [name for name, _ in written]
    for (name, value), (_, data) in zip(written, sets, strict=True):
        assert set(data) == {"type", "environment_id", "name", "value"}
        assert set(data["value"]) == {"key_id", "nonce", "ciphertext", "format"}
        assert data["value"]["key_id"] == data_key.key_id
        raw = json.dumps(data, ensure_ascii=False)
        assert value not in raw
        assert base64.b64encode(value.encode()).decode() not in raw
        sealed = SealedValue(
            data["value"]["key_id"],
            base64.b64decode(data["value"]["nonce"]),
            base64.b64decode(data["value"]["ciphertext"]),
            data["value"]["format"],
        )
        assert len(sealed.nonce) == 12
        assert keyring.open(sealed, environment_id=world.dev.id, name=name) == value
    deletes = [json.loads(d) for t, _, d in records if t == "secret.deleted"]
    assert deletes == [{"type": "secret.deleted", "environment_id": world.dev.id, "name": "A_KEY"}]


@pytest.mark.asyncio
async def test_every_sealed_value_is_counted_against_its_key(
    world: World, database: Database
) -> None:
    """NIST SP 800-38D caps a key at 2^32 random-nonce encryptions: the count must be exact."""
    secrets = world.services.secrets
    await secrets.set(world.dev.id, {"A": "1", "B": "2", "C": "3"}, ALICE)
    await secrets.set(world.prod.id, {"A": "1"}, ALICE)
    await secrets.delete(world.dev.id, ["A"], ALICE)
    await secrets.set(world.dev.id, {"A": "again"}, ALICE)
    rows = await database.fetch("SELECT key_id, sealed_count FROM key_usage")
    (data_key,) = await SqlDataKeys(database).wrapped_keys()
    assert [(k, int(n)) for k, n in rows] == [(data_key.key_id, 5)]


# -- a canary never reaches the database in the clear ----------------------------------------


def _needles(canary: str) -> dict[str, bytes]:
    """The canary as stored text could show it: UTF-8, hex, and base64 at all three alignments."""
    raw = canary.encode("utf-8")
    needles = {"utf-8": raw, "hex": raw.hex().encode()}
    for skip in range(3):
        part = raw[skip:]
        part = part[: len(part) - len(part) % 3]
        needles[f"base64+{skip}"] = base64.b64encode(part)
        needles[f"base64url+{skip}"] = base64.urlsafe_b64encode(part)
    return needles


def _assert_absent(where: str, haystack: bytes, canary: str) -> None:
    for label, needle in _needles(canary).items():
        found = needle.lower() in haystack.lower() if label == "hex" else needle in haystack
        assert not found, f"the canary ({label}) is in {where}"


async def _write_canary_history(world: World, name: str, canary: str) -> None:
    secrets = world.services.secrets
    for env in (world.dev, world.prod, world.elsewhere):
        await secrets.set(env.id, {name: canary}, ALICE)
        await secrets.set(env.id, {name: "not-the-canary", "NEIGHBOUR": canary + "-suffix"}, ALICE)
        await secrets.delete(env.id, [name], ALICE)
        await secrets.set(env.id, {name: canary, "MULTI_LINE": f"{canary}\n{canary}"}, ALICE)
        await secrets.delete(env.id, ["NEIGHBOUR"], ALICE)
        await secrets.set(env.id, {name: canary}, ALICE)
    await secrets.set(world.dev.id, {"LATE": canary}, ALICE)
    for env in (world.dev, world.prod, world.elsewhere):
        assert await secrets.value(env.id, name, ALICE) == canary
        assert await secrets.value(env.id, "MULTI_LINE", ALICE) == f"{canary}\n{canary}"


def _sqlite_files(path: Path) -> bytes:
    return b"".join(
        Path(str(path) + suffix).read_bytes()
        for suffix in ("", "-wal", "-shm", "-journal")
        if Path(str(path) + suffix).exists()
    )


def _sqlite_dump(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


async def _postgres_rows_as_text(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        )
        lines = []
        for table, column in {(r["table_name"], r["column_name"]) for r in columns}:
            for value in await connection.fetch(f'SELECT "{column}"::text FROM "{table}"'):
                lines.append(f"{table}.{column}={value[0]}")
        return "\n".join(lines)
    finally:
        await connection.close()


def _pg_dump(url: str) -> bytes:
    parts = urlparse(url)
    result = subprocess.run(
        [
            "pg_dump",
            "--host",
            parts.hostname or "127.0.0.1",
            "--port",
            str(parts.port or 5432),
            "--username",
            parts.username or "postgres",
            "--no-password",
            parts.path.lstrip("/"),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.mark.asyncio
async def test_a_canary_value_appears_nowhere_in_the_database(
    database_url: str, tmp_path: Path
) -> None:
    canary = "canary-" + uuid.uuid4().hex
    name = "CANARY_" + uuid.uuid4().hex.upper()  # names are stored in the clear: the control
    world = await _world(database_url, tmp_path)
    try:
        await _write_canary_history(world, name, canary)
        current = await world.services.secrets.current(world.dev.id)
        ciphertext = next(row.ciphertext for row in current if row.name == name)
        path = sqlite_path(database_url)
        if path is not None:
            live = _sqlite_files(Path(path))  # while open: the WAL holds the recent pages
            assert name.encode() in live
            assert ciphertext in live
            _assert_absent("the open SQLite files", live, canary)
    finally:
        await world.services.close()

    dumps: dict[str, bytes] = {}
    if path is not None:
        dumps["SQLite files after closing"] = _sqlite_files(Path(path))
        dumps["SQLite .dump"] = _sqlite_dump(Path(path)).encode()
    else:
        dumps["every column as text"] = (await _postgres_rows_as_text(database_url)).encode()
        if shutil.which("pg_dump"):
            dumps["pg_dump"] = _pg_dump(database_url)
    for where, dump in dumps.items():
        assert name.encode() in dump, f"the control is missing from {where}"
        if where == "SQLite files after closing":  # raw pages: the ciphertext as bytes
            assert ciphertext in dump, f"no ciphertext in {where}"
        else:
            assert ciphertext.hex() in dump.decode().lower(), f"no ciphertext in {where}"
        _assert_absent(where, dump, canary)
