"""The Access tab (behaviour.md 14.7, 9.1, 9.2, 5.3): members, roles, invite links.

HTTP level, on SQLite and PostgreSQL: the last-admin rules, admins against members,
strangers, forged and malformed requests.
"""

from __future__ import annotations

import re
from html import escape

import pytest

from sigillo.domain.projections.rows import MembershipRow
from tests.web.conftest import Browser, Web, join, location, org_with_project, text_of

pytestmark = pytest.mark.asyncio

HTMX = {"HX-Request": "true"}
LAST_ADMIN = "This organization needs at least one admin"
LINK = re.compile(r"http://testserver\.local/invite/([A-Za-z0-9_\-]+)")


def url(project_id: str, rest: str = "") -> str:
    return f"/dash/projects/{project_id}/access{rest}"


async def scene(web: Web) -> tuple[Browser, Browser, str, str]:
    """Ada (admin) and Mo (member, joined second) in Acme Corp, which has one project."""
    admin = await web.signed_in(await web.account("Ada Admin", "ada@example.com"))
    member = await web.signed_in(await web.account("Mo Member", "mo@example.com"))
    org_id, project_id = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    return admin, member, org_id, project_id


async def memberships(web: Web, org_id: str, who: Browser) -> dict[str, MembershipRow]:
    """user id -> membership."""
    return {m.user_id: m for m in await web.services.access.members(org_id, who.actor)}


async def membership_of(web: Web, org_id: str, who: Browser, of: Browser) -> str:
    assert of.user is not None
    return (await memberships(web, org_id, who))[of.user.id].id


