"""The Environments tab (behaviour.md 14.5): the table, inline renames, adding, deleting.

HTTP level, on SQLite and PostgreSQL: plain form posts (303 back, or the page with the
message) and htmx posts (the fragment), members against admins, strangers, forged and
malformed requests.
"""

from __future__ import annotations

import json
import re
from html import escape

import pytest

from sigillo.web.tabs.environments import PALETTE, dot_colour
from tests.web.conftest import Browser, Web, join, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio

HTMX = {"HX-Request": "true"}


def url(project_id: str, rest: str = "") -> str:
    return f"/dash/projects/{project_id}/environments{rest}"


async def envs(web: Web, project_id: str) -> dict[str, str]:
    """slug -> name, as stored."""
    return {e.slug: e.name for e in await web.services.catalog.environments(project_id)}


async def env_id(web: Web, project_id: str, slug: str) -> str:
    found = await web.services.catalog.environments(project_id)
    return next(e.id for e in found if e.slug == slug)


async def scene(web: Web) -> tuple[Browser, Browser, str]:
    """An admin and a member of one org with one project (Dev, Preview, Prod)."""
    admin = await web.signed_in(name="Ada Admin")
    member = await web.signed_in(name="Mo Member")
    org_id, project_id = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    return admin, member, project_id


# -- the dot colours ----------------------------------------------------------------------


def js_hash(slug: str) -> int:
    """The reference's JavaScript, transcribed: h = (h * 31 + charCodeAt(i)) >>> 0."""
    h = 0
    for ch in slug.lower():
        h = (h * 31 + ord(ch)) & 0xFFFFFFFF
    return h


async def test_well_known_environments_have_their_colours() -> None:
    assert dot_colour("Dev", "dev") == "green"
    assert dot_colour("Anything", "development") == "green"
    assert dot_colour("Preview", "preview") == "amber"
    assert dot_colour("Staging", "stage-1") == "amber"  # by the lower-cased name
    assert dot_colour("Prod", "prod") == "emerald"
    assert dot_colour("PRODUCTION", "live") == "emerald"


@pytest.mark.parametrize("slug", ["qa", "sandbox", "eu-west-1", "x", "review-42", "z" * 63])
async def test_other_environments_take_a_colour_from_the_rolling_hash(slug: str) -> None:
    assert dot_colour("Some name", slug) == PALETTE[js_hash(slug) % 8]


# -- the table ----------------------------------------------------------------------------


async def test_the_table_shows_every_environment_with_dot_slug_and_times(web: Web) -> None:
    admin, _, project_id = await scene(web)
    page = await admin.get(url(project_id))
    assert page.status_code == 200
    html = page.text
    for header in ("Environment", "Slug", "Last Updated", "Created"):
        assert f">{header}</th>" in html
    assert html.count('class="env-dot dot-green"') == 1
    assert html.count('class="env-dot dot-amber"') == 1
    assert html.count('class="env-dot dot-emerald"') == 1
    for slug, name in (await envs(web, project_id)).items():
        assert f'value="{name}"' in html
        assert f'value="{slug}"' in html
    assert html.count("<time datetime=") == 6
    assert "+ Add Environment" in html
    assert 'placeholder="Environment name"' in html
    assert 'placeholder="slug"' in html
    confirm = 'Delete environment "Dev"? All secrets in this environment will be lost.'
    assert f'data-confirm="{escape(confirm)}"' in html


async def test_a_member_sees_the_table_without_delete_buttons(web: Web) -> None:
    _, member, project_id = await scene(web)
    html = (await member.get(url(project_id))).text
    assert "Delete environment" not in html
    assert "/delete" not in html
    assert "+ Add Environment" in html
    assert "data-inline-edit" in html


async def test_a_project_without_environments_says_what_to_do(web: Web) -> None:
    admin, _, project_id = await scene(web)
    for found in await web.services.catalog.environments(project_id):
        await web.services.catalog.delete_environment(project_id, found.id, admin.actor)
    html = (await admin.get(url(project_id))).text
    assert "No environments yet. Add one below." in html
    assert '<details class="admin-add" id="add-environment" open>' in html


async def test_names_are_escaped(web: Web) -> None:
    admin, _, project_id = await scene(web)
    await web.services.catalog.create_environment(
        project_id, '<script>alert("x")</script>', "xss", admin.actor
    )
    html = (await admin.get(url(project_id))).text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


# -- adding -------------------------------------------------------------------------------


async def test_a_member_adds_an_environment_with_a_plain_form(web: Web) -> None:
    _, member, project_id = await scene(web)
    answer = await member.post(url(project_id), {"name": " QA ", "slug": " qa "})
    assert location(answer) == url(project_id)
    assert (await envs(web, project_id))["qa"] == "QA"


