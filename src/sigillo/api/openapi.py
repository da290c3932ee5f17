"""The OpenAPI 3.1 document (/api/openapi.json, /api/v0/openapi.json) and its docs page."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute

from sigillo import __version__
from sigillo.domain.formats import FORMATS
from sigillo.domain.values import SECRET_NAME_PATTERN

__all__ = ["document_errors", "openapi_config"]


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


_ERROR = Schema(
    type=OpenAPIType.OBJECT,
    required=["error"],
    properties={
        "error": Schema(type=OpenAPIType.STRING),
        "detail": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
        "error_description": Schema(type=OpenAPIType.STRING),
    },
)
_MEANING = {
    400: "Bad request (a host not allowed, a format that cannot render, an OAuth error)",
    401: "No valid session or API token",
    403: "Not allowed: role, token scope, another org, or a missing CSRF token",
    404: "Not found",
    409: "Conflict with the current state (a taken slug, the last admin, a concurrent write)",
    413: "Request body too large",
    422: "Validation failed: `detail` names each field and rule, never the value",
    429: "Too many requests: wait `Retry-After` seconds",
    503: "The database is unreachable",
}
_AUTHENTICATED = {"principal", "session_principal"}
_TEXT = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
_DOWNLOAD = OpenAPIResponse(
    description="Every live value in the chosen format (behaviour.md 7)",
    content={
        "application/json": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                description="json: name to value; dotnet-json: nested objects",
            )
        ),
        "text/plain": _TEXT,
        "text/yaml": _TEXT,
    },
)
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def document_errors(app: Litestar) -> None:
    """Replace Litestar's generic error responses with the errors each operation can
    really answer, all with the `Error` schema. Derived from the handlers, so a new route
    is documented without anyone remembering to."""
    schema = app.openapi_schema
    if schema.components.schemas is None:
        schema.components.schemas = {}
    schema.components.schemas["Error"] = _ERROR
    handlers: dict[tuple[str, str], HTTPRouteHandler] = {
        (path, str(method)): handler
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
        for path in [route.path_format]
    }
    for path, item in (schema.paths or {}).items():
        for method in sorted(_WRITES | {"GET"}):
            operation = getattr(item, method.lower())
            handler = handlers.get((path, method))
            if operation is None or handler is None:
                continue
            if not _AUTHENTICATED & set(handler.parsed_fn_signature.parameters):
                operation.security = []  # public: no credential needed
            _constrain(operation.parameters or [])
            _close_body(handler, schema.components.schemas)
            if operation.operation_id == "downloadSecrets":
                operation.responses = {"200": _DOWNLOAD}
            kept = {k: v for k, v in (operation.responses or {}).items() if k[0] not in "45"}
            operation.responses = kept | {
                str(code): OpenAPIResponse(
                    description=_MEANING[code],
                    content={
                        "application/json": OpenAPIMediaType(
                            schema=Reference("#/components/schemas/Error")
                        )
                    },
                )
                for code in _statuses(handler, operation, method)
            }


def _statuses(handler: HTTPRouteHandler, operation: Operation, method: str) -> list[int]:
    codes = {400, 503}
    if operation.parameters or operation.request_body:
        codes.add(422)
    if operation.request_body:
        codes.add(413)
    if _AUTHENTICATED & set(handler.parsed_fn_signature.parameters):
        codes |= {401, 403}
        if method in _WRITES:
            codes.add(409)
    if any(getattr(p, "param_in", None) == "path" for p in operation.parameters or []):
        codes.add(404)
    if handler.opt.get("rate_limit"):
        codes.add(429)
    codes.update(handler.opt.get("errors", ()))  # what the signature cannot tell
    return sorted(codes)


# What the handlers check beyond the parameter's type, said in the document so a client
# (or a fuzzer) knows a valid request from an invalid one.
_PARAMETER_RULES: dict[str, dict[str, object]] = {
    "name": {"pattern": f"^{SECRET_NAME_PATTERN}$", "max_length": 256},
    "secret": {"pattern": f"^{SECRET_NAME_PATTERN}$", "max_length": 256},
    "format": {"enum": list(FORMATS)},
}


def _constrain(parameters: list[Parameter | Reference]) -> None:
    for parameter in parameters:
        rules = _PARAMETER_RULES.get(getattr(parameter, "name", ""))
        target = getattr(parameter, "schema", None)
        if rules and isinstance(target, Schema):
            for field, value in rules.items():
                setattr(target, field, value)


def _close_body(handler: HTTPRouteHandler, schemas: Mapping[str, Schema | Reference]) -> None:
    """A body Struct that forbids unknown fields is `additionalProperties: false`."""
    data = handler.parsed_fn_signature.parameters.get("data")
    body = getattr(data, "annotation", None)
    config = getattr(body, "__struct_config__", None)
    component = schemas.get(getattr(body, "__name__", ""))
    if config is not None and config.forbid_unknown_fields and isinstance(component, Schema):
        component.additional_properties = False
