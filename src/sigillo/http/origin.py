"""Who sent a request: a page of this origin, another site, or no browser at all.

A browser says where a request comes from: `Sec-Fetch-Site` (every current browser), and
`Origin` on every cross-site POST. So:

* `Sec-Fetch-Site` present: only `same-origin` is this server's own page (`same-site`,
  `cross-site` and `none`, a typed URL or a link from another application, are not);
* otherwise an `Origin` must name this server (`null` never does);
* a request with neither comes from no browser (the CLI, curl, a script). The JSON API
  lets it sign in: no page can send a request without them. The dashboard's forms before
  sign-in refuse it too (`allow_headless=False`): they are only ever sent by a browser.

Two guards use the rule. `refuse_cross_site` on the JSON endpoints that set a session
cookie (sign-in, sign-up, first-run setup): a page of another site must not sign a
browser in, not even into the attacker's account (login CSRF). `refuse_cross_site_reads`
on the API routes whose answers hold values: a request authenticated by the session
cookie must be same-origin, or, from a browser that sends no `Sec-Fetch-Site`, carry the
session's `X-CSRF-Token`; otherwise a link on another site would make the browser fetch
the values (and record a read) with the user's cookie. Bearer tokens are never sent by a
browser on its own: they pass.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from sigillo.domain.errors import Forbidden
from sigillo.http.credentials import credential
from sigillo.http.csrf import CSRF_HEADER, csrf_matches
from sigillo.http.served import host_of, own_hosts

__all__ = [
    "CROSS_SITE",
    "CROSS_SITE_READ",
    "from_this_origin",
    "refuse_cross_site",
    "refuse_cross_site_reads",
]

CROSS_SITE = "cross-site request refused"
CROSS_SITE_READ = "values are read with a cookie only by this site's own pages"


def from_this_origin(
    connection: ASGIConnection[Any, Any, Any, Any], *, allow_headless: bool
) -> bool:
    """True for a request of this server's own pages (or, with `allow_headless`, of no
    browser at all); False for anything another site could have caused."""
    site = connection.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = connection.headers.get("origin")
    if origin is None:
        return allow_headless
    return origin != "null" and host_of(origin) in own_hosts(connection)


async def refuse_cross_site(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard of the JSON endpoints that set the session cookie: 403 from another site."""
    if not from_this_origin(connection, allow_headless=True):
        raise Forbidden(CROSS_SITE)


async def refuse_cross_site_reads(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard of the API routes that answer values: a cookie needs a same-origin request,
    or the session's CSRF header where the browser sends no `Sec-Fetch-Site`."""
    found = credential(connection)
    if found is None or found[1] != "cookie":
        return
    site = connection.headers.get("sec-fetch-site")
    if site is not None:
        if site != "same-origin":
            raise Forbidden(CROSS_SITE_READ)
        return
    if not csrf_matches(connection.headers.get(CSRF_HEADER), found[0]):
        raise Forbidden(CROSS_SITE_READ)
