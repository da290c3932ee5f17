"""Signing in and out of the dashboard (behaviour.md 14.2, [D17]), and `/`.

`/login` takes email and password; a signed-in visitor is sent on at once. The sign-in
form spends the API's "sign-in" rate limit (the same budget per client as
`POST /api/auth/sign-in/email`), and a wrong email or password gets the same answer after
the same work. Both also share the per-account limit (services/accounts.py): while an
email's sign-ins back off, the form answers 429 with `Retry-After`. A session presented
with the form is ended: the id rotates at sign-in. An account with two-factor
authentication on goes on to `/login/code` (web/signin_code.py) instead of signed in;
`/login?again=…` says why a sign-in must start over.
`?redirect=` rides along in a hidden field and is checked again when used (safe_redirect).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.types import ControllerRouterHandler

from sigillo import metrics
from sigillo.api.sessions import client_of
from sigillo.domain.errors import TooManyAttempts, Unauthorized
from sigillo.http.credentials import credential
from sigillo.services.container import Services
from sigillo.services.signed_in import SignedInWith
from sigillo.settings import Settings
from sigillo.web.challenge import after_first_factor
from sigillo.web.forms import read_form
from sigillo.web.pages import redirect, render
from sigillo.web.session import (
    Viewer,
    clear_session_cookie,
    safe_redirect,
    session_cookie,
)

__all__ = ["ROUTES", "signed_in_redirect"]

INVALID = "Invalid email or password"
PASSWORD_ONLY = SignedInWith()
# `/login?again=…`: why a sign-in half done (services/sign_ins.py) must start over
AGAIN = {
    "expired": "Your sign-in took too long. Sign in again.",
    "code": "Too many wrong codes. Sign in again.",
}


def signed_in_redirect(
    request: Request[Any, Any, Any], settings: Settings, token: str, to: str
) -> Response[str]:
    """After a sign-in, sign-up or setup: the session cookie, and on to `to`."""
    return redirect(request, to, cookies=[session_cookie(request, settings, token)])


@get("/", name="web:home")
async def home(
    request: Request[Any, Any, Any], maybe_viewer: NamedDependency[Viewer | None]
) -> Response[str]:
    return redirect(request, "/dash" if maybe_viewer else "/login")


@get("/login", name="web:login")
async def login_page(
    request: Request[Any, Any, Any],
    maybe_viewer: NamedDependency[Viewer | None],
) -> Response[str]:
    target = safe_redirect(request.query_params.get("redirect"))
    if maybe_viewer is not None:
        return redirect(request, target)
    again = AGAIN.get(request.query_params.get("again") or "", "")
    return render(request, "auth/login.html", {"redirect": target, "email": "", "error": again})


@post("/login", name="web:login-submit", opt={"rate_limit": "sign-in"}, status_code=200)
async def login(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
    same_origin: NamedDependency[bool],
) -> Response[str]:
    form = await read_form(request)
    target = safe_redirect(form.text("redirect"))
    ip_address, user_agent = client_of(request)
    presented = credential(request)
    try:
        user = await services.accounts.check_password(
            form.text("email"), form.text("password"), ip_address=ip_address
        )
    except Unauthorized as refused:
        metrics.sign_in_failed(refused)
        context = {"redirect": target, "email": form.text("email")[:254], "error": INVALID}
        return render(request, "auth/login.html", context, status=401)
    except TooManyAttempts as backing_off:  # the account's limit, shared with the API
        metrics.sign_in_failed(backing_off)
        retry = {"Retry-After": str(backing_off.retry_after)}
        raise TooManyRequestsException("too many requests", headers=retry) from None
    outcome = await services.sign_ins.finish(
        user,
        PASSWORD_ONLY,
        ip_address=ip_address,
        user_agent=user_agent,
        previous_token=presented[0] if presented and presented[1] == "cookie" else None,
        redirect=target,
    )
    return after_first_factor(request, settings, outcome, target)


@post("/logout", name="web:logout", status_code=200)
async def logout(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> Response[str]:
    """Ends the server-side session (the CSRF guard has checked the form) and the cookie."""
    found = credential(request)
    if found is not None and found[1] == "cookie":
        await services.accounts.sign_out(found[0])
    response = redirect(request, "/login")
    clear_session_cookie(response)
    return response


ROUTES: list[ControllerRouterHandler] = [home, login_page, login, logout]
