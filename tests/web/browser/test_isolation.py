"""What the dashboard refuses, seen from real Chromium: a reveal without the CSRF token,
and anything of org A for a signed-in member of another org.

The second test reads the dashboard's own route table (sigillo.web.routes.PAGE_ROUTES),
so every project or org URL a tab adds is covered the day it lands: each GET is opened by
org A's admin (it must work, or the 404 below would prove nothing) and by the outsider
(404, and nothing of A on the page); each POST is sent by the outsider with the outsider's
own valid CSRF token (404 too, and nothing done: A's audit log is unchanged).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect

from sigillo.web.routes import PAGE_ROUTES
from tests.web.browser.harness import Account, LiveServer, Pages, assert_no_secret, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

SLUGS = ("dev", "preview", "prod")
PARAMETER = re.compile(r"\{(\w+):\w+\}")


@dataclass
class OrgA:
    """Org A as its admin made it through the API: a project with values in Dev and
    Prod, an API token, an invite link, a second member."""

    admin: Account
    org_id: str
    org_name: str
    project_id: str
    project_name: str
    dev_id: str
    values: dict[str, str]
    token_id: str
    invitation_id: str
    membership_id: str

    @property
    def names(self) -> list[str]:
        """What of A a page shown to someone else may not name."""
        return [self.org_name, self.project_name, *self.values]


def make_org_a(server: LiveServer) -> OrgA:
    tag = uuid.uuid4().hex[:8]
    admin = server.new_account("owner", name=f"Olive Owner {tag}")
    values = {
        f"API_KEY_{tag.upper()}": f"sk_isolation_{tag}_4Wq9Zr",
        f"DB_PASSWORD_{tag.upper()}": f"pw-isolation-{tag}-Lm2x",
    }
    with server.api(admin) as api:
        org = api.post("/api/v0/orgs", json={"name": f"Tenant A {tag}"}).json()
        project = api.post(
            "/api/v0/projects", json={"name": f"Vault of A {tag}", "orgId": org["id"]}
        ).json()
        environments = api.get(f"/api/v0/projects/{project['id']}/environments").json()
        by_slug = {env["slug"]: env["id"] for env in environments["environments"]}
        for slug in ("dev", "prod"):
            done = api.put(
                f"/api/v0/projects/{project['id']}/environments/{by_slug[slug]}/secrets",
                json={"secrets": values},
            )
            assert done.status_code == 200, done.text
        token = api.post(
            f"/api/v0/projects/{project['id']}/tokens", json={"name": f"deploy {tag}"}
        ).json()
        invitation = api.post(f"/api/v0/orgs/{org['id']}/invitations", json={}).json()
    colleague = server.new_account("colleague")
    with server.api(colleague) as api:
        joined = api.post(f"/api/v0/invitations/{invitation['token']}/accept")
        assert joined.status_code == 200, joined.text
    with server.api(admin) as api:
        members = api.get(f"/api/v0/orgs/{org['id']}/members").json()["members"]
    membership = next(m["id"] for m in members if m["email"] == colleague.email)
    return OrgA(
        admin,
        org["id"],
        org["name"],
        project["id"],
        project["name"],
        by_slug["dev"],
        values,
        token["id"],
        invitation["id"],
        membership,
    )


def events_of(server: LiveServer, a: OrgA, slug: str) -> list[dict[str, object]]:
    with server.api(a.admin) as api:
        answer = api.get(
            f"/api/v0/projects/{a.project_id}/environments/{slug}/events", params={"limit": 200}
        )
    assert answer.status_code == 200, answer.text
    events: list[dict[str, object]] = answer.json()["events"]
    return events


def reads_of(server: LiveServer, a: OrgA, slug: str = "dev") -> list[dict[str, object]]:
    return [event for event in events_of(server, a, slug) if event["type"] == "secrets.read"]


async def csrf_of(page: Page) -> str:
    raw = await page.locator("body").get_attribute("hx-headers")
    assert raw, f"{page.url} carries no CSRF token"
    token: str = json.loads(raw)["X-CSRF-Token"]
    return token


async def nothing_of(page: Page, a: OrgA) -> None:
    """The page names nothing of org A and holds none of its values."""
    text = await page.content()
    named = [name for name in a.names if name in text]
    assert not named, f"{page.url} names {named}"
    await assert_no_secret(page, list(a.values.values()))


# --- a reveal needs the CSRF token -------------------------------------------------------


async def test_a_reveal_without_the_csrf_token_is_refused_and_records_nothing(
    pages: Pages, live_server: LiveServer
) -> None:
    a = make_org_a(live_server)
    name, value = next(iter(a.values.items()))
    page = await pages.open(live_server)
    await sign_in(page.context, live_server, a.admin)
    tab = f"/dash/projects/{a.project_id}/envs/dev"
    await page.goto(tab)
    await expect(
        page.locator(f"#v-{name}").get_by_role("button", name="Reveal value")
    ).to_be_visible()
    before = reads_of(live_server, a)

    reveal = f"{tab}/reveal"
    Form = dict[str, str | float | bool]
    attempts: dict[str, tuple[Form, dict[str, str]]] = {
        "a plain form without the field": ({"name": name}, {}),
        "htmx without the header": ({"name": name}, {"HX-Request": "true"}),
        "a forged field": ({"name": name, "csrf": "forged"}, {}),
        "a forged header": ({"name": name}, {"HX-Request": "true", "X-CSRF-Token": "forged"}),
    }
    for what, (form, headers) in attempts.items():
        answer = await page.request.post(reveal, form=form, headers=headers)
        assert answer.status == 403, f"{what}: {answer.status}"
        assert value not in await answer.text(), f"{what}: the refusal holds the value"
    for what in ("reveal-all", "export", "download"):
        answer = await page.request.post(f"{tab}/{what}", form={})
        assert answer.status == 403, f"{what} without the token: {answer.status}"
        assert value not in await answer.text()
    assert reads_of(live_server, a) == before, "a refused reveal was recorded"
    await assert_no_secret(page, list(a.values.values()))

    # The same request with the page's token works, and is recorded once: the refusals
    # above were about the token, not about the request.
    answer = await page.request.post(reveal, form={"name": name, "csrf": await csrf_of(page)})
    assert answer.status == 200, answer.status
    assert value in await answer.text()
    after = reads_of(live_server, a)
    assert len(after) == len(before) + 1, after
    assert after[0]["how"] == "reveal"
    assert after[0]["names"] == [name]


# --- another org's member: 404 everywhere ------------------------------------------------


def project_routes() -> Iterator[tuple[str, str]]:
    """(method, path pattern) of every dashboard route about one org or project."""
    for handler in PAGE_ROUTES:
        for path in sorted(handler.paths):
            if "{project_id" in path or "{org_id" in path:
                for method in sorted(handler.http_methods):
                    yield method, path


def urls_of(path: str, a: OrgA, positions: dict[str, int]) -> list[str]:
    """The path with A's real ids in it: one URL per environment for `{env_slug}`, and
    for `{position}` the position of an event of that environment (`positions`)."""
    fixed = {
        "project_id": a.project_id,
        "org_id": a.org_id,
        "environment_id": a.dev_id,
        "token_id": a.token_id,
        "invitation_id": a.invitation_id,
        "membership_id": a.membership_id,
    }
    parameters = PARAMETER.findall(path)
    slugs: tuple[str, ...] = ("",)
    if "env_slug" in parameters:
        slugs = tuple(positions) if "position" in parameters else SLUGS
    urls = []
    for slug in slugs:
        values = {**fixed, "env_slug": slug, "position": str(positions.get(slug, ""))}
        url = path
        for parameter in parameters:
            assert values.get(parameter), (
                f"{path}: test_isolation.py has no value of org A for {{{parameter}}}; add one"
            )
            url = re.sub(r"\{" + parameter + r":\w+\}", values[parameter], url)
        urls.append(url)
    return urls


async def test_a_member_of_another_org_gets_404_on_every_project_url(
    pages: Pages, live_server: LiveServer
) -> None:
    a = make_org_a(live_server)
    positions = {  # an event of Dev's log and one of Prod's (Preview has none)
        slug: int(
            str(
                next(e for e in events_of(live_server, a, slug) if e["type"] == "secret.set")[
                    "position"
                ]
            )
        )
        for slug in ("dev", "prod")
    }
    outsider = live_server.new_account("outsider", name="Otto Outsider")
    with live_server.api(outsider) as api:
        assert api.post("/api/v0/orgs", json={"name": "Tenant B"}).status_code == 200

    owner = await pages.open(live_server)
    await sign_in(owner.context, live_server, a.admin)
    other = await pages.open(live_server)
    await sign_in(other.context, live_server, outsider)
    await other.goto("/dash")  # B's own org: a page with B's CSRF token
    await expect(
        other.get_by_role("navigation", name="Organizations and projects")
    ).to_contain_text("Tenant B")
    token = await csrf_of(other)
    events_before = events_of(live_server, a, "dev") + events_of(live_server, a, "prod")

    gets: list[str] = []
    posts: list[str] = []
    for method, path in project_routes():
        (gets if method == "GET" else posts).append(path)
    assert len(gets) >= 10, gets  # the tabs, the environments, the event log…

    checked: list[str] = []
    for path in gets:
        for url in urls_of(path, a, positions):
            seen = await owner.goto(url)
            assert seen is not None
            assert seen.status == 200, f"org A's admin gets {seen.status} for GET {url}"
            answer = await other.goto(url)
            assert answer is not None
            assert answer.status == 404, f"the outsider gets {answer.status} for GET {url}"
            await expect(other.get_by_role("heading", name="Not found")).to_be_visible()
            await nothing_of(other, a)
            checked.append(url)
    form: dict[str, str | float | bool] = {
        "csrf": token,
        "name": next(iter(a.values)),
        "text": "FROM_OUTSIDE=1",
        "source": a.dev_id,
        "env": a.dev_id,
        "role": "member",
        "slug": "outside",
    }
    for path in posts:
        for url in urls_of(path, a, positions):
            posted = await other.request.post(url, form=form)
            assert posted.status == 404, f"the outsider gets {posted.status} for POST {url}"
            body = await posted.text()
            leaked = [name for name in [*a.names, *a.values.values()] if name in body]
            assert not leaked, f"POST {url} answers with {leaked}"
            checked.append(url)
    assert any("/event-log" in url for url in checked)
    assert all(any(f"/envs/{slug}" in url for url in checked) for slug in SLUGS)
    after = events_of(live_server, a, "dev") + events_of(live_server, a, "prod")
    assert after == events_before, "a refused request changed org A's audit log"
