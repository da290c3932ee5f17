"""The API docs page, `/api/docs`: Swagger UI from vendored files, under the dashboard's CSP.

Swagger UI is vendored byte for byte from the npm registry's `swagger-ui-dist` package
(SWAGGER_UI: name, version and the tarball's integrity; its licence and notice beside it in
`static/vendor/`), so the page works offline and no third party serves script to this
origin. The page itself holds no inline code: `static/js/api-docs.js` starts Swagger UI on
this server's OpenAPI document, with the online spec validator turned off. The page and
the OpenAPI routes carry the dashboard's security headers (a strict CSP:
`script-src 'self'`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router
from litestar.middleware import DefineMiddleware
from litestar.openapi.plugins import OpenAPIRenderPlugin
from markupsafe import escape

from sigillo.web.engine import static_url
from sigillo.web.pages import SecurityHeaders

__all__ = ["SWAGGER_UI", "ApiDocsPage"]

# (npm package, version, the registry tarball's `dist.integrity`): the vendored files are
# that tarball's, unchanged (tests/web/test_api_docs.py compares them when CI packs it)
SWAGGER_UI = (
    "swagger-ui-dist",
    "5.36.0",
    "sha512-Lt6/Kb0gXmLdiabLhvso4VdJP9V7qJWB0zh0gzeXUV3+CMOTzMmvpJRSXN7EAjfwixwmoi9ezDbLHiexC7lA9A==",
)
VENDOR = f"vendor/swagger-ui-{SWAGGER_UI[1]}"
VENDORED_FILES = (
    "LICENSE",
    "NOTICE",
    "swagger-ui-bundle.js",
    "swagger-ui-bundle.js.LICENSE.txt",
    "swagger-ui.css",
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sigillo API</title>
<link rel="icon" href="{favicon}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


class ApiDocsPage(OpenAPIRenderPlugin):
    """Swagger UI at `<openapi path>/docs`, from this server's own static files."""

    def __init__(self, path: str = "/docs") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        page = _PAGE.format(
            favicon=static_url("favicon.svg"),
            css=static_url(f"{VENDOR}/swagger-ui.css"),
            bundle=static_url(f"{VENDOR}/swagger-ui-bundle.js"),
            init=static_url("js/api-docs.js"),
            spec=escape(self.get_openapi_json_route(request)),
        )
        return page.encode()

    def receive_router(self, router: Router) -> None:
        """The OpenAPI router's answers (this page, the JSON document) get the dashboard's
        security headers."""
        router.middleware.append(DefineMiddleware(SecurityHeaders, page=False))
