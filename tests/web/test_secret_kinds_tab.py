"""Secret kinds on the Secrets tab [D18]: the kind button of each row, plain values shown in
the table without a reveal (and without a recorded read), the bulk "Mark as plain/secret"
on selected rows, the kind of new rows on Save, the .env import's proposals, and the kind
changes in the Event Log.

Every test runs on SQLite and PostgreSQL (the `web` fixture), over HTTP as a browser drives
the tab: with htmx (`HX-Request`) and as plain forms. Secret values contain SECRET and no
answer may hold one; plain values contain CONFIG and must be in the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sigillo.domain.events import SecretKindChanged, SecretSet, SecretsRead
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.web.tabs.secrets_kinds import MAX_NAMES
from sigillo.web.tabs.secrets_rows import kind_cells, live_rows
from tests.web.conftest import Browser, Web, join, location, org_with_project, text_of
from tests.web.test_event_log_tab import RESTORE_CELL

pytestmark = pytest.mark.asyncio

SECRET = "zq-kinds-secret-marker"
CONFIG = "zq-kinds-config-value"
HTMX = {"HX-Request": "true"}
KIND_RULE = 'must be "secret" or "plain"'
NAME_RULE = "must match ^[A-Za-z_][A-Za-z0-9_]*$ (at most 256 characters)"


@dataclass
class Scene:
    admin: Browser
    org_id: str
    project_id: str
    dev: EnvironmentRow
    prod: EnvironmentRow

    @property
    def tab(self) -> str:
        return f"/dash/projects/{self.project_id}/envs/dev"

    def url(self, action: str = "") -> str:
        return f"{self.tab}/{action}" if action else self.tab

    @property
    def log(self) -> str:
        return f"{self.tab}/event-log"


async def scene(web: Web, plain: dict[str, str] | None = None, **secrets: str) -> Scene:
    """An org with a project; `secrets` set in dev as secrets, `plain` set and marked plain."""
    admin = await web.signed_in(name="Ada Admin")
    org_id, project_id = await org_with_project(web, admin)
    envs = {e.slug: e for e in await web.services.catalog.environments(project_id)}
    made = Scene(admin, org_id, project_id, envs["dev"], envs["prod"])
    values = {**secrets, **(plain or {})}
    if values:
        kinds = dict.fromkeys(plain or {}, "plain")
        await web.services.secrets.set(made.dev.id, values, admin.actor, kinds)
    return made


async def kinds(web: Web, env: EnvironmentRow) -> dict[str, str]:
    return {row.name: row.kind for row in await web.services.secrets.current(env.id)}


async def changes(web: Web, env: EnvironmentRow) -> list[tuple[str, str, str, str]]:
    """The environment's kind changes, oldest first: (actor id, name, kind, previous)."""
    found = []
    for recorded in await web.services.store.read_stream(environment_stream(env.id)):
        if isinstance(recorded.event, SecretKindChanged):
            event = recorded.event
            found.append((recorded.actor.id, event.name, event.kind, event.previous))
    return found


async def reads(web: Web, env: EnvironmentRow) -> list[SecretsRead]:
    found = []
    for recorded in await web.services.store.read_stream(reads_stream(env.id)):
        assert isinstance(recorded.event, SecretsRead)
        found.append(recorded.event)
    return found


async def post(
    browser: Browser, url: str, form: dict[str, Any], *, htmx: bool = True, csrf: bool = True
) -> httpx.Response:
    """A form post with repeated fields (`{"sel": ["A", "B"]}`)."""
    data = {**form, "csrf": browser.csrf} if csrf else form
    return await browser.client.post(url, data=data, headers=HTMX if htmx else {})


def no_secret(response: httpx.Response) -> None:
    assert SECRET not in response.text, response.text[:300]


def cell(html: str, name: str) -> str:
    """The value cell of `name` in a page or answer."""
    found = re.search(rf'<td id="v-{name}"[^>]*>.*?</td>', html, re.S)
    assert found, f"no cell for {name}"
    return found.group(0)


# -- the table ------------------------------------------------------------------------------------


