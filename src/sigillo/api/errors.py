"""One table from errors to responses. Every error body is JSON with an `error` string;
messages are fixed texts or the domain's own, which never contain values."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

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

from sigillo.api.allow import allow_value
from sigillo.domain.errors import (
    Conflict,
    DecryptionError,
    Forbidden,
    FormatConflict,
    InvalidInput,
    NotFound,
    SigilloError,
    StorageUnavailable,
    Unauthorized,
)

__all__ = ["EXCEPTION_HANDLERS"]

log = logging.getLogger("sigillo.api")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")

_STATUS: tuple[tuple[type[SigilloError], int], ...] = (
    (InvalidInput, 422),
    (FormatConflict, 400),
    (Unauthorized, 401),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
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
    if status == 500:
        log.error("server fault: %s", type(error).__name__)
        return _json(status, {"error": "a stored value could not be decrypted"})
    return _json(status, {"error": str(error)})


def _http_error(_: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(error, ValidationException):
        return _json(422, {"error": "validation failed", "detail": _detail(error.extra)})
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


def _detail(extra: Any) -> list[dict[str, str]]:
    """Litestar's validation errors as `{field, message}`, with anything the message quotes
    from the input masked: a misplaced secret must never come back in an error."""
    items = extra if isinstance(extra, list) else []
    return [
        {
            "field": str(item.get("key") or "body") if isinstance(item, dict) else "body",
            "message": _QUOTED.sub(
                "'…'", str(item.get("message", "") if isinstance(item, dict) else "")
            ),
        }
        for item in items
    ] or [{"field": "body", "message": "is not valid"}]


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
