"""A depth limit for JSON request bodies (issue 13, finding 8).

A body nested deeper than `MAX_DEPTH` arrays and objects is refused with 422
`{"field": "body", "message": "is nested too deeply"}` while it is read, before any decoder
sees it: how deep a decoder may recurse depends on the stack it runs on, this does not. No
body of this API nests more than four levels.

The check reads the body as it streams in, chunk by chunk, without copying it: it looks only
at brackets, braces, quotes and backslashes, and skips what is inside strings.
"""

from __future__ import annotations

import re

from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from sigillo.domain.errors import InvalidInput

__all__ = ["MAX_DEPTH", "DepthScanner", "JsonDepthLimit", "TooDeep"]

MAX_DEPTH = 32
_SIGNIFICANT = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


class TooDeep(InvalidInput):
    def __init__(self) -> None:
        super().__init__("body", "is nested too deeply")


class DepthScanner:
    """Follows the nesting of a JSON text fed in pieces; `feed` raises TooDeep past `limit`."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        self.limit, self.depth = limit, 0
        self._in_string = False
        self._skip_first = False  # the previous piece ended with a backslash inside a string

    def feed(self, chunk: bytes) -> None:
        skip = 0 if self._skip_first else -1
        self._skip_first = False
        for found in _SIGNIFICANT.finditer(chunk):
            at = found.start()
            if at == skip:
                continue
            char = chunk[at]
            if self._in_string:
                if char == _BACKSLASH:
                    if at + 1 == len(chunk):
                        self._skip_first = True
                    else:
                        skip = at + 1
                elif char == _QUOTE:
                    self._in_string = False
            elif char == _QUOTE:
                self._in_string = True
            elif char in _OPEN:
                self.depth += 1
                if self.depth > self.limit:
                    raise TooDeep
            elif char in _CLOSE:
                self.depth -= 1


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class JsonDepthLimit:
    """ASGI middleware: the request body of a JSON request passes a DepthScanner as the app
    reads it; a body nested too deeply ends the read with TooDeep (a 422 from the app's error
    table)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_DEPTH) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http",) or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        scanner = DepthScanner(self.limit)

        async def scanned() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.request":
                scanner.feed(message.get("body", b""))
            return message

        await self.app(scope, scanned, send)
