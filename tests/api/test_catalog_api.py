"""Orgs, /me, projects and environments over REST (behaviour.md 6.4-6.6, acceptance 15.1
rows 3-17 and 31-40, [D3] [D4] [D9] [D11]), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sigillo.domain.events import Actor
from tests.api.conftest import Api

V0 = "/api/v0"
FORBIDDEN = {"error": "forbidden"}
ADMIN_REQUIRED = {"error": "admin role required"}
SLUG_TAKEN = {"error": "an environment with this slug already exists in this project"}
NEITHER = {"error": "at least one of name or slug required"}
SLUG_RULE = "^[a-z0-9][a-z0-9-]{0,62}$"
NAME_RULE = "1-100 characters"
UNUSED_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # well-formed, never issued
SUMMARY_KEYS = {"id", "projectId", "name", "slug", "createdAt", "updatedAt"}
ITEM_KEYS = {"id", "orgId", "orgName", "name", "createdAt", "updatedAt", "environments"}

# Every route of this module's scope: method, path and a valid body. In paths and bodies
# {o} is the org, {p} the project and {e} the `preview` environment's id.
ROUTES: list[tuple[str, str, dict[str, str] | None]] = [
    ("GET", "/me", None),
    ("GET", "/orgs", None),
    ("POST", "/orgs", {"name": "test"}),
    ("GET", "/projects", None),
    ("GET", "/projects?orgId={o}", None),
    ("POST", "/projects", {"name": "test", "orgId": "{o}"}),
    ("GET", "/projects/{p}", None),
    ("PATCH", "/projects/{p}", {"name": "Renamed"}),
    ("DELETE", "/projects/{p}", None),
    ("GET", "/projects/{p}/environments", None),
    ("POST", "/projects/{p}/environments", {"name": "Staging", "slug": "staging"}),
    ("GET", "/projects/{p}/environments/{e}", None),
    ("PATCH", "/projects/{p}/environments/{e}", {"slug": "qa"}),
    ("DELETE", "/projects/{p}/environments/{e}", None),
]


@dataclass
class World:
    """User A with org "Acme Corp" and project "My App" (with its default environments)."""

    admin: dict[str, str]
    admin_actor: Actor
    org: str
    project: str
    envs: dict[str, str]  # slug -> id

    def fill(self, text: str) -> str:
        return text.format(o=self.org, p=self.project, e=self.envs["preview"])


async def send(
    api: Api, method: str, path: str, headers: dict[str, str] | None, body: Any = None
) -> httpx.Response:
    if isinstance(body, bytes):
        headers = {**(headers or {}), "Content-Type": "application/json"}
        return await api.call(method, V0 + path, headers, content=body)
    if body is None:
        return await api.call(method, V0 + path, headers)
    return await api.call(method, V0 + path, headers, json=body)


async def ok(api: Api, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    response = await send(api, method, path, headers, body)
    assert response.status_code == 200, (method, path, response.text)
    return response.json()


async def actor_of(api: Api, headers: dict[str, str]) -> Actor:
    return Actor("user", (await ok(api, "GET", "/me", headers))["user"]["id"])


async def world(api: Api, name: str = "Ada") -> World:
    admin = await api.user(name)
    org = (await ok(api, "POST", "/orgs", admin, {"name": "Acme Corp"}))["id"]
    project = (await ok(api, "POST", "/projects", admin, {"name": "My App", "orgId": org}))["id"]
    envs = (await ok(api, "GET", f"/projects/{project}/environments", admin))["environments"]
    actor = await actor_of(api, admin)
    return World(admin, actor, org, project, {env["slug"]: env["id"] for env in envs})


async def join(api: Api, w: World, name: str = "Mo") -> tuple[dict[str, str], str]:
    """A new user who joins A's org as a member: their headers and membership id."""
    member = await api.user(name)
    _, token = await api.services.access.create_invitation(w.org, w.admin_actor)
    membership = await api.services.access.accept_invitation(token, await actor_of(api, member))
    return member, membership.id


async def unchanged(api: Api, w: World) -> None:
    """A's project is as `world` made it."""
    project = await ok(api, "GET", f"/projects/{w.project}", w.admin)
    assert project["name"] == "My App"
    assert {env["slug"]: env["id"] for env in project["environments"]} == w.envs
    orgs = (await ok(api, "GET", "/orgs", w.admin))["orgs"]
    assert [org["name"] for org in orgs] == ["Acme Corp"]


