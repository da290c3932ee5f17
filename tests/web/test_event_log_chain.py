"""The Event Log tab shows whether the environment's tamper-evident chain verifies (issue
17): intact through its newest event, or the first broken link in words. SQLite and
PostgreSQL (the `web` fixture)."""

from __future__ import annotations

from html import unescape

import pytest

from sigillo.store.database import open_database
from tests.web.conftest import Web
from tests.web.test_event_log_tab import put, scene

pytestmark = pytest.mark.asyncio


async def test_the_event_log_shows_the_verified_state_of_the_stream(
    web: Web, database_url: str
) -> None:
    s = await scene(web)
    positions = await put(web, s.dev, s.admin.actor, API_KEY="one", DB_URL="two")
    page = unescape((await s.admin.get(s.tab)).text)
    assert f"Verified: this environment's chain is intact through event {positions[-1]}." in page

    database = await open_database(database_url)
    try:
        async with database.writing() as tx:
            await tx.execute(
                "UPDATE events SET actor_id = 'mallory' WHERE position = $1", positions[0]
            )
    finally:
        await database.close()
    page = unescape((await s.admin.get(s.tab)).text)
    assert f"Not verified: event {positions[0]} of env:{s.dev.id}" in page
    assert "was edited" in page
    prod = unescape((await s.admin.get(s.tab.replace("/dev/", "/prod/"))).text)
    assert "Verified: no events to check yet." in prod
