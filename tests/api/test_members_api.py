"""An org's members and deleting the org over REST (behaviour.md 5.3, 9.2, 9.3, [D3] [D4]
[D11]), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from sigillo.domain.projections.rows import MembershipRow
from tests.api.conftest import Api
from tests.api.org_helpers import (
    ADMIN_REQUIRED,
    FORBIDDEN,
    LAST_ADMIN,
    UNAUTHORIZED,
    Org,
    join,
    ok,
    org,
    send,
)

MEMBER_KEYS = {"id", "userId", "name", "email", "role", "createdAt"}
UNUSED_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # well-formed, never issued
MEMBER_NOT_FOUND = {"error": "member not found"}


async def roles(api: Api, made: Org) -> dict[str, str]:
    """Membership id -> role, as the org's admin lists them."""
    members = (await ok(api, "GET", made.members, made.admin))["members"]
    return {m["id"]: m["role"] for m in members}


async def admins_in_store(api: Api, made: Org) -> int:
    rows = await api.services.store.select(MembershipRow, "org_id", made.id)
    return sum(1 for row in rows if row.role == "admin")


@pytest.mark.asyncio
async def test_members_list_their_org(api: Api) -> None:
    made = await org(api, "Ada Lovelace", email="ada@example.com")
    mo, mo_membership = await join(api, made, "Mo Member")
    for headers in (made.admin, mo):  # admins and members alike may list
        listed = await ok(api, "GET", made.members, headers)
        assert set(listed) == {"members"}
        assert all(set(item) == MEMBER_KEYS for item in listed["members"])
        assert [(m["id"], m["name"], m["role"]) for m in listed["members"]] == [
            (made.admin_membership, "Ada Lovelace", "admin"),
            (mo_membership, "Mo Member", "member"),
        ]
        first = listed["members"][0]
        assert (first["userId"], first["email"]) == (made.admin_actor.id, "ada@example.com")
        assert first["createdAt"] > 1_600_000_000_000
    me = await ok(api, "GET", "/me", mo)
    assert listed["members"][1]["userId"] == me["user"]["id"]
    assert listed["members"][1]["email"] == me["user"]["email"]


@pytest.mark.asyncio
async def test_an_admin_changes_roles_and_the_last_admin_stays(api: Api) -> None:
    made = await org(api)
    mo, mo_membership = await join(api, made)
    path = f"{made.members}/{mo_membership}"

    promoted = await ok(api, "PATCH", path, made.admin, {"role": "admin"})
    assert promoted == {"ok": True, "id": mo_membership, "role": "admin"}
    assert await roles(api, made) == {made.admin_membership: "admin", mo_membership: "admin"}
    # the same role again is a no-op that succeeds
    again = await ok(api, "PATCH", path, made.admin, {"role": "admin"})
    assert again == {"ok": True, "id": mo_membership, "role": "admin"}
    # Mo, now an admin, may demote Ada; then Ada is a member and may not demote Mo
    own = f"{made.members}/{made.admin_membership}"
    await ok(api, "PATCH", own, mo, {"role": "member"})
    refused = await send(api, "PATCH", path, made.admin, {"role": "member"})
    assert (refused.status_code, refused.json()) == (403, ADMIN_REQUIRED)
    # Mo is the last admin: nobody can demote him, not even himself
    last = await send(api, "PATCH", path, mo, {"role": "member"})
    assert (last.status_code, last.json()) == (409, LAST_ADMIN)
    assert await roles(api, made) == {made.admin_membership: "member", mo_membership: "admin"}
    # the demoted admin lost admin rights on the very next request [D4]
    deleted = await send(api, "DELETE", f"/projects/{made.project}", made.admin)
    assert (deleted.status_code, deleted.json()) == (403, ADMIN_REQUIRED)


@pytest.mark.asyncio
async def test_a_removed_member_loses_access_on_the_next_request(api: Api) -> None:
    made = await org(api)
    mo, mo_membership = await join(api, made)
    assert (await ok(api, "GET", f"/projects/{made.project}", mo))["id"] == made.project

    removed = await ok(api, "DELETE", f"{made.members}/{mo_membership}", made.admin)
    assert removed == {"ok": True, "id": mo_membership}
    for method, path in [
        ("GET", f"/projects/{made.project}"),
        ("GET", f"/projects/{made.project}/environments"),
        ("GET", f"/projects/{made.project}/environments/dev/secrets"),
        ("GET", f"/projects?orgId={made.id}"),
        ("GET", made.members),
    ]:
        response = await send(api, method, path, mo)
        assert (response.status_code, response.json()) == (403, FORBIDDEN), path
    assert (await ok(api, "GET", "/orgs", mo))["orgs"] == []
    assert (await ok(api, "GET", "/projects", mo))["projects"] == []
    assert await roles(api, made) == {made.admin_membership: "admin"}
    gone = await send(api, "DELETE", f"{made.members}/{mo_membership}", made.admin)
    assert (gone.status_code, gone.json()) == (404, MEMBER_NOT_FOUND)


