"""The Event Log tab's "Restore this value" and "Restore environment to here" (issue 17,
sigillo.web.tabs.event_log_restore): rollbacks that append, the plan shown before the
whole environment goes back, and who may.

Every test runs on SQLite and PostgreSQL (the `web` fixture).
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from sigillo.domain.streams import environment_stream
from tests.web.conftest import Web, text_of
from tests.web.test_event_log_tab import MARK, Scene, put, scene

pytestmark = pytest.mark.asyncio

RESTORE_FORM = re.compile(
    r'<form class="log-restore-value" method="post" action="([^"]+)".*?'
    r'name="to" value="([^"]+)">.*?name="name" value="([^"]+)">',
    re.S,
)
PLAN_FORM = re.compile(
    r'<form class="log-restore-env" method="post" action="([^"]+)".*?name="to" value="([^"]+)">',
    re.S,
)


async def live(web: Web, s: Scene) -> dict[str, str]:
    """The live values (read as the admin, recorded like any download)."""
    return await web.services.secrets.values(s.dev.id, s.admin.actor)


async def stream_length(web: Web, environment_id: str) -> int:
    return len(await web.services.store.read_stream(environment_stream(environment_id)))


async def test_restore_this_value_appends_a_set_of_the_old_value(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, API_KEY=f"{MARK}-old")
    await put(web, s.dev, s.admin.actor, API_KEY=f"{MARK}-new", OTHER=f"{MARK}-other")
    page = await s.admin.get(s.tab)
    forms = RESTORE_FORM.findall(page.text)
    old = [f for f in forms if f[2] == "API_KEY"][-1]  # the oldest set of API_KEY
    action, to = unescape(old[0]), old[1]
    before = await stream_length(web, s.dev.id)

    answer = await s.admin.post(action, {"to": to, "name": "API_KEY"})
    assert answer.status_code == 200
    assert "Restored API_KEY to its value of event" in text_of(answer.text)
    assert MARK not in answer.text  # values stay hidden
    assert (await live(web, s))["API_KEY"] == f"{MARK}-old"
    assert (await live(web, s))["OTHER"] == f"{MARK}-other"  # only that name
    assert await stream_length(web, s.dev.id) == before + 1  # appended, nothing rewritten
    assert 'id="log-notice"' in answer.text
    assert "log-table" in answer.text


async def test_restore_environment_shows_the_plan_then_rolls_back(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, KEEP=f"{MARK}-keep", CHANGED=f"{MARK}-1")
    page = await s.admin.get(s.tab)
    newest = PLAN_FORM.findall(page.text)[0]  # the set of CHANGED: the moment
    plan_url, to = unescape(newest[0]), newest[1]
    await put(web, s.dev, s.admin.actor, CHANGED=f"{MARK}-2", ADDED=f"{MARK}-3")
    before = await stream_length(web, s.dev.id)

    plan = await s.admin.post(plan_url, {"to": to})
    assert plan.status_code == 200
    assert '<dialog id="rollback-dialog"' in plan.text
    dialog = text_of(plan.text.split('<dialog id="rollback-dialog"')[1].split("</dialog>")[0])
    assert "CHANGED" in dialog
    assert "ADDED" in dialog
    assert "KEEP" not in dialog
    assert MARK not in plan.text
    assert await stream_length(web, s.dev.id) == before  # the plan writes no secret
    confirm = re.search(r'<form method="post" action="([^"]+/rollback)"', plan.text)
    assert confirm is not None

    done = await s.admin.post(unescape(confirm.group(1)), {"to": to})
    assert done.status_code == 200
    assert "Restored Dev to event" in text_of(done.text)
    assert await live(web, s) == {"KEEP": f"{MARK}-keep", "CHANGED": f"{MARK}-1"}
    assert await stream_length(web, s.dev.id) == before + 2  # a delete and a set, appended
    assert "rollback-dialog" not in done.text


async def test_outsiders_and_missing_csrf_are_refused(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, API_KEY=f"{MARK}-old")
    [to] = [f[1] for f in RESTORE_FORM.findall((await s.admin.get(s.tab)).text)]
    await put(web, s.dev, s.admin.actor, API_KEY=f"{MARK}-new")
    before = await stream_length(web, s.dev.id)
    outsider = await web.signed_in(name="Olga Outsider")
    await web.services.catalog.create_org("Elsewhere", outsider.actor)
    for path in ("/restore", "/rollback"):
        form = {"to": to, "name": "API_KEY"}
        assert (await outsider.post(s.tab + path, form)).status_code == 404
        assert (await s.admin.post(s.tab + path, form, csrf=False)).status_code == 403
        forged = await s.admin.post(s.tab + path, {**form, "csrf": "forged"}, csrf=False)
        assert forged.status_code == 403
    assert await stream_length(web, s.dev.id) == before
    assert (await live(web, s))["API_KEY"] == f"{MARK}-new"


async def test_a_bad_moment_is_a_clear_error_and_nothing_changes(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, API_KEY=f"{MARK}-1")
    before = await stream_length(web, s.dev.id)
    bad = await s.admin.post(s.tab + "/rollback", {"to": "yesterday"})
    assert bad.status_code == 422
    assert "must be an RFC 3339 time" in text_of(bad.text)
    early = await s.admin.post(s.tab + "/rollback", {"to": "2001-01-01T00:00:00Z"})
    assert early.status_code == 404
    assert "did not exist yet" in text_of(early.text)
    unknown = await s.admin.post(
        s.tab + "/restore", {"to": "01JEX7Q7W4T2R3N8M9P0A1B2C3", "name": "API_KEY"}
    )
    assert unknown.status_code == 404
    bad_name = await s.admin.post(s.tab + "/restore", {"to": "2030-01-01T00:00:00Z", "name": "1x"})
    assert bad_name.status_code == 422
    assert await stream_length(web, s.dev.id) == before
