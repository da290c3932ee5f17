"""The Access tab (behaviour.md 14.7, 9.1, 9.2): the org's members, their roles, invite links.

Everyone in the org sees its members in the order they joined (name with initials, email,
role, joined). Admins also get:

* "Invite member": a dialog that makes an invite link through the access service (always
  role member, seven days) and shows it once, with a copy button; the store keeps only its
  hash, so the pending links listed below (with revoke) are shown by who made them and
  when they expire, never by their URL;
* a role select per member (Admin / Member; "Member" disabled for the last admin);
* a remove button per member (confirmation; disabled for the last admin with the reason;
  "Remove yourself" on one's own row).

The org keeps an admin whatever the page showed: the rule is decided on the org's stream
(domain/orgs.py), and a refused change answers the members table as it really is, with
the message (422), so a select that was changed in the browser snaps back. Members see
roles as text, and every handler asks the access service for the admin role, so a member
who posts anyway gets 403 (a member cannot leave through the dashboard: there is no
"leave org", behaviour.md 5.3).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import Conflict, InvalidInput
from sigillo.domain.orgs import LAST_ADMIN
from sigillo.domain.projections.rows import MembershipRow, OrgRow, UserRow
from sigillo.services.container import Services
from sigillo.settings import Settings
from sigillo.web.forms import read_form
from sigillo.web.pages import is_htmx, redirect, render
from sigillo.web.params import PathText, QueryText
from sigillo.web.project import PROJECT, ProjectPage, project_page, render_tab
from sigillo.web.session import Viewer

__all__ = ["ROUTES"]

ACCESS = PROJECT + "/access"
MEMBER = ACCESS + "/members/{membership_id:str}"
INVITES = ACCESS + "/invites"
INVITE = INVITES + "/{invitation_id:str}"
SIGN_IN_POLICY = ACCESS + "/sign-in-policy"
MEMBERS = "project/access/members.html"
INVITATIONS = "project/access/invitations.html"
POLICY = "project/access/sign_in_policy.html"
ROLE_RULE = "Role must be Admin or Member"


@dataclass(frozen=True, slots=True)
class MemberView:
    membership: MembershipRow
    user: UserRow | None
    is_self: bool
    last_admin: bool  # the org's only admin: cannot be demoted or removed

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""

    @property
    def email(self) -> str:
        return self.user.email if self.user else ""

    @property
    def who(self) -> str:
        """How the confirmation names them: name, else email, else "this user"."""
        return self.name or self.email or "this user"

    @property
    def role(self) -> str:
        return "admin" if self.membership.role == "admin" else "member"


@dataclass(frozen=True, slots=True)
class InviteView:
    """A pending invite link, by who made it and when (its URL was shown once), and who
    joined through it."""

    id: str
    inviter: str
    created_at: int
    expires_at: int
    used_by: list[str]

    @property
    def expires_on(self) -> str:
        """A future moment as a date ("Jan 5, 2026"; relative times only say the past)."""
        moment = dt.datetime.fromtimestamp(self.expires_at / 1000, tz=dt.UTC)
        return f"{moment:%b} {moment.day}, {moment.year}"


async def _members(services: Services, page: ProjectPage) -> list[MemberView]:
    found = await services.access.members_with_users(page.org.id, page.viewer.actor)
    admins = sum(1 for membership, _ in found if membership.role == "admin")
    return [
        MemberView(
            membership,
            user,
            is_self=membership.user_id == page.viewer.user.id,
            last_admin=membership.role == "admin" and admins == 1,
        )
        for membership, user in found
    ]


async def _invitations(
    services: Services, page: ProjectPage, members: list[MemberView]
) -> list[InviteView]:
    """The links that still admit someone, newest first (admins only), each with the
    member who made it."""
    now = int(time.time() * 1000)
    names = {m.membership.user_id: m.who for m in members}
    rows = await services.access.invitations(page.org.id, page.viewer.actor)
    uses = await services.access.invitation_uses(page.org.id, page.viewer.actor)
    return [
        InviteView(
            row.id,
            names.get(row.created_by, "a former member"),
            row.created_at,
            row.expires_at,
            [names.get(use.user_id, "a former member") for use in uses.get(row.id, [])],
        )
        for row in reversed(rows)
        if row.revoked_at is None and row.expires_at > now
    ]


async def _context(
    services: Services,
    page: ProjectPage,
    *,
    error: str | None = None,
    policy_error: str | None = None,
    invite_url: str | None = None,
    show_invite: bool = False,
) -> dict[str, Any]:
    """The tab's data, read afresh; the viewer's role too (they may have just changed it)."""
    role = await services.access.role(page.org.id, page.viewer.actor)
    is_admin = role == "admin"
    members = await _members(services, page)
    org = await services.store.get(OrgRow, (page.org.id,)) or page.org
    return {
        "policy": org,
        "members": members,
        "invitations": await _invitations(services, page, members) if is_admin else [],
        "can_manage": is_admin,
        "error": error,
        "policy_error": policy_error,
        "policy_saved": False,
        "notice": "",  # what a change did (members, invitations)
        "invite_url": invite_url,
        "show_invite": show_invite and is_admin,
        "base": page.url("access"),
        "last_admin_title": LAST_ADMIN,
    }


async def _answer(
    request: Request[Any, Any, Any],
    services: Services,
    page: ProjectPage,
    fragment: str,
    *,
    error: str | None = None,
    notice: str = "",
) -> Response[str]:
    """After a change: htmx gets `fragment` with the `notice` of what was done (read out
    by the page's live region), a plain post goes back to the tab; a refusal (422) shows
    the table as it is now, with the message. A viewer who is no longer a member (they
    removed themself) goes to `/`."""
    if await services.access.role(page.org.id, page.viewer.actor) is None:
        return redirect(request, "/")
    status = 200 if error is None else 422
    htmx = is_htmx(request)
    if not htmx and error is None:
        return redirect(request, page.url("access"))
    context = await _context(services, page, error=error)
    if htmx:
        return render(request, fragment, {"page": page, **context, "notice": notice}, status=status)
    return render_tab(request, page, "access", context, status=status)


async def _who(services: Services, page: ProjectPage, membership_id: str) -> str:
    """How a notice names the member (as the confirmations do)."""
    found = (m for m in await _members(services, page) if m.membership.id == membership_id)
    return next((m.who for m in found), "The member")


async def _refused(
    request: Request[Any, Any, Any], services: Services, page: ProjectPage, error: Conflict
) -> Response[str]:
    """The last-admin rule, said beside the table; any other conflict (a change that kept
    racing others) is the generic 409 page."""
    if str(error) != LAST_ADMIN:
        raise error
    return await _answer(request, services, page, MEMBERS, error=LAST_ADMIN)


def _origin(request: Request[Any, Any, Any], settings: Settings) -> str:
    """Where people reach this server, as sigillo.api.invitations builds links."""
    return settings.public_url or str(request.base_url).rstrip("/")


@get(ACCESS, name="web:tab-access")
async def access_tab(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    dialog: QueryText = "",
) -> Response[str]:
    """`?dialog=invite` opens the invite dialog (the button's way without script)."""
    page = await project_page(services, viewer, project_id)
    context = await _context(services, page, show_invite=dialog == "invite")
    return render_tab(request, page, "access", context)


@post(INVITES, name="web:invite-create", status_code=200)
async def create_invite(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    settings: NamedDependency[Settings],
) -> Response[str]:
    """Admins only. Answers the tab with the new link in the invite dialog: the only answer
    that holds it (for htmx, the `main` block)."""
    page = await project_page(services, viewer, project_id)
    _, token = await services.access.create_invitation(page.org.id, viewer.actor)
    url = f"{_origin(request, settings)}/invite/{token}"
    context = await _context(services, page, invite_url=url, show_invite=True)
    return render_tab(request, page, "access", context)


@post(INVITE + "/revoke", name="web:invite-revoke", status_code=200)
async def revoke_invite(
    request: Request[Any, Any, Any],
    project_id: PathText,
    invitation_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only; the link admits nobody from now on (revoking twice is fine)."""
    page = await project_page(services, viewer, project_id)
    await services.access.revoke_invitation(page.org.id, invitation_id, viewer.actor)
    return await _answer(request, services, page, INVITATIONS, notice="Invite link revoked.")


@post(MEMBER + "/role", name="web:member-role", status_code=200)
async def change_role(
    request: Request[Any, Any, Any],
    project_id: PathText,
    membership_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only. The role a member has already is a no-op; demoting the last admin is
    refused with the rule (422)."""
    page = await project_page(services, viewer, project_id)
    await services.access.require_admin(page.org.id, viewer.actor)
    role = (await read_form(request)).text("role")
    try:
        await services.access.change_role(page.org.id, membership_id, role, viewer.actor)
    except InvalidInput:
        return await _answer(request, services, page, MEMBERS, error=ROLE_RULE)
    except Conflict as error:
        return await _refused(request, services, page, error)
    now = "an admin" if role == "admin" else "a member"
    notice = f"{await _who(services, page, membership_id)} is now {now}."
    return await _answer(request, services, page, MEMBERS, notice=notice)


@post(MEMBER + "/remove", name="web:member-remove", status_code=200)
async def remove_member(
    request: Request[Any, Any, Any],
    project_id: PathText,
    membership_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only (themself included, when another admin remains: they then leave for
    `/`). The last admin stays (422)."""
    page = await project_page(services, viewer, project_id)
    await services.access.require_admin(page.org.id, viewer.actor)
    who = await _who(services, page, membership_id)
    try:
        await services.access.remove_member(page.org.id, membership_id, viewer.actor)
    except Conflict as error:
        return await _refused(request, services, page, error)
    notice = f"{who} removed from {page.org.name}."
    return await _answer(request, services, page, MEMBERS, notice=notice)


@post(SIGN_IN_POLICY, name="web:sign-in-policy", status_code=200)
async def set_sign_in_policy(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    settings: NamedDependency[Settings],
) -> Response[str]:
    """Admins only. A policy the admin's own session would fail, or single sign-on on a
    server without a provider, is refused beside the form (422) and nothing changes."""
    page = await project_page(services, viewer, project_id)
    form = await read_form(request)
    try:
        await services.access.set_sign_in_policy(
            page.org.id,
            viewer.actor,
            require_sso=form.text("require_sso") == "on",
            require_two_factor=form.text("require_two_factor") == "on",
            sso_offered=bool(settings.oidc_providers),
        )
    except InvalidInput as refused:
        context = await _context(services, page, policy_error=refused.message)
        if is_htmx(request):
            return render(request, POLICY, {"page": page, **context}, status=422)
        return render_tab(request, page, "access", context, status=422)
    if not is_htmx(request):
        return redirect(request, page.url("access"))
    context = {**await _context(services, page), "policy_saved": True}
    return render(request, POLICY, {"page": page, **context})


ROUTES: list[ControllerRouterHandler] = [
    access_tab,
    create_invite,
    revoke_invite,
    change_role,
    remove_member,
    set_sign_in_policy,
]
