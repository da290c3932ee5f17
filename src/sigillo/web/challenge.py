"""The browser's side of a sign-in with a second step (services/sign_ins.py).

After the first factor (a password, or a provider's callback) the outcome is either a
session, which sets the session cookie and goes on, or a challenge, whose token rides in
its own cookie to the page that asks for the second step: `/login/code` for a two-factor
code, `/login/link` for the password that links a provider identity to an account. The
cookie is `HttpOnly`, `SameSite=Lax`, lives as long as the challenge, and is `__Host-` +
`Secure` over HTTPS, like the session cookie.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie

from sigillo.http.served import over_https
from sigillo.services.sign_ins import LIFETIME_MS, Finished, Pending
from sigillo.settings import Settings
from sigillo.web.pages import redirect
from sigillo.web.session import session_cookie

__all__ = [
    "CHALLENGE_PAGES",
    "after_first_factor",
    "challenge_token",
    "clear_challenge_cookie",
]

HOST_COOKIE = "__Host-sigillo_challenge"
PLAIN_COOKIE = "sigillo_challenge"
CHALLENGE_PAGES = {"two-factor": "/login/code", "link": "/login/link"}


def after_first_factor(
    request: Request[Any, Any, Any], settings: Settings, outcome: Finished | Pending, to: str
) -> Response[str]:
    """Signed in: the session cookie and on to `to`. A second step due: the challenge
    cookie and on to the page that asks for it (which sends the browser to `to` after)."""
    if isinstance(outcome, Finished):
        response = redirect(request, to, cookies=[session_cookie(request, settings, outcome.token)])
        clear_challenge_cookie(response)
        return response
    secure = over_https(request, settings)
    cookie = Cookie(
        key=HOST_COOKIE if secure else PLAIN_COOKIE,
        value=outcome.token,
        path="/",
        max_age=LIFETIME_MS // 1000,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    return redirect(request, CHALLENGE_PAGES[outcome.purpose], cookies=[cookie])


def challenge_token(request: Request[Any, Any, Any]) -> str | None:
    """The challenge token the browser holds, under the one name this server sets."""
    name = HOST_COOKIE if over_https(request) else PLAIN_COOKIE
    return request.cookies.get(name) or None


def clear_challenge_cookie(response: Response[Any]) -> None:
    for name in (HOST_COOKIE, PLAIN_COOKIE):
        response.delete_cookie(name, path="/")
