"""A signed-in user's own sessions (issue 20): list them, end one or all the others, and
change the password, which ends the others too.

Sessions only. An API token has no sessions: a live one gets 403 ("API tokens have no
sessions"), a dead one 401 like any unknown credential. Another user's session id is the
same 404 as an unknown one, and that session lives on. No answer holds a session token
(only ids; the token's hash never leaves the store). Sessions are a table, not events:
nothing here is written to the event log, as sign-in and sign-out are not.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import UNAUTHORIZED, check_csrf
from sigillo.api.environments import PathId
from sigillo.api.sessions import NO_STORE, client_of
from sigillo.domain.devices import describe
from sigillo.domain.errors import Forbidden, Unauthorized
from sigillo.domain.projections.rows import UserRow
from sigillo.http.credentials import clear_session_cookies, credential
from sigillo.services.container import Services
from sigillo.services.ports import SessionRecord

__all__ = ["NO_SESSIONS", "ROUTES", "OwnSession", "own_session"]

NO_SESSIONS = "API tokens have no sessions: sign in to manage sessions"
MAX_PASSWORD = 1024  # crypto/passwords.py MAX_PASSWORD_LENGTH (api may not import crypto)
Password = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD)]


class OwnSession(msgspec.Struct, frozen=True):
    """The caller's live session and its user."""

    session: SessionRecord
    user: UserRow


async def own_session(
    request: ASGIConnection[Any, Any, Any, Any], services: NamedDependency[Services]
) -> OwnSession:
    """The caller's session (bearer or cookie, with the CSRF token on unsafe cookie
    requests); an API token is a 403, no credential or a dead one a 401."""
    found = credential(request)
    if found is None:
        raise Unauthorized(UNAUTHORIZED)
    token, how = found
    if token.startswith("sig_"):
        if how == "bearer" and await services.access.authenticate_token(token) is not None:
            raise Forbidden(NO_SESSIONS)
        raise Unauthorized(UNAUTHORIZED)
    live = await services.accounts.authenticate(token)
    if live is None:
        raise Unauthorized(UNAUTHORIZED)
    if how == "cookie":
        check_csrf(request, token)
    return OwnSession(*live)


class SessionItem(msgspec.Struct, frozen=True, rename="camel"):
    """A session as the Sessions page shows it: never its token."""

    id: str
    created_at: int  # epoch milliseconds
    last_seen_at: int
    expires_at: int
    ip_address: str
    user_agent: str
    device: str  # the user agent in words ("Firefox on Linux", "sigillo CLI")
    client_name: str  # a device-flow login: the client that asked; else ""
    current: bool  # the session this request came with


class SessionList(msgspec.Struct, frozen=True):
    sessions: list[SessionItem]


class SessionsEnded(msgspec.Struct, frozen=True):
    ok: bool
    ended: int


class SessionEnded(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    ok: bool = True
    id: str
    signed_out: bool  # the caller's own session: the cookie is cleared too


class ChangePassword(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    current_password: Password
    new_password: Password

    def __repr__(self) -> str:  # never a password
        return "ChangePassword(<hidden>)"


class PasswordChanged(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    ok: bool = True
    sessions_ended: int  # the other sessions, ended by the change


def item(session: SessionRecord, current_id: str) -> SessionItem:
    return SessionItem(
        session.id, session.created_at, session.last_seen_at, session.expires_at,
        session.ip_address, session.user_agent,
        describe(session.user_agent, session.client_name), session.client_name,
        session.id == current_id,
    )  # fmt: skip


@get(
    "/api/v0/sessions",
    operation_id="listSessions",
    summary="List your sessions, newest first",
    tags=["sessions"],
    opt={"errors": (401, 403)},
)
async def list_sessions(
    own_session: NamedDependency[OwnSession], services: NamedDependency[Services]
) -> Response[SessionList]:
    """Every live session of the signed-in user (browsers and `sigillo login`s): where and
    when it started, when it was last used, and which one made this request (`current`).
    Device-flow sessions carry the client's name in `clientName`. Never a token."""
    sessions = await services.accounts.sessions(own_session.user.id)
    body = SessionList([item(session, own_session.session.id) for session in sessions])
    return Response(body, status_code=200, headers=NO_STORE)


@delete(
    "/api/v0/sessions/{session_id:str}",
    operation_id="endSession",
    summary="End one of your sessions",
    tags=["sessions"],
    status_code=200,
    opt={"errors": (401, 403, 404)},
)
async def end_session(
    session_id: PathId,
    own_session: NamedDependency[OwnSession],
    services: NamedDependency[Services],
) -> Response[SessionEnded]:
    """Ends it at once: its token is refused from the next request on. Ending the session
    this request came with signs out (`signedOut`, the cookie cleared). Another user's
    session is the same 404 as an unknown id."""
    await services.accounts.end_session(own_session.user.id, session_id)
    mine = session_id == own_session.session.id
    response = Response(SessionEnded(id=session_id, signed_out=mine), headers=NO_STORE)
    if mine:
        clear_session_cookies(response)
    return response


@post(
    "/api/v0/sessions/end-others",
    operation_id="endOtherSessions",
    summary="End all your other sessions",
    tags=["sessions"],
    status_code=200,
    opt={"errors": (401, 403)},
)
async def end_other_sessions(
    own_session: NamedDependency[OwnSession], services: NamedDependency[Services]
) -> Response[SessionsEnded]:
    """Every session of yours but the one this request came with; `ended` says how many."""
    ended = await services.accounts.end_other_sessions(own_session.user.id, own_session.session.id)
    return Response(SessionsEnded(ok=True, ended=ended), status_code=200, headers=NO_STORE)


@post(
    "/api/v0/me/password",
    operation_id="changePassword",
    summary="Change your password; your other sessions end",
    tags=["sessions"],
    status_code=200,
    # No per-address budget here (it would answer 429 before a missing credential's 401):
    # the account's own sign-in back-off limits guesses, counted in the service.
    opt={"errors": (401, 403, 429)},
)
async def change_password(
    request: Request,  # type: ignore[type-arg]
    data: JSONBody[ChangePassword],
    own_session: NamedDependency[OwnSession],
    services: NamedDependency[Services],
) -> Response[PasswordChanged]:
    """`currentPassword` is checked as sign-in checks a password (a wrong one is 403 after
    the same work, and counts against the account's sign-in back-off: 429 while it backs
    off); `newPassword` follows sign-up's rules (422). On success every other session ends
    (`sessionsEnded`); this one stays signed in."""
    ip_address, _ = client_of(request)
    ended = await services.accounts.change_password(
        own_session.user.id,
        data.current_password,
        data.new_password,
        own_session.session.id,
        ip_address=ip_address,
    )
    return Response(PasswordChanged(sessions_ended=ended), status_code=200, headers=NO_STORE)


ROUTES: list[ControllerRouterHandler] = [
    list_sessions,
    end_other_sessions,
    end_session,
    change_password,
]
