"""The OpenAPI 3.1 document (/api/openapi.json, /api/v0/openapi.json) and its docs page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import (
    Components,
    OAuthFlow,
    OAuthFlows,
    OpenAPIFormat,
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
from sigillo.domain.formats import DOWNLOAD_FORMATS
from sigillo.domain.secrets import KINDS
from sigillo.domain.values import (
    MAX_DISPLAY_NAME,
    MAX_NAME_LENGTH,
    MAX_VALUE_BYTES,
    SECRET_NAME_PATTERN,
)

__all__ = [
    "DISPLAY_NAME_PATTERN",
    "EMAIL_PATTERN",
    "PASSWORD_LENGTHS",
    "SLUG_PATTERN",
    "USER_CODE_ALPHABET",
    "USER_CODE_PATTERN",
    "document_errors",
    "openapi_config",
]


def openapi_config(*pages: OpenAPIRenderPlugin) -> OpenAPIConfig:
    """The document's configuration; `pages` render it for readers (the docs page, which
    the web layer makes)."""
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
            *pages,
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer"),
                "device": _DEVICE_FLOW,
            }
        ),
        security=[{"bearer": []}],
        create_examples=False,
    )


@dataclass
class _DeviceFlows(OAuthFlows):
    """OpenAPI 3.1 names no device flow: 3.2's `deviceAuthorization`, as an extension."""

    device: OAuthFlow | None = field(default=None, metadata={"alias": "x-deviceAuthorization"})


@dataclass
class _DeviceFlow(OAuthFlow):
    device_authorization_url: str | None = None


# How `sigillo login` gets its session token (RFC 8628). No operation asks for this scheme:
# the token it issues is sent as `bearer`. It says which operation is a token endpoint,
# where a well-formed request is refused with 400 and an OAuth error code (an unknown,
# pending or expired device code).
_DEVICE_FLOW = SecurityScheme(
    type="oauth2",
    description=(
        "The device authorization grant (RFC 8628): POST /api/auth/device/code, approval by "
        "a signed-in user, then POST /api/auth/device/token until it answers a session token, "
        "used as `Authorization: Bearer`."
    ),
    flows=_DeviceFlows(
        device=_DeviceFlow(
            device_authorization_url="/api/auth/device/code",
            token_url="/api/auth/device/token",  # noqa: S106 (a path, not a password)
            scopes={},
        )
    ),
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
    415: "Request body is not `application/json`",
    422: "Validation failed: `detail` names each field and rule, never the value",
    429: "Too many requests: wait `Retry-After` seconds",
    503: "The database is unreachable",
}
_AUTHENTICATED = {"principal", "session_principal", "own_session"}
# A download's body by its Content-Type (domain/formats.py), each as a client reads it. The
# first entry fits every format: generated clients (openapi-python-client) parse a response
# by the first media type they know, so the raw bytes come first and work for all of them;
# the others say what each format's bytes are. openapi-fetch reads a format with `parseAs`.
_DOWNLOAD_TREE = "DownloadTree"
_BY_FORMAT = (
    "json, json-kinds, dotnet-json: `application/json`; env, env-no-quotes, docker, shell: "
    "`text/plain; charset=utf-8`; yaml: `text/yaml; charset=utf-8`; xargs: "
    "`application/octet-stream`"
)
_DOWNLOAD = OpenAPIResponse(
    description=f"Every live value in the chosen format (behaviour.md 7). By format: {_BY_FORMAT}",
    content={
        "application/octet-stream": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.STRING,
                format=OpenAPIFormat.BINARY,
                content_media_type="application/octet-stream",
                description="The body's bytes, whatever the format (xargs: each name and value "
                "followed by a NUL byte)",
            )
        ),
        "application/json": OpenAPIMediaType(
            schema=Reference(f"#/components/schemas/{_DOWNLOAD_TREE}")
        ),
        "text/plain": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.STRING,
                description="env, env-no-quotes, docker: one `NAME=value` line each; "
                "shell: one `export NAME='…'` line each",
            )
        ),
        "text/yaml": OpenAPIMediaType(
            schema=Schema(
                one_of=[
                    Schema(
                        type=OpenAPIType.OBJECT,
                        additional_properties=Schema(type=OpenAPIType.STRING),
                    ),
                    Schema(type=OpenAPIType.NULL),
                ],
                description="yaml: a mapping of names to values; with no secrets, an empty "
                "document (null)",
            )
        ),
    },
)
_TREE = Schema(
    type=OpenAPIType.OBJECT,
    additional_properties=Schema(
        one_of=[
            Schema(type=OpenAPIType.STRING),
            Reference(f"#/components/schemas/{_DOWNLOAD_TREE}"),
        ]
    ),
    description="json: each name with its value; json-kinds: each name with "
    '`{"value": …, "kind": "secret" | "plain"}`; dotnet-json: the names split at `__` into '
    "nested objects",
)
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def document_errors(app: Litestar) -> None:
    """Replace Litestar's generic error responses with the errors each operation can
    really answer, all with the `Error` schema. Derived from the handlers, so a new route
    is documented without anyone remembering to. Also says what Litestar cannot tell from
    the types: the rules of parameters and bodies, and the download formats' bodies."""
    schema = app.openapi_schema
    if schema.components.schemas is None:
        schema.components.schemas = {}
    schema.components.schemas["Error"] = _ERROR
    schema.components.schemas[_DOWNLOAD_TREE] = _TREE
    _describe_bodies(schema.components.schemas)
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
            if handler.opt.get("download"):
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
        codes |= {413, 415}
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


