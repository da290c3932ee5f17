"""`/account/security`: the signed-in user's two-factor authentication (issue 20).

Off: "Set up" starts an enrolment, whose page shows the QR code (drawn on the server as an
inline SVG: no image service, nothing for the CSP to allow) and the secret as text for
typing in, and asks for the first code. A reload shows the same enrolment until it is
confirmed. Confirming turns it on, ends the other sessions, and shows the ten recovery
codes this once. On: since when, how many recovery codes are left, "New recovery codes"
(for a current code) and "Turn off" (for a current code or the password).

Every action is a full-page POST with the CSRF token (no htmx: the page holds a secret or
codes that must not linger in a fragment cache; every answer is `no-store`). A wrong code,
or one refused while guesses back off, comes back beside its field with 422; an action that
does not fit the state (confirming with nothing pending) says so, 409.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.api.sessions import client_of
from sigillo.domain.errors import Conflict, Forbidden, InvalidInput, TooManyAttempts
from sigillo.services.container import Services
from sigillo.services.two_factor import Enrolment
from sigillo.services.two_factor_codes import qr_svg
from sigillo.web.forms import FormErrors, read_form
from sigillo.web.layout import sidebar
from sigillo.web.pages import render
from sigillo.web.session import Viewer

__all__ = ["ROUTES"]

PAGE = "/account/security"
TEMPLATE = "account/security.html"
MAX_CODE = 64
MAX_PASSWORD = 1024  # crypto/passwords.py MAX_PASSWORD_LENGTH; the service checks it
WRONG_CODE = "That code is not right. Try the newest one from your app."
NOT_THE_PASSWORD = "The password is not right"  # noqa: S105 (a message)


async def _page(
    request: Request[Any, Any, Any],
    services: Services,
    viewer: Viewer,
    *,
    recovery_codes: list[str] | None = None,
    message: str = "",
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response[str]:
    state = await services.two_factor.status(viewer.user.id)
    enrolment: Enrolment | None = None
    if state.pending:
        enrolment = await services.two_factor.pending(viewer.user)
    context = {
        "sidebar": await sidebar(services, viewer),
        "state": state,
        "enrolment": enrolment,
        "qr": qr_svg(enrolment.uri) if enrolment else "",
        "recovery_codes": recovery_codes or [],
        "status_message": message,
        "errors": errors or FormErrors(),
        "max_code": MAX_CODE,
        "max_password": MAX_PASSWORD,
    }
    return render(request, TEMPLATE, context, status=status)


def _code_error(errors: FormErrors, field: str, error: Exception) -> int:
    """The refusal beside `field`, and the page's status."""
    if isinstance(error, Conflict):
        errors[field] = str(error).capitalize()
        return 409
    if isinstance(error, TooManyAttempts):
        errors[field] = f"Too many attempts: try again in {error.retry_after} s"
    elif isinstance(error, InvalidInput):
        errors[field] = error.message.capitalize()
    else:
        errors[field] = NOT_THE_PASSWORD if field == "password" else WRONG_CODE
    return 422


@get(PAGE, name="web:security")
async def security_page(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    return await _page(request, services, viewer)


@post(PAGE + "/enrol", name="web:security-enrol", status_code=200)
async def enrol(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """A new secret to scan (an unconfirmed earlier one is replaced)."""
    try:
        await services.two_factor.begin(viewer.user)
    except Conflict as on:
        return await _page(request, services, viewer, message=str(on).capitalize(), status=409)
    return await _page(request, services, viewer)


@post(PAGE + "/confirm", name="web:security-confirm", status_code=200)
async def confirm(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """The first code from the app: on, with the recovery codes shown this once."""
    errors = FormErrors()
    code = errors.required(await read_form(request), "code", "Enter the code from your app")
    if errors:
        return await _page(request, services, viewer, errors=errors, status=422)
    try:
        recovery, ended = await services.two_factor.confirm(
            viewer.user.id,
            code[:MAX_CODE],
            session_id=viewer.session_id or None,
            ip_address=client_of(request)[0],
        )
    except (Conflict, Forbidden, TooManyAttempts) as refused:
        status = _code_error(errors, "code", refused)
        return await _page(request, services, viewer, errors=errors, status=status)
    others = "" if not ended else f" {ended} other session{'s' if ended > 1 else ''} ended."
    message = f"Two-factor authentication is on.{others}"
    return await _page(request, services, viewer, recovery_codes=recovery, message=message)


@post(PAGE + "/recovery-codes", name="web:security-recovery-codes", status_code=200)
async def regenerate(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """New recovery codes for a current code; the old ones stop working."""
    errors = FormErrors()
    code = errors.required(await read_form(request), "new_codes_code", "Enter a current code")
    if errors:
        return await _page(request, services, viewer, errors=errors, status=422)
    try:
        recovery = await services.two_factor.regenerate_recovery_codes(
            viewer.user.id, code[:MAX_CODE], ip_address=client_of(request)[0]
        )
    except (Conflict, Forbidden, TooManyAttempts) as refused:
        status = _code_error(errors, "new_codes_code", refused)
        return await _page(request, services, viewer, errors=errors, status=status)
    message = "New recovery codes made: the old ones no longer work."
    return await _page(request, services, viewer, recovery_codes=recovery, message=message)


@post(PAGE + "/disable", name="web:security-disable", status_code=200)
async def disable(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Off, for a current code or the password: the other sessions end too."""
    form = await read_form(request)
    code, password = form.text("off_code").strip()[:MAX_CODE], form.text("password")
    errors = FormErrors()
    if not code and not password:
        errors["off_code"] = "Enter a current code, or your password below"
        return await _page(request, services, viewer, errors=errors, status=422)
    field = "off_code" if code else "password"
    try:
        ended = await services.two_factor.disable(
            viewer.user,
            code=code or None,
            password=None if code else password[:MAX_PASSWORD],
            session_id=viewer.session_id or None,
            ip_address=client_of(request)[0],
        )
    except (Conflict, Forbidden, InvalidInput, TooManyAttempts) as refused:
        status = _code_error(errors, field, refused)
        return await _page(request, services, viewer, errors=errors, status=status)
    others = "" if not ended else f" {ended} other session{'s' if ended > 1 else ''} ended."
    message = f"Two-factor authentication is off.{others}"
    return await _page(request, services, viewer, message=message)


ROUTES: list[ControllerRouterHandler] = [security_page, enrol, confirm, regenerate, disable]