# -- 15.1 rows 3-17 ------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/me", None),
        ("GET", "/orgs", None),
        ("POST", "/orgs", {"name": "test"}),
        ("POST", "/projects", {"name": "test", "orgId": "fake"}),
    ],
)
async def test_rows_3_to_6_no_credentials_is_401(
    api: Api, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await send(api, method, path, None, body)
    assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})


@pytest.mark.asyncio
async def test_rows_7_to_9_create_an_org_list_it_and_me(api: Api) -> None:
    headers = await api.user("Ada Lovelace", email="ada@example.com")
    created = await ok(api, "POST", "/orgs", headers, {"name": "Acme Corp"})
    assert created["ok"] is True
    assert created["name"] == "Acme Corp"
    assert created["id"]
    assert set(created) == {"ok", "id", "name"}

    orgs = (await ok(api, "GET", "/orgs", headers))["orgs"]
    assert [(o["id"], o["name"], o["role"]) for o in orgs] == [
        (created["id"], "Acme Corp", "admin")
    ]
    assert set(orgs[0]) == {"id", "name", "role", "createdAt", "updatedAt"}
    assert orgs[0]["createdAt"] == orgs[0]["updatedAt"] > 1_600_000_000_000  # epoch ms

    me = await ok(api, "GET", "/me", headers)
    assert me["user"]["name"] == "Ada Lovelace"
    assert me["user"]["email"] == "ada@example.com"
    assert me["user"]["id"]
    assert me["orgs"] == [{"id": created["id"], "name": "Acme Corp", "role": "admin"}]


@pytest.mark.asyncio
async def test_rows_10_to_13_create_get_list_rename_and_delete_a_project(api: Api) -> None:
    headers = await api.user()
    org = (await ok(api, "POST", "/orgs", headers, {"name": "Acme Corp"}))["id"]
    created = await ok(api, "POST", "/projects", headers, {"name": "My App", "orgId": org})
    assert created["ok"] is True
    assert (created["name"], created["orgId"]) == ("My App", org)
    assert set(created) == {"ok", "id", "name", "orgId"}
    project = created["id"]

    got = await ok(api, "GET", f"/projects/{project}", headers)
    assert set(got) == ITEM_KEYS
    assert (got["id"], got["name"], got["orgId"], got["orgName"]) == (
        project,
        "My App",
        org,
        "Acme Corp",
    )
    assert sorted(env["slug"] for env in got["environments"]) == ["dev", "preview", "prod"]
    assert all(set(env) == SUMMARY_KEYS for env in got["environments"])

    listed = (await ok(api, "GET", "/projects", headers))["projects"]
    [item] = [p for p in listed if p["name"] == "My App"]
    assert len(item["environments"]) == 3
    assert item == got

    renamed = await ok(api, "PATCH", f"/projects/{project}", headers, {"name": "Renamed"})
    assert renamed == {"ok": True, "id": project, "orgId": org, "name": "Renamed"}
    again = await ok(api, "GET", f"/projects/{project}", headers)
    assert again["name"] == "Renamed"
    assert again["updatedAt"] >= again["createdAt"]

    deleted = await ok(api, "DELETE", f"/projects/{project}", headers)
    assert deleted == {"ok": True, "id": project}
    gone = await send(api, "GET", f"/projects/{project}", headers)
    assert gone.status_code == 404
    assert (await ok(api, "GET", "/projects", headers))["projects"] == []


@pytest.mark.asyncio
async def test_rows_14_to_17_list_create_delete_and_get_environments(api: Api) -> None:
    w = await world(api)
    base = f"/projects/{w.project}/environments"
    listed = await ok(api, "GET", base, w.admin)
    assert listed["projectId"] == w.project
    assert [(e["name"], e["slug"]) for e in listed["environments"]] == [
        ("Dev", "dev"),
        ("Preview", "preview"),
        ("Prod", "prod"),
    ]
    assert all(
        set(e) == SUMMARY_KEYS and e["projectId"] == w.project for e in listed["environments"]
    )

    staging = await ok(api, "POST", base, w.admin, {"name": "Staging", "slug": "staging"})
    assert staging["ok"] is True
    assert (staging["name"], staging["slug"], staging["projectId"]) == (
        "Staging",
        "staging",
        w.project,
    )
    assert set(staging) == {"ok", "id", "projectId", "name", "slug"}
    after = (await ok(api, "GET", base, w.admin))["environments"]
    assert [e["slug"] for e in after] == ["dev", "preview", "prod", "staging"]

    temp = (await ok(api, "POST", base, w.admin, {"name": "Temp", "slug": "temp"}))["id"]
    assert await ok(api, "DELETE", f"{base}/{temp}", w.admin) == {"ok": True, "id": temp}
    for ref in (temp, "temp"):
        assert (await send(api, "GET", f"{base}/{ref}", w.admin)).status_code == 404

    dev = await ok(api, "GET", f"{base}/dev", w.admin)
    assert (dev["slug"], dev["name"], dev["id"]) == ("dev", "Dev", w.envs["dev"])
    assert await ok(api, "GET", f"{base}/{w.envs['dev']}", w.admin) == dev


