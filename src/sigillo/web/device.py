"""The `/device` page (behaviour.md 8.3 [D6]; security.md promise 10).

1. Without a session: the sign-in redirect, which comes back to `/device` with the code.
2. "Device Login": a code field prefilled from `?user_code=` (at most 12 characters, shown
   upper case) and "Verify Code". The form is a GET of this same page with `step=confirm`,
   so verifying a code changes nothing and survives the detour through sign-in.
3. The code is trimmed, dashes removed, upper-cased; unknown, expired or already decided:
   "Invalid or expired code. Please try again."
4. A pending code shows the consent screen: the client id, the address that asked for the
   code, when, and the account that will be signed in, with Approve and Deny.
5. Approve and Deny are POSTs with the CSRF token; each shows its result page.
6. Nothing is approved without that POST.

Every step spends the API's "device-verify" rate limit, so codes cannot be guessed here
any faster than through `GET /api/auth/device`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.device import DeviceFlowError
from sigillo.services.container import Services
from sigillo.services.device import PendingRequest
from sigillo.web.forms import read_form
from sigillo.web.pages import render
from sigillo.web.params import QueryText
from sigillo.web.session import Viewer

__all__ = ["ROUTES", "normalize"]

INVALID = "Invalid or expired code. Please try again."
LIMIT = {"rate_limit": "device-verify"}
MAX_CODE = 12


def normalize(code: str) -> str:
    """As the page promises: trimmed, without dashes, upper case."""
    return code.strip().replace("-", "").upper()


def shown(code: str) -> str:
    """`WDJBMJHT` as `WDJB-MJHT`, the way the CLI prints it."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def _entry(
    request: Request[Any, Any, Any], code: str, error: str = "", status: int = 200
) -> Response[str]:
    context = {"code": code.strip().upper()[:MAX_CODE], "error": error}
    return render(request, "auth/device.html", context, status=status)


async def _pending(services: Services, code: str) -> PendingRequest | None:
    code = normalize(code)
    if not code or len(code) > MAX_CODE:
        return None
    try:
        found = await services.device.pending(code)
    except DeviceFlowError:
        return None
    return found if found.code.status == "pending" else None


@get("/device", name="web:device", opt=LIMIT)
async def device_page(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    user_code: QueryText = "",
    step: QueryText = "",
) -> Response[str]:
    if step != "confirm":
        return _entry(request, user_code)
    pending = await _pending(services, user_code)
    if pending is None:
        return _entry(request, user_code, INVALID, status=400)
    context = {
        "code": pending.user_code,
        "shown_code": shown(pending.user_code),
        "request_info": pending.code,
        "viewer": viewer,
    }
    return render(request, "auth/device_consent.html", context)


async def _decide(
    request: Request[Any, Any, Any], services: Services, viewer: Viewer, *, approve: bool
) -> Response[str]:
    code = normalize((await read_form(request)).text("user_code"))
    if not code or len(code) > MAX_CODE:
        return _entry(request, code, INVALID, status=400)
    try:
        if approve:
            await services.device.approve(code, viewer.user.id)
        else:
            await services.device.deny(code, viewer.user.id)
    except DeviceFlowError:
        return _entry(request, code, INVALID, status=400)
    return render(request, "auth/device_done.html", {"approved": approve})


@post("/device/approve", name="web:device-approve", opt=LIMIT, status_code=200)
async def approve(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    return await _decide(request, services, viewer, approve=True)


@post("/device/deny", name="web:device-deny", opt=LIMIT, status_code=200)
async def deny(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    return await _decide(request, services, viewer, approve=False)


ROUTES: list[ControllerRouterHandler] = [device_page, approve, deny]
