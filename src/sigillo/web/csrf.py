"""Cross-site request forgery: no page of another site can make the dashboard change state.

Enforced before any handler runs, by the web router's guard `protect_unsafe`, for every
unsafe request (anything but GET, HEAD and OPTIONS), in this order and before any body is
parsed:

* **Size.** A body announced larger than sigillo.http.forms' cap is a 413 at once.
* **Before sign-in** (sign-in, first-run setup, sign-up from an invitation) there is no
  session to derive a token from. Those handlers take the `same_origin` dependency, and
  the request must be same-origin (sigillo.http.origin): its `Sec-Fetch-Site` must be
  `same-origin`, or, from a browser that does not send that header, its `Origin` this
  server. A request with neither header is refused too: every browser that can be lured
  into a cross-site POST sends one, and these forms are only ever sent by a browser.
  Refused: 403.
* **Signed in**: the credential must be a live session, checked against the database
  (no credential, an API token or a made-up or ended session: the sign-in redirect, the
  request is not repeated afterwards); then a request authenticated by the session cookie
  must carry the session's CSRF token (sigillo.http.csrf) as the header `X-CSRF-Token`
  (htmx sends it, from `hx-headers` on `<body>`) or the form field `csrf` (forms render
  it: `{{ csrf_field() }}`). Refused: 403.

Then the body is read within the caps and a form parsed in a worker thread
(sigillo.http.forms.load_form), so no request can hold the event loop with a large form.
GET handlers never change state, so they need none of this (the access tests check both).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from sigillo.domain.errors import Forbidden
from sigillo.http.credentials import credential
from sigillo.http.csrf import CSRF_HEADER, csrf_matches
from sigillo.http.forms import load_form, refuse_announced_oversize
from sigillo.http.origin import from_this_origin
from sigillo.services.container import Services
from sigillo.web.session import SignInRequired

__all__ = ["CSRF_FIELD", "CrossOrigin", "CsrfRefused", "protect_unsafe", "same_origin"]

CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("This form has expired. Reload the page and try again.")


class CrossOrigin(Forbidden):
    def __init__(self) -> None:
        super().__init__("This form can only be sent from this site's own pages.")


async def protect_unsafe(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The web router's guard. Async: it asks the database whether the session is live."""
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return
    refuse_announced_oversize(connection)
    if "same_origin" in handler.parsed_fn_signature.parameters:
        if not from_this_origin(connection, allow_headless=False):
            raise CrossOrigin
    else:
        await _signed_in(connection)
    if isinstance(connection, Request):
        await load_form(connection)


async def _signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    found = credential(connection)
    if found is None or found[0].startswith("sig_"):
        raise SignInRequired("/")
    token, how = found
    services: Services = connection.app.state.services
    if await services.accounts.authenticate(token) is None:
        raise SignInRequired("/")  # checked before any body is read or parsed
    if how == "bearer":
        return  # a browser never sends an Authorization header on its own
    presented = connection.headers.get(CSRF_HEADER)
    if presented is None and isinstance(connection, Request):
        await load_form(connection)
        field = (await connection.form()).get(CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    if not csrf_matches(presented, token):
        raise CsrfRefused


async def same_origin(request: Request[Any, Any, Any]) -> bool:
    """A dependency for forms used before sign-in: refuses (403) a cross-site request.
    The guard has checked already; taking it marks the handler as one of these forms."""
    if not from_this_origin(request, allow_headless=False):
        raise CrossOrigin
    return True