@pytest.mark.asyncio
async def test_projects_list_newest_first_per_org_and_filters_by_org(api: Api) -> None:
    w = await world(api)
    second = await ok(api, "POST", "/projects", w.admin, {"name": "Second", "orgId": w.org})
    other_org = (await ok(api, "POST", "/orgs", w.admin, {"name": "Beta"}))["id"]
    beta = await ok(api, "POST", "/projects", w.admin, {"name": "Beta App", "orgId": other_org})
    staging = {"name": "Staging", "slug": "staging"}
    await ok(api, "POST", f"/projects/{w.project}/environments", w.admin, staging)

    everything = (await ok(api, "GET", "/projects", w.admin))["projects"]
    assert [(p["name"], p["orgName"]) for p in everything] == [
        ("Second", "Acme Corp"),
        ("My App", "Acme Corp"),
        ("Beta App", "Beta"),
    ]
    assert [e["slug"] for e in everything[1]["environments"]] == [
        "dev",
        "preview",
        "prod",
        "staging",
    ]
    only = (await ok(api, "GET", f"/projects?orgId={other_org}", w.admin))["projects"]
    assert [p["id"] for p in only] == [beta["id"]]
    acme = (await ok(api, "GET", f"/projects?orgId={w.org}", w.admin))["projects"]
    assert [p["id"] for p in acme] == [second["id"], w.project]

    stranger = await api.user("Bo")
    for org in (w.org, UNUSED_ID):
        response = await send(api, "GET", f"/projects?orgId={org}", stranger)
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert (await ok(api, "GET", "/projects", stranger))["projects"] == []


# -- 15.1 rows 31-40: B is signed in but not a member of A's org ---------------------------


@pytest.mark.asyncio
async def test_rows_31_to_40_an_outsider_gets_403_and_changes_nothing(api: Api) -> None:
    w = await world(api)
    b = await api.user("Bo")
    b_org = (await ok(api, "POST", "/orgs", b, {"name": "B Org"}))["id"]
    b_project = (await ok(api, "POST", "/projects", b, {"name": "B App", "orgId": b_org}))["id"]
    envs = f"/projects/{w.project}/environments"
    attempts: list[tuple[str, str, Any]] = [
        ("GET", f"/projects/{w.project}", None),  # row 31
        ("POST", "/projects", {"name": "Mine", "orgId": w.org}),  # row 33
        ("DELETE", f"/projects/{w.project}", None),  # row 34
        ("POST", envs, {"name": "Evil", "slug": "evil"}),  # row 39
        ("DELETE", f"{envs}/{w.envs['dev']}", None),  # row 40, by id
        ("DELETE", f"{envs}/dev", None),  # row 40, by slug
        ("PATCH", f"/projects/{w.project}", {"name": "Taken"}),
        ("GET", envs, None),
        ("GET", f"{envs}/dev", None),
        ("PATCH", f"{envs}/dev", {"slug": "gone"}),
        ("GET", f"/projects?orgId={w.org}", None),
        # An environment id is looked up in any project (6.2); membership is checked
        # against the org that owns the environment found, not the URL's project.
        ("GET", f"/projects/{b_project}/environments/{w.envs['prod']}", None),
        ("DELETE", f"/projects/{b_project}/environments/{w.envs['prod']}", None),
    ]
    for method, path, body in attempts:
        response = await send(api, method, path, b, body)
        assert (response.status_code, response.json()) == (403, FORBIDDEN), (method, path)
    listed = (await ok(api, "GET", "/projects", b))["projects"]
    assert [p["id"] for p in listed] == [b_project]
    await unchanged(api, w)


