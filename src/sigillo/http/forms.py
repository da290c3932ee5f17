"""Dashboard form bodies: capped, read once, parsed off the event loop.

The dashboard's largest form is the .env import: at most 1 MiB of text, which URL
encoding can triple, with a "plain" box per key; a Save of a whole table sends two fields
a row. So a form body may hold `FORM_MAX_BYTES` (4 MiB, a quarter of the API's JSON cap)
and `FORM_MAX_FIELDS` fields; more is refused with 413 and a message saying so, before
anything is parsed: an announced `Content-Length` over the cap before the body is read,
a chunked body as soon as it passes the cap, a field count by counting separators.

`load_form` parses a URL-encoded body in a worker thread (parsing is the CPU-heavy part)
and leaves body and form in Litestar's per-request state, so the handler's own
`request.form()` gets them without reading or parsing again.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request
from litestar._parsers import parse_url_encoded_form_data
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

__all__ = [
    "FORM_MAX_BYTES",
    "FORM_MAX_FIELDS",
    "FormTooLarge",
    "load_form",
    "refuse_announced_oversize",
]

FORM_MAX_BYTES = 4 * 1024 * 1024
FORM_MAX_FIELDS = 20_000
TOO_LARGE = "This form is too large: at most 4 MiB can be sent at once."
TOO_MANY = f"This form has too many fields: at most {FORM_MAX_FIELDS} can be sent at once."


class FormTooLarge(HTTPException):
    status_code = 413


def refuse_announced_oversize(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """413 for a body announced larger than the cap, before anything is read."""
    length = connection.headers.get("content-length", "").strip()
    if length.isdigit() and int(length) > FORM_MAX_BYTES:
        raise FormTooLarge(detail=TOO_LARGE)


async def _capped_body(request: Request[Any, Any, Any]) -> bytes:
    state = ScopeState.from_scope(request.scope)
    if state.body is Empty:
        chunks, total = [], 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > FORM_MAX_BYTES:
                raise FormTooLarge(detail=TOO_LARGE)
            chunks.append(chunk)
        state.body = b"".join(chunks)
    return await request.body()  # from the state: Litestar keeps it for the handler


async def load_form(request: Request[Any, Any, Any]) -> None:
    """Read the body within the caps and, when URL-encoded, parse it in a worker thread
    into the request's state (a multipart body is parsed by Litestar, within its part
    limit, from the body read here)."""
    body = await _capped_body(request)
    state = ScopeState.from_scope(request.scope)
    if state.form is not Empty or request.content_type[0] != RequestEncodingType.URL_ENCODED:
        return
    if body.count(b"&") >= FORM_MAX_FIELDS:
        raise FormTooLarge(detail=TOO_MANY)
    state.form = await anyio.to_thread.run_sync(_parse, body)


def _parse(body: bytes) -> dict[str, Any]:
    """Litestar's own parser, so the handler sees exactly what `request.form()` gives."""
    return parse_url_encoded_form_data(body)
