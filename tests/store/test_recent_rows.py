"""Kept live rows (services/recent_rows.py) are never stale: two services on one store
stand for two server replicas, each with its own memory, one writing, one reading."""

from __future__ import annotations

import os

import pytest

from sigillo.crypto.keyring import Keyring
from sigillo.domain.events import Actor
from sigillo.services.catalog import CatalogService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import EventStore
from sigillo.services.recent_rows import RecentRows
from sigillo.services.secrets import SecretsService
from sigillo.services.writing import Writer

pytestmark = pytest.mark.asyncio

ALICE = Actor("user", "alice")


async def test_a_replica_sees_every_write_of_another(store: EventStore) -> None:
    writer = Writer(store, Clock(), UlidFactory())
    catalog = CatalogService(store, writer)
    org = await catalog.create_org("Acme", ALICE)
    project = await catalog.create_project(org.id, "App", ALICE)
    dev = (await catalog.environments(project.id))[0].id
    keyring = Keyring([os.urandom(32)])
    one, two = (SecretsService(store, keyring, writer) for _ in range(2))

    await one.set(dev, {"A": "1"}, ALICE)
    assert await two.values(dev, ALICE) == {"A": "1"}
    await one.set(dev, {"A": "2", "B": "3"}, ALICE)
    assert await two.values(dev, ALICE) == {"A": "2", "B": "3"}
    await one.delete(dev, ["A"], ALICE)
    assert await two.values(dev, ALICE) == {"B": "3"}
    assert [row.name for row in await two.current(dev)] == ["B"]
    # Reads alone do not move the environment's stream: the rows are reused, and equal.
    assert await two.current(dev) == await one.current(dev)


async def test_only_the_most_recent_environments_are_kept(store: EventStore) -> None:
    writer = Writer(store, Clock(), UlidFactory())
    catalog = CatalogService(store, writer)
    org = await catalog.create_org("Acme", ALICE)
    project = await catalog.create_project(org.id, "App", ALICE)
    environments = [e.id for e in await catalog.environments(project.id)]
    recent = RecentRows(store, capacity=2)
    for environment in environments:
        await recent.current(environment)
    assert list(recent._kept) == environments[1:]
    await recent.current(environments[1])
    assert list(recent._kept) == [environments[2], environments[1]]