@pytest.mark.asyncio
async def test_environment_references_follow_6_2(api: Api) -> None:
    w = await world(api)
    other = await ok(api, "POST", "/projects", w.admin, {"name": "Other", "orgId": w.org})
    staging = {"name": "Staging", "slug": "staging"}
    made = await ok(api, "POST", f"/projects/{other['id']}/environments", w.admin, staging)
    # an id resolves in any project the caller may reach...
    found = await ok(api, "GET", f"/projects/{w.project}/environments/{made['id']}", w.admin)
    assert (found["projectId"], found["slug"]) == (other["id"], "staging")
    # ...a slug only within the URL's project
    missing = await send(api, "GET", f"/projects/{w.project}/environments/staging", w.admin)
    assert missing.status_code == 404
    # a rename through the "wrong" URL changes the environment found, in its own project
    renamed = await ok(
        api, "PATCH", f"/projects/{w.project}/environments/{made['id']}", w.admin, {"slug": "qa"}
    )
    assert (renamed["projectId"], renamed["slug"]) == (other["id"], "qa")
    await unchanged(api, w)


# -- [D3] [D4] -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_d3_members_create_and_rename_but_only_admins_delete(api: Api) -> None:
    w = await world(api)
    member, _ = await join(api, w)
    assert [o["role"] for o in (await ok(api, "GET", "/orgs", member))["orgs"]] == ["member"]
    envs = f"/projects/{w.project}/environments"
    for path in (f"/projects/{w.project}", f"{envs}/dev", f"{envs}/{w.envs['prod']}"):
        response = await send(api, "DELETE", path, member)
        assert (response.status_code, response.json()) == (403, ADMIN_REQUIRED), path
    await unchanged(api, w)

    made = await ok(api, "POST", "/projects", member, {"name": "Member App", "orgId": w.org})
    assert made["orgId"] == w.org
    env = await ok(api, "POST", envs, member, {"name": "Staging", "slug": "staging"})
    assert env["slug"] == "staging"
    renamed = await ok(api, "PATCH", f"/projects/{w.project}", member, {"name": "Renamed"})
    assert renamed["name"] == "Renamed"
    changed = await ok(api, "PATCH", f"{envs}/staging", member, {"name": "QA", "slug": "qa"})
    assert (changed["id"], changed["name"], changed["slug"]) == (env["id"], "QA", "qa")
    # a member cannot delete even what they created
    response = await send(api, "DELETE", f"/projects/{made['id']}", member)
    assert (response.status_code, response.json()) == (403, ADMIN_REQUIRED)
    assert await ok(api, "DELETE", f"/projects/{made['id']}", w.admin) == {
        "ok": True,
        "id": made["id"],
    }


@pytest.mark.asyncio
async def test_d4_a_removed_member_is_refused_on_the_very_next_request(api: Api) -> None:
    w = await world(api)
    member, membership = await join(api, w)
    assert (await ok(api, "GET", f"/projects/{w.project}", member))["id"] == w.project
    await api.services.access.remove_member(w.org, membership, w.admin_actor)
    response = await send(api, "GET", f"/projects/{w.project}", member)
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert (await ok(api, "GET", "/projects", member))["projects"] == []
    assert (await ok(api, "GET", "/me", member))["orgs"] == []


# -- [D9] [D11]: PATCH environment -----------------------------------------------------------


@pytest.mark.asyncio
async def test_d9_null_and_empty_fields_are_not_given(api: Api) -> None:
    w = await world(api)
    base = f"/projects/{w.project}/environments"
    env = (await ok(api, "POST", base, w.admin, {"name": "Staging", "slug": "staging"}))["id"]
    answer = await ok(api, "PATCH", f"{base}/staging", w.admin, {"name": None, "slug": "qa"})
    assert answer == {
        "ok": True,
        "id": env,
        "projectId": w.project,
        "name": "Staging",
        "slug": "qa",
    }
    assert (await send(api, "GET", f"{base}/staging", w.admin)).status_code == 404
    steps: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"name": "", "slug": "uat"}, ("Staging", "uat")),
        ({"name": "QA", "slug": ""}, ("QA", "uat")),
        ({"name": "Quality", "slug": None}, ("Quality", "uat")),
        ({"slug": "qa"}, ("Quality", "qa")),
        ({"slug": "qa"}, ("Quality", "qa")),  # its own slug is not "taken"
    ]
    for body, expected in steps:
        answer = await ok(api, "PATCH", f"{base}/{env}", w.admin, body)
        assert (answer["name"], answer["slug"]) == expected, body
        got = await ok(api, "GET", f"{base}/{env}", w.admin)
        assert (got["name"], got["slug"]) == expected, body


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [{}, {"name": None}, {"slug": None}, {"name": None, "slug": None}, {"name": "", "slug": ""}],
)
async def test_d9_neither_field_is_400(api: Api, body: dict[str, Any]) -> None:
    w = await world(api)
    response = await send(api, "PATCH", f"/projects/{w.project}/environments/dev", w.admin, body)
    assert (response.status_code, response.json()) == (400, NEITHER)
    await unchanged(api, w)


