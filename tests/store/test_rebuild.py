"""Rebuilding the read models from the log: the check finds drift, the rebuild repairs it.

Through the store's API on every store, with raw SQL corruption on SQLite and PostgreSQL,
and through the real `sigillo admin` commands run as processes; and the upgrade that fills a
read model added after the log was written (org_projects) from that log.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from sigillo.crypto.keyring import Keyring
from sigillo.domain.events import Actor, SecretDeleted
from sigillo.domain.projections import TABLES
from sigillo.domain.projections.rows import (
    CurrentSecretRow,
    EnvironmentRow,
    OrgProjectRow,
    OrgRow,
    ProjectRow,
)
from sigillo.domain.streams import environment_stream
from sigillo.services.catalog import CatalogService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import EventStore
from sigillo.services.secrets import SecretsService
from sigillo.services.writing import Writer
from sigillo.store import event_store
from sigillo.store.database import Database, open_database
from sigillo.store.event_store import SqlEventStore
from sigillo.store.memory import MemoryEventStore
from sigillo.store.migrations import sigillo_2026_11_30t12_17_45_968937 as org_projects_table
from sigillo.store.migrations import sigillo_2026_11_30t12_17_46_000000 as org_projects_fill
from tests.databases import Databases
from tests.store.helpers import everything, table_contents

ALICE = Actor("user", "alice")
TOKEN = Actor("token", "tok_rebuild")
EMPTY = {table.table: 0 for table in TABLES}


class History:
    """What a mixed history left behind: the ids a test needs to aim its corruption."""

    def __init__(self) -> None:
        self.orgs: list[str] = []
        self.projects: list[str] = []  # live ones
        self.deleted_projects: list[str] = []
        self.environments: list[str] = []  # live ones
        self.secrets: dict[str, set[str]] = {}  # environment -> live names


async def write_history(store: EventStore) -> History:
    """Orgs, projects, environments created, renamed and deleted, many secret sets and deletes."""
    writer = Writer(store, Clock(), UlidFactory())
    catalog = CatalogService(store, writer)
    keyrings = [Keyring([os.urandom(32)]) for _ in range(2)]
    secrets = [SecretsService(store, keyring, writer) for keyring in keyrings]
    made = History()
    for org_name in ("Acme", "Globex"):
        org = await catalog.create_org(org_name, ALICE)
        made.orgs.append(org.id)
        for project_name in ("Web", "Api"):
            project = await catalog.create_project(org.id, project_name, ALICE)
            made.projects.append(project.id)
            envs = await catalog.environments(project.id)
            qa = await catalog.create_environment(project.id, "QA", "qa", ALICE)
            await catalog.rename_environment(project.id, qa.id, ALICE, name="Quality", slug="qa2")
            await catalog.rename_project(project.id, f"{project_name} v2", ALICE)
            for round_ in range(3):
                for i, env in enumerate([*envs, qa]):
                    service = secrets[(round_ + i) % 2]
                    values = {f"KEY_{n}": f"value {round_} {n}" for n in range(round_ + 2)}
                    await service.set(env.id, values, TOKEN if i % 2 else ALICE)
                    await service.delete(env.id, [f"KEY_{round_}"], ALICE)
                    # a delete of a name that is not live, as releases before 2026-12 appended
                    await writer.append(
                        environment_stream(env.id), [SecretDeleted(env.id, "NOT_LIVE")], ALICE
                    )
            await catalog.delete_environment(project.id, envs[1].id, ALICE)
            for env in [envs[0], envs[2], qa]:
                await secrets[0].set(env.id, {f"ONLY_{env.id}": "one of a kind"}, ALICE)
                made.environments.append(env.id)
                live = await store.select(CurrentSecretRow, "environment_id", env.id)
                made.secrets[env.id] = {row.name for row in live}  # type: ignore[attr-defined]
    doomed = made.projects.pop()
    doomed_envs = await catalog.environments(doomed)
    await catalog.delete_project(doomed, ALICE)
    made.deleted_projects.append(doomed)
    for env in doomed_envs:
        made.environments.remove(env.id)
        del made.secrets[env.id]
    return made


async def read_models(store: EventStore, made: History) -> dict[str, list[Any]]:
    """The read models as the store's API shows them."""
    return {
        "orgs": [await store.get(OrgRow, (org,)) for org in made.orgs],
        "projects": [
            row for org in made.orgs for row in await store.select(ProjectRow, "org_id", org)
        ],
        "org_projects": [
            row for org in made.orgs for row in await store.select(OrgProjectRow, "org_id", org)
        ],
        "environments": [
            row
            for p in made.projects
            for row in await store.select(EnvironmentRow, "project_id", p)
        ],
        "current_secrets": [
            row
            for env in made.environments
            for row in await store.select(CurrentSecretRow, "environment_id", env)
        ],
    }


