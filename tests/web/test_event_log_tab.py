"""The Event Log tab (behaviour.md 14.8, [D5], [D16]): an environment's audit trail in the
dashboard, newest first, a page at a time, filtered by secret and by author, with values
hidden until one row's value is revealed, and that reveal itself an audited read.

Every test runs on SQLite and PostgreSQL (the `web` fixture). Scenes are set through the
services (as the API would), and the tab is read over HTTP as a browser reads it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from html import unescape

import pytest

from sigillo.domain.events import Actor, NewEvent, SecretsRead
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.domain.streams import reads_stream
from sigillo.services.ids import UlidFactory
from tests.web.conftest import Browser, Web, join, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio

MARK = "zq-event-log-marker"  # every value set here contains it; no page may, unrevealed
HTMX = {"HX-Request": "true"}
ROW = re.compile(r'<tr class="log-row tone-(\w+)">(.*?)</tr>', re.S)
RESTORE_CELL = re.compile(r'<td class="log-restore".*?</td>', re.S)
new_ulid = UlidFactory()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Scene:
    admin: Browser
    org_id: str
    project_id: str
    dev: EnvironmentRow
    prod: EnvironmentRow

    @property
    def tab(self) -> str:
        return f"/dash/projects/{self.project_id}/envs/dev/event-log"

    def reveal(self, position: int, query: str = "") -> str:
        return f"{self.tab}/{position}/reveal{query}"

    def hidden(self, position: int, query: str = "") -> str:
        return f"{self.tab}/{position}/hidden{query}"


async def scene(web: Web, name: str = "Ada Admin") -> Scene:
    admin = await web.signed_in(name=name)
    org_id, project_id = await org_with_project(web, admin)
    environments = {e.slug: e for e in await web.services.catalog.environments(project_id)}
    return Scene(admin, org_id, project_id, environments["dev"], environments["prod"])


async def put(web: Web, env: EnvironmentRow, actor: Actor, **values: str) -> list[int]:
    """Set each secret in its own event; their log positions."""
    positions = []
    for name, value in values.items():
        [event] = await web.services.secrets.set(env.id, {name: value}, actor)
        positions.append(event.position)
    return positions


async def reads(web: Web, env: EnvironmentRow) -> list[tuple[str, list[str], str]]:
    """The environment's recorded reads, newest first: (actor id, names, how)."""
    page = await web.services.audit.environment_log(env, limit=200, secrets_only=True)
    return [
        (e.actor.id, list(e.names or []), e.how or "")
        for e in page.events
        if e.type == "secrets.read"
    ]


def rows(html: str) -> list[tuple[str, str]]:
    """(tone, text) of each row of the table, in page order (without the Restore cell's
    buttons: tests/web/test_event_log_restore.py)."""
    return [(tone, text_of(RESTORE_CELL.sub("", body))) for tone, body in ROW.findall(html)]


