"""Secret references (issue 18) on the Secrets tab: the editor holds the value as stored
(references unresolved, escapes as written); a reveal says what it resolves to, or why it
cannot be resolved, and records the referenced reads; a plain row says which references it
holds, with a Resolve button that reveals it; "Copy as .env" and "Download .env" give the
resolved values.

Every test runs on SQLite and PostgreSQL (the `web` fixture).
"""

from __future__ import annotations

import re
from html import escape, unescape

import pytest

from sigillo.domain.events import SecretsRead
from sigillo.domain.formats import render as render_format
from tests.web.conftest import Web, text_of
from tests.web.test_secrets_tab import HTMX, Scene, reads, scene

pytestmark = pytest.mark.asyncio

PW = "zq-ref-web-pw"
RAW_URL = "pg://u:${prod.PW}@${HOST}/x"
RESOLVED_URL = f"pg://u:{PW}@db/x"


async def url_scene(web: Web, **extra: str) -> Scene:
    made = await scene(web, HOST="db", URL=RAW_URL, **extra)
    await web.services.secrets.set(made.prod.id, {"PW": PW}, made.admin.actor)
    return made


def note(html: str, name: str) -> str:
    """The reference note of `name`'s cell, as text ("" when there is none)."""
    found = re.search(rf'<p class="ref[^"]*" id="r-{name}"[^>]*>(.*?)</p>', html, re.S)
    return text_of(found.group(1)) if found else ""


def textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea name="v:{name}"[^>]*>\n(.*?)</textarea>', html, re.S)
    assert found, html[:500]
    return unescape(found.group(1))


async def test_reveal_shows_the_raw_value_to_edit_and_what_it_resolves_to(web: Web) -> None:
    made = await url_scene(web)
    answer = await made.admin.post(made.url("reveal"), {"name": "URL"}, headers=HTMX)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["hx-retarget"] == "#v-URL"
    assert textarea(answer.text, "URL") == RAW_URL  # the editor holds the value as stored
    assert f'<p class="ref" id="r-URL">Resolves to <code>{escape(RESOLVED_URL)}</code></p>' in (
        answer.text
    )
    assert note(answer.text, "URL") == f"Resolves to {RESOLVED_URL}"
    assert answer.headers["cache-control"] == "no-store"
    # As a plain form: the whole page, the same cell.
    page = await made.admin.post(made.url("reveal"), {"name": "URL"})
    assert page.status_code == 200
    assert "<html" in page.text
    assert textarea(page.text, "URL") == RAW_URL
    assert note(page.text, "URL") == f"Resolves to {RESOLVED_URL}"


async def test_the_resolved_value_is_escaped_in_the_note(web: Web) -> None:
    made = await scene(web, TAG="<b>&amp;</b>", REF="[${TAG}]")
    answer = await made.admin.post(made.url("reveal"), {"name": "REF"}, headers=HTMX)
    assert "<b>" not in answer.text
    assert "Resolves to <code>[&lt;b&gt;&amp;amp;&lt;/b&gt;]</code>" in answer.text


async def test_an_escape_shows_as_written_and_has_no_note(web: Web) -> None:
    made = await scene(web, LIT="a $${HOME} b")
    answer = await made.admin.post(made.url("reveal"), {"name": "LIT"}, headers=HTMX)
    assert textarea(answer.text, "LIT") == "a $${HOME} b"
    assert note(answer.text, "LIT") == ""
    # and "Copy as .env" gives what it reads as
    copy = await made.admin.post(made.url("export"), headers=HTMX)
    assert 'LIT="a ${HOME} b"' in copy.text


async def test_a_broken_reference_shows_an_alert_naming_it_never_a_value(web: Web) -> None:
    made = await scene(web, BAD=f"{PW} ${{NOPE}}", A="${B}", B=f"{PW}${{A}}")
    answer = await made.admin.post(made.url("reveal"), {"name": "BAD"}, headers=HTMX)
    assert answer.status_code == 200, answer.text[:300]
    assert '<p class="ref bad" id="r-BAD" role="alert">' in answer.text
    assert note(answer.text, "BAD") == "Cannot resolve: ${NOPE} in BAD: no such secret"
    assert textarea(answer.text, "BAD") == f"{PW} ${{NOPE}}"  # the editor still has it
    cycle = await made.admin.post(made.url("reveal"), {"name": "A"}, headers=HTMX)
    assert note(cycle.text, "A") == "Cannot resolve: reference cycle: dev.A → dev.B → dev.A"
    assert PW not in note(cycle.text, "A")
    assert PW not in cycle.text  # A's own value holds no PW; nor does the note
    # Another environment a reader cannot name is said the same way.
    await web.services.secrets.set(made.dev.id, {"ENV": "${staging.X}"}, made.admin.actor)
    gone = await made.admin.post(made.url("reveal"), {"name": "ENV"}, headers=HTMX)
    assert note(gone.text, "ENV") == (
        "Cannot resolve: ${staging.X}: no such environment, or not readable with this "
        "credential (in ENV)"
    )


