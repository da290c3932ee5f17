"""Invite links in the browser: sign up and join, or accept when signed in (9.1, 17.3)."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD, Web, join, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio


async def test_a_visitor_without_an_account_signs_up_and_joins(web: Web) -> None:
    admin = await web.signed_in(name="Ada Lovelace")
    org_id, _ = await org_with_project(web, admin)
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    visitor = web.browser()
    page = await visitor.get(f"/invite/{invite}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Join Acme Corp" in text
    assert "Ada Lovelace invited you to join this organization." in text
    assert "This will give you access to all projects in this organization." in text
    assert f'href="/login?redirect=%2Finvite%2F{invite}"' in page.text
    joined = await visitor.post(
        f"/invite/{invite}/sign-up",
        {"name": "Mo", "email": "mo@example.com", "password": PASSWORD},
    )
    assert location(joined) == f"/dash/orgs/{org_id}"
    # Signed in as the new member: the org's project opens (the org has one, so the org's
    # page goes on to its first environment).
    project_page = location(await visitor.get(location(joined)))
    landed = await visitor.get(project_page)
    assert landed.status_code == 200
    assert "Mo" in landed.text


async def test_sign_up_errors_come_back_on_the_page(web: Web) -> None:
    admin = await web.signed_in()
    org_id, _ = await org_with_project(web, admin)
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    visitor = web.browser()
    empty = await visitor.post(f"/invite/{invite}/sign-up", {"email": "", "password": ""})
    assert empty.status_code == 422
    for message in ("Name is required", "Email is required", "Password is required"):
        assert message in text_of(empty.text)
    taken = await visitor.post(
        f"/invite/{invite}/sign-up",
        {"name": "Again", "email": admin.user.email if admin.user else "", "password": PASSWORD},
    )
    assert taken.status_code == 409
    assert "already exists" in text_of(taken.text)


async def test_a_signed_in_visitor_accepts_with_one_button(web: Web) -> None:
    admin = await web.signed_in()
    org_id, _ = await org_with_project(web, admin)
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    visitor = await web.signed_in(name="Mo")
    page = await visitor.get(f"/invite/{invite}")
    assert "Accept invitation to Acme Corp" in page.text
    assert "Create your account" not in page.text
    assert await web.services.access.role(org_id, visitor.actor) is None  # a GET joins no one
    refused = await visitor.post(f"/invite/{invite}/accept", csrf=False)
    assert refused.status_code == 403
    assert await web.services.access.role(org_id, visitor.actor) is None
    accepted = await visitor.post(f"/invite/{invite}/accept")
    assert location(accepted) == f"/dash/orgs/{org_id}"
    assert await web.services.access.role(org_id, visitor.actor) == "member"
    assert location(await visitor.get(f"/invite/{invite}")) == f"/dash/orgs/{org_id}"


async def test_a_member_already_is_sent_to_the_org(web: Web) -> None:
    admin = await web.signed_in()
    member = await web.signed_in(name="Mo")
    org_id, _ = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    assert location(await member.get(f"/invite/{invite}")) == f"/dash/orgs/{org_id}"


async def test_unknown_expired_and_revoked_links_are_all_invalid(web: Web) -> None:
    admin = await web.signed_in()
    org_id, _ = await org_with_project(web, admin)
    row, revoked = await web.services.access.create_invitation(org_id, admin.actor)
    await web.services.access.revoke_invitation(org_id, row.id, admin.actor)
    visitor = web.browser()
    for token in ("unknown", revoked, "x" * 5000):
        page = await visitor.get(f"/invite/{token}")
        assert page.status_code == 404
        assert "This invitation link is invalid or has expired." in page.text
        sign_up = await visitor.post(
            f"/invite/{token}/sign-up",
            {"name": "N", "email": "n@example.com", "password": PASSWORD},
        )
        assert sign_up.status_code == 404
    signed = await web.signed_in(name="Mo")
    assert (await signed.post(f"/invite/{revoked}/accept")).status_code == 404
    assert await web.services.access.role(org_id, signed.actor) is None


async def test_invite_sign_up_refuses_other_origins(web: Web) -> None:
    admin = await web.signed_in()
    org_id, _ = await org_with_project(web, admin)
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    form = {"name": "Mo", "email": "mo@example.com", "password": PASSWORD}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = await web.browser(**headers).post(f"/invite/{invite}/sign-up", form)
        assert answer.status_code == 403
    assert len(await web.services.access.members(org_id, admin.actor)) == 1


async def test_a_removed_member_is_told_the_old_link_no_longer_admits_them(web: Web) -> None:
    """Issue 13, item 3: removal blocks re-joining through any link made before it; the
    Access tab says who used each link."""
    admin = await web.signed_in(name="Ada Lovelace")
    org_id, project_id = await org_with_project(web, admin)
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    visitor = await web.signed_in(name="Mo Member")
    assert location(await visitor.post(f"/invite/{invite}/accept", {})) == f"/dash/orgs/{org_id}"
    access = text_of((await admin.get(f"/dash/projects/{project_id}/access")).text)
    assert "used 1 time, by Mo Member" in access
    [gone] = [
        m
        for m in await web.services.access.members(org_id, admin.actor)
        if visitor.user and m.user_id == visitor.user.id
    ]
    await web.services.access.remove_member(org_id, gone.id, admin.actor)
    again = await visitor.post(f"/invite/{invite}/accept", {})
    assert again.status_code == 403
    assert "You were removed from this organization after this link was made" in text_of(again.text)
    assert await web.services.access.role(org_id, visitor.actor) is None
