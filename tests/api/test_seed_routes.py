"""The seed README's REST examples, `/api/environments/{envId}/secrets`, exactly as it sends
them: list, set, bulk set and `download?format=json`, with a session or an API token. The
same work, access, errors and audit as the v0 routes; a session naming an environment
outside its orgs gets the 404 of an unknown id. And "did you mean prod?" for unknown slugs.

Every test runs on SQLite and PostgreSQL (the `api` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest

from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.services.catalog import closest_slug
from tests.api.conftest import Api
from tests.api.helpers import Project, add_member, bearer, create_token, project

pytestmark = pytest.mark.asyncio


def seed(environment_id: str, rest: str = "") -> str:
    return f"/api/environments/{environment_id}/secrets{rest}"


async def key(api: Api, made: Project, **body: Any) -> dict[str, str]:
    return bearer((await create_token(api, made, **body))["key"])


async def test_the_readmes_four_requests_with_an_api_token(api: Api) -> None:
    made = await project(api)
    token = await key(api, made, access="read-write")
    dev = made.environments["dev"]
    json_headers = {**token, "Content-Type": "application/json"}

    listed = await api.call("GET", seed(dev), headers=token)
    assert listed.status_code == 200
    assert listed.json() == {"environmentId": dev, "secrets": [], "allNames": []}

    one = await api.call(
        "POST", seed(dev), headers=json_headers, json={"name": "API_KEY", "value": "sk-live-xxx"}
    )
    assert one.status_code == 200, one.text
    assert list(one.json()) == ["ok", "environmentId", "id", "name"]
    assert (one.json()["environmentId"], one.json()["name"]) == (dev, "API_KEY")

    bulk = await api.call(
        "PUT", seed(dev), headers=json_headers, json={"secrets": {"KEY1": "val1", "KEY2": "val2"}}
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json() == {"ok": True, "environmentId": dev, "secrets": ["KEY1", "KEY2"]}

    download = await api.client.get(seed(dev, "/download?format=json"), headers=token)
    assert download.status_code == 200
    assert download.headers["cache-control"] == "no-store"
    assert download.json() == {"API_KEY": "sk-live-xxx", "KEY1": "val1", "KEY2": "val2"}
    v0 = await api.client.get(made.path("dev", "/download?format=json"), headers=token)
    assert download.content == v0.content

    names = (await api.call("GET", seed(dev), headers=token)).json()
    assert [s["name"] for s in names["secrets"]] == ["API_KEY", "KEY1", "KEY2"]
    v0_list = (await api.call("GET", made.path("dev"), headers=token)).json()
    assert [s["id"] for s in names["secrets"]] == [s["id"] for s in v0_list["secrets"]]


async def test_every_format_answers_as_on_the_v0_route(api: Api) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    await api.services.secrets.set(dev, {"A": "1", "DB__HOST": "h"}, made.admin_actor)
    for format in ("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json"):
        by_id = await api.client.get(seed(dev, f"/download?format={format}"), headers=made.admin)
        v0 = await api.client.get(
            made.path("dev", f"/download?format={format}"), headers=made.admin
        )
        assert by_id.status_code == v0.status_code == 200, format
        assert by_id.content == v0.content, format
        assert by_id.headers["content-type"] == v0.headers["content-type"], format


async def test_a_session_reaches_its_orgs_environments_by_id(api: Api) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    member = await api.user("Member")
    await add_member(api, made, member)
    answer = await api.call("POST", seed(dev), headers=member, json={"name": "A", "value": "1"})
    assert answer.status_code == 200, answer.text
    listed = await api.call("GET", seed(dev), headers=member)
    assert [s["name"] for s in listed.json()["secrets"]] == ["A"]


async def test_a_session_names_an_environment_by_id_only(api: Api) -> None:
    made = await project(api)
    answer = await api.call("GET", seed("dev"), headers=made.admin)
    assert (answer.status_code, answer.json()) == (404, {"error": "not found"})


async def test_another_tenant_cannot_tell_an_environment_from_an_unknown_id(api: Api) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    await api.services.secrets.set(dev, {"A": "1"}, made.admin_actor)
    outsider = await api.user("Outsider")
    other = await project(api, outsider)  # another org, with its own environments
    token = await key(api, other, access="read-write")
    for method, path, body in [
        ("GET", seed(dev), None),
        ("POST", seed(dev), {"name": "B", "value": "2"}),
        ("PUT", seed(dev), {"secrets": {"B": "2"}}),
        ("GET", seed(dev, "/download"), None),
    ]:
        known = await api.call(method, path, headers=outsider, json=body)
        unknown = await api.call(
            method, path.replace(dev, "env_unknown"), headers=outsider, json=body
        )
        assert (known.status_code, known.json()) == (404, {"error": "not found"}), path
        assert (unknown.status_code, unknown.json()) == (404, {"error": "not found"}), path
        # an API token of the other org: the v0 routes' answer, the same for both
        by_token = await api.call(method, path, headers=token, json=body)
        v0 = await api.call(
            method, made.path(dev, path.split("/secrets")[1]), headers=token, json=body
        )
        assert by_token.status_code == v0.status_code == 403, path
        assert (
            by_token.json()
            == v0.json()
            == {"error": "token does not have access to this environment"}
        )
    assert [r.name for r in await api.services.secrets.current(dev)] == ["A"]  # nothing changed


async def test_token_scope_and_read_only_are_the_v0_routes(api: Api) -> None:
    made = await project(api)
    dev, prod = made.environments["dev"], made.environments["prod"]
    read = await key(api, made)
    scoped = await key(api, made, environmentId="prod", access="read-write")
    refused = await api.call("POST", seed(dev), headers=read, json={"name": "A", "value": "1"})
    assert (refused.status_code, refused.json()) == (403, {"error": "token is read-only"})
    other = await api.call("GET", seed(dev), headers=scoped)
    assert (other.status_code, other.json()) == (
        403,
        {"error": "token is scoped to a different environment"},
    )
    assert (await api.call("GET", seed(prod), headers=scoped)).status_code == 200
    # a token may name its project's environments by slug, as on the v0 routes
    by_slug = await api.call("GET", seed("prod"), headers=scoped)
    assert (by_slug.status_code, by_slug.json()["environmentId"]) == (200, prod)


async def test_without_credentials_it_is_401(api: Api) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    for headers in ({}, bearer("sig_" + "0" * 40), {"Authorization": "Bearer nonsense"}):
        for method in ("GET", "POST", "PUT"):
            answer = await api.call(method, seed(dev), headers=headers, json={"secrets": {}})
            assert (answer.status_code, answer.json()) == (401, {"error": "unauthorized"})
        download = await api.call("GET", seed(dev, "/download"), headers=headers)
        assert download.status_code == 401


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("POST", {"name": "1BAD", "value": "v"}),
        ("POST", {"name": "A", "value": "v\x00"}),
        ("POST", {"name": "A"}),
        ("POST", {"name": "A", "value": "v", "extra": 1}),
        ("POST", {"name": "A" * 257, "value": "v"}),
        ("POST", {"name": "A", "value": "x" * (64 * 1024 + 1)}),
        ("POST", {"name": "A", "value": "v", "kind": "public"}),
        ("PUT", {"secrets": {"1BAD": "v"}}),
        ("PUT", {"secrets": ["A"]}),
        ("PUT", {"secrets": {"A": {"value": "v", "kind": "other"}}}),
        ("PUT", {}),
        ("POST", [1, 2]),
    ],
)
async def test_malformed_and_oversized_input_is_422(api: Api, method: str, body: Any) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    answer = await api.call(method, seed(dev), headers=made.admin, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "validation failed"
    assert "xxxx" not in answer.text  # never the input
    assert await api.services.secrets.current(dev) == []


async def test_bad_bodies_and_formats(api: Api) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    not_json = await api.client.post(
        seed(dev), headers={**made.admin, "Content-Type": "text/plain"}, content=b"A=1"
    )
    assert not_json.status_code == 415
    broken = await api.client.post(
        seed(dev), headers={**made.admin, "Content-Type": "application/json"}, content=b"{"
    )
    assert broken.status_code == 422
    huge = await api.client.put(
        seed(dev),
        headers={**made.admin, "Content-Type": "application/json"},
        content=b'{"secrets": {"A": "' + b"x" * (16 * 1024 * 1024) + b'"}}',
    )
    assert huge.status_code == 413
    unknown = await api.call("GET", seed(dev, "/download?format=toml"), headers=made.admin)
    assert unknown.status_code == 422
    nul = await api.call("GET", seed("env%00x"), headers=made.admin)
    assert nul.status_code in (404, 422)


async def test_the_reads_are_audited_as_on_the_v0_routes(api: Api) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    token = await key(api, made)
    await api.services.secrets.set(dev, {"A": "1", "B": "2"}, made.admin_actor)
    events = f"/api/v0/projects/{made.id}/environments/{dev}/events"
    await api.call("GET", seed(dev), headers=token)  # a listing reads nothing
    logged = (await api.call("GET", events, headers=made.admin)).json()["events"]
    assert [e for e in logged if e["type"] == "secrets.read"] == []

    await api.client.get(seed(dev, "/download"), headers=token)
    await api.client.get(made.path(dev, "/download"), headers=token)
    by_id, v0 = (await api.call("GET", events, headers=made.admin, params={"limit": 2})).json()[
        "events"
    ]
    for read in (by_id, v0):
        assert (read["type"], read["how"], read.get("names")) == ("secrets.read", "download", None)
        assert (read["secretsVersion"], read["count"]) == (2, 2)
        assert read["actor"]["kind"] == "token"
    when = ("position", "id", "at", "version")  # where in the log: all the rest is the same
    assert {k: v for k, v in by_id.items() if k not in when} == {
        k: v for k, v in v0.items() if k not in when
    }


# --- did you mean ------------------------------------------------------------------------


def environments(*slugs: str) -> list[EnvironmentRow]:
    names = {"dev": "Dev", "preview": "Preview", "prod": "Prod"}
    return [
        EnvironmentRow(f"env_{slug}", "p", names.get(slug, slug.title()), slug, 0, 0, n)
        for n, slug in enumerate(slugs)
    ]


@pytest.mark.parametrize(
    ("ref", "slugs", "meant"),
    [
        ("production", ("dev", "preview", "prod"), "prod"),
        ("Production", ("dev", "preview", "prod"), "prod"),
        ("development", ("dev", "preview", "prod"), "dev"),
        ("staging", ("dev", "preview", "prod"), "preview"),
        ("PROD", ("dev", "preview", "prod"), "prod"),
        ("prdo", ("dev", "preview", "prod"), "prod"),
        ("previw", ("dev", "preview", "prod"), "preview"),
        ("prod", ("development", "production"), "production"),
        ("staging", ("dev", "prod"), None),  # never a slug the project does not have
        ("zzz", ("dev", "preview", "prod"), None),
        ("production", (), None),
    ],
)
async def test_the_closest_slug(ref: str, slugs: tuple[str, ...], meant: str | None) -> None:
    assert closest_slug(ref, environments(*slugs)) == meant


async def test_an_unknown_slug_suggests_the_closest_to_a_member(api: Api) -> None:
    made = await project(api)
    answer = await api.call("GET", made.path("production"), headers=made.admin)
    assert answer.status_code == 404
    assert answer.json() == {
        "error": "environment not found; did you mean prod?",
        "suggestion": "prod",
    }
    env = await api.call(
        "GET", f"/api/v0/projects/{made.id}/environments/staging", headers=made.admin
    )
    assert (env.status_code, env.json()["suggestion"]) == (404, "preview")
    nothing = await api.call("GET", made.path("zzz"), headers=made.admin)
    assert (nothing.status_code, nothing.json()) == (404, {"error": "not found"})


async def test_an_unknown_slug_suggests_to_a_token_only_what_it_reaches(api: Api) -> None:
    made = await project(api)
    token = await key(api, made)
    answer = await api.call("GET", seed("production"), headers=token)
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "token does not have access to this environment; did you mean prod?",
        "suggestion": "prod",
    }
    scoped = await key(api, made, environmentId="dev")
    hidden = await api.call("GET", made.path("production"), headers=scoped)
    assert hidden.json() == {"error": "token does not have access to this environment"}


async def test_an_outsider_is_never_told_another_projects_slugs(api: Api) -> None:
    made = await project(api)
    outsider = await api.user("Outsider")
    await project(api, outsider)
    for path in (made.path("production"), f"/api/v0/projects/{made.id}/environments/prod-x"):
        answer = await api.call("GET", path, headers=outsider)
        assert answer.status_code == 404, path
        assert "suggestion" not in answer.json(), path
        assert "prod" not in answer.json()["error"], path


async def test_a_renamed_environment_is_suggested_by_its_new_slug(api: Api) -> None:
    made = await project(api)
    renamed = await api.services.catalog.rename_environment(
        made.id, made.environments["prod"], made.admin_actor, slug="production"
    )
    assert renamed.slug == "production"
    answer = await api.call("GET", made.path("prod"), headers=made.admin)
    assert answer.json()["suggestion"] == "production"
