"""Invite links: `/invite/<token>` (behaviour.md 9.1, 17.3).

Anyone holding a live link sees which org it joins and who made it. A signed-in visitor
accepts with one button (a member already is sent to the org); a visitor without an
account signs up right there (name, email, password) and joins in the same step, as
`POST /api/auth/sign-up/email` with an invitation does; one with an account signs in and
comes back. Unknown, expired and revoked links all get the same "Invalid Invitation" page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.api.sessions import client_of
from sigillo.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from sigillo.domain.events import Actor
from sigillo.services.access import Invitee
from sigillo.services.container import Services
from sigillo.settings import Settings
from sigillo.web.forms import Form, FormErrors, read_form
from sigillo.web.pages import redirect, render
from sigillo.web.params import PathText
from sigillo.web.session import Viewer, login_url
from sigillo.web.signin import signed_in_redirect

__all__ = ["ROUTES"]

INVITE = "/invite/{token:str}"


def _invalid(request: Request[Any, Any, Any]) -> Response[str]:
    return render(request, "auth/invite_invalid.html", status=404)


def _removed(request: Request[Any, Any, Any]) -> Response[str]:
    """Someone removed from the org after the link was made: it no longer admits them."""
    context = {
        "title": "Invitation No Longer Valid For You",
        "reason": "You were removed from this organization after this link was made. "
        "Ask an admin of the organization for a new invite link.",
    }
    return render(request, "auth/invite_invalid.html", context, status=403)


def _page(
    request: Request[Any, Any, Any],
    token: PathText,
    invitee: Invitee,
    viewer: Viewer | None,
    form: Form | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response[str]:
    context = {
        "token": token,
        "org": invitee.org,
        "inviter": invitee.inviter.name if invitee.inviter else "",
        "viewer": viewer,
        "login": login_url(f"/invite/{token}"),
        "name": form.text("name")[:100] if form else "",
        "email": form.text("email")[:254] if form else "",
        "errors": errors or FormErrors(),
    }
    return render(request, "auth/invite.html", context, status=status)


@get(INVITE, name="web:invite")
async def invite_page(
    request: Request[Any, Any, Any],
    token: PathText,
    services: NamedDependency[Services],
    maybe_viewer: NamedDependency[Viewer | None],
) -> Response[str]:
    try:
        invitee = await services.access.invitation(token)
    except NotFound:
        return _invalid(request)
    if maybe_viewer and await services.access.role(invitee.org.id, maybe_viewer.actor):
        return redirect(request, f"/dash/orgs/{invitee.org.id}")
    return _page(request, token, invitee, maybe_viewer)


@post(INVITE + "/accept", name="web:invite-accept", status_code=200)
async def accept(
    request: Request[Any, Any, Any],
    token: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    try:
        membership = await services.access.accept_invitation(token, viewer.actor)
    except NotFound:
        return _invalid(request)
    except Forbidden:
        return _removed(request)
    return redirect(request, f"/dash/orgs/{membership.org_id}")


@post(INVITE + "/sign-up", name="web:invite-sign-up", opt={"rate_limit": "sign-up"})
async def sign_up(
    request: Request[Any, Any, Any],
    token: PathText,
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
    same_origin: NamedDependency[bool],
) -> Response[str]:
    """A new account that joins the link's org at once, then signed in."""
    try:
        invitee = await services.access.invitation(token)
    except NotFound:
        return _invalid(request)
    form = await read_form(request)
    errors = FormErrors()
    name = errors.required(form, "name")
    address = errors.required(form, "email")
    password = form.text("password")
    if not password:
        errors["password"] = "Password is required"  # noqa: S105 (a message)
    if errors:
        return _page(request, token, invitee, None, form, errors, status=422)
    try:
        user = await services.accounts.sign_up(
            address, name, password, open_signup=settings.allow_signup, invited=True
        )
    except InvalidInput as error:
        errors.add(error)
        return _page(request, token, invitee, None, form, errors, status=422)
    except Conflict:
        errors["email"] = "An account with this email already exists: sign in instead"
        return _page(request, token, invitee, None, form, errors, status=409)
    except Forbidden:  # pragma: no cover - an invitation always opens sign-up
        return _invalid(request)
    try:
        await services.access.accept_invitation(token, Actor("user", user.id))
    except NotFound:  # revoked or expired in the moment since it was checked
        return _invalid(request)
    ip_address, user_agent = client_of(request)
    session_token, _ = await services.accounts.start_session(
        user, ip_address=ip_address, user_agent=user_agent
    )
    return signed_in_redirect(request, settings, session_token, f"/dash/orgs/{invitee.org.id}")


ROUTES: list[ControllerRouterHandler] = [invite_page, accept, sign_up]