# What the server checks beyond a value's type (domain/values.py, the services), said in the
# document so a client (or a fuzzer) knows a valid request from an invalid one: a string
# matches a pattern exactly when the server accepts it (tests/api/test_openapi.py). Written
# so that Python, ECMA-262 and Rust read them alike: `$` ends the string, and no `\s`, whose
# meaning differs between them; white space is what Python's `str.strip()` removes.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_PADDING = f"[{_SPACE}]*"
_VISIBLE = rf"[^\x00-\x1f{_SPACE}]"  # neither a control character nor white space

# display_name(): 1-100 characters once trimmed, none of them a control character.
DISPLAY_NAME_PATTERN = (
    rf"^{_PADDING}{_VISIBLE}(?:[^\x00-\x1f]{{0,{MAX_DISPLAY_NAME - 2}}}{_VISIBLE})?{_PADDING}$"
)
# slug()
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
# email(): trimmed, one `@` after something, a `.` after it, no space or control character,
# at most 254 characters (counted before lower-casing: only U+0130 grows then, by one).
_ADDRESS = rf"[^\x00-\x1f{_SPACE}@]"
EMAIL_PATTERN = (
    rf"^{_PADDING}(?={_VISIBLE}{{1,254}}[{_SPACE}]*$)"
    rf"{_ADDRESS}+@{_ADDRESS}*\.{_ADDRESS}*{_PADDING}$"
)
# A user code as typed (crypto/tokens.py normalize_user_code): 8 letters of the alphabet in
# either case; dashes and spaces anywhere, white space around.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_LETTER = f"[{USER_CODE_ALPHABET}{USER_CODE_ALPHABET.lower()}]"
USER_CODE_PATTERN = rf"^{_PADDING}[- ]*(?:{_LETTER}[- ]*){{8}}{_PADDING}$"
# crypto/passwords.py check_password_policy
PASSWORD_LENGTHS = (12, 1024)

_SECRET_NAME = Schema(
    type=OpenAPIType.STRING, pattern=f"^{SECRET_NAME_PATTERN}$", max_length=MAX_NAME_LENGTH
)
# The one rule a schema cannot say exactly: the limit is on UTF-8 bytes, `maxLength` counts
# characters (a value of non-ASCII characters may pass it and still be refused).
_SECRET_VALUE = Schema(
    type=OpenAPIType.STRING,
    pattern=r"^[^\x00]*$",
    max_length=MAX_VALUE_BYTES,
    description=f"No NUL; at most {MAX_VALUE_BYTES} bytes once encoded as UTF-8",
)
# [D18] Each name's kind: `secret` (masked by `sigillo run`) or `plain` (configuration).
_KIND = Schema(type=OpenAPIType.STRING, enum=list(KINDS))
_KIND_OR_NULL = Schema(one_of=[_KIND, Schema(type=OpenAPIType.NULL)])
_KINDS = Schema(type=OpenAPIType.OBJECT, property_names=_SECRET_NAME, additional_properties=_KIND)
_DISPLAY_NAME = Schema(
    type=OpenAPIType.STRING,
    pattern=DISPLAY_NAME_PATTERN,
    description=f"1-{MAX_DISPLAY_NAME} characters once trimmed, no control characters",
)
_SLUG = Schema(type=OpenAPIType.STRING, pattern=SLUG_PATTERN)
_EMAIL = Schema(type=OpenAPIType.STRING, pattern=EMAIL_PATTERN)
_PASSWORD = Schema(
    type=OpenAPIType.STRING, min_length=PASSWORD_LENGTHS[0], max_length=PASSWORD_LENGTHS[1]
)
_USER_CODE = Schema(type=OpenAPIType.STRING, pattern=USER_CODE_PATTERN, max_length=32)


