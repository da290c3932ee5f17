"""Signing in and out with a local account [D17], and the session cookie."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from sigillo import metrics
from sigillo.api.auth import Principal
from sigillo.api.ratelimit import client_ip
from sigillo.domain.errors import TooManyAttempts, Unauthorized
from sigillo.domain.projections.rows import UserRow
from sigillo.http.credentials import clear_session_cookies, credential, session_cookie
from sigillo.http.csrf import csrf_token
from sigillo.http.origin import refuse_cross_site
from sigillo.services.container import Services
from sigillo.services.signed_in import SignedInWith
from sigillo.settings import Settings

__all__ = ["SignedIn", "client_of", "session_info", "sign_in", "sign_out", "signed_in"]

NO_STORE = {"Cache-Control": "no-store"}
PASSWORD_ONLY = SignedInWith()


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str = msgspec.field()
    password: str = msgspec.field()
    # the account's two-factor code (TOTP) or one of its recovery codes, when it has 2FA on
    code: Annotated[str, msgspec.Meta(max_length=64)] | None = None

    def __repr__(self) -> str:  # never the password or the code
        return "SignIn(<hidden>)"


def client_of(request: Request) -> tuple[str, str]:  # type: ignore[type-arg]
    """The client's address (behind a trusted proxy, the forwarded one) and user agent a
    session is recorded with."""
    return client_ip(request), request.headers.get("user-agent", "")


class SessionUser(msgspec.Struct, frozen=True):
    id: str
    name: str
    email: str


class SignedIn(msgspec.Struct, frozen=True, rename="camel"):
    """The answer to sign-in, sign-up and setup; `token` also works as a bearer."""

    token: str
    user: SessionUser
    csrf_token: str

    def __repr__(self) -> str:  # never the token
        return f"SignedIn(user={self.user.id!r}, <token hidden>)"


class SessionInfo(msgspec.Struct, frozen=True, rename="camel"):
    user: SessionUser
    csrf_token: str


class SignedOut(msgspec.Struct, frozen=True):
    ok: bool


def _user(user: UserRow) -> SessionUser:
    return SessionUser(user.id, user.name, user.email)


def signed_in(
    request: Request,  # type: ignore[type-arg]
    settings: Settings,
    token: str,
    user: UserRow,
) -> Response[SignedIn]:
    """The answer to a successful sign-in (or sign-up): `{"token", "user", "csrfToken"}`
    and the session cookie, `HttpOnly`, `SameSite=Lax`, and `__Host-` + `Secure` over
    HTTPS (security.md promise 9). Its callers refuse cross-site requests
    (sigillo.http.origin.refuse_cross_site): no other site signs a browser in."""
    cookie = session_cookie(request, token, settings)
    body = SignedIn(token, _user(user), csrf_token(token))
    return Response(body, status_code=200, headers=NO_STORE, cookies=[cookie])


@post(
    "/api/auth/sign-in/email",
    operation_id="signIn",
    summary="Sign in with email and password",
    status_code=200,
    opt={"rate_limit": "sign-in", "errors": (401, 403)},
    guards=[refuse_cross_site],
)
async def sign_in(
    request: Request,  # type: ignore[type-arg]
    data: JSONBody[SignIn],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
) -> Response[SignedIn]:
    """Answers `{"token", "user", "csrfToken"}` and sets the session cookie; the token also
    works as `Authorization: Bearer`. A wrong password and an unknown email get the same
    401 after the same work. A session presented with the request is ended: ids rotate.

    An account with two-factor authentication on also needs `code` (a TOTP code or a
    recovery code): without one the answer is 401 `{"error": "two-factor code required"}`,
    with a wrong one 401 `{"error": "invalid two-factor code"}`, and 429 while its code
    guesses back off."""
    ip_address, user_agent = client_of(request)
    presented = credential(request)
    try:
        user = await services.accounts.check_password(
            data.email, data.password, ip_address=ip_address
        )
        finished = await services.sign_ins.finish_at_once(
            user,
            PASSWORD_ONLY,
            data.code,
            ip_address=ip_address,
            user_agent=user_agent,
            previous_token=presented[0] if presented else None,
        )
    except (Unauthorized, TooManyAttempts) as refused:
        metrics.sign_in_failed(refused)
        raise
    return signed_in(request, settings, finished.token, user)


@get("/api/auth/session", operation_id="getSession", summary="The signed-in user and CSRF token")
async def session_info(
    request: Request,  # type: ignore[type-arg]
    session_principal: NamedDependency[Principal],
) -> Response[SessionInfo]:
    """For cookie clients: the CSRF token to send as `X-CSRF-Token` on unsafe requests."""
    token, _ = credential(request) or ("", "bearer")  # present: session_principal passed
    user = session_principal.user
    if user is None:  # session_principal always names the session's user
        raise Unauthorized("unauthorized")
    return Response(SessionInfo(_user(user), csrf_token(token)), status_code=200, headers=NO_STORE)


@post("/api/auth/sign-out", operation_id="signOut", summary="End this session", status_code=200)
async def sign_out(
    request: Request,  # type: ignore[type-arg]
    services: NamedDependency[Services],
    session_principal: NamedDependency[Principal],
) -> Response[SignedOut]:
    """Ends the session server-side and clears the cookie. Needs the session (and, with a
    cookie, the CSRF token: a cross-site page must not sign anyone out)."""
    token, _ = credential(request) or ("", "bearer")  # present: session_principal passed
    await services.accounts.sign_out(token)
    response = Response(SignedOut(ok=True), status_code=200, headers=NO_STORE)
    clear_session_cookies(response)
    return response
