"""One table from errors to responses. Every error body is JSON with an `error` string;
messages are fixed texts or the domain's own, which never contain values."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

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


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(body, status_code=status, headers={"Cache-Control": "no-store"})


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
        return _json(422, {"error": "validation failed", "detail": error.extra or []})
    return _json(error.status_code, {"error": str(error.detail).lower()})


def _unexpected(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # The type and the frames, never the message: a message may quote request data.
    log.error(
        "unhandled %s\n%s", type(error).__name__, "".join(traceback.format_tb(error.__traceback__))
    )
    return _json(HTTP_500_INTERNAL_SERVER_ERROR, {"error": "internal server error"})


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SigilloError: _sigillo_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