async def test_plain_values_are_in_the_table_and_secrets_stay_masked(web: Web) -> None:
    made = await scene(web, {"PORT": f"{CONFIG}-port"}, API_KEY=f"{SECRET}-1", EMPTY="")
    for headers in ({}, HTMX):
        page = await made.admin.get(made.tab, headers=headers)
        assert page.status_code == 200
        no_secret(page)
        port = cell(page.text, "PORT")
        assert port.startswith('<td id="v-PORT" class="pl">')
        assert 'name="secret" value="PORT" aria-pressed="true" aria-label="Plain: PORT"' in port
        assert f'<textarea name="v:PORT" rows="1" aria-label="Value of PORT">\n{CONFIG}-port' in (
            port
        )
        assert "Hide value" not in port  # nothing to hide: plain values are not revealed
        key = cell(page.text, "API_KEY")
        toggle = 'name="plain" value="API_KEY" aria-pressed="false" aria-label="Plain: API_KEY"'
        assert toggle in key
        assert 'aria-label="Reveal value of API_KEY"></button>' in key  # masked
        assert 'form="s-rv" name="name" value="API_KEY"' in key
        assert 'value="EMPTY" class="empty"' in cell(page.text, "EMPTY")
        assert f'<form id="s-kd" method="post" action="{made.url("kinds")}"' in page.text
        assert 'name="sel"' not in page.text  # the selection boxes come from secret_kinds.js
    assert await reads(web, made.dev) == []  # a plain value shown is not a read


async def test_select_mode_renders_the_selection_boxes_for_browsers_without_scripts(
    web: Web,
) -> None:
    made = await scene(web, {"PORT": CONFIG}, API_KEY=f"{SECRET}-1")
    page = await made.admin.get(made.tab + "?select=1")
    assert page.status_code == 200
    for name in ("PORT", "API_KEY"):
        box = f'<input type="checkbox" form="s-kd" name="sel" value="{name}"'
        assert f'{box} aria-label="Select {name}"><input name="k:{name}"' in page.text
    assert "?select=1" not in page.text  # the "Select rows" link is for the normal page
    refused = await post(made.admin, made.url("kinds"), {"mark": "plain"}, htmx=False)
    assert refused.status_code == 422
    assert 'name="sel" value="PORT"' in refused.text  # the boxes again, to choose some
    normal = await made.admin.get(made.tab)
    assert f'<noscript><a class="button secondary small" href="{made.tab}?select=1">' in (
        normal.text
    )
    no_secret(page)


# -- the kind button ------------------------------------------------------------------------------


async def test_the_kind_button_marks_plain_and_back_each_time_an_event(web: Web) -> None:
    made = await scene(web, PORT=f"{CONFIG}-3000", API_KEY=f"{SECRET}-1")
    answer = await post(made.admin, made.url("kinds"), {"plain": "PORT"})
    assert answer.status_code == 200
    assert "<html" not in answer.text
    no_secret(answer)
    assert answer.text.lstrip().startswith('<template><td id="v-PORT" class="pl" hx-swap-oob')
    assert 'name="secret" value="PORT" aria-pressed="true"' in answer.text
    assert f"{CONFIG}-3000" in answer.text
    assert "API_KEY" not in answer.text  # only the cells of the names asked for
    assert '<div id="secrets-status" hx-swap-oob="innerHTML">' in answer.text
    assert "Marked 1 secret as plain." in text_of(answer.text)
    assert await kinds(web, made.dev) == {"PORT": "plain", "API_KEY": "secret"}
    assert await changes(web, made.dev) == [(made.admin.actor.id, "PORT", "plain", "secret")]
    assert await reads(web, made.dev) == []  # showing the plain value read nothing

    page = await made.admin.get(made.tab)
    assert f"{CONFIG}-3000" in cell(page.text, "PORT")

    back = await post(made.admin, made.url("kinds"), {"secret": "PORT"})
    assert back.status_code == 200
    port = cell(back.text, "PORT")
    assert 'name="plain" value="PORT" aria-pressed="false"' in port
    assert 'aria-label="Reveal value of PORT"></button>' in port  # masked again
    assert CONFIG not in back.text  # a secret again: masked
    assert "Marked 1 secret as secret." in text_of(back.text)
    assert await changes(web, made.dev) == [
        (made.admin.actor.id, "PORT", "plain", "secret"),
        (made.admin.actor.id, "PORT", "secret", "plain"),
    ]
    again = await post(made.admin, made.url("kinds"), {"secret": "PORT"})
    assert "Nothing changed: already secret." in text_of(again.text)
    assert len(await changes(web, made.dev)) == 2  # no event for a name that has its kind
    assert await web.services.secrets.value(made.dev.id, "PORT", made.admin.actor, "get") == (
        f"{CONFIG}-3000"
    )  # the value never changed