@pytest.mark.asyncio
async def test_d11_a_taken_slug_is_409_on_create_and_on_rename(api: Api) -> None:
    w = await world(api)
    base = f"/projects/{w.project}/environments"
    created = await send(api, "POST", base, w.admin, {"name": "Another Dev", "slug": "dev"})
    assert (created.status_code, created.json()) == (409, SLUG_TAKEN)
    renamed = await send(api, "PATCH", f"{base}/preview", w.admin, {"name": "X", "slug": "prod"})
    assert (renamed.status_code, renamed.json()) == (409, SLUG_TAKEN)
    await unchanged(api, w)
    # slugs are unique per project, not across projects
    other = await ok(api, "POST", "/projects", w.admin, {"name": "Other", "orgId": w.org})
    staging = {"name": "Staging", "slug": "staging"}
    await ok(api, "POST", f"/projects/{other['id']}/environments", w.admin, staging)
    await ok(api, "POST", base, w.admin, staging)


# -- bad input, credentials, unknown ids -----------------------------------------------------

LEAK = "leaky-value"
MALFORMED: list[Any] = [b'{"name": "leaky-value', b"", b"[]", b"null", b'"just text"']
BAD_NAMES: list[Any] = ["", "   ", "N" * 101, "tab\there"]
BAD_SLUGS: list[Any] = ["", "Staging", "-leading", "has space", "under_score", "s" * 64, "é"]

# route -> bad bodies; each is refused with 422 whatever the caller's rights
BAD_INPUT: dict[tuple[str, str], list[Any]] = {
    ("POST", "/orgs"): [
        *MALFORMED,
        {},
        {"name": 5},
        {"name": None},
        {"name": "Fine", "plan": "enterprise"},
        *({"name": name} for name in BAD_NAMES),
    ],
    ("POST", "/projects"): [
        *MALFORMED,
        {"name": "Fine"},
        {"orgId": "{o}"},
        {"name": 5, "orgId": "{o}"},
        {"name": "Fine", "orgId": 5},
        {"name": "Fine", "orgId": "{o}", "org_id": "{o}"},
        *({"name": name, "orgId": "{o}"} for name in BAD_NAMES),
    ],
    ("PATCH", "/projects/{p}"): [
        *MALFORMED,
        {},
        {"name": None},
        {"name": ["list"]},
        {"name": "Fine", "orgId": "{o}"},
        *({"name": name} for name in BAD_NAMES),
    ],
    ("POST", "/projects/{p}/environments"): [
        *MALFORMED,
        {"name": "Fine"},
        {"slug": "fine"},
        {"name": 5, "slug": "fine"},
        {"name": "Fine", "slug": 5},
        {"name": "Fine", "slug": "fine", "color": "red"},
        *({"name": name, "slug": "fine"} for name in BAD_NAMES),
        *({"name": "Fine", "slug": slug} for slug in BAD_SLUGS),
    ],
    ("PATCH", "/projects/{p}/environments/{e}"): [
        *MALFORMED,
        {"name": 5},
        {"slug": True},
        {"slug": "fine", "color": "red"},
        *({"name": name} for name in BAD_NAMES if name),  # "" is "not given" [D9]
        *({"slug": slug} for slug in BAD_SLUGS if slug),
    ],
}


def _strings(value: Any) -> list[str]:
    if isinstance(value, bytes):
        return [LEAK] if LEAK.encode() in value else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "path"), list(BAD_INPUT))
async def test_bad_input_is_422_with_detail_that_echoes_nothing(
    api: Api, method: str, path: str
) -> None:
    w = await world(api)
    for bad in BAD_INPUT[(method, path)]:
        body = bad if isinstance(bad, bytes) else {k: _fill(w, v) for k, v in bad.items()}
        response = await send(api, method, w.fill(path), w.admin, body)
        assert response.status_code == 422, (bad, response.text)
        answer = response.json()
        assert answer["error"] == "validation failed", bad
        assert answer["detail"], bad
        assert all(set(item) == {"field", "message"} for item in answer["detail"]), bad
        echoed = [s for s in _strings(bad) if len(s.strip()) > 3 and s in response.text]
        assert echoed == [], bad
        if isinstance(bad, dict) and bad.get("slug") in BAD_SLUGS:
            assert {"field": "slug", "message": f"must match {SLUG_RULE}"} in answer["detail"]
        if isinstance(bad, dict) and bad.get("name") in BAD_NAMES:
            [item] = answer["detail"]
            assert item["field"] == "name"
            assert NAME_RULE in item["message"]
    await unchanged(api, w)


