"""Kept live rows (services/recent_rows.py) are never stale: two services on one store
stand for two server replicas, each with its own memory, one writing, one reading."""

from __future__ import annotations

import os
from typing import Any

import pytest

from sigillo.crypto.keyring import Keyring
from sigillo.domain.events import Actor, SecretsRead
from sigillo.domain.streams import reads_stream
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


class _WriteWhileReading:
    """The store, with one real write by another writer landing while an environment's
    live rows are being read (between the version read before them and the rows)."""

    def __init__(self, store: EventStore, write: Any) -> None:
        self._store, self._write = store, write

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def select(self, table: Any, field: str, value: str) -> Any:
        if self._write is not None:
            write, self._write = self._write, None
            await write()
        return await self._store.select(table, field, value)


async def test_a_download_names_its_version_only_when_its_rows_are_exactly_that_version(
    store: EventStore,
) -> None:
    """A whole-environment read records "every secret live at version V" only when the
    rows it read are exactly those of V; when a write landed while they were read, it
    lists the names it read instead (still exact, just longer)."""
    writer = Writer(store, Clock(), UlidFactory())
    catalog = CatalogService(store, writer)
    org = await catalog.create_org("Acme", ALICE)
    project = await catalog.create_project(org.id, "App", ALICE)
    dev = (await catalog.environments(project.id))[0].id
    keyring = Keyring([os.urandom(32)])
    other = SecretsService(store, keyring, writer)
    await other.set(dev, {"A": "1"}, ALICE)

    async def late_write() -> None:
        await other.set(dev, {"B": "2"}, ALICE)

    racing = _WriteWhileReading(store, late_write)
    reader = SecretsService(racing, keyring, Writer(racing, Clock(), UlidFactory()))  # type: ignore[arg-type]
    assert await reader.values(dev, ALICE) == {"A": "1", "B": "2"}
    assert await reader.values(dev, ALICE) == {"A": "1", "B": "2"}  # undisturbed: exact
    first, second = [r.event for r in await store.read_stream(reads_stream(dev))]
    assert first == SecretsRead(dev, ["A", "B"], "download")  # read at neither 1 nor 2 alone
    assert second == SecretsRead(dev, [], "download", version=2, count=2)
