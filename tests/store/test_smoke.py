from __future__ import annotations

import pytest

from sigillo.domain.events import Actor
from sigillo.services.catalog import CatalogService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import EventStore
from sigillo.services.writing import Writer

ALICE = Actor("user", "alice")


@pytest.mark.asyncio
async def test_a_new_project_has_three_environments(store: EventStore) -> None:
    catalog = CatalogService(store, Writer(store, Clock(), UlidFactory()))
    org = await catalog.create_org("Acme", ALICE)
    project = await catalog.create_project(org.id, "My App", ALICE)
    envs = await catalog.environments(project.id)
    assert [(e.name, e.slug) for e in envs] == [
        ("Dev", "dev"),
        ("Preview", "preview"),
        ("Prod", "prod"),
    ]
    report = await store.rebuild_projections(check_only=True)
    assert report.identical, report
