"""The Settings tab (behaviour.md 14.9, 5.3, decided point 1): rename the project, delete
it, delete the org. HTTP level, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.web.conftest import Browser, Web, join, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio

HTMX = {"HX-Request": "true"}


def url(project_id: str, rest: str = "") -> str:
    return f"/dash/projects/{project_id}/settings{rest}"


async def scene(web: Web) -> tuple[Browser, Browser, str, str]:
    admin = await web.signed_in(name="Ada Admin")
    member = await web.signed_in(name="Mo Member")
    org_id, project_id = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    return admin, member, org_id, project_id


async def project_name(web: Web, org_id: str) -> list[str]:
    return [p.name for p in await web.services.catalog.projects(org_id)]


# -- renaming -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
async def test_admins_and_members_rename_the_project(web: Web, who: str) -> None:
    admin, member, org_id, project_id = await scene(web)
    browser = admin if who == "admin" else member
    answer = await browser.post(url(project_id, "/name"), {"name": "  Website  "})
    assert location(answer) == url(project_id, "?saved=name")
    assert await project_name(web, org_id) == ["Website"]
    page = await browser.get(location(answer))
    assert "Project renamed." in text_of(page.text)
    assert 'value="Website"' in page.text
    htmx = await browser.post(url(project_id, "/name"), {"name": "Site"}, headers=HTMX)
    assert htmx.status_code == 200
    assert htmx.headers["hx-redirect"] == url(project_id, "?saved=name")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Project name is required"),
        ("   ", "Project name is required"),
        ("x" * 101, "Project name must be 1-100 characters"),
        ("x" * 1_000_000, "Project name must be 1-100 characters"),
        ("bad\x00name", "Project name must be 1-100 characters"),
    ],
)
async def test_a_bad_name_is_refused_with_its_message(web: Web, name: str, message: str) -> None:
    admin, _, org_id, project_id = await scene(web)
    for headers in ({}, HTMX):
        answer = await admin.post(url(project_id, "/name"), {"name": name}, headers=headers)
        assert answer.status_code == 422
        assert message in text_of(answer.text)
        assert len(answer.text) < 100_000
    assert await project_name(web, org_id) == ["My App"]


async def test_renaming_to_the_same_name_writes_nothing(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    before = await web.services.catalog.projects(org_id)
    answer = await admin.post(url(project_id, "/name"), {"name": "My App"})
    assert location(answer) == url(project_id, "?saved=name")
    assert await web.services.catalog.projects(org_id) == before


# -- deleting the project -----------------------------------------------------------------


async def test_the_delete_dialog_lists_environments_secret_counts_and_tokens(web: Web) -> None:
    admin, _, _, project_id = await scene(web)
    environments = await web.services.catalog.environments(project_id)
    await web.services.secrets.set(environments[0].id, {"A": "1", "B": "2"}, admin.actor)
    await web.services.secrets.set(environments[2].id, {"C": "3"}, admin.actor)
    token, _ = await web.services.access.create_token(project_id, admin.actor, name="ci-bot")
    gone, _ = await web.services.access.create_token(project_id, admin.actor, name="old-bot")
    await web.services.access.revoke_token(project_id, gone.id, admin.actor)
    events = await web.services.store.read_all()
    html = (await admin.get(url(project_id))).text
    page = text_of(html)
    assert "Delete My App?" in page
    assert "The following 3 environments will be deleted:" in page
    assert "Dev 2 secrets" in page
    assert "Preview 0 secrets" in page
    assert "Prod 1 secret " in page
    assert "Its API token will stop working: ci-bot" in page
    assert "old-bot" not in page
    assert f"sig_{token.prefix}••••" in page
    assert '<dialog id="delete-project-dialog"' in html
    assert "open data-show-modal" not in html
    opened = (await admin.get(url(project_id, "?dialog=delete-project"))).text
    assert "open data-show-modal" in opened
    # Counting opens no value: the pages recorded no read [D16].
    assert await web.services.store.read_all() == events


async def test_the_values_never_reach_the_page(web: Web) -> None:
    admin, _, _, project_id = await scene(web)
    [dev, *_] = await web.services.catalog.environments(project_id)
    value = "hunter2-very-secret-value-0123456789"
    await web.services.secrets.set(dev.id, {"PASSWORD": value}, admin.actor)
    for path in (url(project_id), url(project_id, "?dialog=delete-project")):
        assert value not in (await admin.get(path)).text


async def test_an_admin_deletes_the_project(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    _token, key = await web.services.access.create_token(project_id, admin.actor, name="ci")
    answer = await admin.post(url(project_id, "/delete-project"))
    assert location(answer) == f"/dash/orgs/{org_id}"
    assert await project_name(web, org_id) == []
    assert await web.services.access.authenticate_token(key) is None
    assert (await admin.get(url(project_id))).status_code == 404


async def test_an_htmx_delete_moves_the_whole_window(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    answer = await admin.post(url(project_id, "/delete-project"), headers=HTMX)
    assert answer.status_code == 200
    assert answer.headers["hx-redirect"] == f"/dash/orgs/{org_id}"


async def test_a_member_sees_deletion_disabled_and_the_server_refuses(web: Web) -> None:
    _, member, org_id, project_id = await scene(web)
    html = (await member.get(url(project_id, "?dialog=delete-project"))).text
    page = text_of(html)
    assert "Only admins can delete this project." in page
    assert "Only admins can delete this organization." in page
    assert 'disabled aria-describedby="delete-project-why">Delete project</button>' in html
    assert 'disabled aria-describedby="delete-org-why">Delete organization</button>' in html
    assert "delete-project-dialog" not in html
    assert "delete-org-dialog" not in html
    for path in (url(project_id, "/delete-project"), url(project_id, "/delete-org")):
        for headers in ({}, HTMX):
            assert (await member.post(path, headers=headers)).status_code == 403
    assert await project_name(web, org_id) == ["My App"]
    assert await web.services.catalog.org(org_id) is not None


# -- deleting the org ---------------------------------------------------------------------


async def test_the_danger_zone_lists_the_orgs_projects_oldest_first(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    await web.services.catalog.create_project(org_id, "Second", admin.actor)
    await web.services.catalog.create_project(org_id, "Third", admin.actor)
    page = text_of((await admin.get(url(project_id))).text)
    assert (
        "Deleting this organization is permanent. All projects, environments, secrets, "
        "tokens, and member access will be removed immediately." in page
    )
    assert "Delete organization This action cannot be undone." in page
    assert "Delete Acme Corp?" in page
    assert "This will permanently delete the organization and everything inside it." in page
    assert "The following 3 projects will be deleted: My App Second Third" in page


async def test_one_project_is_named_in_the_singular(web: Web) -> None:
    admin, _, _, project_id = await scene(web)
    page = text_of((await admin.get(url(project_id))).text)
    assert "The following project will be deleted: My App" in page


async def test_an_admin_deletes_the_org_and_goes_home(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    answer = await admin.post(url(project_id, "/delete-org"))
    assert location(answer) == "/"
    assert await web.services.catalog.org(org_id) is None
    for who in (admin, member):
        assert (await who.get(url(project_id))).status_code == 404


# -- strangers, forgeries, malformed requests ---------------------------------------------


async def test_strangers_get_404_everywhere(web: Web) -> None:
    _, _, org_id, project_id = await scene(web)
    stranger = await web.signed_in(name="Eve")
    await org_with_project(web, stranger, "Eve Corp")
    assert (await stranger.get(url(project_id))).status_code == 404
    for path, fields in [
        (url(project_id, "/name"), {"name": "Pwned"}),
        (url(project_id, "/delete-project"), {}),
        (url(project_id, "/delete-org"), {}),
    ]:
        answer = await stranger.post(path, fields)
        assert answer.status_code == 404
        assert "My App" not in answer.text
    assert await project_name(web, org_id) == ["My App"]
    assert (await stranger.get("/dash/projects/nope/settings")).status_code == 404


async def test_changes_need_the_csrf_token_and_a_session(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    for path, fields in [
        (url(project_id, "/name"), {"name": "Forged"}),
        (url(project_id, "/delete-project"), {}),
        (url(project_id, "/delete-org"), {}),
    ]:
        assert (await admin.post(path, fields, csrf=False)).status_code == 403
        assert (await admin.post(path, {**fields, "csrf": "x"})).status_code == 403
        assert location(await web.browser().post(path, fields)).startswith("/login")
    assert await project_name(web, org_id) == ["My App"]
    assert location(await web.browser().get(url(project_id))).startswith("/login?redirect=")


async def test_malformed_bodies_never_fail_the_server(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    headers = {"X-CSRF-Token": admin.csrf}
    for body, kind in [
        (b'{"name": "x"}', "application/json"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
        (b"name=%00", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ]:
        answer = await admin.client.post(
            url(project_id, "/name"), content=body, headers={**headers, "Content-Type": kind}
        )
        assert 400 <= answer.status_code < 500, (body, answer.status_code)
    assert (await admin.get(url(project_id, "?dialog=%00&saved=%FF"))).status_code == 200
    assert await project_name(web, org_id) == ["My App"]
