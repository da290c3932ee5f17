"""Issue 13, item 3: a removed member cannot rejoin with the old invite link; links admit
members only; admins see who used each link; links of before that admit admins are revoked
by the upgrade step the server runs at start. On SQLite and PostgreSQL (the `api` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest

from sigillo.domain.errors import InvalidInput
from sigillo.domain.events import InvitationCreated
from sigillo.domain.orgs import MEMBERS_ONLY, REMOVED
from sigillo.domain.projections.rows import InvitationRow
from sigillo.domain.streams import org_stream
from tests.api.conftest import Api
from tests.api.org_helpers import INVITATION_GONE, ok, org, send


async def _link(api: Api, made: Any) -> dict[str, Any]:
    link: dict[str, Any] = await ok(api, "POST", made.invitations, made.admin, {})
    return link


async def _members(api: Api, made: Any) -> list[str]:
    return [m["userId"] for m in (await ok(api, "GET", made.members, made.admin))["members"]]


async def _user_id(api: Api, headers: dict[str, str]) -> str:
    user_id: str = (await ok(api, "GET", "/me", headers))["user"]["id"]
    return user_id


@pytest.mark.asyncio
async def test_a_removed_member_cannot_rejoin_with_a_link_made_before_the_removal(
    api: Api,
) -> None:
    made = await org(api)
    old = await _link(api, made)
    mo = await api.user("Mo")
    joined = await ok(api, "POST", f"/invitations/{old['token']}/accept", mo)
    await ok(api, "DELETE", f"{made.members}/{joined['id']}", made.admin)
    mo_id = await _user_id(api, mo)

    again = await send(api, "POST", f"/invitations/{old['token']}/accept", mo)
    assert again.status_code == 403
    assert again.json() == {"error": REMOVED}
    assert mo_id not in await _members(api, made)
    assert (await send(api, "GET", f"/projects/{made.project}", mo)).status_code in (403, 404)

    bo = await api.user("Bo")  # the link still admits others
    assert (await ok(api, "POST", f"/invitations/{old['token']}/accept", bo))["role"] == "member"

    new = await _link(api, made)  # re-inviting takes a new link
    back = await ok(api, "POST", f"/invitations/{new['token']}/accept", mo)
    assert back["role"] == "member"
    assert mo_id in await _members(api, made)


@pytest.mark.asyncio
async def test_leaving_blocks_the_old_link_too(api: Api) -> None:
    made = await org(api)
    old = await _link(api, made)
    mo = await api.user("Mo")
    joined = await ok(api, "POST", f"/invitations/{old['token']}/accept", mo)
    await ok(api, "DELETE", f"{made.members}/{joined['id']}", mo)  # Mo leaves
    again = await send(api, "POST", f"/invitations/{old['token']}/accept", mo)
    assert (again.status_code, again.json()) == (403, {"error": REMOVED})


@pytest.mark.asyncio
async def test_links_admit_members_only(api: Api) -> None:
    made = await org(api)
    refused = await send(api, "POST", made.invitations, made.admin, {"role": "admin"})
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["detail"]] == ["role"]
    with pytest.raises(InvalidInput, match=MEMBERS_ONLY):  # the rule itself, for any caller
        await api.services.access.create_invitation(made.id, made.admin_actor, role="admin")
    assert (await ok(api, "GET", made.invitations, made.admin))["invitations"] == []


@pytest.mark.asyncio
async def test_the_listing_says_who_used_each_link(api: Api) -> None:
    made = await org(api)
    first, second = await _link(api, made), await _link(api, made)
    mo, bo = await api.user("Mo"), await api.user("Bo")
    for who in (mo, bo):
        await ok(api, "POST", f"/invitations/{first['token']}/accept", who)
    await ok(api, "POST", f"/invitations/{first['token']}/accept", mo)  # again: no new use
    items = {
        i["id"]: i for i in (await ok(api, "GET", made.invitations, made.admin))["invitations"]
    }
    used = [use["userId"] for use in items[first["id"]]["usedBy"]]
    assert used == [await _user_id(api, mo), await _user_id(api, bo)]
    assert all(isinstance(use["at"], int) for use in items[first["id"]]["usedBy"])
    assert items[second["id"]]["usedBy"] == []


@pytest.mark.asyncio
async def test_admin_links_of_before_admit_nobody_and_the_upgrade_revokes_them(api: Api) -> None:
    made = await org(api)
    token, token_hash = "legacy-admin-link-token", "0" * 64
    expires = api.services.access._writer.clock.now() + 86_400_000

    def old_version(_: object) -> list[InvitationCreated]:
        return [
            InvitationCreated(made.id, "01LEGACYADMINLINK000000000", "admin", token_hash, expires)
        ]

    writer = api.services.access._writer
    await writer.decide(org_stream(made.id), old_version, made.admin_actor)
    mo = await api.user("Mo")
    gone = await send(api, "POST", f"/invitations/{token}/accept", mo)
    assert (gone.status_code, gone.json()) == (404, INVITATION_GONE)
    assert (await send(api, "GET", f"/invitations/{token}", {})).status_code == 404

    assert await api.services.access.revoke_admin_links() == 1
    assert await api.services.access.revoke_admin_links() == 0  # idempotent
    [row] = await api.services.store.select(InvitationRow, "id", "01LEGACYADMINLINK000000000")
    assert row.revoked_at is not None
    log = (await ok(api, "GET", f"/orgs/{made.id}/events?limit=5", made.admin))["events"]
    revoked = next(e for e in log if e["type"] == "invitation.revoked")
    assert revoked["invitationId"] == row.id
    assert revoked["actor"]["kind"] == "system"