async def test_the_kind_button_as_a_plain_form(web: Web) -> None:
    made = await scene(web, PORT=CONFIG)
    answer = await post(made.admin, made.url("kinds"), {"plain": "PORT"}, htmx=False)
    target = location(answer)
    assert urlsplit(target).path == made.tab
    assert parse_qs(urlsplit(target).query) == {"done": ["marked"], "n": ["1"], "k": ["plain"]}
    page = await made.admin.get(target)
    assert "Marked 1 secret as plain." in text_of(page.text)
    assert CONFIG in cell(page.text, "PORT")
    assert await kinds(web, made.dev) == {"PORT": "plain"}


async def test_the_event_log_shows_kind_changes_and_filters_them_by_secret(web: Web) -> None:
    made = await scene(web, PORT=CONFIG, API_KEY=f"{SECRET}-1")
    member = await web.signed_in(name="Max Member")
    await join(web, made.org_id, made.admin, member)
    assert (await post(member, made.url("kinds"), {"plain": "PORT"})).status_code == 200
    assert (await post(made.admin, made.url("kinds"), {"plain": "API_KEY"})).status_code == 200
    assert (await post(made.admin, made.url("kinds"), {"secret": "API_KEY"})).status_code == 200
    log = await made.admin.get(made.log)
    assert log.status_code == 200
    assert SECRET not in log.text
    assert CONFIG not in log.text
    lines = [
        text_of(RESTORE_CELL.sub("", row))  # without the Restore buttons' cell
        for row in re.findall(r'<tr class="log-row tone-kind">(.*?)</tr>', log.text, re.S)
    ]
    assert len(lines) == 3
    assert lines[0].startswith("API_KEY marked secret (was plain) —")
    assert lines[1].startswith("API_KEY marked plain (was secret) —")
    assert lines[2].startswith("PORT marked plain (was secret) —")
    assert lines[2].endswith("Max Member")
    assert "Reveal value" not in "".join(lines)  # a kind change has no value to reveal
    filtered = await made.admin.get(made.log + "?secret=PORT")
    kinds_shown = re.findall(r'tone-kind">(.*?)</tr>', filtered.text, re.S)
    assert [text_of(row).split(" —")[0] for row in kinds_shown] == [
        "PORT marked plain (was secret)"
    ]
    assert "API_KEY" not in text_of(filtered.text)


# -- bulk -----------------------------------------------------------------------------------------


