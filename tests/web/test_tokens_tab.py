"""The Tokens tab (behaviour.md 14.6, [D15]): create (the key shown once), list, revoke.

HTTP level, on SQLite and PostgreSQL. The key is looked for in every answer after the one
that created it: it must be in that one only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from html import escape

import pytest

from sigillo.domain.projections.rows import ApiTokenRow
from tests.web.conftest import Browser, Web, join, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio

HTMX = {"HX-Request": "true"}
KEY = re.compile(r"sig_[0-9a-f]{64}")
DAY_MS = 24 * 3600 * 1000


def url(project_id: str, rest: str = "") -> str:
    return f"/dash/projects/{project_id}/tokens{rest}"


async def scene(web: Web) -> tuple[Browser, Browser, str]:
    admin = await web.signed_in(name="Ada Admin")
    member = await web.signed_in(name="Mo Member")
    org_id, project_id = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    return admin, member, project_id


async def tokens(web: Web, project_id: str, who: Browser) -> list[ApiTokenRow]:
    return await web.services.access.tokens(project_id, who.actor)


async def env_id(web: Web, project_id: str, slug: str) -> str:
    found = await web.services.catalog.environments(project_id)
    return next(e.id for e in found if e.slug == slug)


async def test_an_admin_creates_a_token_and_sees_its_key_once(web: Web) -> None:
    admin, member, project_id = await scene(web)
    created = await admin.post(
        url(project_id),
        {"name": "CI/CD pipeline", "environment": "all", "access": "read", "expires": "never"},
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    [key] = set(KEY.findall(created.text))
    page = text_of(created.text)
    assert "Token created" in page
    assert "Copy this token now — you won't be able to see it again." in page
    assert "Store this key securely. It grants access to secrets in this project." in page
    assert "data-no-dismiss" in created.text
    assert 'data-copy-from="#created-token-key"' in created.text
    [token] = await tokens(web, project_id, admin)
    assert await web.services.access.authenticate_token(key) == token
    assert key.startswith("sig_" + token.prefix)
    # Never again: not in the tab, not in a fragment, not in any other page of the project.
    for who in (admin, member):
        for path in (
            url(project_id),
            url(project_id, "?dialog=create"),
            f"/dash/projects/{project_id}/settings",
            f"/dash/projects/{project_id}/access",
            f"/dash/projects/{project_id}/environments",
        ):
            for headers in ({}, HTMX):
                answer = await who.get(path, headers=headers)
                assert answer.status_code == 200, path
                assert key not in answer.text
                assert key[4:] not in answer.text
                assert token.token_hash not in answer.text
    listed = (await admin.get(url(project_id))).text
    assert f"sig_{token.prefix}••••" in listed
    revoked = await admin.post(url(project_id, f"/{token.id}/revoke"), headers=HTMX)
    assert key not in revoked.text


async def test_the_create_dialog_offers_scope_access_and_expiry(web: Web) -> None:
    admin, _, project_id = await scene(web)
    html = (await admin.get(url(project_id))).text
    page = text_of(html)
    assert "Create API token" in page
    assert "Generate a token for programmatic access to secrets in this project." in page
    assert 'placeholder="e.g. CI/CD pipeline"' in html
    assert "Environment scope" in page
    assert ">All environments</option>" in html
    for env in await web.services.catalog.environments(project_id):
        assert f'<option value="{env.id}">{env.name}</option>' in html
    assert 'value="read" checked' in html
    assert 'value="read-write"' in html
    for choice in ("Never", "In 7 days", "In 30 days", "In 90 days", "On a date"):
        assert f">{choice}</option>" in html
    assert 'type="date" name="expires_on"' in html
    assert "No API tokens yet" in page
    assert "Create a token to access secrets programmatically via the API." in page
    closed = '<dialog id="create-token-dialog" class="dialog admin-dialog" aria-labelledby='
    assert closed + '"create-token-title">' in html
    opened = (await admin.get(url(project_id, "?dialog=create"))).text
    assert "open data-show-modal" in opened


async def test_scope_access_and_expiry_are_kept_and_listed(web: Web) -> None:
    admin, _, project_id = await scene(web)
    prod = await env_id(web, project_id, "prod")
    before = int(time.time() * 1000)
    created = await admin.post(
        url(project_id),
        {"name": "deploy", "environment": prod, "access": "read-write", "expires": "30"},
        headers=HTMX,
    )
    assert created.status_code == 200
    assert "<html" not in created.text
    assert "Token created" in created.text
    [token] = await tokens(web, project_id, admin)
    assert token.environment_id == prod
    assert token.access == "read-write"
    assert token.expires_at is not None
    assert before + 30 * DAY_MS <= token.expires_at <= int(time.time() * 1000) + 30 * DAY_MS
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=400)).date()
    await admin.post(
        url(project_id),
        {"name": "dated", "expires": "date", "expires_on": day.isoformat()},
    )
    dated = next(t for t in await tokens(web, project_id, admin) if t.name == "dated")
    end = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
    assert dated.expires_at == int(end.timestamp() * 1000) - 1
    assert dated.access == "read"
    assert dated.environment_id is None
    html = (await admin.get(url(project_id))).text
    rows = html.index("dated"), html.index("deploy")
    assert rows[0] < rows[1]  # newest first
    page = text_of(html)
    assert "Prod" in page
    assert "All environments" in page
    assert "read-write" in page
    assert f"{day:%b} {day.day}, {day.year}" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Name is required"),
        ({"name": "   "}, "Name is required"),
        ({}, "Name is required"),
        ({"name": "x" * 101}, "Name must be 1-100 characters"),
        ({"name": "x" * 1_000_000}, "Name must be 1-100 characters"),
        ({"name": "tab\tname"}, "Name must be 1-100 characters"),
        ({"name": "ok", "environment": "nope"}, "Environment not found in this project"),
        ({"name": "ok", "access": "admin"}, "Access must be read or read-write"),
        ({"name": "ok", "expires": "5"}, "Choose when the token expires"),
        ({"name": "ok", "expires": "date"}, "Expiry date must be a date"),
        ({"name": "ok", "expires": "date", "expires_on": "tomorrow"}, "Expiry date must be a date"),
        (
            {"name": "ok", "expires": "date", "expires_on": "9999-12-31"},
            "Expiry date must be a date",
        ),
        ({"name": "ok", "expires": "date", "expires_on": "2001-01-01"}, "must be in the future"),
        ({"name": "ok", "expires": "date", "expires_on": "2" * 5000}, "Expiry date must be a date"),
    ],
)
async def test_creating_refuses_bad_input_with_its_message(
    web: Web, fields: dict[str, str], message: str
) -> None:
    admin, _, project_id = await scene(web)
    for headers in ({}, HTMX):
        answer = await admin.post(url(project_id), fields, headers=headers)
        assert answer.status_code == 422
        assert message in text_of(answer.text)
        assert "open data-show-modal" in answer.text  # the dialog again, with the message
        assert not KEY.search(answer.text)
        assert len(answer.text) < 100_000
    assert await tokens(web, project_id, admin) == []


async def test_an_environment_of_another_project_is_not_a_scope(web: Web) -> None:
    admin, _, project_id = await scene(web)
    org = (await web.services.access.orgs_of(admin.actor))[0][0]
    other = await web.services.catalog.create_project(org.id, "Other", admin.actor)
    foreign = (await web.services.catalog.environments(other.id))[0].id
    answer = await admin.post(url(project_id), {"name": "ok", "environment": foreign})
    assert answer.status_code == 422
    assert "Environment not found in this project" in text_of(answer.text)


async def test_an_admin_revokes_a_token_and_it_stays_listed(web: Web) -> None:
    admin, _, project_id = await scene(web)
    token, key = await web.services.access.create_token(project_id, admin.actor, name="old ci")
    html = (await admin.get(url(project_id))).text
    confirm = 'Revoke token "old ci"? Programs using it will lose access immediately.'
    assert f'data-confirm="{escape(confirm)}"' in html
    answer = await admin.post(url(project_id, f"/{token.id}/revoke"), headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="tokens-list">')
    # what happened, for the page's live region (app.js reads [data-status]: issue 21)
    assert '<p class="alert ok" data-status>Token &#34;old ci&#34; revoked.</p>' in answer.text
    assert "Revoked" in answer.text
    assert "old ci" in answer.text
    assert f"/{token.id}/revoke" not in answer.text  # nothing left to revoke
    assert await web.services.access.authenticate_token(key) is None
    again = await admin.post(url(project_id, f"/{token.id}/revoke"))
    assert location(again) == url(project_id)
    [kept] = await tokens(web, project_id, admin)
    assert kept.revoked_at is not None


async def test_expired_tokens_say_so(web: Web) -> None:
    admin, _, project_id = await scene(web)
    soon = int(time.time() * 1000) + 50
    await web.services.access.create_token(project_id, admin.actor, name="brief", expires_at=soon)
    await asyncio.sleep(0.1)
    assert "Expired" in text_of((await admin.get(url(project_id))).text)


async def test_a_member_sees_the_list_and_the_note_but_cannot_manage(web: Web) -> None:
    admin, member, project_id = await scene(web)
    token, key = await web.services.access.create_token(project_id, admin.actor, name="ci")
    html = (await member.get(url(project_id))).text
    page = text_of(html)
    assert "API tokens are managed by this organization's admins" in page
    assert "ci" in page
    assert f"sig_{token.prefix}••••" in page
    assert "Create token" not in page
    assert "create-token-dialog" not in html
    assert "/revoke" not in html
    for headers in ({}, HTMX):
        refused = await member.post(url(project_id), {"name": "sneaky"}, headers=headers)
        assert refused.status_code == 403
        assert not KEY.search(refused.text)
        revoke = await member.post(url(project_id, f"/{token.id}/revoke"), headers=headers)
        assert revoke.status_code == 403
    assert len(await tokens(web, project_id, admin)) == 1
    assert await web.services.access.authenticate_token(key) is not None


async def test_a_member_without_tokens_sees_who_can_make_one(web: Web) -> None:
    _, member, project_id = await scene(web)
    page = text_of((await member.get(url(project_id, "?dialog=create"))).text)
    assert "No API tokens yet" in page
    assert "An admin can create one" in page
    assert "Create API token" not in page


async def test_strangers_get_404_and_foreign_tokens_are_unknown(web: Web) -> None:
    admin, _, project_id = await scene(web)
    token, key = await web.services.access.create_token(project_id, admin.actor, name="ci")
    stranger = await web.signed_in(name="Eve")
    _, own_project = await org_with_project(web, stranger, "Eve Corp")
    assert (await stranger.get(url(project_id))).status_code == 404
    assert (await stranger.post(url(project_id), {"name": "x"})).status_code == 404
    assert (await stranger.post(url(project_id, f"/{token.id}/revoke"))).status_code == 404
    # Her own project's URL with another project's token id: unknown there.
    assert (await stranger.post(url(own_project, f"/{token.id}/revoke"))).status_code == 404
    assert (await admin.post(url(project_id, "/nope/revoke"))).status_code == 404
    assert await web.services.access.authenticate_token(key) is not None


async def test_changes_need_the_csrf_token_and_a_session(web: Web) -> None:
    admin, _, project_id = await scene(web)
    token, key = await web.services.access.create_token(project_id, admin.actor, name="ci")
    for path, fields in [
        (url(project_id), {"name": "forged"}),
        (url(project_id, f"/{token.id}/revoke"), {}),
    ]:
        assert (await admin.post(path, fields, csrf=False)).status_code == 403
        anonymous = await web.browser().post(path, fields)
        assert location(anonymous).startswith("/login")
    assert len(await tokens(web, project_id, admin)) == 1
    assert await web.services.access.authenticate_token(key) is not None


async def test_malformed_bodies_never_fail_the_server(web: Web) -> None:
    admin, _, project_id = await scene(web)
    headers = {"X-CSRF-Token": admin.csrf}
    for body, kind in [
        (b'{"name": "x"}', "application/json"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
        (b"name=%00&expires=date&expires_on=%FF", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ]:
        answer = await admin.client.post(
            url(project_id), content=body, headers={**headers, "Content-Type": kind}
        )
        assert 400 <= answer.status_code < 500, (body, answer.status_code)
    bad_query = await admin.get(url(project_id, "?dialog=%00&dialog=x"))
    assert bad_query.status_code < 500
    assert await tokens(web, project_id, admin) == []
