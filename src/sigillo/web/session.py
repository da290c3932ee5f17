"""Who is looking at a page, where to send them to sign in, and the session cookie.

A page's user comes from the same server-side session as the API's (sigillo.api.auth:
the cookie, checked against the database on every request, so a revoked session or a
removed member loses the dashboard on the very next click [D4]). Without one, a page
answers `303 /login?redirect=<path and query>` (htmx requests get `HX-Redirect`, so the
whole window moves rather than a login form landing inside a fragment).

The redirect target a sign-in page accepts is checked by `safe_redirect` (behaviour.md
14.2): a path on this server under `/dash`, `/invite/` or `/device`, or `/`. Nothing else,
so a crafted `?redirect=//evil.example` cannot send a fresh session elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.di import NamedDependency

from sigillo.domain.events import Actor
from sigillo.domain.projections.rows import UserRow
from sigillo.http.credentials import clear_session_cookies, credential
from sigillo.http.credentials import session_cookie as _session_cookie
from sigillo.http.csrf import csrf_token
from sigillo.services.container import Services
from sigillo.settings import Settings

__all__ = [
    "SignInRequired",
    "Viewer",
    "clear_session_cookie",
    "login_url",
    "maybe_viewer",
    "safe_redirect",
    "session_cookie",
    "viewer",
]

MAX_REDIRECT = 2048


class SignInRequired(Exception):
    """No live session: the web error handler answers with the sign-in redirect."""

    def __init__(self, back_to: str = "/") -> None:
        super().__init__("sign-in required")
        self.back_to = back_to


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user of a page request, with their session's CSRF token."""

    user: UserRow
    csrf: str
    session_id: str = ""  # the session this request came with (the Sessions page marks it)

    @property
    def actor(self) -> Actor:
        return Actor("user", self.user.id)

    @property
    def label(self) -> str:
        return self.user.name or self.user.email


def _here(request: Request[Any, Any, Any]) -> str:
    """The request's path and query as the browser sent them (still percent-encoded)."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string", b"")
    return (raw + (b"?" + query if query else b"")).decode("latin-1")


async def maybe_viewer(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> Viewer | None:
    """The page's user, or None. API tokens (`sig_…`) are never a page's user."""
    found = credential(request)
    if found is None or found[0].startswith("sig_"):
        return None
    session = await services.accounts.authenticate(found[0])
    if session is None:
        return None
    return Viewer(session[1], csrf_token(found[0]), session[0].id)


async def viewer(request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Viewer:
    """The page's user; without one, the sign-in redirect that brings them back here (a
    safe page only: an unsafe request is not repeated after signing in)."""
    found = await maybe_viewer(request, services)
    if found is None:
        safe = request.method in ("GET", "HEAD")
        raise SignInRequired(safe_redirect(_here(request)) if safe else "/")
    return found


def safe_redirect(target: str | None) -> str:
    """`target` if it is a safe place to send someone after signing in, else `/`.

    Safe: a path (one leading `/`, never `//`, no backslash, no control character, no
    `..` segment) that is `/`, `/device`, `/dash`, `/account/sessions`, `/account/security`,
    under `/dash/` or
    under `/invite/`. Its query is kept (the user code of `/device` [D6]); a fragment is dropped."""
    if not target or len(target) > MAX_REDIRECT:
        return "/"
    if "\\" in target or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return "/"
    if not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or ".." in parts.path.split("/"):
        return "/"
    path = parts.path
    if path in (
        "/",
        "/device",
        "/dash",
        "/account/sessions",
        "/account/security",
    ) or path.startswith(("/dash/", "/invite/")):
        return path + (f"?{parts.query}" if parts.query else "")
    return "/"


def login_url(back_to: str) -> str:
    back_to = safe_redirect(back_to)
    return "/login" if back_to == "/" else f"/login?redirect={quote(back_to, safe='')}"


def session_cookie(request: Request[Any, Any, Any], settings: Settings, token: str) -> Cookie:
    """The cookie sigillo.api.sessions.signed_in sets (sigillo.http.credentials):
    `HttpOnly`, `SameSite=Lax`, and `__Host-` + `Secure` over HTTPS (security.md)."""
    return _session_cookie(request, token, settings)


def clear_session_cookie(response: Response[Any]) -> None:
    clear_session_cookies(response)