@pytest.mark.asyncio
async def test_a_member_may_leave_but_not_remove_others(api: Api) -> None:
    made = await org(api)
    mo, mo_membership = await join(api, made, "Mo")
    _bo, bo_membership = await join(api, made, "Bo")
    for target in (bo_membership, made.admin_membership, UNUSED_ID):
        refused = await send(api, "DELETE", f"{made.members}/{target}", mo)
        assert (refused.status_code, refused.json()) == (403, ADMIN_REQUIRED), target
    left = await ok(api, "DELETE", f"{made.members}/{mo_membership}", mo)
    assert left == {"ok": True, "id": mo_membership}
    assert await roles(api, made) == {made.admin_membership: "admin", bo_membership: "member"}
    after = await send(api, "GET", made.members, mo)
    assert (after.status_code, after.json()) == (403, FORBIDDEN)


@pytest.mark.asyncio
async def test_an_admin_may_leave_only_while_another_admin_remains(api: Api) -> None:
    made = await org(api)
    own = f"{made.members}/{made.admin_membership}"
    alone = await send(api, "DELETE", own, made.admin)
    assert (alone.status_code, alone.json()) == (409, LAST_ADMIN)
    mo, mo_membership = await join(api, made, "Mo", role="admin")
    assert await roles(api, made) == {made.admin_membership: "admin", mo_membership: "admin"}
    assert await ok(api, "DELETE", own, made.admin) == {"ok": True, "id": made.admin_membership}
    assert await roles(api, dataclasses.replace(made, admin=mo)) == {mo_membership: "admin"}
    last = await send(api, "DELETE", f"{made.members}/{mo_membership}", mo)
    assert (last.status_code, last.json()) == (409, LAST_ADMIN)


@pytest.mark.asyncio
async def test_only_an_admin_deletes_the_org_and_everything_goes(api: Api) -> None:
    made = await org(api)
    mo, _ = await join(api, made)
    refused = await send(api, "DELETE", f"/orgs/{made.id}", mo)
    assert (refused.status_code, refused.json()) == (403, ADMIN_REQUIRED)
    assert (await ok(api, "GET", f"/projects/{made.project}", made.admin))["id"] == made.project

    deleted = await ok(api, "DELETE", f"/orgs/{made.id}", made.admin)
    assert deleted == {"ok": True, "id": made.id}
    for headers in (made.admin, mo):
        assert (await ok(api, "GET", "/orgs", headers))["orgs"] == []
        assert (await ok(api, "GET", "/projects", headers))["projects"] == []
        gone = await send(api, "GET", f"/projects/{made.project}", headers)
        assert gone.status_code == 404
        for method, path in [("GET", made.members), ("DELETE", f"/orgs/{made.id}")]:
            response = await send(api, method, path, headers)
            assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert (await api.services.store.rebuild_projections(check_only=True)).identical


# -- the last admin under concurrent requests ------------------------------------------------


async def two_admins(api: Api) -> tuple[Org, dict[str, str], str]:
    made = await org(api)
    bo, bo_membership = await join(api, made, "Bo", role="admin")
    assert await roles(api, made) == {made.admin_membership: "admin", bo_membership: "admin"}
    return made, bo, bo_membership


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "moves",
    [
        # (who acts: "a" or "b", method, whose membership: "a" or "b")
        [("a", "PATCH", "b"), ("b", "PATCH", "a")],  # each demotes the other
        [("a", "DELETE", "b"), ("b", "DELETE", "a")],  # each removes the other
        [("a", "PATCH", "a"), ("b", "PATCH", "b")],  # each demotes themself
        [("a", "DELETE", "a"), ("b", "DELETE", "b")],  # each leaves
        [("a", "DELETE", "b"), ("b", "PATCH", "a"), ("a", "PATCH", "a"), ("b", "DELETE", "b")],
    ],
)
async def test_concurrent_demotions_and_removals_leave_an_admin(
    api: Api, moves: list[tuple[str, str, str]]
) -> None:
    made, bo, bo_membership = await two_admins(api)
    headers = {"a": made.admin, "b": bo}
    memberships = {"a": made.admin_membership, "b": bo_membership}

    def request(who: str, method: str, whom: str) -> Any:
        body = {"role": "member"} if method == "PATCH" else None
        return send(api, method, f"{made.members}/{memberships[whom]}", headers[who], body)

    responses = await asyncio.gather(*(request(*move) for move in moves))
    statuses = [r.status_code for r in responses]
    assert all(status in (200, 403, 404, 409) for status in statuses), [r.text for r in responses]
    assert statuses.count(200) >= 1
    for response in responses:
        if response.status_code == 409:
            assert response.json() == LAST_ADMIN
        if response.status_code == 403:
            assert response.json() in (ADMIN_REQUIRED, FORBIDDEN)
    assert await admins_in_store(api, made) == 1  # never none, and both cannot survive this
    assert (await api.services.store.rebuild_projections(check_only=True)).identical


