"""The Event Log tab's Compare (issue 17, sigillo.web.tabs.event_log_restore): this
environment now against another environment of the project, or against itself at a moment
(an RFC 3339 time or an event id); names and statuses only, values hidden.

Every test runs on SQLite and PostgreSQL (the `web` fixture).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.web.conftest import Web, text_of
from tests.web.test_event_log_tab import MARK, put, reads, scene

pytestmark = pytest.mark.asyncio

DIFF_ROW = re.compile(r'<tr class="diff-row diff-(\w+)"><td><code>([^<]+)</code>')


def statuses(html: str) -> dict[str, str]:
    return {name: status for status, name in DIFF_ROW.findall(html)}


async def test_compare_with_another_environment(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, SAME=f"{MARK}-s", DIFF=f"{MARK}-a", ONLY_DEV=f"{MARK}")
    await put(web, s.prod, s.admin.actor, SAME=f"{MARK}-s", DIFF=f"{MARK}-b", ONLY_PROD=f"{MARK}")
    page = await s.admin.get(s.tab)
    assert 'id="diff-with"' in page.text
    assert s.prod.id in page.text

    answer = await s.admin.post(s.tab + "/diff", {"with": s.prod.id, "at": ""})
    assert answer.status_code == 200
    assert statuses(answer.text) == {
        "DIFF": "changed",
        "ONLY_DEV": "added",
        "ONLY_PROD": "removed",
        "SAME": "unchanged",
    }
    assert "values hidden" in text_of(answer.text)
    assert MARK not in answer.text
    # telling changed from unchanged opened values: recorded as a compare read
    assert any(how == "compare" for _, _, how in await reads(web, s.dev))


async def test_compare_with_itself_at_a_moment(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, KEPT=f"{MARK}-1", EDITED=f"{MARK}-2")
    log = await web.services.audit.environment_log(s.dev, secrets_only=True)
    moment = log.events[0].id  # the set of EDITED
    await put(web, s.dev, s.admin.actor, EDITED=f"{MARK}-3", NEW=f"{MARK}-4")

    by_id = await s.admin.post(s.tab + "/diff", {"with": "", "at": moment})
    assert by_id.status_code == 200
    assert statuses(by_id.text) == {"EDITED": "changed", "KEPT": "unchanged", "NEW": "added"}
    assert MARK not in by_id.text

    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    by_time = await s.admin.post(s.tab + "/diff", {"at": later})
    assert by_time.status_code == 200
    assert set(statuses(by_time.text).values()) == {"unchanged"}


async def test_bad_input_refusals_and_csrf(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, A=f"{MARK}-1")
    bad = await s.admin.post(s.tab + "/diff", {"at": "last tuesday"})
    assert bad.status_code == 422
    assert "must be an RFC 3339 time" in text_of(bad.text)
    assert 'value="last tuesday"' in bad.text  # the input is shown back
    nothing = await s.admin.post(s.tab + "/diff", {"at": ""})
    assert nothing.status_code == 422
    early = await s.admin.post(s.tab + "/diff", {"at": "2001-01-01T00:00:00Z"})
    assert early.status_code == 404
    assert "did not exist yet" in text_of(early.text)
    assert (await s.admin.post(s.tab + "/diff", {"with": "nope"})).status_code == 404

    outsider = await web.signed_in(name="Olga Outsider")
    await web.services.catalog.create_org("Elsewhere", outsider.actor)
    form = {"with": s.prod.id}
    assert (await outsider.post(s.tab + "/diff", form)).status_code == 404
    assert (await s.admin.post(s.tab + "/diff", form, csrf=False)).status_code == 403
    assert await reads(web, s.dev) == []


async def test_reveal_values_is_an_audited_read_and_hide_takes_them_away(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, SAME=f"{MARK}-s", DIFF=f"{MARK}-dev")
    await put(web, s.prod, s.admin.actor, SAME=f"{MARK}-s", DIFF=f"{MARK}-prod")
    hidden = await s.admin.post(s.tab + "/diff", {"with": s.prod.id, "at": ""})
    assert MARK not in hidden.text
    assert 'name="show_values" value="1"' in hidden.text
    assert "Reveal values" in text_of(hidden.text)
    before = [how for _, _, how in await reads(web, s.dev)]
    assert "diff" not in before

    shown = await s.admin.post(s.tab + "/diff", {"with": s.prod.id, "at": "", "show_values": "1"})
    assert shown.status_code == 200
    assert statuses(shown.text) == {"DIFF": "changed", "SAME": "unchanged"}
    assert f"<code>{MARK}-prod</code></td><td" in shown.text  # before: prod's value
    assert f"<code>{MARK}-dev</code></td></tr>" in shown.text  # now: dev's value
    assert "values hidden" not in text_of(shown.text)
    assert "Hide values" in text_of(shown.text)
    # opened values: recorded first as a diff read of each side
    assert any(how == "diff" for _, _, how in await reads(web, s.dev))
    assert any(how == "diff" for _, _, how in await reads(web, s.prod))

    again = await s.admin.post(s.tab + "/diff", {"with": s.prod.id, "at": ""})
    assert MARK not in again.text


async def test_the_log_says_what_each_comparison_read_did(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, A=f"{MARK}-1")
    log = await web.services.audit.environment_log(s.dev, secrets_only=True)
    moment = log.events[0].id
    await put(web, s.dev, s.admin.actor, A=f"{MARK}-2")
    await s.admin.post(s.tab + "/diff", {"at": moment})
    await s.admin.post(s.tab + "/diff", {"at": moment, "show_values": "1"})
    page = text_of((await s.admin.get(s.tab)).text)
    assert "values compared, none shown" in page
    assert "values shown side by side" in page
    assert f"as of {moment}" in page