async def test_adding_through_htmx_answers_the_table(web: Web) -> None:
    admin, _, project_id = await scene(web)
    answer = await admin.post(url(project_id), {"name": "Staging", "slug": "staging"}, headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="environments"')
    assert "<html" not in answer.text
    assert 'value="staging"' in answer.text
    assert answer.headers["vary"] == "HX-Request"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "", "slug": "qa"}, "Name and slug are required"),
        ({"name": "QA", "slug": "   "}, "Name and slug are required"),
        ({}, "Name and slug are required"),
        ({"name": "QA", "slug": "Not A Slug"}, "Slug must be lowercase letters"),
        ({"name": "QA", "slug": "-qa"}, "Slug must be lowercase letters"),
        ({"name": "QA", "slug": "q" * 64}, "Slug must be lowercase letters"),
        ({"name": "x" * 101, "slug": "qa"}, "Name must be 1-100 characters"),
        ({"name": "bad\x01name", "slug": "qa"}, "Name must be 1-100 characters"),
        ({"name": "Dev again", "slug": "dev"}, "already exists in this project"),
    ],
)
async def test_adding_refuses_bad_input_with_its_message(
    web: Web, fields: dict[str, str], message: str
) -> None:
    admin, _, project_id = await scene(web)
    before = await envs(web, project_id)
    plain = await admin.post(url(project_id), fields)
    assert plain.status_code == 422
    assert message in text_of(plain.text)
    assert "<html" in plain.text
    htmx = await admin.post(url(project_id), fields, headers=HTMX)
    assert htmx.status_code == 422
    assert message in text_of(htmx.text)
    assert '<details class="admin-add" id="add-environment" open>' in htmx.text
    assert await envs(web, project_id) == before


async def test_a_huge_name_is_refused_and_not_echoed_whole(web: Web) -> None:
    admin, _, project_id = await scene(web)
    answer = await admin.post(url(project_id), {"name": "n" * 1_000_000, "slug": "qa"})
    assert answer.status_code == 422
    assert len(answer.text) < 100_000


# -- renaming -----------------------------------------------------------------------------


async def test_a_member_renames_the_name_inline(web: Web) -> None:
    _, member, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    answer = await member.post(url(project_id, f"/{target}"), {"name": "Review"}, headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith(f'<tr id="env-{target}"')
    assert 'value="Review"' in answer.text
    assert (await envs(web, project_id))["preview"] == "Review"
    # The page's live region says so (issue 21): app.js reads the HX-Trigger header.
    assert json.loads(answer.headers["hx-trigger"]) == {
        "sigillo:status": "Environment renamed to Review"
    }
    slug = await member.post(url(project_id, f"/{target}"), {"slug": "review"}, headers=HTMX)
    assert json.loads(slug.headers["hx-trigger"]) == {
        "sigillo:status": "Slug of Review changed to review"
    }


async def test_renaming_the_slug_with_a_plain_form_goes_back_to_the_tab(web: Web) -> None:
    admin, _, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    answer = await admin.post(url(project_id, f"/{target}"), {"slug": " staging "})
    assert location(answer) == url(project_id)
    assert "staging" in await envs(web, project_id)


@pytest.mark.parametrize("fields", [{"name": ""}, {"name": "   "}, {"slug": "preview"}])
async def test_an_empty_or_unchanged_edit_writes_nothing(web: Web, fields: dict[str, str]) -> None:
    admin, _, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    before = await web.services.catalog.environments(project_id)
    answer = await admin.post(url(project_id, f"/{target}"), fields, headers=HTMX)
    assert answer.status_code == 200
    assert 'value="Preview"' in answer.text
    assert await web.services.catalog.environments(project_id) == before
    assert "hx-trigger" not in answer.headers  # nothing happened, nothing to say


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "dev"}, "An environment with this slug already exists"),
        ({"slug": "Nope!"}, "Slug must be lowercase letters"),
        ({"name": "y" * 101}, "Name must be 1-100 characters"),
        ({"other": "x"}, "At least one of name or slug is required"),
    ],
)
async def test_a_refused_rename_keeps_the_saved_values_and_says_why(
    web: Web, fields: dict[str, str], message: str
) -> None:
    admin, _, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    htmx = await admin.post(url(project_id, f"/{target}"), fields, headers=HTMX)
    assert htmx.status_code == 422
    assert message in text_of(htmx.text)
    assert 'value="Preview"' in htmx.text
    assert 'value="preview"' in htmx.text
    assert 'aria-invalid="true"' in htmx.text
    plain = await admin.post(url(project_id, f"/{target}"), fields)
    assert plain.status_code == 422
    assert message in text_of(plain.text)
    assert "<html" in plain.text
    assert (await envs(web, project_id))["preview"] == "Preview"