def next_link(html: str) -> str | None:
    found = re.search(r'<a class="button secondary small" rel="next" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


def reveal_forms(html: str) -> list[str]:
    return [
        unescape(url)
        for url in re.findall(r'<form class="log-reveal" method="post" action="([^"]+)"', html)
    ]


# -- the table ---------------------------------------------------------------------------


async def test_events_newest_first_with_their_action_and_author(web: Web) -> None:
    s = await scene(web)
    member = await web.signed_in(name="Mia Member")
    await join(web, s.org_id, s.admin, member)
    token, _ = await web.services.access.create_token(
        s.project_id, s.admin.actor, name="CI deploy", access="read-write"
    )
    bot = Actor("token", token.id)
    await put(web, s.dev, s.admin.actor, API_KEY=f"{MARK}-1")
    await put(web, s.dev, member.actor, DB_URL=f"{MARK}-2")
    await web.services.secrets.delete(s.dev.id, ["API_KEY"], member.actor)
    await web.services.secrets.value(s.dev.id, "DB_URL", bot, "get")
    await web.services.secrets.values(s.dev.id, bot, "download")
    await web.services.secrets.value(s.dev.id, "DB_URL", member.actor, "run")
    await web.services.access.revoke_token(s.project_id, token.id, s.admin.actor)
    await put(web, s.prod, s.admin.actor, ELSEWHERE=f"{MARK}-3")  # another environment

    answer = await s.admin.get(s.tab)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert [tone for tone, _ in rows(answer.text)] == [
        "read",
        "read",
        "read",
        "delete",
        "set",
        "set",
    ]
    texts = [text for _, text in rows(answer.text)]
    assert texts[0].startswith("DB_URL run")
    assert texts[0].endswith("Mia Member")
    assert texts[1].startswith("all 1 secret (version 3) download")  # the whole environment
    assert "CI deploy token revoked" in texts[1]
    assert texts[2].startswith("DB_URL get")
    assert "CI deploy" in texts[2]
    assert texts[3].startswith("API_KEY delete —")
    assert texts[3].endswith("Mia Member")
    assert texts[4].startswith("DB_URL set ")
    assert "Reveal value" in texts[4]
    assert texts[5].startswith("API_KEY set ")
    assert texts[5].endswith("Ada Admin")
    assert "ELSEWHERE" not in answer.text
    assert "environment.created" not in answer.text  # the project's own events stay out
    assert MARK not in answer.text
    times = re.findall(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', answer.text)
    assert len(times) >= 6
    assert all(rel == "just now" for _, _, rel in times[-6:])
    assert all(exact.endswith("UTC") for _, exact, _ in times)


async def test_a_read_of_many_secrets_names_a_few_and_counts_the_rest(web: Web) -> None:
    """A read that lists its names (every download recorded before reads were recorded by
    their scope, and reveals of many names today) still renders as it always did."""
    s = await scene(web)
    names = [f"K{i:02}" for i in range(7)]
    await web.services.secrets.set(s.dev.id, {n: f"{MARK}{n}" for n in names}, s.admin.actor)
    old = NewEvent(new_ulid(), now_ms(), s.admin.actor, SecretsRead(s.dev.id, names, "download"))
    await web.services.store.append(reads_stream(s.dev.id), None, [old])
    first = rows((await s.admin.get(s.tab)).text)[0][1]
    assert first.startswith("K00 , K01 , K02 +4 more download")
    filtered = rows((await s.admin.get(s.tab, params={"secret": "K05"})).text)
    assert filtered[0][1].startswith("K05 , K00 , K01 +4 more download")


async def test_a_download_reads_as_every_secret_at_a_version(web: Web) -> None:
    """A download is recorded by its scope: "all 7 secrets (version 7)"; filtered by a
    secret live then, "K05 +6 more"; by a secret not live then, not there at all."""
    s = await scene(web)
    names = [f"K{i:02}" for i in range(7)]
    await web.services.secrets.set(s.dev.id, {n: f"{MARK}{n}" for n in names}, s.admin.actor)
    await web.services.secrets.values(s.dev.id, s.admin.actor, "download")
    await put(web, s.dev, s.admin.actor, LATE=f"{MARK}-late")
    first = rows((await s.admin.get(s.tab)).text)[1][1]
    assert first.startswith("all 7 secrets (version 7) download")
    filtered = rows((await s.admin.get(s.tab, params={"secret": "K05"})).text)
    assert filtered[0][1].startswith("K05 +6 more download")
    late = rows((await s.admin.get(s.tab, params={"secret": "LATE"})).text)
    assert [text.split()[1] for _, text in late] == ["set"]  # the download came before it


async def test_the_empty_state_and_a_project_without_environments(web: Web) -> None:
    s = await scene(web)
    answer = await s.admin.get(s.tab)
    assert answer.status_code == 200
    assert "No events yet" in answer.text
    assert "Secret changes will appear here as an audit trail." in answer.text
    for env in await web.services.catalog.environments(s.project_id):
        await web.services.catalog.delete_environment(s.project_id, env.id, s.admin.actor)
    moved = await s.admin.get(s.tab)
    assert location(moved) == f"/dash/projects/{s.project_id}/envs/_/event-log"
    bare = await s.admin.get(location(moved))
    assert bare.status_code == 200
    assert "No environments yet" in bare.text
    assert location(await s.admin.get(f"/dash/projects/{s.project_id}/event-log")) == (
        f"/dash/projects/{s.project_id}/envs/_/event-log"
    )


async def test_an_unknown_environment_goes_to_the_first_ones_log(web: Web) -> None:
    s = await scene(web)
    moved = await s.admin.get(f"/dash/projects/{s.project_id}/envs/nope/event-log")
    assert location(moved) == s.tab
    assert location(await s.admin.get(f"/dash/projects/{s.project_id}/event-log")) == s.tab


async def test_htmx_gets_the_fragment_and_a_plain_request_the_whole_page(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, ONE=f"{MARK}-1")
    whole = await s.admin.get(s.tab)
    part = await s.admin.get(s.tab, headers=HTMX)
    assert whole.headers["vary"] == part.headers["vary"] == "HX-Request"
    assert "<html" in whole.text
    assert "<html" not in part.text
    assert rows(whole.text) == rows(part.text)
    assert len(rows(part.text)) == 1
    assert 'hx-get="' in part.text
    assert 'hx-push-url="true"' in part.text


# -- pages ------------------------------------------------------------------------------


async def test_pages_of_fifty_follow_the_cursor_to_the_oldest(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, **{f"S{i:03}": f"{MARK}{i}" for i in range(120)})
    seen: list[str] = []
    url: str | None = s.tab
    pages = 0
    while url is not None:
        answer = await s.admin.get(url, headers=HTMX if pages % 2 else {})
        assert answer.status_code == 200
        found = rows(answer.text)
        assert found
        assert len(found) <= 50
        seen.extend(text.split(" ")[0] for _, text in found)
        if pages:
            assert "Newest events" in answer.text
        url = next_link(answer.text)
        pages += 1
    assert pages == 3
    assert seen == [f"S{i:03}" for i in reversed(range(120))]
    past_the_end = await s.admin.get(s.tab, params={"before": "1"})
    assert past_the_end.status_code == 200
    assert "No older events" in past_the_end.text


async def test_the_cursor_keeps_the_filters(web: Web) -> None:
    s = await scene(web)
    for round_ in range(60):
        await put(web, s.dev, s.admin.actor, HOT=f"{MARK}{round_}", COLD=f"{MARK}c{round_}")
    first = await s.admin.get(s.tab, params={"secret": "HOT", "actor": s.admin.actor.id})
    older = next_link(first.text)
    assert older is not None
    assert "secret=HOT" in older
    assert f"actor={s.admin.actor.id}" in older
    second = await s.admin.get(older)
    assert [t.split(" ")[0] for _, t in rows(first.text) + rows(second.text)] == ["HOT"] * 60


# -- filters ----------------------------------------------------------------------------


async def test_the_secret_filter_keeps_its_sets_deletes_and_reads(web: Web) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, A=f"{MARK}a", B=f"{MARK}b")
    await web.services.secrets.value(s.dev.id, "A", s.admin.actor, "get")
    await web.services.secrets.value(s.dev.id, "B", s.admin.actor, "get")
    await web.services.secrets.delete(s.dev.id, ["A"], s.admin.actor)
    answer = await s.admin.get(s.tab, params={"secret": "A"})
    assert answer.status_code == 200
    assert [(tone, text.split(" ")[:2]) for tone, text in rows(answer.text)] == [
        ("delete", ["A", "delete"]),
        ("read", ["A", "get"]),
        ("set", ["A", "set"]),
    ]
    assert 'value="A"' in answer.text
    assert "Clear" in answer.text
    none = await s.admin.get(s.tab, params={"secret": "NEVER_SET"})
    assert none.status_code == 200
    assert "No matching events" in none.text


async def test_the_actor_filter_offers_members_and_tokens_and_keeps_theirs(web: Web) -> None:
    s = await scene(web)
    member = await web.signed_in(name="Mia Member")
    await join(web, s.org_id, s.admin, member)
    scoped, _ = await web.services.access.create_token(
        s.project_id, s.admin.actor, name="Dev only", environment_id=s.dev.id
    )
    await web.services.access.create_token(
        s.project_id, s.admin.actor, name="Prod only", environment_id=s.prod.id
    )
    await web.services.access.revoke_token(s.project_id, scoped.id, s.admin.actor)
    await put(web, s.dev, s.admin.actor, MINE=f"{MARK}1")
    await put(web, s.dev, member.actor, THEIRS=f"{MARK}2")
    answer = await s.admin.get(s.tab)
    select = re.search(r'<select name="actor".*?</select>', answer.text, re.S)
    assert select is not None
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(0))
    assert [(value, label) for value, _, label in options] == [
        ("", "Everyone"),
        (s.admin.actor.id, "Ada Admin"),
        (member.actor.id, "Mia Member"),
        (scoped.id, "Dev only (revoked)"),  # a token of another environment is not offered
    ]
    theirs = await s.admin.get(s.tab, params={"actor": member.actor.id})
    assert [text.split(" ")[0] for _, text in rows(theirs.text)] == ["THEIRS"]
    assert f'<option value="{member.actor.id}" selected>' in theirs.text
    both = await s.admin.get(s.tab, params={"actor": member.actor.id, "secret": "MINE"})
    assert both.status_code == 200
    assert "No matching events" in both.text


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"before": "abc"}, 400, "This page link is not valid."),
        ({"before": "0"}, 400, "This page link is not valid."),
        ({"before": "-5"}, 400, "This page link is not valid."),
        ({"before": "1e3"}, 400, "This page link is not valid."),
        ({"before": "9" * 30}, 400, "This page link is not valid."),
        ({"before": "9" * 5000}, 400, "This page link is not valid."),
        ({"before": "٣"}, 400, "This page link is not valid."),  # a digit, not an ASCII one
        ({"secret": "not a name"}, 422, "Secret name must match"),
        ({"secret": "1ABC"}, 422, "Secret name must match"),
        ({"secret": "A" * 257}, 422, "Secret name must match"),
        ({"secret": "<script>alert(1)</script>"}, 422, "Secret name must match"),
        ({"actor": "01NOTANACTOR"}, 422, "Choose a user or token from the list."),
        ({"actor": "x" * 5000}, 422, "Choose a user or token from the list."),
        ({"actor": "a\x00b"}, 422, "Choose a user or token from the list."),
    ],
)
async def test_bad_cursors_and_filters_get_a_clear_4xx(
    web: Web, params: dict[str, str], status: int, message: str
) -> None:
    s = await scene(web)
    await put(web, s.dev, s.admin.actor, A=f"{MARK}a")
    for headers in ({}, HTMX):
        answer = await s.admin.get(s.tab, params=params, headers=headers)
        assert answer.status_code == status, answer.text[:500]
        assert message in unescape(answer.text)
        assert "<script>alert" not in answer.text
        assert MARK not in answer.text
        assert rows(answer.text) == []


