"""Every route of the dashboard, as create_app mounts them: `WEB_ROUTES`.

Two routers. The pages' router gives every web route its HTML error pages, the security
headers (pages.SecurityHeaders), the CSRF guard (csrf.protect_unsafe) and the
dependencies `viewer` (the signed-in user, else the sign-in redirect), `maybe_viewer` and
`same_origin`; none of its routes is in the OpenAPI document. The static router serves
`static/` at `/static`, cached for a year (templates link files with a digest in the
query, so a changed file is a new URL).
"""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from sigillo.web import (
    account,
    account_security,
    dash,
    device,
    invite,
    project,
    setup,
    signin,
    signin_code,
    sso,
)
from sigillo.web.csrf import protect_unsafe, same_origin
from sigillo.web.engine import STATIC_DIR, template_config
from sigillo.web.errors import WEB_EXCEPTION_HANDLERS
from sigillo.web.pages import SecurityHeaders
from sigillo.web.session import maybe_viewer, viewer
from sigillo.web.tabs import (
    access,
    environments,
    event_log,
    event_log_restore,
    secrets,
    settings,
    tokens,
)

__all__ = ["PAGE_ROUTES", "WEB_ROUTES", "template_config"]

YEAR = 365 * 24 * 3600

PAGE_ROUTES: list[ControllerRouterHandler] = [
    *signin.ROUTES,
    *signin_code.ROUTES,
    *sso.ROUTES,
    *setup.ROUTES,
    *invite.ROUTES,
    *device.ROUTES,
    *dash.ROUTES,
    *account.ROUTES,
    *account_security.ROUTES,
    *project.ROUTES,
    *secrets.ROUTES,
    *environments.ROUTES,
    *tokens.ROUTES,
    *access.ROUTES,
    *event_log.ROUTES,
    *event_log_restore.ROUTES,
    *settings.ROUTES,
]

WEB_ROUTES: list[ControllerRouterHandler] = [
    Router(
        path="/",
        route_handlers=PAGE_ROUTES,
        dependencies={
            "viewer": Provide(viewer),
            "maybe_viewer": Provide(maybe_viewer),
            "same_origin": Provide(same_origin),
        },
        exception_handlers=WEB_EXCEPTION_HANDLERS,
        guards=[protect_unsafe],
        middleware=[SecurityHeaders],
        include_in_schema=False,
    ),
    create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=YEAR, public=True, immutable=True),
        middleware=[DefineMiddleware(SecurityHeaders, page=False)],
        include_in_schema=False,
        name="web:static",
    ),
]
