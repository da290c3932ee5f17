"""The six secrets routes (behaviour.md 6.7), with sessions and with API tokens.

Rows are those of 15.1 (18-30, 31-40 for the secrets routes, 41-46) and of 15.4.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sigillo.domain.events import Actor, SecretsRead
from sigillo.domain.streams import environment_stream, reads_stream
from tests.api.conftest import Api
from tests.api.helpers import (
    Project,
    actor_of,
    add_member,
    bearer,
    create_token,
    project,
    secrets_path,
)

pytestmark = pytest.mark.asyncio

LIST_ITEM_KEYS = {"id", "name", "createdAt", "updatedAt", "isEmpty", "kind"}  # kind: D18
GET_KEYS = {"id", "name", "value", "environmentId", "createdAt", "updatedAt", "kind"}


async def set_secret(
    api: Api, headers: dict[str, str], path: str, name: str, value: str
) -> dict[str, Any]:
    response = await api.call("POST", path, headers=headers, json={"name": name, "value": value})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def listing(api: Api, headers: dict[str, str], path: str) -> dict[str, Any]:
    response = await api.call("GET", path, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def value_of(api: Api, headers: dict[str, str], path: str, name: str) -> str:
    response = await api.call("GET", f"{path}/{name}", headers=headers)
    assert response.status_code == 200, response.text
    value: str = response.json()["value"]
    return value


async def reads(api: Api, environment_id: str) -> list[tuple[Actor, SecretsRead]]:
    recorded = await api.services.store.read_stream(reads_stream(environment_id))
    result = []
    for event in recorded:
        assert isinstance(event.event, SecretsRead)
        result.append((event.actor, event.event))
    return result


def error(response: Any, status: int, message: str) -> None:
    assert (response.status_code, response.json()) == (status, {"error": message}), response.text


# -- 15.1 rows 18-22: set, get, list, delete ------------------------------------------------


async def test_row_18_set_then_get_returns_the_value(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    answer = await set_secret(
        api, made.admin, dev, "DATABASE_URL", "postgres://localhost:5432/mydb"
    )
    assert set(answer) == {"ok", "environmentId", "id", "name"}
    assert answer["ok"] is True
    assert answer["environmentId"] == made.environments["dev"]
    assert answer["name"] == "DATABASE_URL"
    assert len(answer["id"]) == 26

    response = await api.call("GET", f"{dev}/DATABASE_URL", headers=made.admin)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == GET_KEYS
    assert body["name"] == "DATABASE_URL"
    assert body["value"] == "postgres://localhost:5432/mydb"
    assert body["id"] == answer["id"]
    assert body["environmentId"] == made.environments["dev"]
    assert isinstance(body["createdAt"], int)
    assert body["createdAt"] == body["updatedAt"]


async def test_row_19_the_list_has_the_name_and_no_value_key(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    set_answer = await set_secret(api, made.admin, dev, "DATABASE_URL", "postgres://x")
    body = await listing(api, made.admin, dev)
    assert set(body) == {"environmentId", "secrets", "allNames"}
    assert body["environmentId"] == made.environments["dev"]
    [item] = body["secrets"]
    assert set(item) == LIST_ITEM_KEYS
    assert "value" not in item
    assert item["name"] == "DATABASE_URL"
    assert item["id"] == set_answer["id"]
    assert item["isEmpty"] is False
    assert body["allNames"] == ["DATABASE_URL"]


async def test_row_20_a_deleted_secret_is_404(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    await set_secret(api, made.admin, dev, "TO_DELETE", "gone soon")
    response = await api.call("DELETE", f"{dev}/TO_DELETE", headers=made.admin)
    assert (response.status_code, response.json()) == (200, {"ok": True, "name": "TO_DELETE"})
    error(await api.call("GET", f"{dev}/TO_DELETE", headers=made.admin), 404, "not found")
    assert (await listing(api, made.admin, dev))["secrets"] == []


async def test_row_21_the_latest_set_after_a_delete_wins(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    await set_secret(api, made.admin, dev, "EVOLVING", "v1")
    await set_secret(api, made.admin, dev, "EVOLVING", "v2")
    assert (await api.call("DELETE", f"{dev}/EVOLVING", headers=made.admin)).status_code == 200
    await set_secret(api, made.admin, dev, "EVOLVING", "v3")
    assert await value_of(api, made.admin, dev, "EVOLVING") == "v3"


async def test_row_22_bulk_set_answers_the_names_and_each_reads_back(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    values = {"BULK_A": "alpha", "BULK_B": "beta", "BULK_C": "gamma"}
    response = await api.call("PUT", dev, headers=made.admin, json={"secrets": values})
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "environmentId": made.environments["dev"],
        "secrets": ["BULK_A", "BULK_B", "BULK_C"],
    }
    for name, value in values.items():
        assert await value_of(api, made.admin, dev, name) == value


async def test_bulk_set_answers_names_in_the_body_order(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    content = b'{"secrets": {"ZED": "1", "ALPHA": "2", "MID": "3"}}'
    response = await api.call(
        "PUT", dev, headers={**made.admin, "Content-Type": "application/json"}, content=content
    )
    assert response.json()["secrets"] == ["ZED", "ALPHA", "MID"]
    names = [item["name"] for item in (await listing(api, made.admin, dev))["secrets"]]
    assert names == ["ZED", "ALPHA", "MID"]


async def test_d12_bulk_set_of_nothing_succeeds_with_an_empty_list(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    response = await api.call("PUT", dev, headers=made.admin, json={"secrets": {}})
    assert (response.status_code, response.json()) == (
        200,
        {"ok": True, "environmentId": made.environments["dev"], "secrets": []},
    )
    assert await api.services.store.read_stream(environment_stream(made.environments["dev"])) == []


async def test_bulk_set_is_all_or_nothing(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    body = {"secrets": {"GOOD": "fine", "BAD-NAME": "no", "ALSO_GOOD": "fine"}}
    response = await api.call("PUT", dev, headers=made.admin, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "name"
    assert (await listing(api, made.admin, dev))["secrets"] == []


async def test_listing_follows_replay_order_and_times(api: Api) -> None:
    """Behaviour.md 3.5's worked example, through the routes."""
    made = await project(api)
    dev = made.path("dev")
    first_a = await set_secret(api, made.admin, dev, "A", "1")
    await set_secret(api, made.admin, dev, "B", "x")
    second_a = await set_secret(api, made.admin, dev, "A", "2")
    await api.call("DELETE", f"{dev}/B", headers=made.admin)
    await set_secret(api, made.admin, dev, "C", "z")
    last_b = await set_secret(api, made.admin, dev, "B", "y")
    items = (await listing(api, made.admin, dev))["secrets"]
    assert [item["name"] for item in items] == ["A", "C", "B"]
    a = items[0]
    assert a["id"] == second_a["id"] != first_a["id"]
    assert a["updatedAt"] >= a["createdAt"]
    assert items[2]["id"] == last_b["id"]
    events = await api.services.store.read_stream(environment_stream(made.environments["dev"]))
    assert a["createdAt"] == events[0].occurred_at  # the first set since A became live
    assert a["updatedAt"] == events[2].occurred_at


