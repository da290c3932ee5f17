"""The dashboard's routes (behaviour.md 14.3): where `/dash` goes, new orgs and projects,
the org page's empty state, the project shell with its six tabs."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web, join, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio

TAB_LABELS = ("Secrets", "Environments", "Tokens", "Access", "Event Log", "Settings")


async def test_dash_sends_a_new_user_to_create_an_org(web: Web) -> None:
    browser = await web.signed_in()
    assert location(await browser.get("/dash")) == "/dash/new-org"
    page = await browser.get("/dash/new-org")
    text = text_of(page.text)
    assert "New Organization" in text
    assert "Organizations group your projects and team members." in text
    assert 'placeholder="My Organization"' in page.text
    assert "Create Organization" in text


async def test_a_new_org_needs_a_name_and_then_shows_its_empty_state(web: Web) -> None:
    browser = await web.signed_in()
    for name in ("", "   "):
        refused = await browser.post("/dash/new-org", {"name": name})
        assert refused.status_code == 422
        assert "Name is required" in text_of(refused.text)
    long = await browser.post("/dash/new-org", {"name": "x" * 101})
    assert long.status_code == 422
    assert "Name must be 1-100 characters" in text_of(long.text)
    created = await browser.post("/dash/new-org", {"name": "  Acme Corp  "})
    org_url = location(created)
    assert org_url.startswith("/dash/orgs/")
    page = await browser.get(org_url)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "No projects yet" in text
    assert "Create your first project to start managing secrets." in text
    assert "Create project" in text
    assert "Acme Corp admin" in text  # the switcher: current org and the caller's role
    assert location(await browser.get("/dash")) == org_url


async def test_create_a_project_from_the_dialog_and_land_on_its_first_environment(
    web: Web,
) -> None:
    browser = await web.signed_in()
    org = await web.services.catalog.create_org("Acme Corp", browser.actor)
    page = await browser.get(f"/dash/orgs/{org.id}")
    assert 'id="new-project-dialog"' in page.text
    assert "New Project" in page.text
    assert "It will get development, preview, and production environments by default." in (
        text_of(page.text)
    )
    empty = await browser.post(f"/dash/orgs/{org.id}/new-project", {"name": ""})
    assert empty.status_code == 422
    assert "Project name is required" in text_of(empty.text)
    created = await browser.post(f"/dash/orgs/{org.id}/new-project", {"name": "Website"})
    url = location(created)
    [project] = await web.services.catalog.projects(org.id)
    assert url == f"/dash/projects/{project.id}/envs/dev"
    shell = await browser.get(url)
    assert shell.status_code == 200
    text = text_of(shell.text)
    assert "Website" in text
    for env in ("Dev", "Preview", "Prod"):
        assert env in text
    assert location(await browser.get("/dash")) == url
    assert location(await browser.get(f"/dash/orgs/{org.id}")) == url


async def test_dash_goes_to_the_newest_orgs_newest_project(web: Web) -> None:
    browser = await web.signed_in()
    await org_with_project(web, browser, org="Old", project="Old App")
    org = await web.services.catalog.create_org("New", browser.actor)
    await web.services.catalog.create_project(org.id, "First", browser.actor)
    newest = await web.services.catalog.create_project(org.id, "Second", browser.actor)
    assert location(await browser.get("/dash")) == f"/dash/projects/{newest.id}/envs/dev"


async def test_the_project_shell_links_the_six_tabs(web: Web) -> None:
    browser = await web.signed_in()
    _, project_id = await org_with_project(web, browser)
    base = f"/dash/projects/{project_id}"
    expected = {
        "Secrets": f"{base}/envs/dev",
        "Environments": f"{base}/environments",
        "Tokens": f"{base}/tokens",
        "Access": f"{base}/access",
        "Event Log": f"{base}/envs/dev/event-log",
        "Settings": f"{base}/settings",
    }
    page = await browser.get(f"{base}/environments")
    assert page.status_code == 200
    for label, href in expected.items():
        assert f'<a href="{href}"' in page.text, label
    assert f'<a href="{base}/environments" aria-current="page">Environments</a>' in page.text
    for label, href in expected.items():
        tab = await browser.get(href)
        assert tab.status_code == 200, label
        assert f'aria-current="page">{label}</a>' in tab.text, label


async def test_project_redirects(web: Web) -> None:
    browser = await web.signed_in()
    _, project_id = await org_with_project(web, browser)
    base = f"/dash/projects/{project_id}"
    assert location(await browser.get(base)) == f"{base}/envs/dev"
    assert location(await browser.get(f"{base}/event-log")) == f"{base}/envs/dev/event-log"
    assert location(await browser.get(f"{base}/envs/nope")) == f"{base}/envs/dev"
    assert location(await browser.get(f"{base}/envs/_")) == f"{base}/envs/dev"
    prod = await browser.get(f"{base}/envs/prod")
    assert prod.status_code == 200
    assert f'<a class="env-chip" href="{base}/envs/prod" aria-current="page">Prod</a>' in prod.text


async def test_a_project_without_environments_uses_the_underscore_slug(web: Web) -> None:
    browser = await web.signed_in()
    _, project_id = await org_with_project(web, browser)
    for env in await web.services.catalog.environments(project_id):
        await web.services.catalog.delete_environment(project_id, env.id, browser.actor)
    base = f"/dash/projects/{project_id}"
    assert location(await browser.get(base)) == f"{base}/envs/_"
    assert location(await browser.get(f"{base}/envs/dev")) == f"{base}/envs/_"
    page = await browser.get(f"{base}/envs/_")
    assert page.status_code == 200


async def test_other_tenants_get_the_same_404_as_for_nothing(web: Web) -> None:
    owner = await web.signed_in()
    outsider = await web.signed_in(name="Eve")
    await web.services.catalog.create_org("Eve Corp", outsider.actor)
    org_id, project_id = await org_with_project(web, owner)
    base = f"/dash/projects/{project_id}"
    for url in (
        f"/dash/orgs/{org_id}",
        f"/dash/orgs/{org_id}/new-project",
        base,
        f"{base}/envs/dev",
        f"{base}/envs/nope",
        f"{base}/settings",
    ):
        theirs = await outsider.get(url)
        nothing = await outsider.get(url.replace(project_id, "0" * 26).replace(org_id, "1" * 26))
        assert theirs.status_code == nothing.status_code == 404, url
        assert text_of(theirs.text) == text_of(nothing.text), url
    posted = await outsider.post(f"/dash/orgs/{org_id}/new-project", {"name": "Mine now"})
    assert posted.status_code == 404
    assert [p.name for p in await web.services.catalog.projects(org_id)] == ["My App"]


async def test_members_see_the_org_in_the_switcher_with_their_role(web: Web) -> None:
    admin = await web.signed_in()
    member = await web.signed_in(name="Mo")
    org_id, project_id = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    page = await member.get(f"/dash/projects/{project_id}/envs/dev")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Acme Corp member" in text
    assert "+ Add organization" in text
    assert "Log out" in text
    assert '<span class="avatar" aria-hidden="true">M</span>' in page.text


async def test_the_user_box_shows_initials_of_two_words(web: Web) -> None:
    browser = await web.signed_in(name="Ada King Lovelace")
    page = await browser.get("/dash/new-org")
    assert '<span class="avatar" aria-hidden="true">AK</span>' in page.text