def _or_not_given(schema: Schema) -> Schema:
    """Omitted, null and "" all mean "not given" [D9]."""
    return Schema(
        any_of=[schema, Schema(type=OpenAPIType.NULL), Schema(type=OpenAPIType.STRING, const="")]
    )


_PARAMETER_RULES: dict[str, dict[str, object]] = {
    "name": {"pattern": _SECRET_NAME.pattern, "max_length": MAX_NAME_LENGTH},
    "secret": {"pattern": _SECRET_NAME.pattern, "max_length": MAX_NAME_LENGTH},
    "format": {"enum": list(DOWNLOAD_FORMATS)},
    "user_code": {"pattern": USER_CODE_PATTERN},
}

# Each request body's fields, by component: the schema that replaces the one of its type.
_BODY_RULES: dict[str, dict[str, Schema]] = {
    "CreateOrgBody": {"name": _DISPLAY_NAME},
    "CreateProjectBody": {"name": _DISPLAY_NAME},
    "RenameProjectBody": {"name": _DISPLAY_NAME},
    "CreateEnvironmentBody": {"name": _DISPLAY_NAME, "slug": _SLUG},
    "ChangeEnvironmentBody": {
        "name": _or_not_given(_DISPLAY_NAME),
        "slug": _or_not_given(_SLUG),
    },
    "CreateToken": {"name": _DISPLAY_NAME},
    "SignUpBody": {"email": _EMAIL, "password": _PASSWORD, "name": _DISPLAY_NAME},
    "SetupBody": {"email": _EMAIL, "password": _PASSWORD, "name": _DISPLAY_NAME},
    "ChangePassword": {"newPassword": _PASSWORD},
    "SetSecret": {"name": _SECRET_NAME, "value": _SECRET_VALUE},
    "SetSecrets": {
        "secrets": Schema(
            type=OpenAPIType.OBJECT,
            property_names=_SECRET_NAME,
            additional_properties=Schema(
                one_of=[
                    _SECRET_VALUE,
                    Schema(
                        type=OpenAPIType.OBJECT,
                        required=["value"],
                        properties={"value": _SECRET_VALUE, "kind": _KIND_OR_NULL},
                        additional_properties=False,
                    ),
                ]
            ),
        ),
    },
    "ChangeKinds": {"kinds": _KINDS},
    "Decision": {"userCode": _USER_CODE},
}
# ...and what a body needs as a whole: a rename names a new name or a new slug.
_BODY_WHOLE: dict[str, dict[str, object]] = {
    "ChangeEnvironmentBody": {
        "any_of": [
            Schema(required=["name"], properties={"name": _DISPLAY_NAME}),
            Schema(required=["slug"], properties={"slug": _SLUG}),
        ]
    },
}


def _constrain(parameters: list[Parameter | Reference]) -> None:
    for parameter in parameters:
        rules = _PARAMETER_RULES.get(getattr(parameter, "name", ""))
        target = getattr(parameter, "schema", None)
        if rules and isinstance(target, Schema):
            for key, value in rules.items():
                setattr(target, key, value)


def _describe_bodies(schemas: Mapping[str, Schema | Reference]) -> None:
    """Apply `_BODY_RULES` and `_BODY_WHOLE`; a rule naming no field is a mistake (KeyError)."""
    for name, fields in _BODY_RULES.items():
        component = schemas[name]
        assert isinstance(component, Schema)
        assert component.properties is not None
        for field_name, rule in fields.items():
            if field_name not in component.properties:
                raise KeyError(f"{name}.{field_name}")
            component.properties[field_name] = rule
    for name, rules in _BODY_WHOLE.items():
        for key, value in rules.items():
            setattr(schemas[name], key, value)


def _close_body(handler: HTTPRouteHandler, schemas: Mapping[str, Schema | Reference]) -> None:
    """A body Struct that forbids unknown fields is `additionalProperties: false`."""
    data = handler.parsed_fn_signature.parameters.get("data")
    body = getattr(data, "annotation", None)
    config = getattr(body, "__struct_config__", None)
    component = schemas.get(getattr(body, "__name__", ""))
    if config is not None and config.forbid_unknown_fields and isinstance(component, Schema):
        component.additional_properties = False