# -- environment references (6.2) ------------------------------------------------------------


async def test_sessions_address_an_environment_by_id_or_slug(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made.path("dev"), "BY_SLUG", "1")
    by_id = made.path(made.environments["dev"])
    await set_secret(api, made.admin, by_id, "BY_ID", "2")
    for path in (made.path("dev"), by_id):
        body = await listing(api, made.admin, path)
        assert body["environmentId"] == made.environments["dev"]
        assert [item["name"] for item in body["secrets"]] == ["BY_SLUG", "BY_ID"]


async def test_a_session_id_reference_ignores_the_urls_project(api: Api) -> None:
    """Section 16: an id matches in any project the caller may reach."""
    made = await project(api)
    other = await project(api, made.admin, org_id=made.org_id, name="Other")
    await set_secret(api, made.admin, other.path("dev"), "IN_OTHER", "o")
    path = secrets_path(made.id, other.environments["dev"])
    body = await listing(api, made.admin, path)
    assert body["environmentId"] == other.environments["dev"]
    assert body["allNames"] == ["IN_OTHER"]


async def test_a_session_gets_404_for_an_unknown_environment(api: Api) -> None:
    made = await project(api)
    for ref in ["sandbox", "01J8Z5AAAAAAAAAAAAAAAAAAAA", "x" * 3000]:
        error(await api.call("GET", made.path(ref), headers=made.admin), 404, "not found")
        error(await api.call("GET", made.path(ref, "/A"), headers=made.admin), 404, "not found")
    other = await project(api, made.admin, org_id=made.org_id, name="Other")
    # A slug is only looked up in the URL's project.
    await api.services.catalog.create_environment(other.id, "QA", "qa", made.admin_actor)
    error(await api.call("GET", made.path("qa"), headers=made.admin), 404, "not found")