async def test_show_all_resolves_each_revealed_value(web: Web) -> None:
    made = await url_scene(web, BAD="${NOPE}")
    answer = await made.admin.post(made.url("reveal-all"), headers=HTMX)
    assert answer.status_code == 200
    assert textarea(answer.text, "URL") == RAW_URL
    assert note(answer.text, "URL") == f"Resolves to {RESOLVED_URL}"
    assert note(answer.text, "BAD") == "Cannot resolve: ${NOPE} in BAD: no such secret"
    assert note(answer.text, "HOST") == ""


async def test_a_plain_row_says_what_it_refers_to_and_resolve_reveals_it(web: Web) -> None:
    made = await url_scene(web)
    await web.services.secrets.change_kinds(made.dev.id, {"URL": "plain"}, made.admin.actor)
    page = await made.admin.get(made.tab)
    assert page.status_code == 200
    assert textarea(page.text, "URL") == RAW_URL  # plain: shown, as stored
    assert note(page.text, "URL") == "Refers to ${prod.PW}, ${HOST} Resolve"
    assert (
        '<button form="s-rv" name="name" value="URL" class="link-button">Resolve</button>'
        in page.text
    )
    assert PW not in page.text  # not resolved until asked
    assert await reads(web, made.prod) == []
    # The s-rv form posts to the reveal route.
    assert re.search(rf'<form id="s-rv" method="post" action="{made.tab}/reveal"', page.text)
    resolved = await made.admin.post(made.url("reveal"), {"name": "URL"}, headers=HTMX)
    assert resolved.status_code == 200
    assert note(resolved.text, "URL") == f"Resolves to {RESOLVED_URL}"
    assert textarea(resolved.text, "URL") == RAW_URL
    assert [read for _, read in await reads(web, made.prod)] == [
        SecretsRead(made.prod.id, ["PW"], "reveal")
    ]


