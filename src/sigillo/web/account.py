"""`/account/sessions`: the signed-in user's sessions and their password (issue 20).

Lists every live session of the account (the device in words, the address, when it
started and was last used, "This device" on the one looking), with "End session" per row
and "End all other sessions"; and "Change password" (current, new, confirm), which ends
every other session and says so. Every action is a POST with the CSRF token: htmx swaps
the page's main block; without scripts the whole page comes back with the same message.
Ending the session of this very browser signs it out (to the sign-in page). Another
user's session id is the same 404 page as an unknown one. Nothing here reaches the event
log: sessions are a table (services/accounts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.devices import describe
from sigillo.domain.errors import Forbidden, InvalidInput, TooManyAttempts
from sigillo.services.container import Services
from sigillo.services.ports import SessionRecord
from sigillo.web.forms import FormErrors, read_form
from sigillo.web.layout import sidebar
from sigillo.web.pages import redirect, render
from sigillo.web.params import PathText
from sigillo.web.session import Viewer, clear_session_cookie

__all__ = ["ROUTES"]

PAGE = "/account/sessions"
TEMPLATE = "account/sessions.html"
MAX_PASSWORD = 1024  # crypto/passwords.py MAX_PASSWORD_LENGTH; the service checks it
MISMATCH = "The new passwords do not match"
WRONG = "The current password is not right"


@dataclass(frozen=True, slots=True)
class SessionView:
    session: SessionRecord
    device: str
    current: bool


def _ended(count: int) -> str:
    if count == 0:
        return "No other session was signed in."
    return "Ended 1 other session." if count == 1 else f"Ended {count} other sessions."


async def _page(
    request: Request[Any, Any, Any],
    services: Services,
    viewer: Viewer,
    *,
    status_message: str = "",
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response[str]:
    sessions = await services.accounts.sessions(viewer.user.id)
    views = [
        SessionView(s, describe(s.user_agent, s.client_name), s.id == viewer.session_id)
        for s in sessions
    ]
    views.sort(key=lambda view: not view.current)  # this device first, then newest first
    context = {
        "sidebar": await sidebar(services, viewer),
        "sessions": views,
        "status_message": status_message,
        "errors": errors or FormErrors(),
        "max_password": MAX_PASSWORD,
    }
    return render(request, TEMPLATE, context, status=status)


@get(PAGE, name="web:sessions")
async def sessions_page(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    return await _page(request, services, viewer)


@post(PAGE + "/end-others", name="web:sessions-end-others", status_code=200)
async def end_others(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    ended = await services.accounts.end_other_sessions(viewer.user.id, viewer.session_id)
    return await _page(request, services, viewer, status_message=_ended(ended))


@post(PAGE + "/{session_id:str}/end", name="web:session-end", status_code=200)
async def end_session(
    request: Request[Any, Any, Any],
    session_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """One session of the viewer's (another's: the 404 page). This browser's: signed out."""
    await services.accounts.end_session(viewer.user.id, session_id)
    if session_id == viewer.session_id:
        response = redirect(request, "/login")
        clear_session_cookie(response)
        return response
    return await _page(request, services, viewer, status_message="Session ended.")


@post("/account/password", name="web:password", status_code=200)
async def change_password(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Current, new and confirm; a refusal comes back beside its field (422), nothing
    changed. Success: every other session ends, and the page says how many."""
    form = await read_form(request)
    errors = FormErrors()
    current = errors.required(form, "current_password", "Current password is required")
    new = form.text("new_password")
    if new != form.text("confirm_password"):
        errors["confirm_password"] = MISMATCH
    if errors:
        return await _page(request, services, viewer, errors=errors, status=422)
    try:
        ended = await services.accounts.change_password(
            viewer.user.id, current, new, viewer.session_id
        )
    except InvalidInput as bad:
        errors["new_password"] = f"New password {bad.message}"
    except Forbidden:
        errors["current_password"] = WRONG
    except TooManyAttempts as wait:
        errors["current_password"] = f"Too many attempts: try again in {wait.retry_after} s"
    if errors:
        return await _page(request, services, viewer, errors=errors, status=422)
    message = f"Password changed. {_ended(ended)}"
    return await _page(request, services, viewer, status_message=message)


ROUTES: list[ControllerRouterHandler] = [sessions_page, end_others, end_session, change_password]