async def test_bulk_marks_the_selected_rows(web: Web) -> None:
    made = await scene(web, A=f"{CONFIG}-a", B=f"{CONFIG}-b", C=f"{SECRET}-c")
    answer = await post(made.admin, made.url("kinds"), {"mark": "plain", "sel": ["A", "B"]})
    assert answer.status_code == 200
    no_secret(answer)
    assert "Marked 2 secrets as plain." in text_of(answer.text)
    for name in ("A", "B"):
        assert f"{CONFIG}-{name.lower()}" in cell(answer.text, name)
    assert await kinds(web, made.dev) == {"A": "plain", "B": "plain", "C": "secret"}
    # A row's own button ignores the ticked rows, and a name already plain is no event.
    own = await post(made.admin, made.url("kinds"), {"secret": "A", "sel": ["B", "C"]})
    assert "Marked 1 secret as secret." in text_of(own.text)
    assert await kinds(web, made.dev) == {"A": "secret", "B": "plain", "C": "secret"}
    plain = await post(
        made.admin, made.url("kinds"), {"mark": "secret", "sel": ["A", "B", "C"]}, htmx=False
    )
    query = parse_qs(urlsplit(location(plain)).query)
    assert query == {"done": ["marked"], "n": ["1"], "k": ["secret"]}
    assert await kinds(web, made.dev) == {"A": "secret", "B": "secret", "C": "secret"}
    assert len(await changes(web, made.dev)) == 4
    assert await reads(web, made.dev) == []


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({}, 422, "Nothing to change: choose a secret first."),
        ({"mark": "plain"}, 422, "Select the secrets to mark first."),
        ({"mark": "public", "sel": "A"}, 422, f"Kind {KIND_RULE}."),
        ({"mark": ["plain", "secret"], "sel": "A"}, 422, f"Kind {KIND_RULE}."),
        ({"mark": "x" * 100_000, "sel": "A"}, 422, f"Kind {KIND_RULE}."),
        ({"plain": "not a name"}, 422, f'Invalid key "not a name": name {NAME_RULE}.'),
        ({"plain": "A" * 100_000}, 422, f"name {NAME_RULE}."),
        ({"sel": "A;B", "mark": "plain"}, 422, f'Invalid key "A;B": name {NAME_RULE}.'),
        ({"plain": "A", "secret": "A"}, 422, '"A" cannot be marked both secret and plain.'),
        ({"plain": "NOPE"}, 409, '"NOPE" is no longer set in this environment.'),
        ({"plain": ["A"] * (MAX_NAMES + 1)}, 413, f"At most {MAX_NAMES} secrets"),
    ],
)
async def test_refusals_change_nothing(
    web: Web, form: dict[str, Any], status: int, message: str
) -> None:
    made = await scene(web, A=f"{SECRET}-a")
    answer = await post(made.admin, made.url("kinds"), form)
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["hx-retarget"] == "#secrets-status"
    assert message in unescape(answer.text)
    assert len(answer.content) < 2_000  # nothing submitted comes back whole
    plain = await post(made.admin, made.url("kinds"), form, htmx=False)
    assert plain.status_code == status
    assert message in unescape(plain.text)
    no_secret(plain)
    assert await changes(web, made.dev) == []


async def test_another_orgs_member_gets_404_and_a_forged_post_403(web: Web) -> None:
    made = await scene(web, A=f"{SECRET}-a")
    stranger = await web.signed_in(name="Eve Elsewhere")
    await web.services.catalog.create_org("Other Org", stranger.actor)
    for htmx in (True, False):
        answer = await post(stranger, made.url("kinds"), {"plain": "A"}, htmx=htmx)
        assert answer.status_code == 404
        no_secret(answer)
    for form in ({"plain": "A"}, {"plain": "A", "csrf": "forged"}):
        forged = await post(made.admin, made.url("kinds"), form, csrf=False)
        assert forged.status_code == 403
    anonymous = web.browser()
    assert location(await anonymous.post(made.url("kinds"), {"plain": "A"})).startswith("/login")
    assert await changes(web, made.dev) == []


# -- Save, Show all, reveal -----------------------------------------------------------------------


async def test_a_new_row_chooses_its_kind_and_save_passes_it_on(web: Web) -> None:
    made = await scene(web, A=f"{SECRET}-a")
    page = await made.admin.get(made.tab + "?add=1")
    assert '<input type="checkbox" name="np0" value="plain">' in page.text  # unticked
    form = {
        "nk0": "PORT",
        "nv0": "3000",
        "np0": "plain",
        "nk1": "TOKEN",
        "nv1": f"{SECRET}-t",
        "env": made.prod.id,
    }
    answer = await post(made.admin, made.url("save"), form)
    assert answer.status_code == 200
    no_secret(answer)
    assert "3000" in cell(answer.text, "PORT")
    assert await kinds(web, made.dev) == {"A": "secret", "PORT": "plain", "TOKEN": "secret"}
    assert await kinds(web, made.prod) == {"PORT": "plain", "TOKEN": "secret"}
    bad = await post(made.admin, made.url("save"), {"nk0": "X", "nv0": "1", "np0": "public"})
    assert bad.status_code == 422
    assert f'The kind of "X" {KIND_RULE}.' in unescape(bad.text)
    huge = await post(made.admin, made.url("save"), {"nk0": "X", "nv0": "1", "np0": "p" * 99_999})
    assert huge.status_code == 422
    assert "p" * 1000 not in huge.text
    assert "X" not in await kinds(web, made.dev)