# -- 15.1 rows 28-30 and token scope (5.2, 6.2) ---------------------------------------------


async def test_row_28_a_project_wide_token_reads_a_value(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made.path("dev"), "TOKEN_TEST", "secret-value")
    token = await create_token(api, made)
    assert await value_of(api, bearer(token["key"]), made.path("dev"), "TOKEN_TEST") == (
        "secret-value"
    )


async def test_row_29_a_scoped_token_lists_its_environment_and_is_refused_elsewhere(
    api: Api,
) -> None:
    made = await project(api)
    token = bearer((await create_token(api, made, environmentId="dev"))["key"])
    body = await listing(api, token, made.path("dev"))
    assert body["secrets"] == []
    message = "token is scoped to a different environment"
    error(await api.call("GET", made.path("prod"), headers=token), 403, message)
    error(await api.call("GET", made.path(made.environments["prod"]), headers=token), 403, message)
    error(await api.call("GET", made.path("prod", "/A"), headers=token), 403, message)
    error(await api.call("GET", made.path("prod", "/download"), headers=token), 403, message)


async def test_row_30_an_unknown_sig_token_is_401(api: Api) -> None:
    made = await project(api)
    for key in ["sig_invalid_token_that_does_not_exist", "sig_" + "0" * 64, "sig_"]:
        response = await api.call("GET", made.path("dev"), headers=bearer(key))
        error(response, 401, "unauthorized")


async def test_no_credentials_are_401_on_every_secrets_route(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    for headers in [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}]:
        for method, path, body in [
            ("GET", dev, None),
            ("POST", dev, {"name": "A", "value": "1"}),
            ("PUT", dev, {"secrets": {"A": "1"}}),
            ("GET", f"{dev}/A", None),
            ("DELETE", f"{dev}/A", None),
            ("DELETE", f"{dev}/download", None),
            ("GET", f"{dev}/download", None),
        ]:
            response = await api.call(method, path, headers=headers, json=body)
            error(response, 401, "unauthorized")
    assert await api.services.store.read_stream(environment_stream(made.environments["dev"])) == []


async def test_a_token_ignores_the_urls_project_and_resolves_slugs_in_its_own(api: Api) -> None:
    made = await project(api)
    other = await project(api, made.admin, org_id=made.org_id, name="Other")
    await set_secret(api, made.admin, made.path("dev"), "MINE", "m")
    await set_secret(api, made.admin, other.path("dev"), "THEIRS", "t")
    token = bearer((await create_token(api, made))["key"])
    # Other project's id in the URL, slug `dev`: the token's own project's dev.
    body = await listing(api, token, secrets_path(other.id, "dev"))
    assert body["environmentId"] == made.environments["dev"]
    assert [item["name"] for item in body["secrets"]] == ["MINE"]
    assert body["allNames"] == ["MINE"]  # never the other project's names
    body = await listing(api, token, secrets_path("no-such-project", made.environments["dev"]))
    assert body["environmentId"] == made.environments["dev"]


async def test_a_token_is_refused_another_projects_environment(api: Api) -> None:
    made = await project(api)
    other = await project(api, made.admin, org_id=made.org_id, name="Other")
    await set_secret(api, made.admin, other.path("dev"), "THEIRS", "t")
    token = bearer((await create_token(api, made, access="read-write"))["key"])
    message = "token does not have access to this environment"
    theirs = other.path(other.environments["dev"])
    for method, path, body in [
        ("GET", theirs, None),
        ("GET", f"{theirs}/THEIRS", None),
        ("GET", f"{theirs}/download", None),
        ("POST", theirs, {"name": "A", "value": "1"}),
        ("PUT", theirs, {"secrets": {"A": "1"}}),
        ("DELETE", f"{theirs}/THEIRS", None),
        ("GET", made.path("sandbox"), None),  # no such slug in the token's project
        ("GET", made.path("01J8Z5AAAAAAAAAAAAAAAAAAAA"), None),
    ]:
        error(await api.call(method, path, headers=token, json=body), 403, message)
    assert await value_of(api, made.admin, other.path("dev"), "THEIRS") == "t"
    assert await reads(api, other.environments["dev"]) == [
        (made.admin_actor, SecretsRead(other.environments["dev"], ["THEIRS"], "get"))
    ]


