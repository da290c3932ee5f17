"""JSON endpoints read only bodies that say they are JSON.

A body of any other type is refused with 415 `request body must be application/json`
before it is read: an HTML form (`text/plain`, `application/x-www-form-urlencoded`,
`multipart/form-data`), the only body another site can make a browser send without
asking this server first (a CORS preflight, which it never grants), never reaches a JSON
handler. Parameters are fine (`application/json; charset=utf-8`); a request without a
body (no `Content-Length` or `0`, no `Transfer-Encoding`) is not concerned.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException
from litestar.handlers.base import BaseRouteHandler

__all__ = ["NOT_JSON", "UnsupportedMediaType", "has_body", "json_bodies_only"]

NOT_JSON = "request body must be application/json"
JSON = "application/json"


class UnsupportedMediaType(ClientException):
    status_code = 415

    def __init__(self) -> None:
        super().__init__(detail=NOT_JSON)


def has_body(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    length = connection.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in connection.headers


async def json_bodies_only(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-wide guard: a handler that reads a body (`data`) gets only JSON. Async although
    it never waits: Litestar runs a synchronous guard in a worker thread."""
    if "data" not in handler.parsed_fn_signature.parameters or not has_body(connection):
        return
    media = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != JSON:
        raise UnsupportedMediaType
