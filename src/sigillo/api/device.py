"""The device authorization grant (RFC 8628) as behaviour.md 8.2 gives it, with Sigillo's
parameters (security.md promise 10): 8-letter user codes, 10-minute codes, `slow_down`.

* `POST /api/auth/device/code`: a code pair for a client (the CLI);
* `POST /api/auth/device/token`: the client's poll; a session token once approved;
* `GET /api/auth/device?user_code=`: the code's status, and for a signed-in caller who
  asked for it (client id, IP address, time), for the consent screen [D6];
* `POST /api/auth/device/approve` and `/deny`: the signed-in user's decision.

Refusals are OAuth error bodies, `{"error", "error_description"}` with status 400; the
decisions need a session (401 `unauthorized` / `Authentication required`), which an API
token is not. The OAuth endpoints ignore body fields they do not know (RFC 6749 3.1).
The requesting IP address is the ASGI client address, never a forwarded header.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

from sigillo.api.auth import Principal, session_principal
from sigillo.api.ratelimit import client_ip
from sigillo.domain.device import GRANT_TYPE, UNSUPPORTED_GRANT_TYPE, DeviceFlowError
from sigillo.domain.errors import Unauthorized
from sigillo.services.container import Services

__all__ = ["ROUTES"]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTHENTICATION_REQUIRED = {"error": "unauthorized", "error_description": "Authentication required"}

# No NUL anywhere (PostgreSQL's text cannot hold one): refused as bad input, not a 500.
NO_NUL = "^[^\\x00]*$"
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]
Scope = Annotated[str, msgspec.Meta(max_length=1024, pattern=NO_NUL)]
Code = Annotated[str, msgspec.Meta(max_length=128, pattern=NO_NUL)]
UserCode = Annotated[str, msgspec.Meta(max_length=32)]


class CodeRequest(msgspec.Struct):
    client_id: ClientId
    scope: Scope | None = None


class TokenRequest(msgspec.Struct):
    grant_type: Code
    device_code: Code
    client_id: ClientId


class Decision(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    user_code: UserCode


class DeviceAuthorization(msgspec.Struct, frozen=True):
    """RFC 8628 3.2, snake_case as the RFC spells it."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class DeviceAccessToken(msgspec.Struct, frozen=True):
    """RFC 6749 5.1: a session token, used as `Authorization: Bearer`."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str

    def __repr__(self) -> str:  # never the token
        return "DeviceAccessToken(<token hidden>)"


class DeviceCodeStatus(msgspec.Struct, frozen=True, omit_defaults=True):
    """A user code's status; who asked for it only for a signed-in caller."""

    user_code: str
    status: str
    client_id: str | None = None
    ip: str | None = None
    requested_at: int | None = msgspec.field(default=None, name="requestedAt")


class DecisionAnswer(msgspec.Struct, frozen=True):
    success: bool


def _refused(_: Request[Any, Any, Any], error: DeviceFlowError) -> Response[dict[str, Any]]:
    body = {"error": error.refusal.error, "error_description": error.refusal.description}
    return Response(body, status_code=400, headers=NO_STORE)


def _unauthorized(_: Request[Any, Any, Any], __: Unauthorized) -> Response[dict[str, Any]]:
    return Response(AUTHENTICATION_REQUIRED, status_code=401, headers=NO_STORE)


OAUTH_ERRORS: ExceptionHandlersMap = {DeviceFlowError: _refused}
DECISION_ERRORS: ExceptionHandlersMap = {DeviceFlowError: _refused, Unauthorized: _unauthorized}


@post(
    "/api/auth/device/code",
    operation_id="requestDeviceCode",
    opt={"rate_limit": "device-code"},
    summary="Start a device login: a device code and a user code",
    status_code=200,
    exception_handlers=OAUTH_ERRORS,
)
async def request_code(
    request: Request[Any, Any, Any],
    data: JSONBody[CodeRequest],
    services: NamedDependency[Services],
) -> Response[DeviceAuthorization]:
    """The user code is shown as `XXXX-XXXX` and accepted with or without the dash."""
    issued = await services.device.request(
        data.client_id, data.scope or "", ip_address=client_ip(request)
    )
    origin = str(request.base_url)
    body = DeviceAuthorization(
        device_code=issued.device_code,
        user_code=issued.user_code,
        verification_uri=services.device.verification_uri(origin),
        verification_uri_complete=services.device.verification_uri_complete(
            origin, issued.user_code
        ),
        expires_in=issued.expires_in,
        interval=issued.interval,
    )
    return Response(body, status_code=200, headers=NO_STORE)


@post(
    "/api/auth/device/token",
    operation_id="exchangeDeviceCode",
    opt={"rate_limit": "device-token"},
    summary="Poll for the session token of an approved device login",
    status_code=200,
    exception_handlers=OAUTH_ERRORS,
)
async def exchange(
    request: Request[Any, Any, Any],
    data: JSONBody[TokenRequest],
    services: NamedDependency[Services],
) -> Response[DeviceAccessToken]:
    """400 `authorization_pending` until approved, `slow_down` when polled too often; then
    once, and only once, a session token usable as `Authorization: Bearer`."""
    if data.grant_type != GRANT_TYPE:
        raise DeviceFlowError(UNSUPPORTED_GRANT_TYPE)
    token = await services.device.exchange(
        data.device_code,
        data.client_id,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    body = DeviceAccessToken(token.access_token, "Bearer", token.expires_in, token.scope)
    return Response(body, status_code=200, headers=NO_STORE)


@get(
    "/api/auth/device",
    operation_id="getDeviceCode",
    opt={"rate_limit": "device-verify"},
    summary="A user code's status; with a session, who asked for it",
    exception_handlers=OAUTH_ERRORS,
)
async def status(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    user_code: Annotated[str, Parameter(max_length=32)],
) -> Response[DeviceCodeStatus]:
    pending = await services.device.pending(user_code)
    body = DeviceCodeStatus(pending.user_code, pending.code.status)
    try:
        await session_principal(request, services)
    except Unauthorized:
        pass  # anonymous: the status only
    else:
        code = pending.code
        body = msgspec.structs.replace(
            body, client_id=code.client_id, ip=code.ip_address, requested_at=code.created_at
        )
    return Response(body, status_code=200, headers=NO_STORE)


@post(
    "/api/auth/device/approve",
    operation_id="approveDeviceCode",
    opt={"rate_limit": "device-verify"},
    summary="Approve a device login as the signed-in user",
    status_code=200,
    exception_handlers=DECISION_ERRORS,
)
async def approve(
    data: JSONBody[Decision],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> Response[DecisionAnswer]:
    await services.device.approve(data.user_code, session_principal.actor.id)
    return Response(DecisionAnswer(success=True), status_code=200, headers=NO_STORE)


@post(
    "/api/auth/device/deny",
    operation_id="denyDeviceCode",
    opt={"rate_limit": "device-verify"},
    summary="Deny a device login",
    status_code=200,
    exception_handlers=DECISION_ERRORS,
)
async def deny(
    data: JSONBody[Decision],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> Response[DecisionAnswer]:
    await services.device.deny(data.user_code, session_principal.actor.id)
    return Response(DecisionAnswer(success=True), status_code=200, headers=NO_STORE)


ROUTES: list[ControllerRouterHandler] = [request_code, exchange, status, approve, deny]
