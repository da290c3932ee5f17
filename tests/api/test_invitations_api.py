"""Invite links over REST (behaviour.md 9.1, [D3] [D4] [D11]), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sigillo.domain.projections.rows import InvitationRow
from sigillo.services.ids import Clock
from tests.api.conftest import Api
from tests.api.org_helpers import (
    ADMIN_REQUIRED,
    FORBIDDEN,
    INVITATION_GONE,
    UNAUTHORIZED,
    Org,
    join,
    ok,
    org,
    send,
)

DAY_MS = 24 * 3600 * 1000
CREATE_KEYS = {"ok", "id", "url", "token", "role", "expiresAt"}
ITEM_KEYS = {"id", "role", "createdBy", "createdAt", "expiresAt", "revokedAt", "usedBy"}
VIEW_KEYS = {"orgId", "orgName", "inviterName", "role", "expiresAt"}
UNUSED_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


async def create(api: Api, made: Org, body: Any = None) -> dict[str, Any]:
    response = await send(api, "POST", made.invitations, made.admin, {} if body is None else body)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer: dict[str, Any] = response.json()
    return answer


async def listed(api: Api, made: Org) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await ok(api, "GET", made.invitations, made.admin))[
        "invitations"
    ]
    return items


@pytest.mark.asyncio
async def test_an_admin_creates_a_link_shown_once(api: Api) -> None:
    made = await org(api)
    before = int(time.time() * 1000)
    made_link = await create(api, made)
    after = int(time.time() * 1000)
    assert set(made_link) == CREATE_KEYS
    assert made_link["ok"] is True
    assert made_link["role"] == "member"
    token = made_link["token"]
    assert made_link["url"] == f"http://testserver/invite/{token}"
    assert len(token) >= 22  # at least 128 bits of URL-safe base64
    assert before + 7 * DAY_MS <= made_link["expiresAt"] <= after + 7 * DAY_MS

    other = await create(api, made, {"role": "member", "expiresInDays": 1})
    assert other["role"] == "member"
    assert other["token"] != token
    assert before + DAY_MS <= other["expiresAt"] <= int(time.time() * 1000) + DAY_MS
    longest = await create(api, made, {"expiresInDays": 30})
    assert longest["expiresAt"] >= before + 30 * DAY_MS

    # the list never holds a token (nor its hash), newest first
    response = await send(api, "GET", made.invitations, made.admin)
    items = response.json()["invitations"]
    assert [i["id"] for i in items] == [longest["id"], other["id"], made_link["id"]]
    assert all(set(item) == ITEM_KEYS for item in items)
    assert items[2] == {
        "id": made_link["id"],
        "role": "member",
        "createdBy": made.admin_actor.id,
        "createdAt": items[2]["createdAt"],
        "expiresAt": made_link["expiresAt"],
        "revokedAt": None,
        "usedBy": [],
    }
    rows = await api.services.store.select(InvitationRow, "org_id", made.id)
    for secret in [token, other["token"], *(row.token_hash for row in rows)]:
        assert secret not in response.text
    assert token not in {row.token_hash for row in rows}  # only a hash is stored


@pytest.mark.asyncio
async def test_anyone_holding_a_link_sees_what_it_offers(api: Api) -> None:
    made = await org(api, "Ada Lovelace")
    link = await create(api, made, {"expiresInDays": 3})
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = await send(api, "GET", f"/invitations/{link['token']}", headers)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.json() == {
            "orgId": made.id,
            "orgName": "Acme Corp",
            "inviterName": "Ada Lovelace",
            "role": "member",
            "expiresAt": link["expiresAt"],
        }
        assert set(response.json()) == VIEW_KEYS


@pytest.mark.asyncio
async def test_accepting_joins_once_as_a_member(api: Api) -> None:
    made = await org(api)
    member_link = await create(api, made)
    other_link = await create(api, made)
    mo = await api.user("Mo")
    path = f"/invitations/{member_link['token']}/accept"
    joined = await ok(api, "POST", path, mo)
    assert set(joined) == {"ok", "id", "orgId", "role"}
    assert (joined["ok"], joined["orgId"], joined["role"]) == (True, made.id, "member")
    assert (await ok(api, "GET", "/orgs", mo))["orgs"][0]["id"] == made.id
    assert (await ok(api, "GET", f"/projects/{made.project}", mo))["id"] == made.project
    # again, or through another link: nothing changes (the role stays)
    assert await ok(api, "POST", path, mo) == joined
    assert await ok(api, "POST", f"/invitations/{other_link['token']}/accept", mo) == joined
    members = (await ok(api, "GET", made.members, made.admin))["members"]
    assert [(m["id"], m["role"]) for m in members] == [
        (made.admin_membership, "admin"),
        (joined["id"], "member"),
    ]
    # links are multi-use until they expire
    bo = await api.user("Bo")
    bo_joined = await ok(api, "POST", f"/invitations/{other_link['token']}/accept", bo)
    assert bo_joined["role"] == "member"
    assert bo_joined["id"] != joined["id"]


@pytest.mark.asyncio
async def test_a_revoked_link_admits_nobody_from_the_next_request(api: Api) -> None:
    made = await org(api)
    link = await create(api, made)
    revoked = await ok(api, "DELETE", f"{made.invitations}/{link['id']}", made.admin)
    assert revoked == {"ok": True, "id": link["id"]}
    mo = await api.user("Mo")
    for method, path, headers in [
        ("GET", f"/invitations/{link['token']}", {}),
        ("POST", f"/invitations/{link['token']}/accept", mo),
    ]:
        response = await send(api, method, path, headers)
        assert (response.status_code, response.json()) == (404, INVITATION_GONE), method
    assert (await ok(api, "GET", "/orgs", mo))["orgs"] == []
    [item] = await listed(api, made)
    assert item["revokedAt"] is not None
    first = item["revokedAt"]
    # revoking again succeeds and keeps the first time; unknown ids are 404
    assert await ok(api, "DELETE", f"{made.invitations}/{link['id']}", made.admin) == revoked
    assert (await listed(api, made))[0]["revokedAt"] == first
    for odd in (UNUSED_ID, "nope", "x" * 2000, "%F0%9F%94%90", link["id"].lower()):
        response = await send(api, "DELETE", f"{made.invitations}/{odd}", made.admin)
        assert (response.status_code, response.json()) == (
            404,
            {"error": "invitation not found"},
        ), odd[:20]


@pytest.mark.asyncio
async def test_an_expired_link_is_not_found(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    made = await org(api)
    link = await create(api, made, {"expiresInDays": 1})
    mo = await api.user("Mo")
    clock: Clock = api.services.access._writer.clock  # the one clock every service reads
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + DAY_MS - 60_000)
    assert (await ok(api, "GET", f"/invitations/{link['token']}", {}))["orgId"] == made.id
    monkeypatch.setattr(clock, "now", lambda: link["expiresAt"])  # expired at that moment
    for method, path, headers in [
        ("GET", f"/invitations/{link['token']}", {}),
        ("POST", f"/invitations/{link['token']}/accept", mo),
    ]:
        response = await send(api, method, path, headers)
        assert (response.status_code, response.json()) == (404, INVITATION_GONE), method
    assert (await ok(api, "GET", "/orgs", mo))["orgs"] == []
    assert [i["id"] for i in await listed(api, made)] == [link["id"]]  # kept, for the record


@pytest.mark.asyncio
async def test_links_of_a_deleted_org_are_not_found(api: Api) -> None:
    made = await org(api)
    link = await create(api, made)
    await ok(api, "DELETE", f"/orgs/{made.id}", made.admin)
    mo = await api.user("Mo")
    response = await send(api, "POST", f"/invitations/{link['token']}/accept", mo)
    assert (response.status_code, response.json()) == (404, INVITATION_GONE)
    response = await send(api, "GET", f"/invitations/{link['token']}", {})
    assert (response.status_code, response.json()) == (404, INVITATION_GONE)


@pytest.mark.asyncio
async def test_odd_tokens_are_not_found(api: Api) -> None:
    made = await org(api)
    link = await create(api, made)
    mo = await api.user("Mo")
    odd_tokens = [
        "nope",
        "x" * 2000,
        "%F0%9F%94%90",
        link["token"][:-1],
        link["token"].upper() if link["token"] != link["token"].upper() else "a" + link["token"],
        link["id"],  # the invitation's id is not its token
        "sig_" + "0" * 64,
        "%ED%A0%80",  # a lone surrogate, percent-encoded
    ]
    for odd in odd_tokens:
        for method, path, headers in [
            ("GET", f"/invitations/{odd}", {}),
            ("POST", f"/invitations/{odd}/accept", mo),
        ]:
            response = await send(api, method, path, headers)
            assert (response.status_code, response.json()) == (404, INVITATION_GONE), odd[:20]
    for nul in ("%00", "a%00b"):
        for method, path, headers in [
            ("GET", f"/invitations/{nul}", {}),
            ("POST", f"/invitations/{nul}/accept", mo),
        ]:
            response = await send(api, method, path, headers)
            assert response.status_code == 422, (path, response.text)
            assert response.json()["error"] == "validation failed"
    assert (await ok(api, "GET", "/orgs", mo))["orgs"] == []


# -- bad input, credentials, roles, other tenants --------------------------------------------

BAD_CREATE_BODIES: list[Any] = [
    b'{"role": "admin',
    b"",
    b"[]",
    b"null",
    b'"member"',
    {"role": "owner"},
    {"role": None},
    {"role": 1},
    {"expiresInDays": 0},
    {"expiresInDays": 31},
    {"expiresInDays": -1},
    {"expiresInDays": 1.5},
    {"expiresInDays": True},
    {"expiresInDays": None},
    {"expires_in_days": 7},
    {"role": "member", "email": "someone@example.com"},
]


@pytest.mark.asyncio
async def test_a_malformed_create_is_422_and_makes_nothing(api: Api) -> None:
    made = await org(api)
    for bad in BAD_CREATE_BODIES:
        response = await send(api, "POST", made.invitations, made.admin, bad)
        assert response.status_code == 422, (bad, response.text)
        answer = response.json()
        assert answer["error"] == "validation failed", bad
        assert answer["detail"], bad
        assert all(set(item) == {"field", "message"} for item in answer["detail"]), bad
        assert "someone@example.com" not in response.text
    assert await listed(api, made) == []


def admin_routes(made: Org, invitation_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("POST", made.invitations, {}),
        ("GET", made.invitations, None),
        ("DELETE", f"{made.invitations}/{invitation_id}", None),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "authorization",
    [None, "api token", "Bearer sig_" + "0" * 64, "Bearer nope", "Basic x"],
)
async def test_admin_routes_and_accept_need_a_session(api: Api, authorization: str | None) -> None:
    made = await org(api)
    link = await create(api, made)
    headers: dict[str, str] = {}
    if authorization == "api token":
        _, key = await api.services.access.create_token(
            made.project, made.admin_actor, name="ci", access="read-write"
        )
        headers = {"Authorization": f"Bearer {key}"}
    elif authorization is not None:
        headers = {"Authorization": authorization}
    attempts = [
        *admin_routes(made, link["id"]),
        ("POST", f"/invitations/{link['token']}/accept", None),
    ]
    for method, path, body in attempts:
        response = await send(api, method, path, headers, body)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, path)
    [item] = await listed(api, made)
    assert item["revokedAt"] is None
    assert len((await ok(api, "GET", made.members, made.admin))["members"]) == 1


@pytest.mark.asyncio
async def test_a_member_may_not_manage_links(api: Api) -> None:
    made = await org(api)
    link = await create(api, made)
    mo, _ = await join(api, made)
    for method, path, body in admin_routes(made, link["id"]):
        response = await send(api, method, path, mo, body)
        assert (response.status_code, response.json()) == (403, ADMIN_REQUIRED), (method, path)
    items = await listed(api, made)
    assert len(items) == 2  # the one above and the one `join` made
    assert all(item["revokedAt"] is None for item in items)


@pytest.mark.asyncio
async def test_another_tenant_gets_403_and_cannot_reach_the_links(api: Api) -> None:
    made = await org(api)
    link = await create(api, made)
    eve = await org(api, "Eve")
    for org_id in (made.id, UNUSED_ID, "x" * 2000, "%F0%9F%94%90"):
        target = Org(org_id, "", {}, made.admin_actor, "")
        for method, path, body in admin_routes(target, link["id"]):
            response = await send(api, method, path, eve.admin, body)
            assert (response.status_code, response.json()) == (403, FORBIDDEN), (method, path)
    # through her own org's path, A's invitation does not exist
    response = await send(api, "DELETE", f"{eve.invitations}/{link['id']}", eve.admin)
    assert (response.status_code, response.json()) == (404, {"error": "invitation not found"})
    [item] = await listed(api, made)
    assert item["revokedAt"] is None
    assert await listed(api, eve) == []