# -- reveal -----------------------------------------------------------------------------


async def test_reveal_answers_that_one_historical_value_and_records_the_read(web: Web) -> None:
    s = await scene(web)
    [old] = await put(web, s.dev, s.admin.actor, TOKEN=f"{MARK}-old")
    [other] = await put(web, s.dev, s.admin.actor, OTHER=f"{MARK}-other")
    [new] = await put(web, s.dev, s.admin.actor, TOKEN=f"{MARK}-new")
    page = await s.admin.get(s.tab)
    assert reveal_forms(page.text) == [s.reveal(new), s.reveal(other), s.reveal(old)]
    assert MARK not in page.text
    before = await reads(web, s.dev)

    answer = await s.admin.post(s.reveal(old), headers=HTMX)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.text.count(MARK) == 1
    assert f"{MARK}-old" in answer.text
    assert answer.text.lstrip().startswith(f'<td class="log-value" id="log-value-{old}" ')
    assert "Hide value" in answer.text
    assert s.hidden(old) in unescape(answer.text)
    after = await reads(web, s.dev)
    assert after[1:] == before
    assert after[0] == (s.admin.actor.id, ["TOKEN"], "reveal")

    again = await s.admin.get(s.tab)  # the reveal shows up in the log, still valueless
    assert rows(again.text)[0][1].startswith("TOKEN reveal")
    assert MARK not in again.text