def _fill(w: World, value: Any) -> Any:
    return w.fill(value) if isinstance(value, str) else value


@pytest.mark.asyncio
async def test_an_empty_org_filter_is_422(api: Api) -> None:
    w = await world(api)
    response = await send(api, "GET", "/projects?orgId=", w.admin)
    assert response.status_code == 422
    assert response.json()["error"] == "validation failed"
    assert response.json()["detail"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "authorization",
    [None, "api token", "Bearer sig_invalid_token_that_does_not_exist", "Bearer nope", "Basic x"],
)
async def test_every_route_needs_a_session(api: Api, authorization: str | None) -> None:
    """No credentials, a bad one or a valid API token (which reaches only the secrets
    routes): 401 everywhere, and nothing changes."""
    w = await world(api)
    headers: dict[str, str] = {}
    if authorization == "api token":
        _, key = await api.services.access.create_token(w.project, w.admin_actor, name="ci")
        assert await api.services.access.authenticate_token(key) is not None  # it is valid
        headers = {"Authorization": f"Bearer {key}"}
    elif authorization is not None:
        headers = {"Authorization": authorization}
    for method, path, body in ROUTES:
        filled = {k: w.fill(v) for k, v in body.items()} if body else None
        response = await send(api, method, w.fill(path), headers, filled)
        assert (response.status_code, response.json()) == (401, {"error": "unauthorized"}), (
            method,
            path,
        )
    await unchanged(api, w)


@pytest.mark.asyncio
async def test_unknown_ids_are_404(api: Api) -> None:
    w = await world(api)
    env = {"name": "Fine", "slug": "fine"}
    for unknown in (UNUSED_ID, "nope", "%F0%9F%94%90", "x" * 2000):
        p, e = f"/projects/{w.project}", f"/projects/{w.project}/environments/{unknown}"
        attempts: list[tuple[str, str, Any]] = [
            ("GET", f"/projects/{unknown}", None),
            ("PATCH", f"/projects/{unknown}", {"name": "Fine"}),
            ("DELETE", f"/projects/{unknown}", None),
            ("GET", f"/projects/{unknown}/environments", None),
            ("POST", f"/projects/{unknown}/environments", env),
            ("GET", e, None),
            ("PATCH", e, {"slug": "fine"}),
            ("DELETE", e, None),
            ("GET", f"/projects/{unknown}/environments/dev", None),  # a slug of another project
            ("DELETE", f"/projects/{unknown}/environments/{unknown}", None),
            ("GET", f"{p}/environments/{unknown.lower()}", None),
        ]
        for method, path, body in attempts:
            response = await send(api, method, path, w.admin, body)
            assert response.status_code == 404, (method, path[:80], response.text)
            assert set(response.json()) == {"error"}
    await unchanged(api, w)


@pytest.mark.asyncio
async def test_ids_holding_a_nul_are_bad_input_not_a_500(api: Api) -> None:
    """PostgreSQL text cannot hold a NUL: such ids are refused before any lookup."""
    w = await world(api)
    for nul in ("%00", "a%00b"):
        for method, path, body in [
            ("GET", f"/projects/{nul}", None),
            ("DELETE", f"/projects/{nul}", None),
            ("POST", f"/projects/{nul}/environments", {"name": "Fine", "slug": "fine"}),
            ("GET", f"/projects/{w.project}/environments/{nul}", None),
            ("PATCH", f"/projects/{w.project}/environments/{nul}", {"slug": "fine"}),
            ("DELETE", f"/projects/{w.project}/environments/{nul}", None),
        ]:
            response = await send(api, method, path, w.admin, body)
            assert response.status_code == 422, (method, path, response.text)
            assert response.json()["error"] == "validation failed"
    forbidden = await send(api, "GET", "/projects?orgId=%00", w.admin)
    assert (forbidden.status_code, forbidden.json()) == (403, FORBIDDEN)
    await unchanged(api, w)
