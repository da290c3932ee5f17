"""The secrets and catalog services over each store, with a real keyring."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import pytest
import pytest_asyncio

from sigillo.crypto.keyring import Keyring
from sigillo.domain.errors import Conflict, InvalidInput, NotFound
from sigillo.domain.events import Actor, SecretsRead
from sigillo.services.catalog import CatalogService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import EventStore
from sigillo.services.secrets import SecretsService
from sigillo.services.writing import Writer

ALICE, BOT = Actor("user", "alice"), Actor("token", "tok")


@dataclass
class World:
    store: EventStore
    catalog: CatalogService
    secrets: SecretsService
    dev: str
    prod: str
    project: str


@pytest_asyncio.fixture
async def world(store: EventStore) -> World:
    writer = Writer(store, Clock(), UlidFactory())
    catalog = CatalogService(store, writer)
    org = await catalog.create_org("Acme", ALICE)
    project = await catalog.create_project(org.id, "App", ALICE)
    dev, _, prod = await catalog.environments(project.id)
    secrets = SecretsService(store, Keyring([os.urandom(32)]), writer)
    return World(store, catalog, secrets, dev.id, prod.id, project.id)


@pytest.mark.asyncio
async def test_set_reveal_and_list_without_values(world: World) -> None:
    await world.secrets.set(world.dev, {"DATABASE_URL": "postgres://localhost:5432/mydb"}, ALICE)
    assert (
        await world.secrets.value(world.dev, "DATABASE_URL", ALICE)
        == "postgres://localhost:5432/mydb"
    )
    [row] = await world.secrets.current(world.dev)
    assert row.name == "DATABASE_URL"
    assert b"postgres" not in row.ciphertext
    assert await world.secrets.current(world.prod) == []


@pytest.mark.asyncio
async def test_bulk_set_is_all_or_nothing(world: World) -> None:
    with pytest.raises(InvalidInput):
        await world.secrets.set(world.dev, {"GOOD": "a", "1BAD": "b"}, ALICE)
    with pytest.raises(InvalidInput):
        await world.secrets.set(world.dev, {"GOOD": "a", "BIG": "x" * 65537}, ALICE)
    assert await world.secrets.current(world.dev) == []
    assert await world.store.stream_version(f"env:{world.dev}") == 0
    assert await world.secrets.set(world.dev, {}, ALICE) == []
    recorded = await world.secrets.set(world.dev, {"A": "alpha", "B": "beta", "C": "gamma"}, ALICE)
    assert [r.version for r in recorded] == [1, 2, 3]
    assert await world.secrets.values(world.dev, ALICE) == {"A": "alpha", "B": "beta", "C": "gamma"}


@pytest.mark.asyncio
async def test_evolving_secret_and_its_history(world: World) -> None:
    for value in ["v1", "v2"]:
        await world.secrets.set(world.dev, {"EVOLVING": value}, ALICE)
    await world.secrets.delete(world.dev, ["EVOLVING"], BOT)
    with pytest.raises(NotFound):
        await world.secrets.value(world.dev, "EVOLVING", ALICE)
    await world.secrets.set(world.dev, {"EVOLVING": "v3"}, ALICE)
    assert await world.secrets.value(world.dev, "EVOLVING", ALICE) == "v3"
    entries = await world.secrets.history(world.dev, "EVOLVING")
    assert [(e.operation, e.actor) for e in entries] == [
        ("set", ALICE),
        ("set", ALICE),
        ("delete", BOT),
        ("set", ALICE),
    ]


@pytest.mark.asyncio
async def test_writes_to_a_missing_or_deleted_environment_are_not_found(world: World) -> None:
    for missing in ["01NOSUCHENVIRONMENT0000000", world.prod]:
        if missing == world.prod:
            await world.catalog.delete_environment(world.project, world.prod, ALICE)
        with pytest.raises(NotFound, match="environment"):
            await world.secrets.set(missing, {"A": "a"}, ALICE)
        with pytest.raises(NotFound, match="environment"):
            await world.secrets.delete(missing, ["A"], ALICE)
    assert (await world.store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_environment_slugs_stay_unique_under_concurrent_creation(world: World) -> None:
    results = await asyncio.gather(
        *(
            world.catalog.create_environment(world.project, "Staging", "staging", ALICE)
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    slugs = [e.slug for e in await world.catalog.environments(world.project)]
    assert slugs == ["dev", "preview", "prod", "staging"]


@pytest.mark.asyncio
async def test_every_plaintext_read_is_recorded_first_and_listing_is_not(world: World) -> None:
    await world.secrets.set(world.dev, {"A": "alpha-value", "B": "beta-value"}, ALICE)
    await world.secrets.current(world.dev)  # listing: no read
    assert await world.store.read_stream(f"reads:{world.dev}") == []
    assert await world.secrets.value(world.dev, "A", BOT) == "alpha-value"
    assert await world.secrets.values(world.dev, ALICE) == {"A": "alpha-value", "B": "beta-value"}
    with pytest.raises(NotFound):
        await world.secrets.value(world.dev, "MISSING", ALICE)  # refused: nothing recorded
    reads = await world.store.read_stream(f"reads:{world.dev}")
    assert [(r.actor, r.event) for r in reads] == [
        (BOT, SecretsRead(world.dev, ["A"], "get")),
        (ALICE, SecretsRead(world.dev, [], "download", version=2, count=2)),  # A and B
    ]
    assert "alpha-value" not in repr(reads)
    assert await world.store.stream_version(f"env:{world.dev}") == 2  # reads do not version secrets
