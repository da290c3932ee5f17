"""Upgrading a database written before secret kinds [D18]: every value is kept, every
secret becomes (stays) a `secret`, and the rebuild check agrees, on SQLite and PostgreSQL.
Kind changes then fold into the upgraded table and rebuild identically."""

from __future__ import annotations

import asyncio
import os

from sigillo.crypto.keyring import Keyring
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.secrets import SecretsService
from sigillo.services.writing import Writer
from sigillo.store.database import Database
from sigillo.store.event_store import SqlEventStore
from sigillo.store.migrations import sigillo_2026_12_07t00_05_18_617618 as kinds_column
from tests.store.test_rebuild import ALICE, History, _with, sigillo, write_history

CIPHERTEXT = "SELECT environment_id, name, key_id, nonce, ciphertext FROM current_secrets"


async def _as_before_kinds(database: Database) -> None:
    """The database as a version without kinds left it: no `kind` column, its migration
    never run, a log of secrets already written."""
    async with database.writing() as tx:
        await tx.execute('ALTER TABLE "current_secrets" DROP COLUMN "kind"')
        await tx.execute(
            "DELETE FROM migration WHERE app_name = 'sigillo' AND name = $1", kinds_column.ID
        )


async def _kinds_migrated(database: Database) -> bool:
    found = await database.fetch(
        "SELECT COUNT(*) FROM migration WHERE app_name = 'sigillo' AND name = $1", kinds_column.ID
    )
    return bool(found[0][0])


def _stored(database_url: str) -> list[tuple[object, ...]]:
    async def read(database: Database, store: SqlEventStore) -> list[tuple[object, ...]]:
        records = await database.fetch(CIPHERTEXT)
        return sorted(
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in records
        )

    rows: list[tuple[object, ...]] = asyncio.run(_with(database_url, read))
    return rows


def test_an_upgrade_keeps_every_value_and_makes_every_secret_a_secret(database_url: str) -> None:
    made: History = asyncio.run(_with(database_url, lambda db, store: write_history(store)))
    values_before = _stored(database_url)
    assert len(values_before) == sum(len(names) for names in made.secrets.values()) > 0
    asyncio.run(_with(database_url, lambda db, store: _as_before_kinds(db)))
    assert not asyncio.run(_with(database_url, lambda db, store: _kinds_migrated(db)))

    upgraded = sigillo("admin", "migrate", "--database-url", database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert _stored(database_url) == values_before  # every sealed value, byte for byte

    async def kinds(database: Database, store: SqlEventStore) -> list[str]:
        return [row[0] for row in await database.fetch("SELECT kind FROM current_secrets")]

    assert set(asyncio.run(_with(database_url, kinds))) == {"secret"}
    assert asyncio.run(_with(database_url, lambda db, store: _kinds_migrated(db)))
    checked = sigillo("admin", "rebuild-projections", "--check", "--database-url", database_url)
    assert checked.returncode == 0, (checked.stdout, checked.stderr)

    # After the upgrade, kinds change, fold in and rebuild identically.
    environment = made.environments[0]
    [name, *_] = sorted(made.secrets[environment])

    async def mark_plain(database: Database, store: SqlEventStore) -> CurrentSecretRow | None:
        service = SecretsService(
            store, Keyring([os.urandom(32)]), Writer(store, Clock(), UlidFactory())
        )
        await service.change_kinds(environment, {name: "plain"}, ALICE)
        await service.set(environment, {name: "changed, still plain"}, ALICE)
        return await store.get(CurrentSecretRow, (environment, name))

    row = asyncio.run(_with(database_url, mark_plain))
    assert row is not None
    assert row.kind == "plain"
    checked = sigillo("admin", "rebuild-projections", "--check", "--database-url", database_url)
    assert checked.returncode == 0, (checked.stdout, checked.stderr)
    assert set(asyncio.run(_with(database_url, kinds))) == {"secret", "plain"}
