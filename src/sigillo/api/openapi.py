"""The OpenAPI 3.1 document (/api/openapi.json, /api/v0/openapi.json) and its docs page."""

from __future__ import annotations

from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from sigillo import __version__

__all__ = ["openapi_config"]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Sigillo API",
        version=__version__,
        description=(
            "Self-hosted secrets for humans and AI agents. Authenticate with "
            "`Authorization: Bearer <session token>` (from POST /api/auth/sign-in/email) or, on "
            "the secrets routes, `Bearer sig_…` (an API token). Every error is JSON with an "
            "`error` string; validation errors add `detail`."
        ),
        path="/api",
        render_plugins=[
            JsonRenderPlugin(path=["/openapi.json", "/v0/openapi.json"]),
            # The page loads Swagger UI from its CDN in the reader's browser; the server
            # itself fetches nothing.
            SwaggerRenderPlugin(path="/docs"),
        ],
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
        ),
        security=[{"bearer": []}],
        create_examples=False,
    )
