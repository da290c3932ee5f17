"""Cross-site request forgery: no page of another site can make the dashboard change state.

Two rules, both enforced before any handler runs:

* **Signed in**: every unsafe request (anything but GET, HEAD and OPTIONS) authenticated
  by the session cookie must carry the session's CSRF token (sigillo.api.auth.csrf_token)
  as the form field `csrf` or the header `X-CSRF-Token`. Forms render the field
  (`{{ csrf_field() }}`); htmx sends the header, from `hx-headers` on `<body>`. Refused:
  403. No cookie: the sign-in redirect (the request is not repeated afterwards).
* **Before sign-in** (sign-in, first-run setup, sign-up from an invitation) there is no
  session to derive a token from. Those handlers take the `same_origin` dependency, which
  refuses a request whose `Sec-Fetch-Site` is not `same-origin`, or, from a browser that
  does not send that header, whose `Origin` is not this server. A request with neither
  header is refused too: every browser that can be lured into a cross-site POST sends one.

GET handlers never change state, so they need neither (the access tests check both).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler

from sigillo.api.auth import CSRF_HEADER, credential, csrf_token
from sigillo.domain.errors import Forbidden
from sigillo.settings import Settings
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
    """The web router's guard. Async although it rarely waits: Litestar runs a synchronous
    guard in a worker thread."""
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return
    if "same_origin" in handler.parsed_fn_signature.parameters:
        return  # a form used before sign-in: the dependency checks the origin
    found = credential(connection)
    if found is None or found[0].startswith("sig_"):
        raise SignInRequired("/")
    token, how = found
    if how == "bearer":
        return  # a browser never sends an Authorization header on its own
    presented = connection.headers.get(CSRF_HEADER)
    if presented is None and isinstance(connection, Request):
        field = (await connection.form()).get(CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    expected = csrf_token(token)
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise CsrfRefused


def _origin_host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


async def same_origin(request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> bool:
    """A dependency for forms used before sign-in: refuses (403) a cross-site request."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site != "same-origin":
            raise CrossOrigin
        return True
    origin = request.headers.get("origin", "")
    ours = {request.headers.get("host", "").lower()}
    if settings.public_url:
        ours.add(_origin_host(settings.public_url))
    if not origin or origin == "null" or _origin_host(origin) not in ours - {""}:
        raise CrossOrigin
    return True
