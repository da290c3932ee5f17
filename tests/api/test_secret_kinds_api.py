"""Secret kinds through the API [D18]: `kind` in sets, lists and reads, the `secret-kinds`
route, the `json-kinds` download, the audit log, and every way a kind change is refused.

Every secret is a `secret` unless a person marks it `plain`; a set keeps the kind a name
has; a kind change is an event naming the kind it replaces, and never touches the value.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sigillo.domain.events import SecretKindChanged, SecretSet
from sigillo.domain.streams import environment_stream, reads_stream
from tests.api.conftest import Api
from tests.api.helpers import Project, add_member, bearer, create_token, project

pytestmark = pytest.mark.asyncio


def kinds_path(made: Project, environment: str = "dev") -> str:
    return f"/api/v0/projects/{made.id}/environments/{environment}/secret-kinds"


async def kinds_of(api: Api, made: Project, environment: str = "dev") -> dict[str, str]:
    response = await api.call("GET", made.path(environment), headers=made.admin)
    assert response.status_code == 200, response.text
    return {item["name"]: item["kind"] for item in response.json()["secrets"]}


async def put(api: Api, made: Project, body: dict[str, Any], environment: str = "dev") -> Any:
    response = await api.call("PUT", made.path(environment), headers=made.admin, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def mark(
    api: Api, made: Project, kinds: dict[str, str], headers: dict[str, str] | None = None
) -> Any:
    return await api.call(
        "PATCH", kinds_path(made), headers=headers or made.admin, json={"kinds": kinds}
    )


async def env_events(api: Api, made: Project, environment: str = "dev") -> list[Any]:
    stream = environment_stream(made.environments[environment])
    return [recorded.event for recorded in await api.services.store.read_stream(stream)]


async def test_a_new_name_is_a_secret_and_a_set_may_name_plain(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    for body in (
        {"name": "DB_PASSWORD", "value": "Summer2024!"},
        {"name": "PORT", "value": "3000", "kind": "plain"},
        {"name": "PIN", "value": "4921", "kind": "secret"},
    ):
        response = await api.call("POST", dev, headers=made.admin, json=body)
        assert response.status_code == 200, response.text
    assert await kinds_of(api, made) == {"DB_PASSWORD": "secret", "PORT": "plain", "PIN": "secret"}
    got = await api.call("GET", f"{dev}/PORT", headers=made.admin)
    assert (got.json()["value"], got.json()["kind"]) == ("3000", "plain")
    assert (await api.call("GET", f"{dev}/PIN", headers=made.admin)).json()["kind"] == "secret"


async def test_a_set_without_a_kind_keeps_the_kind_the_name_has(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": {"value": "3000", "kind": "plain"}}})
    await put(api, made, {"secrets": {"PORT": "4000"}})
    response = await api.call(
        "POST", made.path("dev"), headers=made.admin, json={"name": "PORT", "value": "5000"}
    )
    assert response.status_code == 200
    assert await kinds_of(api, made) == {"PORT": "plain"}
    # Naming the kind a name already has changes nothing: no kind event.
    await put(api, made, {"secrets": {"PORT": {"value": "6000", "kind": "plain"}}})
    changes = [e for e in await env_events(api, made) if isinstance(e, SecretKindChanged)]
    assert changes == [SecretKindChanged(made.environments["dev"], "PORT", "plain", "secret")]


async def test_a_name_deleted_and_set_again_is_a_secret_again(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": {"value": "3000", "kind": "plain"}}})
    assert (await api.call("DELETE", made.path("dev", "/PORT"), headers=made.admin)).is_success
    await put(api, made, {"secrets": {"PORT": "3000"}})
    assert await kinds_of(api, made) == {"PORT": "secret"}


async def test_bulk_set_with_kinds_is_one_transaction_in_order(api: Api) -> None:
    made = await project(api)
    answer = await put(
        api,
        made,
        {
            "secrets": {
                "A": {"value": "1", "kind": "secret"},
                "B": {"value": "2"},
                "C": {"value": "3", "kind": "plain"},
            }
        },
    )
    assert answer["secrets"] == ["A", "B", "C"]
    events = await env_events(api, made)
    assert [type(e).__name__ for e in events] == [
        "SecretSet",
        "SecretSet",
        "SecretSet",
        "SecretKindChanged",
    ]
    assert await kinds_of(api, made) == {"A": "secret", "B": "secret", "C": "plain"}


async def test_the_kinds_route_changes_kinds_without_touching_values(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000", "LOG_LEVEL": "info", "KEY": "k3y!"}})
    response = await mark(api, made, {"PORT": "plain", "LOG_LEVEL": "plain", "KEY": "secret"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "ok": True,
        "environmentId": made.environments["dev"],
        "changed": [
            {"name": "PORT", "kind": "plain", "previous": "secret"},
            {"name": "LOG_LEVEL", "kind": "plain", "previous": "secret"},
        ],
    }
    assert await kinds_of(api, made) == {"PORT": "plain", "LOG_LEVEL": "plain", "KEY": "secret"}
    back = await mark(api, made, {"PORT": "secret"})
    assert back.json()["changed"] == [{"name": "PORT", "kind": "secret", "previous": "plain"}]
    # Values, versions of the values and the read log are untouched: no value was read.
    sets = [e for e in await env_events(api, made) if isinstance(e, SecretSet)]
    assert len(sets) == 3
    reads = await api.services.store.read_stream(reads_stream(made.environments["dev"]))
    assert reads == []
    download = await api.client.get(made.path("dev", "/download?format=json"), headers=made.admin)
    assert download.json() == {"PORT": "3000", "LOG_LEVEL": "info", "KEY": "k3y!"}


async def test_a_kind_change_keeps_the_secrets_place_and_times(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"A": "1", "B": "2"}})
    before = (await api.call("GET", made.path("dev"), headers=made.admin)).json()["secrets"]
    await mark(api, made, {"A": "plain"})
    after = (await api.call("GET", made.path("dev"), headers=made.admin)).json()["secrets"]
    assert [item["name"] for item in after] == ["A", "B"]
    assert [{**item, "kind": None} for item in after] == [{**item, "kind": None} for item in before]


async def test_a_kind_change_of_a_name_that_is_not_live_is_404_and_changes_nothing(
    api: Api,
) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    before = await env_events(api, made)
    response = await mark(api, made, {"PORT": "plain", "GONE": "plain"})
    assert (response.status_code, response.json()) == (404, {"error": "secret not found"})
    assert await env_events(api, made) == before
    assert await kinds_of(api, made) == {"PORT": "secret"}


async def test_kinds_appear_in_the_audit_log_with_who_and_what(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    await mark(api, made, {"PORT": "plain"})
    url = f"/api/v0/projects/{made.id}/environments/dev/events"
    page = (await api.call("GET", url, headers=made.admin)).json()
    newest = page["events"][0]
    assert newest["type"] == "secret.kind_changed"
    assert newest["names"] == ["PORT"]
    assert (newest["kind"], newest["previousKind"]) == ("plain", "secret")
    assert newest["actor"]["id"] == made.admin_actor.id
    assert "3000" not in json.dumps(page)
    # The secret filter finds it among the name's own events.
    only = await api.call("GET", url, params={"secret": "PORT"}, headers=made.admin)
    assert [e["type"] for e in only.json()["events"]] == ["secret.kind_changed", "secret.set"]


async def test_json_kinds_download_has_every_value_and_kind_and_records_a_read(api: Api) -> None:
    made = await project(api)
    await put(
        api,
        made,
        {"secrets": {"PORT": {"value": "3000", "kind": "plain"}, "PASS": 'p@ss"w\\0rd\n', "E": ""}},
    )
    response = await api.client.get(
        made.path("dev", "/download?format=json-kinds"), headers=made.admin
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert list(response.json().items()) == [
        ("PORT", {"value": "3000", "kind": "plain"}),
        ("PASS", {"value": 'p@ss"w\\0rd\n', "kind": "secret"}),
        ("E", {"value": "", "kind": "secret"}),
    ]
    reads = await api.services.store.read_stream(reads_stream(made.environments["dev"]))
    # the whole environment: every secret live at the version read (PORT, PASS, E)
    assert [(r.event.names, r.event.how, r.event.count) for r in reads] == [([], "download", 3)]


async def test_a_read_only_token_cannot_change_a_kind_and_a_read_write_token_can(
    api: Api,
) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    read_only = bearer((await create_token(api, made))["key"])
    for method, path, body in [
        ("PATCH", kinds_path(made), {"kinds": {"PORT": "plain"}}),
        ("POST", made.path("dev"), {"name": "PORT", "value": "1", "kind": "plain"}),
        ("PUT", made.path("dev"), {"secrets": {"PORT": {"value": "1", "kind": "plain"}}}),
    ]:
        response = await api.call(method, path, headers=read_only, json=body)
        assert (response.status_code, response.json()) == (403, {"error": "token is read-only"})
    assert await kinds_of(api, made) == {"PORT": "secret"}

    writer = await create_token(api, made, access="read-write")
    response = await mark(api, made, {"PORT": "plain"}, bearer(writer["key"]))
    assert response.status_code == 200
    [change] = [
        r
        for r in await api.services.store.read_stream(environment_stream(made.environments["dev"]))
        if isinstance(r.event, SecretKindChanged)
    ]
    assert (change.actor.kind, change.actor.id) == ("token", writer["id"])


async def test_revoked_tokens_other_environments_and_other_orgs_are_refused(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    await put(api, made, {"secrets": {"PORT": "3000"}}, environment="prod")
    revoked = await create_token(api, made, access="read-write")
    revoke = await api.call("DELETE", f"{made.tokens}/{revoked['id']}", headers=made.admin)
    assert revoke.status_code == 200, revoke.text
    response = await mark(api, made, {"PORT": "plain"}, bearer(revoked["key"]))
    assert response.status_code == 401

    prod_only = await create_token(
        api, made, access="read-write", environmentId=made.environments["prod"]
    )
    response = await mark(api, made, {"PORT": "plain"}, bearer(prod_only["key"]))
    assert (response.status_code, response.json()["error"]) == (
        403,
        "token is scoped to a different environment",
    )

    outsider = await api.user("Outsider")
    theirs = await project(api, outsider)
    response = await mark(api, made, {"PORT": "plain"}, outsider)
    assert response.status_code in (403, 404)
    # A token of another project names this project's environment by id: refused.
    their_token = bearer((await create_token(api, theirs, access="read-write"))["key"])
    by_id = f"/api/v0/projects/{made.id}/environments/{made.environments['dev']}/secret-kinds"
    response = await api.call(
        "PATCH", by_id, headers=their_token, json={"kinds": {"PORT": "plain"}}
    )
    assert (response.status_code, response.json()["error"]) == (
        403,
        "token does not have access to this environment",
    )
    assert await kinds_of(api, made) == {"PORT": "secret"}
    assert await kinds_of(api, made, "prod") == {"PORT": "secret"}


async def test_a_member_may_change_kinds(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    member = await api.user("Member")
    await add_member(api, made, member)
    assert (await mark(api, made, {"PORT": "plain"}, member)).status_code == 200
    assert await kinds_of(api, made) == {"PORT": "plain"}


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("PATCH", {"kinds": {"PORT": "public"}}, None),
        ("PATCH", {"kinds": {"PORT": None}}, None),
        ("PATCH", {"kinds": {"PORT": 1}}, None),
        ("PATCH", {"kinds": {"1BAD": "plain"}}, "kinds"),
        ("PATCH", {"kinds": ["PORT"]}, None),
        ("PATCH", {"kinds": {"PORT": "plain"}, "extra": 1}, None),
        ("PATCH", {}, None),
        ("POST", {"name": "PORT", "value": "1", "kind": "PLAIN"}, None),
        ("POST", {"name": "PORT", "value": "1", "kind": ""}, None),
        ("PUT", {"secrets": {"PORT": {"value": "1", "kind": "masked"}}}, None),
        ("PUT", {"secrets": {"PORT": {"kind": "plain"}}}, None),
        ("PUT", {"secrets": {"PORT": {"value": "1", "kind": "plain", "x": 1}}}, None),
        ("PUT", {"secrets": {"PORT": "1"}, "kinds": {"PORT": "plain"}}, None),
    ],
)
async def test_bad_kinds_are_422_with_a_clear_message_and_change_nothing(
    api: Api, method: str, body: dict[str, Any], field: str | None
) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    before = await env_events(api, made)
    path = kinds_path(made) if method == "PATCH" else made.path("dev")
    response = await api.call(method, path, headers=made.admin, json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "validation failed"
    assert answer["detail"], answer
    if field is not None:
        assert answer["detail"][0]["field"] == field
    assert await env_events(api, made) == before
    assert "3000" not in response.text


@pytest.mark.parametrize(
    "content",
    [b"", b"null", b'{"kinds": {"PORT": "plain"', b'"kinds"', b"[" * 5000 + b"]" * 5000],
)
async def test_malformed_kind_bodies_are_4xx_never_500(api: Api, content: bytes) -> None:
    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    response = await api.client.patch(
        kinds_path(made),
        headers={**made.admin, "Content-Type": "application/json"},
        content=content,
    )
    assert 400 <= response.status_code < 500, response.text
    assert await kinds_of(api, made) == {"PORT": "secret"}


async def test_an_oversized_kinds_body_is_refused(api: Api) -> None:
    made = await project(api)
    kinds = {f"NAME_{i:07d}": "plain" for i in range(300_000)}
    response = await mark(api, made, kinds)
    assert response.status_code in (404, 413, 422), response.status_code
    assert await env_events(api, made) == []


async def test_rename_in_the_service_keeps_the_kind_and_copies_carry_it(api: Api) -> None:
    """The dashboard's Save renames by delete + set: the new name keeps the old one's kind;
    copying missing names to another environment carries their kinds along."""
    made = await project(api)
    await put(
        api, made, {"secrets": {"PORT": {"value": "3000", "kind": "plain"}, "KEY": "s3cret!"}}
    )
    dev, prod = made.environments["dev"], made.environments["prod"]
    await api.services.secrets.save(dev, made.admin_actor, values={}, renames={"PORT": "HTTP_PORT"})
    assert await kinds_of(api, made) == {"KEY": "secret", "HTTP_PORT": "plain"}
    copied = await api.services.secrets.copy_missing(dev, prod, made.admin_actor)
    assert sorted(copied) == ["HTTP_PORT", "KEY"]
    assert await kinds_of(api, made, "prod") == {"KEY": "secret", "HTTP_PORT": "plain"}


async def test_concurrent_kind_changes_each_record_the_kind_they_replace(api: Api) -> None:
    """Kind changes racing each other are decided again when the stream moved: the chain
    of (previous -> kind) in the log is unbroken, so the audit trail never lies."""
    import asyncio

    made = await project(api)
    await put(api, made, {"secrets": {"PORT": "3000"}})
    dev = made.environments["dev"]

    async def flip(kind: str) -> None:
        await api.services.secrets.change_kinds(dev, {"PORT": kind}, made.admin_actor)

    await asyncio.gather(*(flip("plain" if i % 2 else "secret") for i in range(12)))
    kind = "secret"
    for event in await env_events(api, made):
        if isinstance(event, SecretKindChanged):
            assert event.previous == kind
            kind = event.kind
    assert (await kinds_of(api, made))["PORT"] == kind


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v0/orgs"), ("PUT", "{secrets}"), ("POST", "{secrets}"), ("PATCH", "{kinds}")],
)
async def test_a_body_nested_too_deeply_is_422_on_any_json_route(
    api: Api, method: str, path: str
) -> None:
    """msgspec's decoder gives up on a very deep document with a RecursionError: bad input,
    never a server fault (found by the kinds route's malformed-body test)."""
    made = await project(api)
    url = path.format(secrets=made.path("dev"), kinds=kinds_path(made))
    response = await api.client.request(
        method,
        url,
        headers={**made.admin, "Content-Type": "application/json"},
        content=b"[" * 100_000 + b"]" * 100_000,
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"field": "body", "message": "is nested too deeply"}]