async def test_d15_a_read_only_token_cannot_write_and_a_read_write_token_can(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    await set_secret(api, made.admin, dev, "KEEP", "kept")
    read_only = bearer((await create_token(api, made))["key"])
    for method, path, body in [
        ("POST", dev, {"name": "A", "value": "1"}),
        ("PUT", dev, {"secrets": {"A": "1"}}),
        ("PUT", dev, {"secrets": {}}),
        ("DELETE", f"{dev}/KEEP", None),
        ("DELETE", f"{dev}/download", None),
    ]:
        error(await api.call(method, path, headers=read_only, json=body), 403, "token is read-only")
    assert await value_of(api, read_only, dev, "KEEP") == "kept"  # it may read

    token = await create_token(api, made, access="read-write")
    writer = bearer(token["key"])
    answer = await set_secret(api, writer, dev, "WRITTEN", "by token")
    response = await api.call("PUT", dev, headers=writer, json={"secrets": {"BULK": "b"}})
    assert response.json()["secrets"] == ["BULK"]
    assert (await api.call("DELETE", f"{dev}/KEEP", headers=writer)).status_code == 200
    names = [item["name"] for item in (await listing(api, made.admin, dev))["secrets"]]
    assert names == ["WRITTEN", "BULK"]
    events = await api.services.store.read_stream(environment_stream(made.environments["dev"]))
    token_actor = Actor("token", token["id"])
    assert [e.actor for e in events[1:]] == [token_actor] * 3
    assert events[1].event_id == answer["id"]


async def test_an_environment_scoped_token_sees_the_names_of_its_projects_other_environments(
    api: Api,
) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made.path("prod"), "PROD_ONLY", "p")
    token = bearer((await create_token(api, made, environmentId="dev"))["key"])
    body = await listing(api, token, made.path("dev"))
    assert (body["secrets"], body["allNames"]) == ([], ["PROD_ONLY"])


# -- 15.1 rows 31-40: isolation (the secrets routes) ----------------------------------------


@pytest.mark.parametrize("by", ["slug", "id"])
async def test_rows_31_40_a_non_member_gets_403_on_every_secrets_route(api: Api, by: str) -> None:
    made = await project(api)
    outsider = await api.user("User B")
    await set_secret(api, made.admin, made.path("dev"), "A_SECRET", "a-value")
    dev = made.path("dev" if by == "slug" else made.environments["dev"])
    for method, path, body in [
        ("GET", dev, None),  # listing A's secrets
        ("GET", f"{dev}/A_SECRET", None),  # getting one of A's values
        ("GET", f"{dev}/download", None),
        ("POST", dev, {"name": "B_SECRET", "value": "b"}),  # setting a secret in A's env
        ("PUT", dev, {"secrets": {"B_BULK": "b"}}),  # bulk setting into it
        ("DELETE", f"{dev}/A_SECRET", None),  # deleting A's secret
    ]:
        response = await api.call(method, path, headers=outsider, json=body)
        error(response, 403, "forbidden")
        assert "a-value" not in response.text
    body = await listing(api, made.admin, made.path("dev"))
    assert [item["name"] for item in body["secrets"]] == ["A_SECRET"]
    assert await reads(api, made.environments["dev"]) == []


async def test_d4_a_removed_member_is_refused_on_the_very_next_request(api: Api) -> None:
    made = await project(api)
    member = await api.user("User B")
    await add_member(api, made, member)
    assert (await api.call("GET", made.path("dev"), headers=member)).status_code == 200
    memberships = await api.services.access.members(made.org_id, made.admin_actor)
    member_actor = await actor_of(api, member)
    [row] = [m for m in memberships if m.user_id == member_actor.id]
    await api.services.access.remove_member(made.org_id, row.id, made.admin_actor)
    error(await api.call("GET", made.path("dev"), headers=member), 403, "forbidden")


# -- 15.1 rows 41-46: derivation, empty values, allNames -------------------------------------