async def test_a_deleted_secrets_past_value_can_still_be_revealed(web: Web) -> None:
    s = await scene(web)
    [position] = await put(web, s.dev, s.admin.actor, GONE=f"{MARK}-gone")
    await web.services.secrets.delete(s.dev.id, ["GONE"], s.admin.actor)
    answer = await s.admin.post(s.reveal(position), headers=HTMX)
    assert answer.status_code == 200
    assert f"{MARK}-gone" in answer.text
    assert (await reads(web, s.dev))[0] == (s.admin.actor.id, ["GONE"], "reveal")


async def test_a_plain_reveal_gets_the_whole_page_with_that_value_only(web: Web) -> None:
    s = await scene(web)
    first, second = await put(web, s.dev, s.admin.actor, A=f"{MARK}-a", B=f"{MARK}-b")
    query = f"?secret=A&actor={s.admin.actor.id}"
    answer = await s.admin.post(s.reveal(first, query))
    assert answer.status_code == 200
    assert "<html" in answer.text
    assert answer.text.count(MARK) == 1
    assert f"{MARK}-a" in answer.text
    assert f"{MARK}-b" not in answer.text
    assert 'value="A"' in answer.text  # the filters carried through the post
    # the page is read after the reveal was recorded: it shows the reveal too
    assert [text.split(" ")[:2] for _, text in rows(answer.text)] == [["A", "reveal"], ["A", "set"]]
    hide = re.search(
        r'<a class="link-button" href="([^"]+)" hx-get="([^"]+)" hx-target="#log-value-',
        answer.text,
    )
    assert hide is not None
    assert unescape(hide.group(1)) == s.tab + query
    assert unescape(hide.group(2)) == s.hidden(first, query)
    assert (await reads(web, s.dev))[0] == (s.admin.actor.id, ["A"], "reveal")
    assert second > first