async def test_a_plain_value_sent_back_unchanged_is_not_written_again(web: Web) -> None:
    made = await scene(web, {"PORT": "3000\nsecond line", "HOST": "localhost"})
    before = await web.services.store.read_stream(environment_stream(made.dev.id))
    # A browser without scripts sends every field of the table, as it is.
    same = {
        "k:PORT": "PORT",
        "v:PORT": "3000\r\nsecond line",
        "k:HOST": "HOST",
        "v:HOST": "localhost",
    }
    answer = await post(made.admin, made.url("save"), same, htmx=False)
    assert answer.status_code == 422
    assert "Nothing to save" in text_of(answer.text)
    assert await web.services.store.read_stream(environment_stream(made.dev.id)) == before
    edited = await post(made.admin, made.url("save"), {**same, "v:HOST": "example.org"})
    assert edited.status_code == 200
    after = await web.services.store.read_stream(environment_stream(made.dev.id))
    assert [e.event.name for e in after[len(before) :] if isinstance(e.event, SecretSet)] == [
        "HOST"
    ]
    assert "Saved 1 secret to 1 environment." in text_of(edited.text)
    assert await kinds(web, made.dev) == {"PORT": "plain", "HOST": "plain"}  # a set keeps it


async def test_a_rename_keeps_the_kind(web: Web) -> None:
    made = await scene(web, {"PORT": "3000"})
    answer = await post(made.admin, made.url("save"), {"k:PORT": "APP_PORT"})
    assert answer.status_code == 200
    assert await kinds(web, made.dev) == {"APP_PORT": "plain"}


async def test_show_all_reveals_only_secrets_and_reads_only_those(web: Web) -> None:
    made = await scene(web, {"PORT": CONFIG}, A=f"{SECRET}-a", B=f"{SECRET}-b")
    answer = await post(made.admin, made.url("reveal-all"), {})
    assert answer.status_code == 200
    assert f"{SECRET}-a" in answer.text
    assert f"{SECRET}-b" in answer.text
    assert "v-PORT" not in answer.text
    assert sorted(read.names[0] for read in await reads(web, made.dev)) == ["A", "B"]
    revealed = await post(made.admin, made.url("reveal"), {"name": "A"})
    assert 'name="plain" value="A" aria-pressed="false"' in revealed.text  # still a secret
    assert "Hide value" in revealed.text


# -- import ---------------------------------------------------------------------------------------

ENV_FILE = (
    "PORT=3000\n"
    "NODE_ENV=production\n"
    "DEBUG=true\n"
    "LOG_LEVEL=info\n"
    "API_URL=https://zq-kinds-config.example.com\n"
    f"API_KEY={SECRET}-key\n"
    "PIN=1234\n"
    f"DB_URL=https://user:{SECRET}@db.example.com\n"
    "BIG_NUMBER=123456\n"
)
ENV_FILE_NAMES = [line.split("=", 1)[0] for line in ENV_FILE.splitlines()]
PROPOSED = {"PORT": "a number", "NODE_ENV": "an environment name", "DEBUG": "true or false"}
PROPOSED |= {"LOG_LEVEL": "a log level", "API_URL": "a URL without credentials"}


def boxes(html: str) -> dict[str, bool]:
    """The "plain" boxes of an import preview: name -> ticked."""
    found = re.findall(r'<input type="checkbox" name="plain" value="(\w+)"([^>]*)>', html)
    return {name: " checked" in rest for name, rest in found}


