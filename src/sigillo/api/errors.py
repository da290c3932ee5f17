"""One table from errors to responses. Every error body is JSON with an `error` string;
messages are fixed texts or the domain's own, which never contain values."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from sigillo import metrics
from sigillo.api.allow import allow_value
from sigillo.api.suggest import Suggested
from sigillo.domain.errors import (
    Conflict,
    DecryptionError,
    Forbidden,
    FormatConflict,
    InvalidInput,
    NotFound,
    SigilloError,
    StorageUnavailable,
    TooManyAttempts,
    Unauthorized,
)

__all__ = ["EXCEPTION_HANDLERS"]

log = logging.getLogger("sigillo.api")

_STATUS: tuple[tuple[type[SigilloError], int], ...] = (
    (InvalidInput, 422),
    (FormatConflict, 400),
    (Unauthorized, 401),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (TooManyAttempts, 429),
    (StorageUnavailable, 503),
    (DecryptionError, 500),
)


def _json(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    return Response(
        body, status_code=status, headers={**(headers or {}), "Cache-Control": "no-store"}
    )


def _sigillo_error(_: Request[Any, Any, Any], error: SigilloError) -> Response[dict[str, Any]]:
    status = next((code for kind, code in _STATUS if isinstance(error, kind)), 500)
    if isinstance(error, InvalidInput):
        detail = [{"field": error.field, "message": error.message}]
        return _json(status, {"error": "validation failed", "detail": detail})
    if isinstance(error, StorageUnavailable):
        metrics.database_error(error)
    if isinstance(error, TooManyAttempts):  # an account's sign-ins backing off
        return _json(status, {"error": str(error)}, {"Retry-After": str(error.retry_after)})
    if status == 500:
        log.error("server fault: %s", type(error).__name__)
        return _json(status, {"error": "a stored value could not be decrypted"})
    if isinstance(error, Suggested) and error.suggestion:  # "did you mean prod?"
        return _json(status, {"error": str(error), "suggestion": error.suggestion})
    return _json(status, {"error": str(error)})


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(error, ValidationException):
        return _json(422, {"error": "validation failed", "detail": _detail(request, error.extra)})
    if isinstance(error, ClientException) and isinstance(error.__cause__, SerializationException):
        detail = [{"field": "body", "message": "must be a JSON document"}]
        return _json(422, {"error": "validation failed", "detail": detail})
    headers = dict(error.headers or {})
    if isinstance(error, MethodNotAllowedException):
        # The router names every method of the path; written as OPTIONS answers write it.
        found = [value for name, value in headers.items() if name.lower() == "allow"]
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = allow_value(",".join(found).split(","))
    return _json(error.status_code, {"error": str(error.detail).lower()}, headers)


def _detail(request: Request[Any, Any, Any], extra: Any) -> list[dict[str, str]]:
    """Litestar's validation errors as `{field, message}`, rewritten from fixed texts: a field
    is named only when the route's schema knows the name, and a message only ever says what
    kind of problem it is ("unknown field", "expected a string"), never what was sent. So a
    misplaced secret, as a value or as a field name, never comes back in an error."""
    known = _known_names(request)
    items = extra if isinstance(extra, list) else []
    detail = []
    for item in items:
        if not isinstance(item, dict):
            continue
        key, message = str(item.get("key") or ""), str(item.get("message") or "")
        field = _field(key, known)
        missing = _MISSING.match(message)
        if missing and missing[1] in known and field == "body":
            field = missing[1]
        detail.append({"field": field, "message": _message(message)})
    return detail or [{"field": "body", "message": "is not valid"}]


_MISSING = re.compile(r"Object missing required field `([A-Za-z_][A-Za-z0-9_]*)`")
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}
_COMPARISONS = {
    "<=": "at most",
    ">=": "at least",
    "<": "less than",
    ">": "greater than",
}
# What a Litestar or msgspec message may say, and what we say instead. The numbers kept are
# the schema's limits, matched as digits: they never come from the request.
_REWRITES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"Object contains unknown field\b"), lambda _: "unknown field"),
    (re.compile(r"Object missing required field\b"), lambda _: "is required"),
    (re.compile(r"Missing required \w+ parameter\b"), lambda _: "is required"),
    (
        re.compile(r"Expected `(\w+)`, got `\w+`$"),
        lambda m: f"expected {_TYPES.get(m[1], 'another type')}",
    ),
    (re.compile(r"Expected `[^`]*`, got `\w+`$"), lambda _: "has the wrong type"),
    (
        re.compile(r"Expected `\w+` of length (<=|>=) ([0-9]{1,9})$"),
        lambda m: f"must be {_COMPARISONS[m[1]]} {m[2]} long",
    ),
    (
        re.compile(r"Expected `(?:int|float)` (<=|>=|<|>) (-?[0-9]{1,20})$"),
        lambda m: f"must be {_COMPARISONS[m[1]]} {m[2]}",
    ),
    (re.compile(r"Expected `str` matching regex\b"), lambda _: "has the wrong format"),
    (re.compile(r"Invalid enum value\b"), lambda _: "is not one of the allowed values"),
    (re.compile(r"(?i).*\bout of range\b"), lambda _: "is out of range"),
)


def _message(text: str) -> str:
    for pattern, say in _REWRITES:
        found = pattern.match(text)
        if found:
            return say(found)
    return "is not valid"


def _field(key: str, known: frozenset[str]) -> str:
    """`email`, `secrets['NAME'].value` or `data`: the first name on the path, when the route
    knows it (a dictionary key on the way is the client's text, and is never repeated)."""
    first = _SEGMENT.match(key)
    name = first[0] if first else ""
    return name if name in known and name != "data" else "body"


def _known_names(request: Request[Any, Any, Any]) -> frozenset[str]:
    """The route's parameter names and the field names of its body's types, at any depth."""
    try:
        handler = request.route_handler
        parameters = handler.parsed_fn_signature.parameters
    except Exception:  # an error before routing: nothing is known
        return frozenset()
    names: set[str] = set()
    for name, parameter in parameters.items():
        names.add(name)
        definition = getattr(parameter, "kwarg_definition", None)
        for alias in ("query", "header", "cookie"):
            value = getattr(definition, alias, None)
            if isinstance(value, str):
                names.add(value)
        if name == "data":
            names |= _struct_fields(parameter.annotation)
    return frozenset(names)


def _struct_fields(annotation: Any) -> set[str]:
    try:
        info = msgspec.inspect.type_info(annotation)
    except Exception:  # not a msgspec type: no field names to offer
        return set()
    names: set[str] = set()
    pending, seen = [info], set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, msgspec.inspect.StructType):
            for field in node.fields:
                names.add(field.encode_name)
                pending.append(field.type)
        for attribute in ("types", "item_type", "key_type", "value_type", "item_types"):
            child = getattr(node, attribute, None)
            if isinstance(child, msgspec.inspect.Type):
                pending.append(child)
            elif isinstance(child, tuple):
                pending.extend(c for c in child if isinstance(c, msgspec.inspect.Type))
    return names


def _too_deep(_: Request[Any, Any, Any], error: RecursionError) -> Response[dict[str, Any]]:
    """A JSON body nested deeper than the decoder recurses (`[[[[…]]]]`): bad input, 422."""
    log.warning("refused a request body nested too deeply")
    detail = [{"field": "body", "message": "is nested too deeply"}]
    return _json(422, {"error": "validation failed", "detail": detail})


def _unexpected(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # The type and the frames, never the message: a message may quote request data.
    log.error(
        "unhandled %s\n%s", type(error).__name__, "".join(traceback.format_tb(error.__traceback__))
    )
    return _json(HTTP_500_INTERNAL_SERVER_ERROR, {"error": "internal server error"})


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SigilloError: _sigillo_error,
    HTTPException: _http_error,
    RecursionError: _too_deep,
    Exception: _unexpected,
}