async def test_hide_gives_the_cell_back_without_the_value(web: Web) -> None:
    s = await scene(web)
    [position] = await put(web, s.dev, s.admin.actor, A=f"{MARK}-a")
    before = await reads(web, s.dev)
    cell = await s.admin.get(s.hidden(position, "?secret=A"), headers=HTMX)
    assert cell.status_code == 200
    assert cell.text.lstrip().startswith(f'<td class="log-value" id="log-value-{position}" ')
    assert "Reveal value" in cell.text
    assert MARK not in cell.text
    assert unescape(s.reveal(position, "?secret=A")) in unescape(cell.text)
    plain = await s.admin.get(s.hidden(position, "?secret=A"))
    assert location(plain) == s.tab + "?secret=A"
    assert await reads(web, s.dev) == before  # hiding reads nothing


async def test_a_member_may_reveal(web: Web) -> None:
    s = await scene(web)
    member = await web.signed_in(name="Mia Member")
    await join(web, s.org_id, s.admin, member)
    [position] = await put(web, s.dev, s.admin.actor, A=f"{MARK}-a")
    answer = await member.post(s.reveal(position), headers=HTMX)
    assert answer.status_code == 200
    assert f"{MARK}-a" in answer.text
    assert (await reads(web, s.dev))[0] == (member.actor.id, ["A"], "reveal")


