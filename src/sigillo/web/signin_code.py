"""`/login/code`: the second step of a dashboard sign-in, for accounts with two-factor
authentication on (services/sign_ins.py, services/two_factor.py).

The password (or a provider) opened a "two-factor" challenge whose token rides in its own
cookie (web/challenge.py). This page asks for a code from the authenticator app, or one of
the recovery codes (a lost device). A wrong code is the page again (401) saying how many
tries are left; the challenge takes `MAX_ATTEMPTS`, then is gone and the browser goes
back to `/login` to start over. Every guess also counts against the account's own
back-off (429 with `Retry-After` while it waits), shared with the API, so opening new
challenges buys no extra guesses. The form is one of the pre-session forms: same-origin
only (web/csrf.py), and it spends the "sign-in" rate limit of the client's address.
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
from sigillo.domain.projections.rows import UserRow
from sigillo.services.container import Services
from sigillo.services.sign_ins import Challenge, Finished
from sigillo.settings import Settings
from sigillo.web.challenge import after_first_factor, challenge_token, clear_challenge_cookie
from sigillo.web.forms import read_form
from sigillo.web.pages import redirect, render

__all__ = ["ROUTES"]

PAGE = "/login/code"
TEMPLATE = "auth/two_factor.html"
MAX_CODE = 64  # a recovery code with spaces to spare; longer is not a code


async def _challenge(
    request: Request[Any, Any, Any], services: Services
) -> tuple[Challenge, UserRow] | None:
    token = challenge_token(request)
    if token is None:
        return None
    challenge = await services.sign_ins.challenge(token, "two-factor")
    if challenge is None:
        return None
    user = await services.store.get(UserRow, (challenge.user_id,))
    return (challenge, user) if user is not None else None


def _start_over(request: Request[Any, Any, Any], why: str) -> Response[str]:
    response = redirect(request, f"/login?again={why}")
    clear_challenge_cookie(response)
    return response


@get(PAGE, name="web:login-code")
async def code_page(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> Response[str]:
    if await _challenge(request, services) is None:
        return _start_over(request, "expired")
    return render(request, TEMPLATE, {"error": ""})


@post(PAGE, name="web:login-code-submit", opt={"rate_limit": "sign-in"}, status_code=200)
async def submit_code(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
    same_origin: NamedDependency[bool],
) -> Response[str]:
    """A TOTP or recovery code. Right: the session cookie and on to where the sign-in was
    going. Wrong: the page again, 401, with the tries left (none: back to `/login`)."""
    found = await _challenge(request, services)
    if found is None:
        return _start_over(request, "expired")
    challenge, user = found
    code = (await read_form(request)).text("code")[:MAX_CODE]
    ip_address, _ = client_of(request)
    try:
        outcome = await services.sign_ins.answer_code(challenge, user, code, ip_address=ip_address)
    except TooManyAttempts as backing_off:  # the account's code guesses, shared with the API
        metrics.sign_in_failed(backing_off)
        retry = {"Retry-After": str(backing_off.retry_after)}
        raise TooManyRequestsException("too many requests", headers=retry) from None
    if isinstance(outcome, Finished):
        return after_first_factor(request, settings, outcome, challenge.redirect or "/")
    metrics.sign_in_failed(Unauthorized("invalid two-factor code"))
    if outcome.attempts_left <= 0:
        return _start_over(request, "code")
    left = outcome.attempts_left
    error = f"Invalid code. {left} {'try' if left == 1 else 'tries'} left."
    return render(request, TEMPLATE, {"error": error}, status=401)


ROUTES: list[ControllerRouterHandler] = [code_page, submit_code]