async def test_rows_41_42_derivation_with_two_authors(api: Api) -> None:
    made = await project(api)
    b = await api.user("User B")
    await add_member(api, made, b)
    dev, prod = made.path("dev"), made.path("prod")
    await set_secret(api, made.admin, dev, "SHARED_KEY", "a-dev")
    await set_secret(api, b, dev, "DEV_ONLY", "b-dev")
    await set_secret(api, made.admin, prod, "SHARED_KEY", "a-prod")
    await set_secret(api, b, prod, "PROD_ONLY", "b-prod")

    body = await listing(api, made.admin, dev)
    assert sorted(item["name"] for item in body["secrets"]) == ["DEV_ONLY", "SHARED_KEY"]
    assert body["allNames"] == ["DEV_ONLY", "PROD_ONLY", "SHARED_KEY"]
    authors = {
        row.name: row.actor_id
        for row in await api.services.secrets.current(made.environments["dev"])
    }
    b_actor = await actor_of(api, b)
    assert authors == {"SHARED_KEY": made.admin_actor.id, "DEV_ONLY": b_actor.id}

    assert (await api.call("DELETE", f"{dev}/DEV_ONLY", headers=b)).status_code == 200
    body = await listing(api, made.admin, dev)
    assert [item["name"] for item in body["secrets"]] == ["SHARED_KEY"]
    assert body["allNames"] == ["PROD_ONLY", "SHARED_KEY"]


async def test_row_43_a_project_with_no_environments_has_no_names(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made.path("dev"), "GONE", "g")
    for environment_id in made.environments.values():
        await api.services.catalog.delete_environment(made.id, environment_id, made.admin_actor)
    assert await api.services.catalog.environments(made.id) == []
    assert await api.services.secrets.all_names(made.id) == []
    error(await api.call("GET", made.path("dev"), headers=made.admin), 404, "not found")


async def test_row_44_all_names_without_an_environment_equals_the_listed_all_names(
    api: Api,
) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made.path("dev"), "DEV_ONLY", "d")
    await set_secret(api, made.admin, made.path("prod"), "PROD_ONLY", "p")
    project_wide = await api.services.secrets.all_names(made.id)
    assert project_wide == ["DEV_ONLY", "PROD_ONLY"]
    for slug in made.environments:
        assert (await listing(api, made.admin, made.path(slug)))["allNames"] == project_wide


