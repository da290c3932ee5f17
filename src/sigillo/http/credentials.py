"""Who is calling, as the request says it: a bearer header or the session cookie.

The session cookie has one name per deployment: `__Host-sigillo_session` (with `Secure`)
when the server is reached over HTTPS, which pins it to this origin, else
`sigillo_session`. Only that name is accepted: over HTTPS a plain `sigillo_session`, which
a sibling subdomain or a plain-HTTP page could plant, is ignored (security.md).
"""

from __future__ import annotations

from typing import Any, Literal

from litestar import Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from sigillo.http.served import over_https
from sigillo.services.accounts import ABSOLUTE_MS
from sigillo.settings import Settings

__all__ = [
    "HOST_COOKIE",
    "PLAIN_COOKIE",
    "SESSION_COOKIES",
    "bearer",
    "clear_session_cookies",
    "credential",
    "session_cookie",
    "session_cookie_name",
]

HOST_COOKIE = "__Host-sigillo_session"
PLAIN_COOKIE = "sigillo_session"
SESSION_COOKIES = (HOST_COOKIE, PLAIN_COOKIE)

How = Literal["bearer", "cookie"]


def bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    return header[len("Bearer ") :] if header.startswith("Bearer ") else None


def session_cookie_name(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The one name this server sets, and so the one it accepts."""
    return HOST_COOKIE if over_https(connection) else PLAIN_COOKIE


def credential(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, How] | None:
    """The caller's credential and how it came; the Authorization header wins."""
    token = bearer(connection)
    if token is not None:
        return token, "bearer"
    cookie = connection.cookies.get(session_cookie_name(connection))
    return (cookie, "cookie") if cookie else None


def session_cookie(
    connection: ASGIConnection[Any, Any, Any, Any], token: str, settings: Settings | None = None
) -> Cookie:
    """The session cookie: `HttpOnly`, `SameSite=Lax`, and `__Host-` + `Secure` over HTTPS."""
    secure = over_https(connection, settings)
    return Cookie(
        key=HOST_COOKIE if secure else PLAIN_COOKIE,
        value=token,
        path="/",
        max_age=ABSOLUTE_MS // 1000,
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookies(response: Response[Any]) -> None:
    """Sign-out: both names are cleared (a cookie set before a change of public URL too)."""
    for name in SESSION_COOKIES:
        response.delete_cookie(name, path="/")
