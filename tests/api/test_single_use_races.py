"""Single-use races and code guessing through the API (security.md, test families
"Concurrency" and "Access control"): 50 parallel attempts, exactly one effect."""

from __future__ import annotations

import asyncio

import pytest

from sigillo.domain.events import MemberAdded
from sigillo.domain.projections.rows import MembershipRow
from sigillo.domain.streams import org_stream
from tests.api.conftest import Api
from tests.api.helpers import actor_of

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RACERS = 50


@pytest.mark.asyncio
async def test_fifty_parallel_accepts_of_one_invite_make_one_membership(api: Api) -> None:
    admin = await api.user("Admin")
    admin_actor = await actor_of(api, admin)
    org = await api.services.catalog.create_org("Acme", admin_actor)
    _, token = await api.services.access.create_invitation(org.id, admin_actor)
    joiner = await api.user("Joiner")
    joiner_id = (await actor_of(api, joiner)).id

    responses = await asyncio.gather(
        *(
            api.client.post(f"/api/v0/invitations/{token}/accept", headers=joiner)
            for _ in range(RACERS)
        )
    )
    assert {r.status_code for r in responses} == {200}
    memberships = await api.services.store.select(MembershipRow, "org_id", org.id)
    assert [m.user_id for m in memberships].count(joiner_id) == 1
    added = [
        e
        for e in await api.services.store.read_stream(org_stream(org.id))
        if isinstance(e.event, MemberAdded) and e.event.user_id == joiner_id
    ]
    assert len(added) == 1


@pytest.mark.asyncio
async def test_fifty_parallel_exchanges_of_one_device_code_give_one_session(api: Api) -> None:
    codes = (await api.client.post("/api/auth/device/code", json={"client_id": "cli"})).json()
    ada = await api.user()
    approved = await api.client.post(
        "/api/auth/device/approve", headers=ada, json={"userCode": codes["user_code"]}
    )
    assert approved.status_code == 200
    body = {"grant_type": GRANT, "device_code": codes["device_code"], "client_id": "cli"}
    responses = await asyncio.gather(
        *(api.client.post("/api/auth/device/token", json=body) for _ in range(RACERS))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (RACERS - 1)
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}


@pytest.mark.asyncio
async def test_guessing_user_codes_hits_the_limiter(api: Api) -> None:
    ada = await api.user()
    guesses = [
        f"BCDF{n:04d}".translate(str.maketrans("0123456789", "GHJKLMNPQR")) for n in range(25)
    ]
    statuses = []
    for guess in guesses:
        response = await api.client.post(
            "/api/auth/device/approve", headers=ada, json={"userCode": guess}
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [400] * 20  # unknown codes
    assert statuses[20:] == [429] * 5
    looked_up = await api.client.get("/api/auth/device", params={"user_code": "BCDFGHJK"})
    assert looked_up.status_code == 429  # one budget for every way of trying a code
