"""`/api/v0/me/two-factor`: the signed-in user's two-factor authentication (issue 20).

Sessions only: a second factor belongs to a person, so an API token (a machine credential)
is a 401 here like no credential at all. With the session cookie, unsafe requests carry
the CSRF token. Answers holding the secret or recovery codes are `Cache-Control: no-store`
(every answer here is). A wrong code is 403 `invalid two-factor code`, counted against the
account's back-off (429 while it waits); a request that does not fit the state (confirm
with nothing pending, disable while off) is 409.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import UNAUTHORIZED, check_csrf
from sigillo.api.sessions import NO_STORE, client_of
from sigillo.api.user_sessions import OwnSession
from sigillo.domain.errors import Unauthorized
from sigillo.http.credentials import credential
from sigillo.services.container import Services

__all__ = ["ROUTES", "own_person"]

PATH = "/api/v0/me/two-factor"
MAX_PASSWORD = 1024  # crypto/passwords.py MAX_PASSWORD_LENGTH (api may not import crypto)
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD)]


async def own_person(
    request: ASGIConnection[Any, Any, Any, Any], services: NamedDependency[Services]
) -> OwnSession:
    """The caller's session; no credential, an API token or a dead session: 401."""
    found = credential(request)
    if found is None or found[0].startswith("sig_"):
        raise Unauthorized(UNAUTHORIZED)
    token, how = found
    live = await services.accounts.authenticate(token)
    if live is None:
        raise Unauthorized(UNAUTHORIZED)
    if how == "cookie":
        check_csrf(request, token)
    return OwnSession(*live)


DEPENDENCIES = {"person": Provide(own_person)}
OPT = {"errors": (401, 403, 409, 429)}


class TwoFactorStatus(msgspec.Struct, frozen=True, rename="camel"):
    enabled: bool
    enabled_at: int  # epoch milliseconds; 0 while off
    pending: bool  # an enrolment waits for its first code (confirm)
    recovery_codes_left: int


class Enrolment(msgspec.Struct, frozen=True, rename="camel"):
    """For the authenticator app: the URI its QR code holds, and the secret to type in."""

    otpauth_uri: str
    secret: str

    def __repr__(self) -> str:
        return "Enrolment(<hidden>)"


class CodeBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: Code

    def __repr__(self) -> str:
        return "CodeBody(<hidden>)"


class DisableBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A current code (TOTP or recovery) or the account's password."""

    code: Code | None = None
    password: Password | None = None

    def __repr__(self) -> str:
        return "DisableBody(<hidden>)"


class RecoveryCodes(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Shown once: only their hashes are kept. Each signs in once in place of a code."""

    recovery_codes: list[str]
    sessions_ended: int = 0  # confirm: your other sessions, ended

    def __repr__(self) -> str:
        return "RecoveryCodes(<hidden>)"


class Disabled(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    ok: bool = True
    sessions_ended: int


@get(PATH, operation_id="getTwoFactor", summary="Your two-factor authentication", tags=["me"],
     dependencies=DEPENDENCIES, opt={"errors": (401,)})  # fmt: skip
async def status(
    person: NamedDependency[OwnSession], services: NamedDependency[Services]
) -> Response[TwoFactorStatus]:
    """Whether it is on (since when, how many recovery codes are left) or being set up."""
    found = await services.two_factor.status(person.user.id)
    body = TwoFactorStatus(
        found.enabled, found.enabled_at, found.pending, found.recovery_codes_left
    )
    return Response(body, headers=NO_STORE)


@post(PATH + "/enrol", operation_id="enrolTwoFactor", summary="Start setting up an authenticator",
      tags=["me"], status_code=200, dependencies=DEPENDENCIES, opt=OPT)  # fmt: skip
async def enrol(
    person: NamedDependency[OwnSession], services: NamedDependency[Services]
) -> Response[Enrolment]:
    """A new secret, waiting for its first code (`confirm`); an unconfirmed earlier one is
    replaced. 409 while two-factor authentication is on."""
    made = await services.two_factor.begin(person.user)
    return Response(Enrolment(made.uri, made.secret), headers=NO_STORE)


@post(PATH + "/confirm", operation_id="confirmTwoFactor", summary="Turn two-factor on",
      tags=["me"], status_code=200, dependencies=DEPENDENCIES, opt=OPT)  # fmt: skip
async def confirm(
    request: Request[Any, Any, Any],
    data: JSONBody[CodeBody],
    person: NamedDependency[OwnSession],
    services: NamedDependency[Services],
) -> Response[RecoveryCodes]:
    """A code from the app turns it on: answers ten recovery codes (shown once). Your other
    sessions end; this one counts as signed in with two factors."""
    ip_address, _ = client_of(request)
    codes, ended = await services.two_factor.confirm(
        person.user.id, data.code, session_id=person.session.id, ip_address=ip_address
    )
    body = RecoveryCodes(recovery_codes=codes, sessions_ended=ended)
    return Response(body, headers=NO_STORE)


@post(PATH + "/disable", operation_id="disableTwoFactor", summary="Turn two-factor off",
      tags=["me"], status_code=200, dependencies=DEPENDENCIES, opt=OPT)  # fmt: skip
async def disable(
    request: Request[Any, Any, Any],
    data: JSONBody[DisableBody],
    person: NamedDependency[OwnSession],
    services: NamedDependency[Services],
) -> Response[Disabled]:
    """With a current `code` (TOTP or recovery code) or your `password`; given both, the
    code is checked; given neither, 403. The secret and recovery codes are deleted and your
    other sessions end."""
    ip_address, _ = client_of(request)
    ended = await services.two_factor.disable(
        person.user,
        code=data.code,
        password=data.password,
        session_id=person.session.id,
        ip_address=ip_address,
    )
    return Response(Disabled(sessions_ended=ended), headers=NO_STORE)


@post(PATH + "/recovery-codes", operation_id="regenerateRecoveryCodes",
      summary="New recovery codes", tags=["me"], status_code=200, dependencies=DEPENDENCIES,
      opt=OPT)  # fmt: skip
async def regenerate(
    request: Request[Any, Any, Any],
    data: JSONBody[CodeBody],
    person: NamedDependency[OwnSession],
    services: NamedDependency[Services],
) -> Response[RecoveryCodes]:
    """For a current code: ten new recovery codes (shown once); the old ones stop working."""
    ip_address, _ = client_of(request)
    codes = await services.two_factor.regenerate_recovery_codes(
        person.user.id, data.code, ip_address=ip_address
    )
    return Response(RecoveryCodes(recovery_codes=codes), headers=NO_STORE)


ROUTES: list[ControllerRouterHandler] = [status, enrol, confirm, disable, regenerate]