async def test_the_import_preview_proposes_plain_and_only_chosen_names_become_plain(
    web: Web,
) -> None:
    made = await scene(web)
    preview = await post(made.admin, made.url("import/preview"), {"text": ENV_FILE})
    assert preview.status_code == 200
    no_secret(preview)
    assert "zq-kinds-config" not in preview.text  # proposed values are not shown either
    assert "3000" not in preview.text
    ticked = boxes(preview.text)
    assert ticked == {name: name in PROPOSED for name in ENV_FILE_NAMES}
    text = text_of(unescape(preview.text))
    for name, reason in PROPOSED.items():
        assert f"{name} plain · looks like {reason}" in text
    assert "untick any that is a secret" in text
    assert await changes(web, made.dev) == []  # a preview changes nothing

    # The person unticks NODE_ENV, DEBUG and LOG_LEVEL and ticks BIG_NUMBER.
    chosen = ["PORT", "API_URL", "BIG_NUMBER"]
    applied = await post(made.admin, made.url("import"), {"text": ENV_FILE, "plain": chosen})
    assert applied.status_code == 200
    no_secret(applied)
    assert await kinds(web, made.dev) == {
        name: "plain" if name in chosen else "secret" for name in ENV_FILE_NAMES
    }
    assert sorted(name for _, name, _, _ in await changes(web, made.dev)) == sorted(chosen)


async def test_without_a_ticked_box_nothing_becomes_plain(web: Web) -> None:
    made = await scene(web)
    plain = await post(made.admin, made.url("import"), {"text": ENV_FILE}, htmx=False)
    assert location(plain).startswith(made.tab)
    assert set((await kinds(web, made.dev)).values()) == {"secret"}
    assert await changes(web, made.dev) == []


async def test_import_keeps_or_changes_the_kind_of_changed_keys_as_the_boxes_say(web: Web) -> None:
    made = await scene(web, {"PORT": "1000", "HOST": "a.example"}, TIMEOUT="30")
    text = "PORT=2000\nHOST=b.example\nTIMEOUT=60\n"
    preview = await post(made.admin, made.url("import/preview"), {"text": text})
    # Plain already: ticked. A secret whose new value looks like configuration: a hint only.
    assert boxes(preview.text) == {"PORT": True, "HOST": True, "TIMEOUT": False}
    assert "TIMEOUT plain · looks like a number" in text_of(preview.text)
    applied = await post(made.admin, made.url("import"), {"text": text, "plain": ["PORT"]})
    assert applied.status_code == 200
    assert await kinds(web, made.dev) == {"PORT": "plain", "HOST": "secret", "TIMEOUT": "secret"}


@pytest.mark.parametrize(
    ("plain", "message"),
    [
        ("OTHER", '"OTHER" is not among the keys this import writes: preview again.'),
        ("bad name", f'Invalid key "bad name": name {NAME_RULE}.'),
        ("x" * 100_000, f"name {NAME_RULE}."),
    ],
)
async def test_a_box_for_a_key_not_written_is_refused(web: Web, plain: str, message: str) -> None:
    made = await scene(web, SAME="1")
    answer = await post(made.admin, made.url("import"), {"text": "A=1\nSAME=1", "plain": plain})
    assert answer.status_code == 422
    assert answer.headers["hx-retarget"] == "#import-preview"
    assert message in unescape(answer.text)
    assert len(answer.content) < 5_000
    assert await kinds(web, made.dev) == {"SAME": "secret"}
    same = await post(made.admin, made.url("import"), {"text": "A=1\nSAME=1", "plain": "SAME"})
    assert same.status_code == 422  # unchanged keys are not written: no kind for them


# -- markup ---------------------------------------------------------------------------------------


async def test_plain_values_are_escaped(web: Web) -> None:
    made = await scene(web, {"EVIL": '</textarea><script>alert("x")</script>&'})
    page = await made.admin.get(made.tab)
    assert "<script>alert" not in page.text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in page.text
    rows = await web.services.secrets.current(made.dev.id)
    html = live_rows(
        rows, url="/u", empty=(), saved=(), revealed={}, now_ms=0, plain={"EVIL": "<b>"}
    )
    assert "<b>" not in html
    assert "&lt;b&gt;" in html
    cells = kind_cells(rows, {"EVIL": "<i>"}, (), "/u")
    assert cells.startswith("<template>")
    assert "&lt;i&gt;" in cells
    assert "<i>" not in cells