# -- bad input, credentials, other tenants, odd ids ------------------------------------------

MALFORMED: list[Any] = [b'{"role": "admin', b"", b"[]", b"null", b'"admin"']
BAD_ROLE_BODIES: list[Any] = [
    *MALFORMED,
    {},
    {"role": None},
    {"role": "owner"},
    {"role": "Admin"},
    {"role": 1},
    {"role": ["admin"]},
    {"role": "admin", "extra": True},
]


@pytest.mark.asyncio
async def test_a_malformed_role_change_is_422_and_changes_nothing(api: Api) -> None:
    made = await org(api)
    _, mo_membership = await join(api, made)
    for bad in BAD_ROLE_BODIES:
        response = await send(api, "PATCH", f"{made.members}/{mo_membership}", made.admin, bad)
        assert response.status_code == 422, (bad, response.text)
        answer = response.json()
        assert answer["error"] == "validation failed"
        assert answer["detail"]
        assert all(set(item) == {"field", "message"} for item in answer["detail"])
        assert "owner" not in response.text
    assert await roles(api, made) == {made.admin_membership: "admin", mo_membership: "member"}


def routes(made: Org, membership: str) -> list[tuple[str, str, Any]]:
    return [
        ("GET", made.members, None),
        ("PATCH", f"{made.members}/{membership}", {"role": "admin"}),
        ("DELETE", f"{made.members}/{membership}", None),
        ("DELETE", f"/orgs/{made.id}", None),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "authorization",
    [None, "api token", "Bearer sig_" + "0" * 64, "Bearer nope", "Basic x", "bearer x"],
)
async def test_every_route_needs_a_session(api: Api, authorization: str | None) -> None:
    made = await org(api)
    _, mo_membership = await join(api, made)
    headers: dict[str, str] = {}
    if authorization == "api token":
        _, key = await api.services.access.create_token(
            made.project, made.admin_actor, name="ci", access="read-write"
        )
        assert await api.services.access.authenticate_token(key) is not None  # valid
        headers = {"Authorization": f"Bearer {key}"}
    elif authorization is not None:
        headers = {"Authorization": authorization}
    for method, path, body in routes(made, mo_membership):
        response = await send(api, method, path, headers, body)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, path)
    assert await roles(api, made) == {made.admin_membership: "admin", mo_membership: "member"}


@pytest.mark.asyncio
async def test_a_member_gets_403_for_admin_routes(api: Api) -> None:
    made = await org(api)
    mo, mo_membership = await join(api, made)
    for method, path, body in routes(made, made.admin_membership)[1:]:
        response = await send(api, method, path, mo, body)
        assert (response.status_code, response.json()) == (403, ADMIN_REQUIRED), (method, path)
    promote_self = await send(
        api, "PATCH", f"{made.members}/{mo_membership}", mo, {"role": "admin"}
    )
    assert (promote_self.status_code, promote_self.json()) == (403, ADMIN_REQUIRED)
    assert await roles(api, made) == {made.admin_membership: "admin", mo_membership: "member"}


@pytest.mark.asyncio
async def test_another_tenant_gets_403_whether_or_not_the_org_exists(api: Api) -> None:
    made = await org(api)
    _, mo_membership = await join(api, made)
    other = await org(api, "Eve")  # Eve is the admin of her own org
    for org_id in (made.id, UNUSED_ID, other.id.lower(), "x" * 2000, "%F0%9F%94%90"):
        target = Org(org_id, "", {}, made.admin_actor, "")
        for method, path, body in routes(target, mo_membership):
            response = await send(api, method, path, other.admin, body)
            assert (response.status_code, response.json()) == (403, FORBIDDEN), (method, path)
    # her own org's path does not reach A's memberships either
    for method, path, body in routes(other, mo_membership)[1:3]:
        response = await send(api, method, path, other.admin, body)
        assert (response.status_code, response.json()) == (404, MEMBER_NOT_FOUND), path
    assert await roles(api, made) == {made.admin_membership: "admin", mo_membership: "member"}


@pytest.mark.asyncio
async def test_odd_membership_ids(api: Api) -> None:
    made = await org(api)
    for odd in (UNUSED_ID, "nope", "x" * 2000, "%F0%9F%94%90", made.admin_membership.lower()):
        for method, body in [("PATCH", {"role": "member"}), ("DELETE", None)]:
            response = await send(api, method, f"{made.members}/{odd}", made.admin, body)
            assert (response.status_code, response.json()) == (404, MEMBER_NOT_FOUND), odd[:20]
    for nul in ("%00", "a%00b"):
        for method, path, body in [*routes(made, nul)[1:3], ("GET", f"/orgs/{nul}/members", None)]:
            response = await send(api, method, path, made.admin, body)
            assert response.status_code == 422, (method, path, response.text)
            assert response.json()["error"] == "validation failed"
    assert await roles(api, made) == {made.admin_membership: "admin"}