async def test_a_plain_row_with_a_malformed_value_says_so(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await scene(web)
    with monkeypatch.context() as patched:  # written before writes were checked
        patched.setattr("sigillo.services.secrets.template", lambda _value: False)
        await web.services.secrets.set(
            made.dev.id, {"ODD": "${a b}"}, made.admin.actor, {"ODD": "plain"}
        )
    page = await made.admin.get(made.tab)
    assert note(page.text, "ODD").startswith("Not a reference: holds ${a b}")
    assert "write $${ for a literal ${" in note(page.text, "ODD")


async def test_copy_and_download_give_resolved_values(web: Web) -> None:
    made = await url_scene(web, LIT="$${HOME}")
    expected = render_format(
        "env", [("HOST", "db"), ("URL", RESOLVED_URL), ("LIT", "${HOME}")]
    ).body
    download = await made.admin.post(made.url("download"))
    assert download.status_code == 200
    assert download.content == expected
    assert download.headers["content-disposition"] == 'attachment; filename=".env.dev"'
    copy = await made.admin.post(made.url("export"), headers=HTMX)
    assert copy.status_code == 200
    assert copy.content == expected
    assert (
        await reads(web, made.prod)
        == [(made.admin.actor, SecretsRead(made.prod.id, ["PW"], "download"))] * 2
    )


async def test_copy_of_a_broken_reference_is_refused_naming_it(web: Web) -> None:
    made = await scene(web, BAD=f"{PW} ${{prod.NOPE}}")
    for action in ("export", "download"):
        answer = await made.admin.post(made.url(action), headers=HTMX)
        assert answer.status_code == 409, (action, answer.status_code)
        assert PW not in answer.text
        assert "${prod.NOPE} in BAD: no such secret" in unescape(answer.text)


async def test_a_reveal_records_the_referenced_reads(web: Web) -> None:
    made = await url_scene(web)
    await made.admin.post(made.url("reveal"), {"name": "URL"}, headers=HTMX)
    assert await reads(web, made.prod) == [
        (made.admin.actor, SecretsRead(made.prod.id, ["PW"], "reveal"))
    ]
    assert await reads(web, made.dev) == [
        (made.admin.actor, SecretsRead(made.dev.id, ["URL"], "reveal")),
        (made.admin.actor, SecretsRead(made.dev.id, ["HOST"], "reveal")),
    ]
    # A reveal of a value without references reads nothing else.
    await made.admin.post(made.url("reveal"), {"name": "HOST"}, headers=HTMX)
    assert len(await reads(web, made.prod)) == 1
    # The event log of prod shows who read PW.
    log = await made.admin.get(made.url("event-log", slug="prod"))
    assert log.status_code == 200
    assert "reveal" in text_of(log.text)


async def test_a_member_of_another_org_cannot_resolve_into_it(web: Web) -> None:
    made = await url_scene(web)
    other_admin = await web.signed_in(name="Olga Other")
    other = await web.services.catalog.create_org("Other", other_admin.actor)
    theirs = await web.services.catalog.create_project(other.id, "Vault", other_admin.actor)
    [their_dev, *_] = await web.services.catalog.environments(theirs.id)
    await web.services.secrets.set(their_dev.id, {"KEY": PW}, other_admin.actor)
    await web.services.secrets.set(made.dev.id, {"STEAL": "${Vault.dev.KEY}"}, made.admin.actor)
    answer = await made.admin.post(made.url("reveal"), {"name": "STEAL"}, headers=HTMX)
    assert note(answer.text, "STEAL") == (
        "Cannot resolve: ${Vault.dev.KEY}: no such project, or not readable with this "
        "credential (in STEAL)"
    )
    assert PW not in answer.text
    assert await reads(web, their_dev) == []


async def test_saving_a_malformed_reference_from_the_editor_says_how_to_escape_it(
    web: Web,
) -> None:
    made = await scene(web, A="a")
    form = {"k:A": "A", "v:A": f"{PW} ${{HOME:-/root}}"}
    answer = await made.admin.post(made.url("save"), form, headers=HTMX)
    assert answer.status_code == 422, answer.text[:300]
    said = text_of(unescape(answer.text))
    assert "${HOME:-/root}" in said
    assert "write $${ for a literal ${" in said
    assert PW not in answer.text
    live = {
        row.name: web.services.secrets.open(row)
        for row in await web.services.secrets.current(made.dev.id)
    }
    assert live == {"A": "a"}
    saved = await made.admin.post(
        made.url("save"), {"k:A": "A", "v:A": "$${HOME:-/root}"}, headers=HTMX
    )
    assert saved.status_code == 200
    copy = await made.admin.post(made.url("export"), headers=HTMX)
    assert copy.content == render_format("env", [("A", "${HOME:-/root}")]).body


async def test_values_set_before_the_upgrade_have_no_note_and_read_literally(web: Web) -> None:
    made = await scene(web, OLD="${HOME}", OTHER="o", NAMED="${OTHER}")
    await web.services.secrets.change_kinds(
        made.dev.id, {"OLD": "plain", "NAMED": "plain"}, made.admin.actor
    )
    rows = await web.services.secrets.current(made.dev.id)
    # As after the upgrade of a database holding these: they were set before `since`.
    web.services.references.since = max(row.updated_at for row in rows) + 1
    page = await made.admin.get(made.tab)
    assert textarea(page.text, "OLD") == "${HOME}"
    assert note(page.text, "OLD") == ""
    assert note(page.text, "NAMED") == ""
    answer = await made.admin.post(made.url("reveal"), {"name": "NAMED"}, headers=HTMX)
    assert note(answer.text, "NAMED") == ""
    copy = await made.admin.post(made.url("export"), headers=HTMX)
    assert (
        copy.content
        == render_format("env", [("OLD", "${HOME}"), ("OTHER", "o"), ("NAMED", "${OTHER}")]).body
    )


async def test_a_reference_to_a_malformed_value_is_an_alert_not_an_error_page(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await scene(web, URL="${prod.BAD}", OK="fine")
    with monkeypatch.context() as patched:  # written by other means than the checked writes
        patched.setattr("sigillo.services.secrets.template", lambda _value: False)
        await web.services.secrets.set(made.prod.id, {"BAD": f"{PW} ${{a b}}"}, made.admin.actor)
        await web.services.secrets.set(
            made.dev.id, {"ODD": "${a b}", "VIA": "<${ODD}>"}, made.admin.actor
        )
    answer = await made.admin.post(made.url("reveal"), {"name": "URL"}, headers=HTMX)
    assert answer.status_code == 200, answer.text[:500]
    assert note(answer.text, "URL").startswith(
        "Cannot resolve: ${prod.BAD} in URL: BAD: holds ${a b}, which is not a reference"
    )
    assert PW not in answer.text
    # Show all: each value its own note; one malformed value is never read as text by another.
    every = await made.admin.post(made.url("reveal-all"), headers=HTMX)
    assert every.status_code == 200, every.text[:500]
    assert note(every.text, "OK") == ""
    assert note(every.text, "ODD").startswith("Cannot resolve: ODD: holds ${a b}")
    assert note(every.text, "VIA").startswith("Cannot resolve: ${ODD} in VIA: ODD: holds ${a b}")