async def test_an_admin_sees_members_in_join_order_with_controls(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    html = (await admin.get(url(project_id))).text
    page = text_of(html)
    for header in ("Name", "Email", "Role", "Joined"):
        assert f">{header}</th>" in html
    assert page.index("ada@example.com") < page.index("mo@example.com")
    assert ">AA</span>" in html
    assert ">MM</span>" in html
    assert "(you)" in page
    mo = await membership_of(web, org_id, admin, member)
    ada = await membership_of(web, org_id, admin, admin)
    # Ada is the last admin: "Member" is disabled for her, and so is her remove button.
    assert re.search(
        rf'id="role-{ada}"[^>]*>\s*<option value="admin" selected>Admin</option>\s*'
        r'<option value="member" disabled>Member</option>',
        html,
    )
    # The select alone changes nothing (issue 21: arrow keys only browse it): "Change role"
    # sends it, and making someone an admin asks first.
    promote = "Make Mo Member an admin? Admins manage members, roles and the organization."
    assert re.search(
        rf'id="role-{mo}"[^>]*>\s*<option value="admin" data-confirm="{re.escape(promote)}">'
        r"Admin</option>"
        r'\s*<option value="member" selected>Member</option>\s*</select>\s*'
        rf'<button type="submit" id="role-change-{mo}" class="button secondary small" '
        r'aria-label="Change role for Mo Member">Change role</button>',
        html,
    )
    assert 'hx-trigger="change"' not in html
    assert f'disabled title="{LAST_ADMIN}">Remove yourself</button>' in html
    assert 'aria-label="Remove Mo Member">Remove</button>' in html
    confirm = "Remove Mo Member from this organization?"
    assert f'data-confirm="{escape(confirm)}"' in html
    assert "Invite member" in page
    assert "Pending invitations" in page


async def test_a_member_sees_roles_as_text_and_no_controls(web: Web) -> None:
    _, member, _, project_id = await scene(web)
    html = (await member.get(url(project_id, "?dialog=invite"))).text
    page = text_of(html)
    assert "ada@example.com" in page
    assert "mo@example.com" in page
    assert "<select" not in html.split('id="access-members"')[1].split("</table>")[0]
    assert "Admin" in page
    assert "Member" in page
    assert "Invite member" not in page
    assert "invite-dialog" not in html
    assert "/remove" not in html
    assert "Pending invitations" not in page


# -- invite links -------------------------------------------------------------------------


async def test_an_admin_makes_an_invite_link_that_someone_uses(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    dialog = text_of((await admin.get(url(project_id, "?dialog=invite"))).text)
    assert "Anyone with the link can join all projects in this organization" in dialog
    assert "Generate invite link" in dialog
    made = await admin.post(url(project_id, "/invites"), headers=HTMX)
    assert made.status_code == 200
    assert "<html" not in made.text
    [token] = LINK.findall(made.text)
    assert 'data-copy-from="#invite-link"' in made.text
    assert "data-no-dismiss" in made.text
    assert "Share this link with the person you want to invite." in text_of(made.text)
    # The link is shown once: the list shows who made it, never the URL.
    listed = (await admin.get(url(project_id))).text
    assert token not in listed
    assert "Made by Ada Admin" in text_of(listed)
    newcomer = await web.signed_in(await web.account("Nia New", "nia@example.com"))
    assert location(await newcomer.post(f"/invite/{token}/accept")) == f"/dash/orgs/{org_id}"
    assert "nia@example.com" in text_of((await admin.get(url(project_id))).text)


async def test_a_plain_form_invite_answers_the_whole_page_with_the_link(web: Web) -> None:
    admin, _, _, project_id = await scene(web)
    made = await admin.post(url(project_id, "/invites"))
    assert made.status_code == 200
    assert "<html" in made.text
    assert len(LINK.findall(made.text)) == 1
    assert made.headers["cache-control"] == "no-store"


async def test_an_admin_revokes_a_pending_invite_link(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    for used in await web.services.access.invitations(org_id, admin.actor):  # scene's own
        await web.services.access.revoke_invitation(org_id, used.id, admin.actor)
    row, token = await web.services.access.create_invitation(org_id, admin.actor)
    html = (await admin.get(url(project_id))).text
    assert f'id="invite-{row.id}"' in html
    answer = await admin.post(url(project_id, f"/invites/{row.id}/revoke"), headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="access-invitations"')
    assert row.id not in answer.text
    assert "No pending invitations." in text_of(answer.text)
    assert '<p class="alert ok" data-status>Invite link revoked.</p>' in answer.text
    latecomer = await web.signed_in(name="Late")
    assert (await latecomer.post(f"/invite/{token}/accept")).status_code == 404
    plain = await admin.post(url(project_id, f"/invites/{row.id}/revoke"))
    assert location(plain) == url(project_id)


async def test_a_member_cannot_make_or_revoke_invite_links(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    before = len(await web.services.access.invitations(org_id, admin.actor))
    row, token = await web.services.access.create_invitation(org_id, admin.actor)
    for headers in ({}, HTMX):
        made = await member.post(url(project_id, "/invites"), headers=headers)
        assert made.status_code == 403
        assert "/invite/" not in made.text
        revoked = await member.post(url(project_id, f"/invites/{row.id}/revoke"), headers=headers)
        assert revoked.status_code == 403
    assert len(await web.services.access.invitations(org_id, admin.actor)) == before + 1
    assert (await web.services.access.invitation(token)).invitation.revoked_at is None


# -- roles --------------------------------------------------------------------------------


async def test_an_admin_promotes_and_demotes_a_member(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    promoted = await admin.post(
        url(project_id, f"/members/{mo}/role"), {"role": "admin"}, headers=HTMX
    )
    assert promoted.status_code == 200
    assert promoted.text.lstrip().startswith('<div id="access-members"')
    # said for the page's live region (app.js reads [data-status]: issue 21)
    assert '<p class="alert ok" data-status>Mo Member is now an admin.</p>' in promoted.text
    assert (await memberships(web, org_id, admin))[member.actor.id].role == "admin"
    assert "disabled" not in promoted.text.split(f'id="role-{mo}"')[1].split("</select>")[0]
    demoted = await admin.post(url(project_id, f"/members/{mo}/role"), {"role": "member"})
    assert location(demoted) == url(project_id)
    assert (await memberships(web, org_id, admin))[member.actor.id].role == "member"
    same = await admin.post(url(project_id, f"/members/{mo}/role"), {"role": "member"})
    assert location(same) == url(project_id)  # the role they have: a no-op that succeeds


async def test_the_last_admin_cannot_be_demoted_and_the_select_snaps_back(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    ada = await membership_of(web, org_id, admin, admin)
    for headers in (HTMX, {}):
        refused = await admin.post(
            url(project_id, f"/members/{ada}/role"), {"role": "member"}, headers=headers
        )
        assert refused.status_code == 422
        assert LAST_ADMIN in text_of(refused.text)
        assert re.search(rf'id="role-{ada}"[^>]*>\s*<option value="admin" selected>', refused.text)
    assert (await memberships(web, org_id, admin))[admin.actor.id].role == "admin"


async def test_an_admin_may_step_down_when_another_admin_remains(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    ada = await membership_of(web, org_id, admin, admin)
    await web.services.access.change_role(org_id, mo, "admin", admin.actor)
    stepped = await admin.post(
        url(project_id, f"/members/{ada}/role"), {"role": "member"}, headers=HTMX
    )
    assert stepped.status_code == 200
    assert "<select" not in stepped.text  # a member now: roles as text
    assert (await memberships(web, org_id, member))[admin.actor.id].role == "member"


@pytest.mark.parametrize("role", ["owner", "", "ADMIN", "x" * 100_000])
async def test_an_unknown_role_is_refused(web: Web, role: str) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    refused = await admin.post(url(project_id, f"/members/{mo}/role"), {"role": role}, headers=HTMX)
    assert refused.status_code == 422
    assert "Role must be Admin or Member" in text_of(refused.text)
    assert len(refused.text) < 100_000
    assert (await memberships(web, org_id, admin))[member.actor.id].role == "member"


async def test_a_member_cannot_change_roles(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    ada = await membership_of(web, org_id, admin, admin)
    for target, role in ((mo, "admin"), (ada, "member")):
        for headers in ({}, HTMX):
            refused = await member.post(
                url(project_id, f"/members/{target}/role"), {"role": role}, headers=headers
            )
            assert refused.status_code == 403
    roles = {m.user_id: m.role for m in (await memberships(web, org_id, admin)).values()}
    assert roles == {admin.actor.id: "admin", member.actor.id: "member"}


# -- removing -----------------------------------------------------------------------------


async def test_an_admin_removes_a_member_who_then_loses_the_project(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    removed = await admin.post(url(project_id, f"/members/{mo}/remove"), headers=HTMX)
    assert removed.status_code == 200
    assert "mo@example.com" not in removed.text
    assert "Mo Member removed from " in text_of(removed.text)
    assert member.actor.id not in await memberships(web, org_id, admin)
    assert (await member.get(url(project_id))).status_code == 404


async def test_the_last_admin_cannot_be_removed(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    ada = await membership_of(web, org_id, admin, admin)
    for headers in (HTMX, {}):
        refused = await admin.post(url(project_id, f"/members/{ada}/remove"), headers=headers)
        assert refused.status_code == 422
        assert LAST_ADMIN in text_of(refused.text)
    assert admin.actor.id in await memberships(web, org_id, admin)


async def test_an_admin_removes_themself_when_another_admin_remains(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    ada = await membership_of(web, org_id, admin, admin)
    await web.services.access.change_role(org_id, mo, "admin", admin.actor)
    html = (await admin.get(url(project_id))).text
    assert ">Remove yourself</button>" in html
    assert f'disabled title="{LAST_ADMIN}"' not in html
    left = await admin.post(url(project_id, f"/members/{ada}/remove"), headers=HTMX)
    assert left.status_code == 200
    assert left.headers["hx-redirect"] == "/"
    assert (await admin.get(url(project_id))).status_code == 404


async def test_a_member_cannot_remove_anyone_not_even_themself(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    ada = await membership_of(web, org_id, admin, admin)
    for target in (ada, mo):
        refused = await member.post(url(project_id, f"/members/{target}/remove"))
        assert refused.status_code == 403
    assert len(await memberships(web, org_id, admin)) == 2


# -- strangers, forgeries, malformed requests ---------------------------------------------


async def test_strangers_get_404_and_foreign_members_are_unknown(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    invite, _ = await web.services.access.create_invitation(org_id, admin.actor)
    stranger = await web.signed_in(name="Eve")
    _, own_project = await org_with_project(web, stranger, "Eve Corp")
    for path, fields in [
        (url(project_id, f"/members/{mo}/role"), {"role": "admin"}),
        (url(project_id, f"/members/{mo}/remove"), {}),
        (url(project_id, "/invites"), {}),
        (url(project_id, f"/invites/{invite.id}/revoke"), {}),
    ]:
        answer = await stranger.post(path, fields)
        assert answer.status_code == 404
        assert "mo@example.com" not in answer.text
    assert (await stranger.get(url(project_id))).status_code == 404
    # Her own project, someone else's membership and invite ids: unknown in her org.
    for path, fields in [
        (url(own_project, f"/members/{mo}/role"), {"role": "admin"}),
        (url(own_project, f"/members/{mo}/remove"), {}),
        (url(own_project, f"/invites/{invite.id}/revoke"), {}),
    ]:
        assert (await stranger.post(path, fields)).status_code == 404
    assert (await admin.post(url(project_id, "/members/nope/remove"))).status_code == 404
    assert len(await memberships(web, org_id, admin)) == 2


async def test_changes_need_the_csrf_token_and_a_session(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    invitations = await web.services.access.invitations(org_id, admin.actor)
    for path, fields in [
        (url(project_id, f"/members/{mo}/role"), {"role": "admin"}),
        (url(project_id, f"/members/{mo}/remove"), {}),
        (url(project_id, "/invites"), {}),
    ]:
        refused = await admin.post(path, fields, csrf=False)
        assert refused.status_code == 403
        assert "/invite/" not in refused.text
        assert location(await web.browser().post(path, fields)).startswith("/login")
    assert len(await memberships(web, org_id, admin)) == 2
    assert await web.services.access.invitations(org_id, admin.actor) == invitations


async def test_malformed_bodies_never_fail_the_server(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    mo = await membership_of(web, org_id, admin, member)
    headers = {"X-CSRF-Token": admin.csrf}
    for body, kind in [
        (b'{"role": "admin"}', "application/json"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
        (b"role=%00", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ]:
        answer = await admin.client.post(
            url(project_id, f"/members/{mo}/role"),
            content=body,
            headers={**headers, "Content-Type": kind},
        )
        assert 400 <= answer.status_code < 500, (body, answer.status_code)
    assert (await memberships(web, org_id, admin))[member.actor.id].role == "member"