async def test_the_openapi_document_types_every_kind(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    kinds = {"type": "string", "enum": ["secret", "plain"]}
    assert schemas["SecretItem"]["properties"]["kind"] == kinds
    assert schemas["SecretRead"]["properties"]["kind"] == kinds
    assert "value" not in schemas["SecretItem"]["properties"]
    assert schemas["ChangeKinds"]["properties"]["kinds"]["additionalProperties"] == kinds
    assert schemas["ChangeKinds"]["properties"]["kinds"]["propertyNames"]["pattern"]
    value, entry = schemas["SetSecrets"]["properties"]["secrets"]["additionalProperties"]["oneOf"]
    assert value["type"] == "string"
    assert entry["required"] == ["value"]
    assert entry["properties"]["kind"] == {"oneOf": [kinds, {"type": "null"}]}
    assert entry["additionalProperties"] is False
    assert schemas["ChangeKinds"]["additionalProperties"] is False
    set_kind = schemas["SetSecret"]["properties"]["kind"]
    assert set_kind == {"type": ["null", "string"], "enum": ["secret", "plain", None]}
    route = "/api/v0/projects/{project_id}/environments/{environment_id}/secret-kinds"
    operation = document["paths"][route]["patch"]
    assert operation["operationId"] == "changeSecretKinds"
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
    listing = document["paths"][
        "/api/v0/projects/{project_id}/environments/{environment_id}/secrets"
    ]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing == {"$ref": "#/components/schemas/SecretList"}