async def test_row_45_empty_values_are_accepted_and_listed_as_empty(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    await set_secret(api, made.admin, dev, "HAS_VALUE", "some-value")
    await set_secret(api, made.admin, dev, "EMPTY_SECRET", "")
    await set_secret(api, made.admin, dev, "ONE_CHAR", "x")
    await set_secret(api, made.admin, dev, "SIXTEEN", "0123456789abcdef")
    items = {
        item["name"]: item["isEmpty"] for item in (await listing(api, made.admin, dev))["secrets"]
    }
    assert items == {"HAS_VALUE": False, "EMPTY_SECRET": True, "ONE_CHAR": False, "SIXTEEN": False}
    assert await value_of(api, made.admin, dev, "EMPTY_SECRET") == ""
    # Emptied, then given a value again: isEmpty follows the latest value.
    await set_secret(api, made.admin, dev, "HAS_VALUE", "")
    await set_secret(api, made.admin, dev, "EMPTY_SECRET", "now set")
    items = {
        item["name"]: item["isEmpty"] for item in (await listing(api, made.admin, dev))["secrets"]
    }
    assert (items["HAS_VALUE"], items["EMPTY_SECRET"]) == (True, False)


async def test_row_46_all_names_spans_environments_but_secrets_do_not(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    await set_secret(api, made.admin, dev, "HAS_VALUE", "some-value")
    await set_secret(api, made.admin, dev, "EMPTY_SECRET", "")
    await set_secret(api, made.admin, made.path("prod"), "PROD_ONLY", "p")
    body = await listing(api, made.admin, dev)
    assert {"HAS_VALUE", "EMPTY_SECRET", "PROD_ONLY"} <= set(body["allNames"])
    assert "PROD_ONLY" not in [item["name"] for item in body["secrets"]]


async def test_all_names_are_sorted_by_code_point(api: Api) -> None:
    made = await project(api)
    body = {"secrets": {"api_key": "1", "API_KEY": "2", "APIKEY": "3", "_X": "4", "Z": "5"}}
    await api.call("PUT", made.path("dev"), headers=made.admin, json=body)
    assert (await listing(api, made.admin, made.path("prod")))["allNames"] == [
        "APIKEY",
        "API_KEY",
        "Z",
        "_X",
        "api_key",
    ]


# -- 15.1 rows 23-27 and section 7: downloads ------------------------------------------------

DB_BODIES = {
    "json": (b'{"DB_HOST":"localhost","DB_PORT":"5432"}', "application/json"),
    "env": (b'DB_HOST="localhost"\nDB_PORT="5432"\n', "text/plain; charset=utf-8"),
    "env-no-quotes": (b"DB_HOST=localhost\nDB_PORT=5432\n", "text/plain; charset=utf-8"),
    "docker": (b"DB_HOST=localhost\nDB_PORT=5432\n", "text/plain; charset=utf-8"),
    "yaml": (b'DB_HOST: "localhost"\nDB_PORT: "5432"\n', "text/yaml; charset=utf-8"),
    "xargs": (b"DB_HOST\x00localhost\x00DB_PORT\x005432\x00", "application/octet-stream"),
    "dotnet-json": (
        b'{\n  "DbHost": "localhost",\n  "DbPort": "5432"\n}\n',
        "application/json; charset=utf-8",
    ),
}


async def seeded(api: Api) -> Project:
    made = await project(api)
    body = {"secrets": {"DB_HOST": "localhost", "DB_PORT": "5432"}}
    response = await api.call("PUT", made.path("dev"), headers=made.admin, json=body)
    assert response.status_code == 200
    return made


@pytest.mark.parametrize("format", list(DB_BODIES))
async def test_rows_23_26_every_download_format_is_byte_exact(api: Api, format: str) -> None:
    made = await seeded(api)
    response = await api.client.get(
        made.path("dev", "/download"), params={"format": format}, headers=made.admin
    )
    body, content_type = DB_BODIES[format]
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "no-store"
    if format == "env-no-quotes":
        assert b'"' not in response.content


async def test_row_23_json_is_the_default_format(api: Api) -> None:
    made = await seeded(api)
    response = await api.client.get(made.path("dev", "/download"), headers=made.admin)
    assert response.status_code == 200
    assert response.content == b'{"DB_HOST":"localhost","DB_PORT":"5432"}'
    assert response.headers["content-type"] == "application/json"


async def test_an_empty_environment_downloads_as_empty_bodies(api: Api) -> None:
    made = await project(api)
    expected = {"json": b"{}", "env": b"\n", "xargs": b"", "dotnet-json": b"{}\n"}
    for format, body in expected.items():
        response = await api.client.get(
            made.path("dev", "/download"), params={"format": format}, headers=made.admin
        )
        assert (response.status_code, response.content) == (200, body)


async def test_row_27_dotnet_json_nests_double_underscores(api: Api) -> None:
    made = await seeded(api)
    await set_secret(api, made.admin, made.path("dev"), "CONNECTION__HOST", "Server=localhost")
    response = await api.client.get(
        made.path("dev", "/download"), params={"format": "dotnet-json"}, headers=made.admin
    )
    assert response.status_code == 200
    assert json.loads(response.content)["Connection"]["Host"] == "Server=localhost"


async def test_a_download_follows_replay_order_and_keeps_values_exact(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    values = {"MULTI": "line1\nline2", "QUOTED": 'say "hi"', "UNICODE": "héllo 🔐", "EMPTY": ""}
    await api.call("PUT", dev, headers=made.admin, json={"secrets": values})
    await set_secret(api, made.admin, dev, "MULTI", "again")  # keeps its place
    response = await api.client.get(f"{dev}/download", params={"format": "env"}, headers=made.admin)
    assert response.content.decode() == (
        'MULTI="again"\nQUOTED=\'say "hi"\'\nUNICODE="héllo 🔐"\nEMPTY=""\n'  # [D19] quoting
    )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["A", "A__B"], "dotnet-json format conflict: A__B overlaps with an existing scalar key"),
        (["A__B", "A"], "dotnet-json format conflict: A overlaps with an existing object key"),
    ],
)
async def test_a_dotnet_json_conflict_is_400_and_records_no_read(
    api: Api, names: list[str], message: str
) -> None:
    made = await project(api)
    for name in names:
        await set_secret(api, made.admin, made.path("dev"), name, "v")
    response = await api.call(
        "GET", made.path("dev", "/download?format=dotnet-json"), headers=made.admin
    )
    error(response, 400, message)
    assert await reads(api, made.environments["dev"]) == []
    ok = await api.client.get(made.path("dev", "/download?format=json"), headers=made.admin)
    assert ok.status_code == 200


