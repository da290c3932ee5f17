"""The audit log routes: an environment's events and an org's, newest first, paged.

Every test runs on SQLite and PostgreSQL (the `api` fixture).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sigillo.domain.events import SecretSet
from sigillo.domain.streams import environment_stream
from tests.api.conftest import Api
from tests.api.helpers import (
    Project,
    actor_of,
    add_member,
    bearer,
    create_token,
    project,
)

pytestmark = pytest.mark.asyncio


def env_events(made: Project, environment: str) -> str:
    return f"/api/v0/projects/{made.id}/environments/{environment}/events"


def org_events(org_id: str) -> str:
    return f"/api/v0/orgs/{org_id}/events"


async def page(api: Api, headers: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    response = await api.call("GET", path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def every_page(
    api: Api, headers: dict[str, str], path: str, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """All events, page by page; and how many pages it took."""
    events: list[dict[str, Any]] = []
    pages = 0
    before = None
    while True:
        extra = {} if before is None else {"before": before}
        answer = await page(api, headers, path, **params, **extra)
        pages += 1
        events.extend(answer["events"])
        before = answer["nextBefore"]
        if before is None:
            return events, pages
        assert answer["events"], "a page that promises more must not be empty"


async def set_secret(api: Api, headers: dict[str, str], made: Project, env: str, **kv: str) -> None:
    for name, value in kv.items():
        response = await api.call(
            "POST", made.path(env), headers=headers, json={"name": name, "value": value}
        )
        assert response.status_code == 200, response.text


async def delete_secret(api: Api, headers: dict[str, str], made: Project, env: str, name: str):
    response = await api.call("DELETE", made.path(env, f"/{name}"), headers=headers)
    assert response.status_code == 200, response.text


async def get_value(api: Api, headers: dict[str, str], made: Project, env: str, name: str) -> str:
    response = await api.call("GET", made.path(env, f"/{name}"), headers=headers)
    assert response.status_code == 200, response.text
    value: str = response.json()["value"]
    return value


async def download(api: Api, headers: dict[str, str], made: Project, env: str) -> None:
    response = await api.client.get(made.path(env, "/download"), headers=headers)
    assert response.status_code == 200, response.text


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return [(e["type"], e.get("names")) for e in events]


def assert_newest_first(events: list[dict[str, Any]]) -> None:
    positions = [e["position"] for e in events]
    assert positions == sorted(positions, reverse=True)
    assert len(set(positions)) == len(positions)
    assert len({e["id"] for e in events}) == len(events)


# -- the environment's log ---------------------------------------------------------------


async def test_an_environments_writes_and_reads_newest_first(api: Api) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    await set_secret(api, made.admin, made, "dev", A="1", B="2")
    await delete_secret(api, made.admin, made, "dev", "A")
    await get_value(api, made.admin, made, "dev", "B")
    await download(api, made.admin, made, "dev")
    await set_secret(api, made.admin, made, "prod", OTHER_ENV="x")

    events = (await page(api, made.admin, env_events(made, "dev")))["events"]
    assert kinds(events) == [
        ("secrets.read", None),  # a download: every secret live at version 3, not listed
        ("secrets.read", ["B"]),
        ("secret.deleted", ["A"]),
        ("secret.set", ["B"]),
        ("secret.set", ["A"]),
        ("environment.created", None),
    ]
    assert [e.get("how") for e in events[:2]] == ["download", "get"]
    assert (events[0]["secretsVersion"], events[0]["count"]) == (3, 1)
    assert "secretsVersion" not in events[1]
    assert "count" not in events[1]
    assert [e["version"] for e in events[2:5]] == [3, 2, 1]  # the environment's secrets
    assert_newest_first(events)
    for event in events:
        assert event["environmentId"] == dev
        assert event["projectId"] == made.id
        assert event["orgId"] == made.org_id
        assert event["actor"] == {"kind": "user", "id": made.admin_actor.id, "name": "Admin A"}
        assert isinstance(event["at"], int)
        assert event["at"] > 1_600_000_000_000
    assert (events[-1]["name"], events[-1]["slug"]) == ("Dev", "dev")


async def test_the_environment_is_named_by_id_or_slug(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made, "dev", A="1")
    by_slug = await page(api, made.admin, env_events(made, "dev"))
    by_id = await page(api, made.admin, env_events(made, made.environments["dev"]))
    assert by_slug == by_id
    assert len(by_slug["events"]) == 2


async def test_reads_appear_after_a_get_and_a_download(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made, "dev", A="1", B="2")
    before = (await page(api, made.admin, env_events(made, "dev")))["events"]
    assert [e for e in before if e["type"] == "secrets.read"] == []
    await api.call("GET", made.path("dev"), headers=made.admin)  # a listing reads nothing

    await get_value(api, made.admin, made, "dev", "A")
    [read] = (await page(api, made.admin, env_events(made, "dev"), limit=1))["events"]
    assert (read["type"], read["names"], read["how"]) == ("secrets.read", ["A"], "get")

    await download(api, made.admin, made, "dev")
    [read] = (await page(api, made.admin, env_events(made, "dev"), limit=1))["events"]
    assert (read["type"], read["how"]) == ("secrets.read", "download")
    # every secret live at version 2 of the environment's secrets (A and B): not listed
    assert (read.get("names"), read["secretsVersion"], read["count"]) == (None, 2, 2)


async def test_pages_cover_the_log_without_gaps_or_repeats(api: Api) -> None:
    made = await project(api)
    for i in range(9):
        await set_secret(api, made.admin, made, "dev", **{f"S{i}": str(i)})
        if i % 3 == 0:
            await get_value(api, made.admin, made, "dev", f"S{i}")
    whole = await page(api, made.admin, env_events(made, "dev"), limit=200)
    assert whole["nextBefore"] is None
    assert len(whole["events"]) == 9 + 3 + 1
    assert_newest_first(whole["events"])
    for size in (1, 4, 12, 13):
        events, pages = await every_page(api, made.admin, env_events(made, "dev"), limit=size)
        assert events == whole["events"], size
        assert pages == -(-13 // size), size

    first = await page(api, made.admin, env_events(made, "dev"), limit=4)
    assert first["nextBefore"] == first["events"][-1]["position"]
    assert first["events"] == whole["events"][:4]
    later = await page(api, made.admin, env_events(made, "dev"), before=first["nextBefore"])
    assert later["events"] == whole["events"][4:]


async def test_the_default_page_is_fifty(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made, "dev", **{f"S{i}": "v" for i in range(55)})
    answer = await page(api, made.admin, env_events(made, "dev"))
    assert len(answer["events"]) == 50
    assert answer["nextBefore"] == answer["events"][-1]["position"]
    rest = await page(api, made.admin, env_events(made, "dev"), before=answer["nextBefore"])
    assert len(rest["events"]) == 6
    assert rest["nextBefore"] is None


async def test_filters_by_secret_and_by_actor(api: Api) -> None:
    made = await project(api)
    member = await api.user("Member M")
    await add_member(api, made, member)
    member_id = (await actor_of(api, member)).id
    await set_secret(api, made.admin, made, "dev", KEEP="1", OTHER="2")
    await set_secret(api, member, made, "dev", KEEP="3")
    await get_value(api, member, made, "dev", "OTHER")
    await download(api, made.admin, made, "dev")
    await delete_secret(api, member, made, "dev", "KEEP")
    await download(api, made.admin, made, "dev")  # KEEP is no longer live: not among them
    await set_secret(api, made.admin, made, "prod", KEEP="elsewhere")
    path = env_events(made, "dev")

    keep = (await page(api, made.admin, path, secret="KEEP"))["events"]
    assert [(e["type"], e["actor"]["name"]) for e in keep] == [
        ("secret.deleted", "Member M"),
        ("secrets.read", "Admin A"),  # the download read KEEP too
        ("secret.set", "Member M"),
        ("secret.set", "Admin A"),
    ]
    assert all("KEEP" in e["names"] for e in keep if e["type"] != "secrets.read")
    assert (keep[1]["secretsVersion"], keep[1]["count"]) == (3, 2)  # KEEP was live at 3

    mine = (await page(api, made.admin, path, actor=member_id))["events"]
    assert kinds(mine) == [
        ("secret.deleted", ["KEEP"]),
        ("secrets.read", ["OTHER"]),
        ("secret.set", ["KEEP"]),
    ]
    assert {e["actor"]["id"] for e in mine} == {member_id}

    both = (await page(api, made.admin, path, secret="OTHER", actor=member_id))["events"]
    assert kinds(both) == [("secrets.read", ["OTHER"])]
    assert (await page(api, made.admin, path, secret="NEVER_SET"))["events"] == []
    assert (await page(api, made.admin, path, actor="nobody"))["events"] == []

    # Paging a filtered log: one at a time, the same events, nothing twice.
    events, pages = await every_page(api, made.admin, path, secret="KEEP", limit=1)
    assert events == keep
    assert pages == 4


async def test_a_secret_filter_pages_past_many_unrelated_events(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made, "dev", RARE="1")
    await set_secret(api, made.admin, made, "dev", **{f"N{i}": "x" for i in range(250)})
    await set_secret(api, made.admin, made, "dev", RARE="2")
    answer = await page(api, made.admin, env_events(made, "dev"), secret="RARE", limit=1)
    assert [e["version"] for e in answer["events"]] == [252]
    rest = await page(
        api, made.admin, env_events(made, "dev"), secret="RARE", before=answer["nextBefore"]
    )
    assert [e["version"] for e in rest["events"]] == [1]
    assert rest["nextBefore"] is None


async def test_tokens_are_named_even_when_revoked(api: Api) -> None:
    made = await project(api)
    scoped = await create_token(api, made, name="deploy bot", access="read-write",
                                environmentId="dev")  # fmt: skip
    wide = await create_token(api, made, name="project wide", access="read-write")
    await set_secret(api, bearer(scoped["key"]), made, "dev", FROM_TOKEN="t")
    await get_value(api, bearer(scoped["key"]), made, "dev", "FROM_TOKEN")
    await set_secret(api, bearer(wide["key"]), made, "dev", FROM_WIDE="w")
    revoked = await api.call("DELETE", f"{made.tokens}/{scoped['id']}", headers=made.admin)
    assert revoked.status_code == 200, revoked.text
    refused = await api.call("GET", made.path("dev"), headers=bearer(scoped["key"]))
    assert refused.status_code == 401

    events = (await page(api, made.admin, env_events(made, "dev")))["events"]
    assert [(e["type"], e["actor"]["kind"], e["actor"]["name"]) for e in events] == [
        ("token.revoked", "user", "Admin A"),
        ("secret.set", "token", "project wide"),
        ("secrets.read", "token", "deploy bot"),
        ("secret.set", "token", "deploy bot"),
        ("token.created", "user", "Admin A"),  # scoped to dev; the project-wide one is not
        ("environment.created", "user", "Admin A"),
    ]
    assert (events[0]["tokenId"], events[0]["name"]) == (scoped["id"], "deploy bot")
    assert events[0]["reason"] == "revoked"
    created = events[4]
    assert (created["tokenId"], created["name"], created["access"]) == (
        scoped["id"],
        "deploy bot",
        "read-write",
    )
    assert events[2]["actor"]["id"] == scoped["id"]

    by_token = await page(api, made.admin, env_events(made, "dev"), actor=scoped["id"])
    assert [e["type"] for e in by_token["events"]] == ["secrets.read", "secret.set"]
    prod = (await page(api, made.admin, env_events(made, "prod")))["events"]
    assert [e["type"] for e in prod] == ["environment.created"]


# -- the org's log ---------------------------------------------------------------------------


async def test_the_org_log_holds_members_projects_environments_and_secrets(api: Api) -> None:
    made = await project(api)
    other = await project(api, made.admin, org_id=made.org_id, name="Second")
    member = await api.user("Member M")
    await add_member(api, made, member)
    member_id = (await actor_of(api, member)).id
    [membership] = [
        m
        for m in await api.services.access.members(made.org_id, made.admin_actor)
        if m.user_id == member_id
    ]
    await set_secret(api, member, made, "dev", A="1")
    await set_secret(api, made.admin, other, "prod", B="2")
    await get_value(api, member, other, "prod", "B")
    await api.services.access.change_role(made.org_id, membership.id, "admin", made.admin_actor)
    response = await api.call("DELETE", f"/api/v0/projects/{made.id}/environments/preview",
                              headers=made.admin)  # fmt: skip
    assert response.status_code == 200, response.text
    await api.services.access.remove_member(made.org_id, membership.id, made.admin_actor)

    events = (await page(api, made.admin, org_events(made.org_id), limit=200))["events"]
    assert_newest_first(events)
    assert [e["type"] for e in events[:9]] == [
        "member.removed",
        "environment.deleted",
        "member.role_changed",
        "secrets.read",
        "secret.set",
        "secret.set",
        "member.added",
        "invitation.used",
        "invitation.created",
    ]
    removed, deleted, promoted, read, set_b, set_a, added, used, created = events[:9]
    assert used["invitationId"] == created["invitationId"]
    assert (used["userId"], used["userName"]) == (member_id, "Member M")
    for entry in (removed, promoted, added):
        assert entry["membershipId"] == membership.id
        assert (entry["userId"], entry["userName"]) == (member_id, "Member M")
        assert entry["orgId"] == made.org_id
        assert "projectId" not in entry
    assert (promoted["role"], added["role"]) == ("admin", "member")
    assert added["actor"]["name"] == "Member M"  # who accepted the invitation
    assert deleted["environmentId"] == made.environments["preview"]
    assert deleted["projectId"] == made.id
    assert (read["names"], read["how"], read["projectId"]) == (["B"], "get", other.id)
    assert (set_b["environmentId"], set_a["environmentId"]) == (
        other.environments["prod"],
        made.environments["dev"],
    )
    assert set_a["actor"]["name"] == "Member M"
    types = [e["type"] for e in events]
    assert types.count("project.created") == 2
    assert types.count("environment.created") == 6  # the deleted one's creation too
    assert types[-2:] == ["member.added", "org.created"]
    assert events[-1]["name"] == "Acme Corp"


async def test_the_org_log_keeps_a_deleted_environments_events(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made, "preview", GONE="1")
    await get_value(api, made.admin, made, "preview", "GONE")
    response = await api.call(
        "DELETE", f"/api/v0/projects/{made.id}/environments/preview", headers=made.admin
    )
    assert response.status_code == 200, response.text
    events = (await page(api, made.admin, org_events(made.org_id), secret="GONE"))["events"]
    assert kinds(events) == [("secrets.read", ["GONE"]), ("secret.set", ["GONE"])]
    assert {e["environmentId"] for e in events} == {made.environments["preview"]}
    gone = await api.call("GET", env_events(made, made.environments["preview"]), headers=made.admin)
    assert gone.status_code == 404


async def test_the_org_log_keeps_a_deleted_projects_events(api: Api) -> None:
    made = await project(api)
    kept = await project(api, made.admin, org_id=made.org_id, name="Second")
    elsewhere = await project(api, made.admin)  # another org of the same admin
    token = await create_token(api, made, name="doomed bot", access="read-write")
    await set_secret(api, made.admin, made, "dev", GONE="1")
    await set_secret(api, bearer(token["key"]), made, "prod", BY_TOKEN="2")
    await get_value(api, made.admin, made, "dev", "GONE")
    await set_secret(api, made.admin, kept, "dev", KEPT="3")
    await set_secret(api, made.admin, elsewhere, "dev", ELSEWHERE="4")
    for doomed in (made, elsewhere):
        response = await api.call("DELETE", f"/api/v0/projects/{doomed.id}", headers=made.admin)
        assert response.status_code == 200, response.text
    listed = await api.call("GET", "/api/v0/projects", headers=made.admin)
    assert made.id not in listed.text  # gone from the read models...

    whole = (await page(api, made.admin, org_events(made.org_id), limit=200))["events"]
    assert_newest_first(whole)
    assert [(e["type"], e.get("projectId"), e.get("environmentId")) for e in whole[:6]] == [
        ("project.deleted", made.id, None),  # ...but not from the org's log
        ("secret.set", kept.id, kept.environments["dev"]),
        ("secrets.read", made.id, made.environments["dev"]),
        ("secret.set", made.id, made.environments["prod"]),
        ("secret.set", made.id, made.environments["dev"]),
        ("token.created", made.id, None),
    ]
    deleted, _, read, by_token, set_gone, _ = whole[:6]
    assert deleted["orgId"] == made.org_id
    assert deleted["actor"] == {"kind": "user", "id": made.admin_actor.id, "name": "Admin A"}
    assert (read["names"], read["how"]) == (["GONE"], "get")
    assert set_gone["names"] == ["GONE"]
    # The token's row went with its project; its name is still found in the project's log.
    assert by_token["actor"] == {"kind": "token", "id": token["id"], "name": "doomed bot"}
    types = [e["type"] for e in whole]
    assert types.count("project.created") == 2
    assert types.count("environment.created") == 6
    assert types[-2:] == ["member.added", "org.created"]
    assert elsewhere.id not in {e.get("projectId") for e in whole}  # another org's project

    gone = (await page(api, made.admin, org_events(made.org_id), secret="GONE"))["events"]
    assert kinds(gone) == [("secrets.read", ["GONE"]), ("secret.set", ["GONE"])]
    assert {e["projectId"] for e in gone} == {made.id}
    by_bot = (await page(api, made.admin, org_events(made.org_id), actor=token["id"]))["events"]
    assert kinds(by_bot) == [("secret.set", ["BY_TOKEN"])]
    for size in (1, 4):
        events, _ = await every_page(api, made.admin, org_events(made.org_id), limit=size)
        assert events == whole, size
    other = (await page(api, made.admin, org_events(elsewhere.org_id), limit=200))["events"]
    assert [e["type"] for e in other[:2]] == ["project.deleted", "secret.set"]
    assert {e.get("projectId") for e in other} == {None, elsewhere.id}


async def test_the_org_log_pages_and_filters(api: Api) -> None:
    made = await project(api)
    other = await project(api, made.admin, org_id=made.org_id, name="Second")
    for i in range(5):
        await set_secret(api, made.admin, made, "dev", **{f"S{i}": "a"})
        await set_secret(api, made.admin, other, "prod", **{f"S{i}": "b"})
    await get_value(api, made.admin, other, "prod", "S3")
    whole = (await page(api, made.admin, org_events(made.org_id), limit=200))["events"]
    for size in (1, 3, 7):
        events, _ = await every_page(api, made.admin, org_events(made.org_id), limit=size)
        assert events == whole, size
    s3 = (await page(api, made.admin, org_events(made.org_id), secret="S3"))["events"]
    assert kinds(s3) == [
        ("secrets.read", ["S3"]),
        ("secret.set", ["S3"]),
        ("secret.set", ["S3"]),
    ]
    by_admin = (await page(api, made.admin, org_events(made.org_id), actor=made.admin_actor.id,
                           limit=200))["events"]  # fmt: skip
    assert by_admin == whole  # the admin did everything here


async def test_a_member_may_read_both_logs(api: Api) -> None:
    made = await project(api)
    member = await api.user("Member M")
    await add_member(api, made, member)
    await set_secret(api, made.admin, made, "dev", A="1")
    assert (await page(api, member, env_events(made, "dev")))["events"]
    assert (await page(api, member, org_events(made.org_id)))["events"]


# -- who may ask -------------------------------------------------------------------------


async def test_without_a_session_it_is_401(api: Api) -> None:
    made = await project(api)
    token = await create_token(api, made, name="ci", access="read-write")
    for path in (env_events(made, "dev"), org_events(made.org_id)):
        for headers in ({}, bearer(token["key"]), bearer("sig_" + "0" * 64)):
            response = await api.call("GET", path, headers=headers)
            assert response.status_code == 401, (path, response.text)
            assert response.json() == {"error": "unauthorized"}


async def test_another_orgs_member_is_refused(api: Api) -> None:
    made = await project(api)
    await set_secret(api, made.admin, made, "dev", A="a-value")
    outsider = await api.user("User B")
    await project(api, outsider)  # a member of their own org
    for path in (
        env_events(made, "dev"),
        env_events(made, made.environments["dev"]),
        org_events(made.org_id),
    ):
        response = await api.call("GET", path, headers=outsider)
        assert (response.status_code, response.json()) == (403, {"error": "forbidden"}), path
    for path in (env_events(made, "nope"), env_events(made, "01ARZ3NDEKTSV4RRFFQ69G5FAV")):
        response = await api.call("GET", path, headers=outsider)
        assert (response.status_code, response.json()) == (404, {"error": "not found"}), path
    unknown_org = await api.call("GET", org_events("01ARZ3NDEKTSV4RRFFQ69G5FAV"), headers=outsider)
    assert (unknown_org.status_code, unknown_org.json()) == (403, {"error": "forbidden"})


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "1000"},
        {"limit": "abc"},
        {"before": "abc"},
        {"before": "0"},
        {"before": "-5"},
        {"before": str(2**64)},
        {"secret": "not-a-name"},
        {"secret": ""},
        {"actor": ""},
        {"actor": "a\x00b"},
    ],
)
async def test_bad_parameters_are_422(api: Api, params: dict[str, str]) -> None:
    made = await project(api)
    for path in (env_events(made, "dev"), org_events(made.org_id)):
        response = await api.call("GET", path, headers=made.admin, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["error"] == "validation failed"


async def test_limits_at_the_edges_are_accepted(api: Api) -> None:
    made = await project(api)
    for limit in ("1", "200"):
        answer = await page(api, made.admin, env_events(made, "dev"), limit=limit)
        assert len(answer["events"]) == 1
    answer = await page(api, made.admin, env_events(made, "dev"), before=str(2**63 - 1))
    assert len(answer["events"]) == 1


# -- what the log never shows --------------------------------------------------------------


async def test_no_value_and_no_ciphertext_ever_appears(api: Api) -> None:
    made = await project(api)
    values = {
        "DB_PASSWORD": "hunter2-Zq8vK1pL",
        "API_KEY": "sk_live_9f8e7d6c5b4a39281706",
        "MULTI": "line one\nline two ✓ ünïcode",
        "SHORTISH": "Xy7Qp",
    }
    await set_secret(api, made.admin, made, "dev", **values)
    token = await create_token(api, made, name="ci", access="read-write")
    await set_secret(api, bearer(token["key"]), made, "prod", TOKEN_SET="tok-Secret-4471")
    values["TOKEN_SET"] = "tok-Secret-4471"
    for name in ("DB_PASSWORD", "API_KEY"):
        await get_value(api, made.admin, made, "dev", name)
    await download(api, made.admin, made, "dev")
    await delete_secret(api, made.admin, made, "dev", "SHORTISH")

    answers = []
    for path in (env_events(made, "dev"), env_events(made, "prod"), org_events(made.org_id)):
        for params in ({}, {"limit": 1}, {"secret": "API_KEY"}):
            events, _ = await every_page(api, made.admin, path, **params)
            response = await api.client.get(path, headers=made.admin, params=params)
            answers.append(response.text)
            answers.append(json.dumps(events))
    text = "\n".join(answers)

    forbidden: set[str] = set()
    for value in values.values():
        raw = value.encode()
        forbidden |= {value, json.dumps(value)[1:-1], raw.hex(), raw.hex().upper()}
        forbidden |= {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    for env in ("dev", "prod"):
        stream = environment_stream(made.environments[env])
        for recorded in await api.services.store.read_stream(stream):
            if isinstance(recorded.event, SecretSet):
                sealed = recorded.event.value
                for blob in (sealed.ciphertext, sealed.nonce):
                    forbidden.add(blob.hex())
                    for encode in (base64.b64encode, base64.urlsafe_b64encode):
                        encoded = encode(blob).decode()
                        forbidden |= {encoded, encoded.rstrip("=")}
    found = sorted(item for item in forbidden if item in text)
    assert found == []
    for field in ("ciphertext", "nonce", "tokenHash", "token_hash"):
        assert field not in text
    assert "DB_PASSWORD" in text  # names are shown


async def test_a_page_never_reads_the_whole_log(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The log is read by stream through the index, never from its start."""
    made = await project(api)
    await set_secret(api, made.admin, made, "dev", A="1")

    async def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the audit log must not read the whole log")

    monkeypatch.setattr(api.services.store, "read_all", refuse)
    monkeypatch.setattr(api.services.store, "rebuild_projections", refuse)
    assert (await page(api, made.admin, env_events(made, "dev")))["events"]
    assert (await page(api, made.admin, org_events(made.org_id)))["events"]
