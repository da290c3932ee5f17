"""First-run setup: the first account, made with the one-time token the server logged
(`<origin>/setup?token=…`, behaviour.md 17.3), then signed in and sent to `/dash`.

The page says plainly when it cannot help: once an account exists ("setup is complete",
409), or for a token the server did not issue or that was used (403). The form spends the
API's "sign-up" rate limit, and a typo in a field does not use the token up (the service
checks every value before it claims the token).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.api.sessions import client_of
from sigillo.domain.errors import Conflict, Forbidden, InvalidInput
from sigillo.services.container import Services
from sigillo.settings import Settings
from sigillo.web.forms import Form, FormErrors, read_form
from sigillo.web.pages import render
from sigillo.web.params import QueryText
from sigillo.web.signin import signed_in_redirect

__all__ = ["ROUTES"]

DONE = "done"
INVALID = "invalid"


def _closed(request: Request[Any, Any, Any], why: str) -> Response[str]:
    status = 409 if why == DONE else 403
    return render(request, "auth/setup_closed.html", {"why": why}, status=status)


def _form(
    request: Request[Any, Any, Any], token: str, form: Form | None, errors: FormErrors
) -> Response[str]:
    context = {
        "token": token,
        "name": form.text("name")[:100] if form else "",
        "email": form.text("email")[:254] if form else "",
        "errors": errors,
    }
    return render(request, "auth/setup.html", context, status=422 if errors else 200)


@get("/setup", name="web:setup")
async def setup_page(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    token: QueryText = "",
) -> Response[str]:
    if await services.accounts.any_user():
        return _closed(request, DONE)
    if not token or not await services.accounts.setup_token_valid(token):
        return _closed(request, INVALID)
    return _form(request, token, None, FormErrors())


@post("/setup", name="web:setup-submit", opt={"rate_limit": "sign-up"}, status_code=200)
async def setup(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
    same_origin: NamedDependency[bool],
) -> Response[str]:
    form = await read_form(request)
    token = form.text("token")
    errors = FormErrors()
    name = errors.required(form, "name")
    address = errors.required(form, "email")
    password = form.text("password")
    if not password:
        errors["password"] = "Password is required"  # noqa: S105 (a message)
    if errors:
        return _form(request, token, form, errors)
    try:
        user = await services.accounts.complete_setup(token, address, name, password)
    except Conflict:
        return _closed(request, DONE)
    except Forbidden:
        return _closed(request, INVALID)
    except InvalidInput as error:
        errors.add(error)
        return _form(request, token, form, errors)
    ip_address, user_agent = client_of(request)
    session_token, _ = await services.accounts.start_session(
        user, ip_address=ip_address, user_agent=user_agent
    )
    return signed_in_redirect(request, settings, session_token, "/dash")


ROUTES: list[ControllerRouterHandler] = [setup_page, setup]