# -- deleting -----------------------------------------------------------------------------


async def test_an_admin_deletes_an_environment(web: Web) -> None:
    admin, _, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    answer = await admin.post(url(project_id, f"/{target}/delete"), headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="environments"')
    assert f"env-{target}" not in answer.text
    assert "preview" not in await envs(web, project_id)
    other = await env_id(web, project_id, "dev")
    assert location(await admin.post(url(project_id, f"/{other}/delete"))) == url(project_id)
    assert set(await envs(web, project_id)) == {"prod"}


async def test_deleting_revokes_the_tokens_scoped_to_it(web: Web) -> None:
    admin, _, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    _token, key = await web.services.access.create_token(
        project_id, admin.actor, name="ci", environment_id=target
    )
    await admin.post(url(project_id, f"/{target}/delete"))
    assert await web.services.access.authenticate_token(key) is None


async def test_a_member_cannot_delete_even_without_the_button(web: Web) -> None:
    _, member, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    for headers in ({}, HTMX):
        answer = await member.post(url(project_id, f"/{target}/delete"), headers=headers)
        assert answer.status_code == 403
    assert "preview" in await envs(web, project_id)


async def test_unknown_and_foreign_environments_are_not_found(web: Web) -> None:
    admin, _, project_id = await scene(web)
    org = (await web.services.access.orgs_of(admin.actor))[0][0]
    other = await web.services.catalog.create_project(org.id, "Other", admin.actor)
    foreign = (await web.services.catalog.environments(other.id))[0].id
    for env in ("nope", foreign, "x" * 2000):
        assert (await admin.post(url(project_id, f"/{env}"), {"name": "X"})).status_code == 404
        assert (await admin.post(url(project_id, f"/{env}/delete"))).status_code == 404
    assert (await envs(web, other.id))["dev"] == "Dev"


# -- strangers, forgeries, malformed requests ---------------------------------------------


async def test_a_member_of_another_org_gets_404_everywhere(web: Web) -> None:
    _, _, project_id = await scene(web)
    stranger = await web.signed_in(name="Eve")
    await org_with_project(web, stranger, "Eve Corp")
    target = await env_id(web, project_id, "preview")
    assert (await stranger.get(url(project_id))).status_code == 404
    for path, fields in [
        (url(project_id), {"name": "QA", "slug": "qa"}),
        (url(project_id, f"/{target}"), {"name": "Pwned"}),
        (url(project_id, f"/{target}/delete"), {}),
    ]:
        answer = await stranger.post(path, fields)
        assert answer.status_code == 404
        assert "Preview" not in answer.text
    assert set(await envs(web, project_id)) == {"dev", "preview", "prod"}


async def test_without_a_session_every_route_asks_to_sign_in(web: Web) -> None:
    _, _, project_id = await scene(web)
    anonymous = web.browser()
    assert location(await anonymous.get(url(project_id))).startswith("/login?redirect=")
    answer = await anonymous.post(url(project_id), {"name": "QA", "slug": "qa"})
    assert location(answer).startswith("/login")


async def test_changes_need_the_csrf_token(web: Web) -> None:
    admin, _, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    for path, fields in [
        (url(project_id), {"name": "QA", "slug": "qa"}),
        (url(project_id, f"/{target}"), {"name": "Forged"}),
        (url(project_id, f"/{target}/delete"), {}),
    ]:
        refused = await admin.post(path, fields, csrf=False)
        assert refused.status_code == 403
        wrong = await admin.post(path, {**fields, "csrf": "0" * 43})
        assert wrong.status_code == 403
    assert set(await envs(web, project_id)) == {"dev", "preview", "prod"}
    assert (await envs(web, project_id))["preview"] == "Preview"


async def test_malformed_bodies_never_fail_the_server(web: Web) -> None:
    admin, _, project_id = await scene(web)
    target = await env_id(web, project_id, "preview")
    headers = {"X-CSRF-Token": admin.csrf}
    for path in (url(project_id), url(project_id, f"/{target}")):
        for body, kind in [
            (b'{"name": "QA"}', "application/json"),
            (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
            (b"name=%ZZ&slug=%00", "application/x-www-form-urlencoded"),
            (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        ]:
            answer = await admin.client.post(
                path, content=body, headers={**headers, "Content-Type": kind}
            )
            assert 400 <= answer.status_code < 500, (path, body, answer.status_code)
    assert re.search(r"Preview", (await admin.get(url(project_id))).text)