async def test_reveal_without_the_csrf_token_is_refused_and_records_nothing(web: Web) -> None:
    s = await scene(web)
    [position] = await put(web, s.dev, s.admin.actor, A=f"{MARK}-a")
    for headers in ({}, HTMX, {"X-CSRF-Token": "forged"}):
        answer = await s.admin.post(s.reveal(position), csrf=False, headers=headers)
        assert answer.status_code == 403
        assert MARK not in answer.text
    forged = await s.admin.post(s.reveal(position), {"csrf": "forged"}, csrf=False)
    assert forged.status_code == 403
    assert MARK not in forged.text
    assert await reads(web, s.dev) == []


async def test_reveal_of_anything_but_a_set_of_this_environment_is_404(web: Web) -> None:
    s = await scene(web)
    [elsewhere] = await put(web, s.prod, s.admin.actor, P=f"{MARK}-p")
    await put(web, s.dev, s.admin.actor, A=f"{MARK}-a", B=f"{MARK}-b")
    [deleted] = await web.services.secrets.delete(s.dev.id, ["A"], s.admin.actor)
    await web.services.secrets.values(s.dev.id, s.admin.actor, "download")
    log = await web.services.audit.environment_log(s.dev, secrets_only=True)
    [read] = [e.position for e in log.events if e.type == "secrets.read"]
    before = await reads(web, s.dev)
    positions = [elsewhere, deleted.position, read, "0", "-1", "abc", "9" * 30, "1e3", "٣"]
    for position in positions:
        for url in (f"{s.tab}/{position}/reveal", f"{s.tab}/{position}/hidden"):
            method = s.admin.post if url.endswith("reveal") else s.admin.get
            answer = await method(url, headers=HTMX)
            assert answer.status_code == 404, (url, answer.status_code)
            assert MARK not in answer.text
    assert await reads(web, s.dev) == before


async def test_a_revealed_value_is_escaped(web: Web) -> None:
    s = await scene(web)
    [position] = await put(web, s.dev, s.admin.actor, HTML='<script>alert("x")</script>')
    answer = await s.admin.post(s.reveal(position), headers=HTMX)
    assert "<script>" not in answer.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in answer.text


async def test_names_are_escaped(web: Web) -> None:
    s = await scene(web, name="<b>Ada</b>")
    await put(web, s.dev, s.admin.actor, A=f"{MARK}-a")
    answer = await s.admin.get(s.tab)
    assert "<b>Ada</b>" not in answer.text
    assert "&lt;b&gt;Ada&lt;/b&gt;" in answer.text


# -- who may look -----------------------------------------------------------------------


async def test_a_member_of_another_org_gets_404_everywhere(web: Web) -> None:
    s = await scene(web)
    [position] = await put(web, s.dev, s.admin.actor, A=f"{MARK}-a")
    outsider = await web.signed_in(name="Olga Outsider")
    await org_with_project(web, outsider, org="Other Org", project="Their App")
    urls = [
        ("GET", s.tab),
        ("GET", f"/dash/projects/{s.project_id}/envs/nope/event-log"),
        ("GET", f"/dash/projects/{s.project_id}/event-log"),
        ("GET", s.hidden(position)),
        ("POST", s.reveal(position)),
    ]
    for method, url in urls:
        for headers in ({}, HTMX):
            if method == "GET":
                answer = await outsider.get(url, headers=headers)
            else:
                answer = await outsider.post(url, headers=headers)
            assert answer.status_code == 404, (method, url, answer.status_code)
            assert MARK not in answer.text
            assert "My App" not in answer.text
    unknown = await outsider.get("/dash/projects/01NOSUCHPROJECT0000000000/envs/dev/event-log")
    assert unknown.status_code == 404
    assert await reads(web, s.dev) == []


async def test_without_a_session_the_tab_sends_to_sign_in(web: Web) -> None:
    s = await scene(web)
    [position] = await put(web, s.dev, s.admin.actor, A=f"{MARK}-a")
    anonymous = web.browser()
    assert location(await anonymous.get(s.tab)).startswith("/login?redirect=")
    refused = await anonymous.post(s.reveal(position))
    assert refused.status_code == 303
    assert MARK not in refused.text
    assert await reads(web, s.dev) == []