@pytest.mark.asyncio
async def test_a_mixed_history_rebuilds_identically(store: EventStore) -> None:
    made = await write_history(store)
    before = await read_models(store, made)
    assert len(before["projects"]) == 3
    assert len(before["org_projects"]) == 4  # the deleted project's row is kept
    assert {row.project_id for row in before["org_projects"]} == {
        *made.projects,
        *made.deleted_projects,
    }
    assert len(before["environments"]) == 9
    assert all(made.secrets.values())

    report = await store.rebuild_projections(check_only=True)
    assert report.identical, report
    assert report.differences == EMPTY
    assert report.events == len(await everything(store))
    assert report.rows["orgs"] == 2
    assert report.rows["projects"] == 3
    assert report.rows["org_projects"] == 4
    assert report.rows["environments"] == 9
    assert report.rows["current_secrets"] == sum(len(names) for names in made.secrets.values())
    assert report.rows["key_usage"] == 2

    rebuilt = await store.rebuild_projections()
    assert rebuilt == report
    assert await read_models(store, made) == before
    # The rebuilt models keep working: appends fold into them as before.
    env = made.environments[0]
    service = SecretsService(
        store, Keyring([os.urandom(32)]), Writer(store, Clock(), UlidFactory())
    )
    await service.set(env, {"AFTER_REBUILD": "yes"}, ALICE)
    assert (await store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_an_empty_log_rebuilds_to_nothing(store: EventStore) -> None:
    report = await store.rebuild_projections(check_only=True)
    assert (report.events, report.rows, report.differences) == (0, EMPTY, EMPTY)
    assert await store.rebuild_projections() == report


@pytest.mark.asyncio
async def test_the_memory_store_detects_and_repairs_drift() -> None:
    """The fake has no SQL to corrupt; its tables are swapped behind its back instead."""
    store = MemoryEventStore()
    made = await write_history(store)
    before = await read_models(store, made)
    good = store._tables
    store._tables = type(good)()  # every read model lost
    report = await store.rebuild_projections(check_only=True)
    assert report.differences == {
        "orgs": 2,
        "projects": 3,
        "org_projects": 4,
        "environments": 9,
        "current_secrets": sum(len(names) for names in made.secrets.values()),
        "key_usage": 2,
        "memberships": 2,  # each org's creator, its first admin
        "invitations": 0,
        "api_tokens": 0,
        "users": 0,
    }
    assert await store.get(OrgRow, (made.orgs[0],)) is None  # a check changes nothing
    await store.rebuild_projections()
    assert await read_models(store, made) == before


# Raw SQL corruption on the real databases.

Corruption = Callable[[Database, History], Awaitable[dict[str, int]]]


async def _execute(database: Database, sql: str, *args: Any) -> None:
    async with database.writing() as tx:
        await tx.execute(sql, *args)


async def _changed_ciphertext(database: Database, made: History) -> dict[str, int]:
    env = made.environments[0]
    name = sorted(made.secrets[env])[0]
    await _execute(
        database,
        "UPDATE current_secrets SET ciphertext = $1 WHERE environment_id = $2 AND name = $3",
        b"\x00tampered",
        env,
        name,
    )
    return {"current_secrets": 2}  # the stored row is wrong, and the right one is missing


async def _deleted_secret(database: Database, made: History) -> dict[str, int]:
    env = made.environments[-1]
    await _execute(
        database,
        "DELETE FROM current_secrets WHERE environment_id = $1 AND name = $2",
        env,
        sorted(made.secrets[env])[-1],
    )
    return {"current_secrets": 1}


async def _bogus_secret(database: Database, made: History) -> dict[str, int]:
    await _execute(
        database,
        "INSERT INTO current_secrets (environment_id, name, secret_id, key_id, nonce, "
        "ciphertext, format, created_at, updated_at, live_since, actor_kind, actor_id) "
        "VALUES ($1, 'PLANTED', 'X', 'k', $2, $3, 1, 1, 1, 999999, 'user', 'mallory')",
        made.environments[1],
        b"n" * 12,
        b"c" * 20,
    )
    return {"current_secrets": 1}


async def _moved_secret(database: Database, made: History) -> dict[str, int]:
    """A row moved to another environment: ciphertext replayed where it does not belong."""
    source, target = made.environments[0], made.environments[3]
    name = next(iter(made.secrets[source] - made.secrets[target]), None)
    assert name is not None
    await _execute(
        database,
        "UPDATE current_secrets SET environment_id = $1 WHERE environment_id = $2 AND name = $3",
        target,
        source,
        name,
    )
    return {"current_secrets": 2}


async def _renamed_environment(database: Database, made: History) -> dict[str, int]:
    await _execute(
        database, "UPDATE environments SET name = 'Hacked' WHERE id = $1", made.environments[2]
    )
    return {"environments": 2}


async def _lost_orgs_and_usage(database: Database, made: History) -> dict[str, int]:
    await _execute(database, "DELETE FROM orgs")
    await _execute(database, "UPDATE key_usage SET sealed_count = sealed_count + 1")
    return {"orgs": 2, "key_usage": 4}


async def _planted_project(database: Database, made: History) -> dict[str, int]:
    await _execute(
        database,
        "INSERT INTO projects (id, org_id, name, created_at, updated_at, position) "
        "VALUES ('01ZZZZZZZZZZZZZZZZZZZZZZZZ', $1, 'Planted', 1, 1, 424242)",
        made.orgs[0],
    )
    return {"projects": 1}


async def _forgotten_deleted_project(database: Database, made: History) -> dict[str, int]:
    """The row the org audit log needs to find a deleted project's events."""
    await _execute(
        database, "DELETE FROM org_projects WHERE project_id = $1", made.deleted_projects[0]
    )
    return {"org_projects": 1}


async def _project_moved_to_another_org(database: Database, made: History) -> dict[str, int]:
    await _execute(
        database,
        "UPDATE org_projects SET org_id = $1 WHERE project_id = $2",
        made.orgs[1],
        made.projects[0],
    )
    return {"org_projects": 2}


CORRUPTIONS: dict[str, Corruption] = {
    "changed-ciphertext": _changed_ciphertext,
    "deleted-secret": _deleted_secret,
    "bogus-secret": _bogus_secret,
    "moved-secret": _moved_secret,
    "renamed-environment": _renamed_environment,
    "lost-orgs-and-usage": _lost_orgs_and_usage,
    "planted-project": _planted_project,
    "forgotten-deleted-project": _forgotten_deleted_project,
    "project-moved-to-another-org": _project_moved_to_another_org,
}


@pytest.mark.asyncio
@pytest.mark.parametrize("corruption", CORRUPTIONS)
async def test_corruption_is_found_then_repaired(database: Database, corruption: str) -> None:
    store = SqlEventStore(database)
    made = await write_history(store)
    pristine = await table_contents(database)
    events = await everything(store)
    assert (await store.rebuild_projections(check_only=True)).identical

    expected = {**EMPTY, **await CORRUPTIONS[corruption](database, made)}
    corrupted = await table_contents(database)
    assert corrupted != pristine

    check = await store.rebuild_projections(check_only=True)
    assert not check.identical
    assert check.differences == expected
    assert await table_contents(database) == corrupted, "a check changed the read models"

    repair = await store.rebuild_projections()
    assert repair.differences == expected  # it reports what it repaired
    assert await table_contents(database) == pristine
    assert await everything(store) == events, "a rebuild touched the log"
    assert (await store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_a_rebuild_reads_a_long_log_in_batches(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log is replayed in pages; a page boundary must not lose or repeat an event."""
    store = SqlEventStore(database)
    made = await write_history(store)
    pristine = await table_contents(database)
    total = len(await everything(store))
    await _lost_orgs_and_usage(database, made)
    await _deleted_secret(database, made)
    batch = 7 if total % 7 else 8  # so that the last page is a short one
    monkeypatch.setattr(event_store, "REBUILD_BATCH", batch)

    report = await store.rebuild_projections()
    assert report.events == total
    assert report.differences == {**EMPTY, "orgs": 2, "key_usage": 4, "current_secrets": 1}
    assert await table_contents(database) == pristine
    assert (await store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_a_rebuild_moves_the_checkpoint_to_the_end_of_the_log(database: Database) -> None:
    store = SqlEventStore(database)
    await write_history(store)
    end = len(await everything(store))
    assert await store.checkpoint() == end
    await _execute(database, "UPDATE projection_checkpoints SET position = 3")
    await store.rebuild_projections(check_only=True)
    assert await store.checkpoint() == 3
    await store.rebuild_projections()
    assert await store.checkpoint() == end


@pytest.mark.asyncio
async def test_a_rebuild_waits_for_the_writer_slot(database: Database) -> None:
    """Appends during a rebuild land either before it or after it, never inside it."""
    store = SqlEventStore(database)
    made = await write_history(store)
    writer = Writer(store, Clock(), UlidFactory())
    service = SecretsService(store, Keyring([os.urandom(32)]), writer)
    env = made.environments[0]

    async def appends() -> None:
        for i in range(20):
            await service.set(env, {f"DURING_{i}": "x"}, ALICE)

    reports = await asyncio.gather(
        appends(), *(store.rebuild_projections(check_only=i % 2 == 0) for i in range(6))
    )
    assert all(r.identical for r in reports[1:]), reports
    assert (await store.rebuild_projections(check_only=True)).identical
    assert len(await store.select(CurrentSecretRow, "environment_id", env)) >= 20


# The real commands, as processes.

SIGILLO = [str(Path(sys.executable).with_name("sigillo"))]
if not Path(SIGILLO[0]).exists():
    SIGILLO = [sys.executable, "-m", "sigillo"]


def sigillo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    return subprocess.run(
        [*SIGILLO, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


async def _with(url: str, work: Callable[[Database, SqlEventStore], Awaitable[Any]]) -> Any:
    database = await open_database(url)
    try:
        return await work(database, SqlEventStore(database))
    finally:
        await database.close()


def _differing(stdout: str) -> dict[str, int]:
    """`  table: N rows, D differing` lines of the command's report."""
    found = re.findall(r"^  (\w+): \d+ rows, (\d+) differing$", stdout, re.MULTILINE)
    return {table: int(count) for table, count in found}


def test_the_rebuild_command(database_url: str) -> None:
    made: History = asyncio.run(_with(database_url, lambda db, store: write_history(store)))
    pristine = asyncio.run(_with(database_url, lambda db, store: table_contents(db)))

    checked = sigillo("admin", "rebuild-projections", "--check", "--database-url", database_url)
    assert checked.returncode == 0, checked.stderr
    assert "compared read models from" in checked.stdout
    assert _differing(checked.stdout) == EMPTY
    assert "error" not in checked.stderr

    asyncio.run(_with(database_url, lambda db, store: _deleted_secret(db, made)))
    asyncio.run(_with(database_url, lambda db, store: _renamed_environment(db, made)))
    corrupted = asyncio.run(_with(database_url, lambda db, store: table_contents(db)))

    found = sigillo("admin", "rebuild-projections", "--check", "--database-url", database_url)
    assert found.returncode == 1, (found.stdout, found.stderr)
    assert "differ" in found.stderr
    assert _differing(found.stdout) == {**EMPTY, "current_secrets": 1, "environments": 2}
    assert asyncio.run(_with(database_url, lambda db, store: table_contents(db))) == corrupted

    fixed = sigillo("admin", "rebuild-projections", "--database-url", database_url)
    assert fixed.returncode == 0, fixed.stderr
    assert "rebuilt read models from" in fixed.stdout
    assert asyncio.run(_with(database_url, lambda db, store: table_contents(db))) == pristine

    again = sigillo("admin", "rebuild-projections", "--check", "--database-url", database_url)
    assert again.returncode == 0, again.stderr


def test_the_migrate_command_is_idempotent(database_url: str, databases: Databases) -> None:
    kind = "sqlite" if database_url.startswith("sqlite:") else "postgresql"
    url = databases.fresh(kind, migrated=False)  # an empty database of database_url's kind

    first = sigillo("admin", "migrate", "--database-url", url)
    assert first.returncode == 0, first.stderr
    assert "database is up to date" in first.stdout

    asyncio.run(_with(url, lambda db, store: write_history(store)))
    before = asyncio.run(_with(url, lambda db, store: table_contents(db)))
    log = asyncio.run(_with(url, lambda db, store: everything(store)))

    for _ in range(2):
        again = sigillo("admin", "migrate", "--database-url", url)
        assert again.returncode == 0, again.stderr
        assert "database is up to date" in again.stdout
    assert asyncio.run(_with(url, lambda db, store: table_contents(db))) == before
    assert asyncio.run(_with(url, lambda db, store: everything(store))) == log
    assert asyncio.run(
        _with(url, lambda db, store: store.rebuild_projections(check_only=True))
    ).identical


async def _as_before_org_projects(database: Database) -> None:
    """The database as a version without org_projects left it: the table missing and its
    two migrations never run, with a log (deleted projects included) already written."""
    async with database.writing() as tx:
        await tx.execute('DROP TABLE "org_projects"')
        await tx.execute(
            "DELETE FROM migration WHERE app_name = 'sigillo' AND name IN ($1, $2)",
            org_projects_table.ID,
            org_projects_fill.ID,
        )


def test_an_upgrade_fills_org_projects_from_the_log(database_url: str) -> None:
    """Migrating a database written before org_projects existed fills it from the log, with
    the rows the fold gives (a deleted project's included), so no org log misses them."""
    made: History = asyncio.run(_with(database_url, lambda db, store: write_history(store)))
    pristine = asyncio.run(_with(database_url, lambda db, store: table_contents(db)))
    assert len(pristine["org_projects"]) == 4
    asyncio.run(_with(database_url, lambda db, store: _as_before_org_projects(db)))
    names = asyncio.run(
        _with(database_url, lambda db, store: db.fetch("SELECT name FROM migration"))
    )
    assert org_projects_fill.ID not in {name for (name,) in names}

    upgraded = sigillo("admin", "migrate", "--database-url", database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert asyncio.run(_with(database_url, lambda db, store: table_contents(db))) == pristine
    check = asyncio.run(
        _with(database_url, lambda db, store: store.rebuild_projections(check_only=True))
    )
    assert check.identical, check
    deleted = made.deleted_projects[0]
    row = asyncio.run(_with(database_url, lambda db, store: store.get(OrgProjectRow, (deleted,))))
    assert row is not None
    assert row.org_id == made.orgs[-1]

    # Appends after the upgrade fold into the filled table as usual.
    async def more(database: Database, store: SqlEventStore) -> str:
        catalog = CatalogService(store, Writer(store, Clock(), UlidFactory()))
        return (await catalog.create_project(made.orgs[0], "After", ALICE)).id

    after = asyncio.run(_with(database_url, more))
    rows = asyncio.run(
        _with(database_url, lambda db, store: store.select(OrgProjectRow, "org_id", made.orgs[0]))
    )
    assert [r.project_id for r in rows][-1] == after
    assert len(rows) == 3
    check = asyncio.run(
        _with(database_url, lambda db, store: store.rebuild_projections(check_only=True))
    )
    assert check.identical, check