@pytest.mark.parametrize("format", ["toml", "", "JSON", "json ", "xml"])
async def test_an_unknown_format_is_422_and_records_no_read(api: Api, format: str) -> None:
    made = await seeded(api)
    response = await api.call(
        "GET", made.path("dev", "/download"), params={"format": format}, headers=made.admin
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation failed"
    assert response.json()["detail"][0]["field"] == "format"
    assert await reads(api, made.environments["dev"]) == []


async def test_a_token_downloads_within_its_scope(api: Api) -> None:
    made = await seeded(api)
    token = await create_token(api, made, environmentId=made.environments["dev"])
    response = await api.client.get(made.path("dev", "/download"), headers=bearer(token["key"]))
    assert response.content == b'{"DB_HOST":"localhost","DB_PORT":"5432"}'
    [(actor, read)] = await reads(api, made.environments["dev"])
    assert actor == Actor("token", token["id"])
    # every secret live at the version read (DB_HOST, DB_PORT), recorded by its scope
    version = await api.services.store.stream_version(f"env:{made.environments['dev']}")
    assert (read.names, read.how, read.version, read.count) == ([], "download", version, 2)


# -- section 16: the secret named `download` ------------------------------------------------


async def test_a_secret_named_download_can_be_set_listed_downloaded_and_deleted(
    api: Api,
) -> None:
    made = await project(api)
    dev = made.path("dev")
    await set_secret(api, made.admin, dev, "download", "hidden-by-the-route")
    items = (await listing(api, made.admin, dev))["secrets"]
    assert [item["name"] for item in items] == ["download"]
    # GET …/secrets/download is always the download route, never the secret.
    response = await api.client.get(f"{dev}/download", headers=made.admin)
    assert response.status_code == 200
    assert response.json() == {"download": "hidden-by-the-route"}
    [(_, read)] = await reads(api, made.environments["dev"])
    assert read.how == "download"
    response = await api.call("DELETE", f"{dev}/download", headers=made.admin)
    assert (response.status_code, response.json()) == (200, {"ok": True, "name": "download"})
    assert (await listing(api, made.admin, dev))["secrets"] == []


# -- D16: reads are audited; listing is not a read ------------------------------------------


async def test_d16_get_and_download_record_reads_and_list_does_not(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    environment_id = made.environments["dev"]
    await api.call("PUT", dev, headers=made.admin, json={"secrets": {"A": "1", "B": "2"}})
    await listing(api, made.admin, dev)
    assert await reads(api, environment_id) == []

    await value_of(api, made.admin, dev, "B")
    response = await api.client.get(f"{dev}/download?format=env", headers=made.admin)
    assert response.status_code == 200
    error(await api.call("GET", f"{dev}/MISSING", headers=made.admin), 404, "not found")
    await listing(api, made.admin, dev)

    assert await reads(api, environment_id) == [
        (made.admin_actor, SecretsRead(environment_id, ["B"], "get")),
        (made.admin_actor, SecretsRead(environment_id, [], "download", version=2, count=2)),
    ]
    stream = await api.services.store.read_stream(f"reads:{environment_id}")
    assert len(stream) == 2
    for recorded in stream:  # an access event never holds a value
        assert "1" not in recorded.event.names
        assert "2" not in recorded.event.names


async def test_d16_a_tokens_reads_name_the_token(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made.path("dev"), "A", "1")
    token = await create_token(api, made)
    await value_of(api, bearer(token["key"]), made.path("dev"), "A")
    assert await reads(api, made.environments["dev"]) == [
        (Actor("token", token["id"]), SecretsRead(made.environments["dev"], ["A"], "get"))
    ]


# -- D13 and bad input ----------------------------------------------------------------------

BAD_NAMES = ["1ABC", "A-B", "A.B", "", "A" * 257, "A B", "É", "A\x00"]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_d13_bad_names_are_refused_with_422(api: Api, name: str) -> None:
    made = await project(api)
    dev = made.path("dev")
    for method, body in [
        ("POST", {"name": name, "value": "v"}),
        ("PUT", {"secrets": {name: "v"}}),
    ]:
        response = await api.call(method, dev, headers=made.admin, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation failed"
        assert response.json()["detail"] == [
            {
                "field": "name",
                "message": "must match ^[A-Za-z_][A-Za-z0-9_]*$ (at most 256 characters)",
            }
        ]
    assert await api.services.store.read_stream(environment_stream(made.environments["dev"])) == []


@pytest.mark.parametrize("name", ["1ABC", "A-B", "A.B", "A" * 257, "A%20B", "%C3%89", "A%00"])
async def test_d13_routes_with_a_name_in_the_path_refuse_bad_names(api: Api, name: str) -> None:
    made = await project(api)
    dev = made.path("dev")
    for method in ["GET", "DELETE"]:
        response = await api.call(method, f"{dev}/{name}", headers=made.admin)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["field"] == "name"
    assert await api.services.store.read_stream(environment_stream(made.environments["dev"])) == []


async def test_d13_limits_a_256_character_name_and_a_64_kib_value_are_accepted(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    long_name = "N" * 256
    await set_secret(api, made.admin, dev, long_name, "v")
    assert await value_of(api, made.admin, dev, long_name) == "v"
    assert (await api.call("DELETE", f"{dev}/{long_name}", headers=made.admin)).status_code == 200

    for value in ["x" * 65_536, "é" * 32_768]:
        await set_secret(api, made.admin, dev, "BIG", value)
        assert await value_of(api, made.admin, dev, "BIG") == value
    for value in ["x" * 65_537, "é" * 32_768 + "x"]:
        for method, body in [
            ("POST", {"name": "TOO_BIG", "value": value}),
            ("PUT", {"secrets": {"TOO_BIG": value}}),
        ]:
            response = await api.call(method, dev, headers=made.admin, json=body)
            assert response.status_code == 422
            assert response.json()["detail"] == [
                {"field": "value", "message": "must be at most 65536 bytes of UTF-8"}
            ]
            assert "xxxx" not in response.text


@pytest.mark.parametrize(
    ("method", "content"),
    [
        ("POST", b'{"name": "A", "value": "leaked-secret'),
        ("POST", b""),
        ("POST", b"null"),
        ("POST", b"[]"),
        ("POST", b'"A=1"'),
        ("POST", b'{"name": "A"}'),
        ("POST", b'{"value": "leaked-secret"}'),
        ("POST", b'{"name": "A", "value": 5}'),
        ("POST", b'{"name": "A", "value": null}'),
        ("POST", b'{"name": 5, "value": "leaked-secret"}'),
        ("POST", b'{"name": "A", "value": ["leaked-secret"]}'),
        ("POST", b'{"name": "A", "value": "leaked-secret", "extra": "leaked-secret"}'),
        ("POST", b'{"name": "A", "value": "bad \\ud800 leaked-secret"}'),
        ("POST", b'{"name": "A", "value": "nul \\u0000 leaked-secret"}'),
        ("PUT", b'{"secrets": {"A": "leaked-secret"'),
        ("PUT", b"{}"),
        ("PUT", b'{"secrets": null}'),
        ("PUT", b'{"secrets": ["A", "leaked-secret"]}'),
        ("PUT", b'{"secrets": {"A": 1}}'),
        ("PUT", b'{"secrets": {"A": "leaked-secret"}, "more": 1}'),
        ("PUT", b'{"A": "leaked-secret"}'),
    ],
)
async def test_bad_bodies_are_422_and_never_echo_the_value(
    api: Api, method: str, content: bytes
) -> None:
    made = await project(api)
    response = await api.call(
        method,
        made.path("dev"),
        headers={**made.admin, "Content-Type": "application/json"},
        content=content,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation failed"
    assert isinstance(response.json()["detail"], list)
    assert "leaked-secret" not in response.text
    assert await api.services.store.read_stream(environment_stream(made.environments["dev"])) == []


async def test_odd_references_never_500(api: Api) -> None:
    """References no environment or secret can have: refused, never a server fault."""
    made = await project(api)
    token = bearer((await create_token(api, made, access="read-write"))["key"])
    odd = ["%00", "%F0%9F%94%90", "x" * 3000, "..", "%2F", "dev%00", "DEV"]
    for headers in (made.admin, token):
        for ref in odd:
            for method, path, body in [
                ("GET", made.path(ref), None),
                ("POST", made.path(ref), {"name": "A", "value": "1"}),
                ("PUT", made.path(ref), {"secrets": {"A": "1"}}),
                ("GET", made.path(ref, "/A"), None),
                ("DELETE", made.path(ref, "/A"), None),
                ("GET", made.path(ref, "/download"), None),
            ]:
                response = await api.call(method, path, headers=headers, json=body)
                # A NUL is malformed; an encoded slash splits the path, so no route matches.
                expected = {"%00": (422,), "dev%00": (422,), "%2F": (401, 404, 405)}.get(
                    ref, (403, 404)
                )
                assert response.status_code in expected, (ref, response.text)
                assert "error" in response.json()
        for project_ref in ["%00", "x" * 3000, "%F0%9F%94%90"]:
            response = await api.call("GET", secrets_path(project_ref, "dev"), headers=headers)
            assert response.status_code < 500, response.text
