"""`Allow`: the methods a path really has, in OPTIONS (204) and 405 answers alike.

Litestar answers OPTIONS by itself, but when a path's methods come from several handler
functions (GET and POST /api/v0/orgs) its answer lists only those of the first one
registered: `Allow: OPTIONS, POST`. Here the methods come from the app's route table, and
`answer_options`, the app's `before_request` hook, answers every OPTIONS request with them
(a layer with a hook of its own would replace it: none has one). No CORS is configured, so
an OPTIONS request is never a preflight: 204 and `Allow`. A 405 already carries every
method of the path from Litestar's router; the error handler writes it in the same sorted
form (`allow_value`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT

__all__ = ["allow_value", "allowed_methods", "answer_options"]


def allow_value(methods: Iterable[str]) -> str:
    """An `Allow` header value: the methods upper-cased, unique and sorted."""
    return ", ".join(sorted({method.strip().upper() for method in methods if method.strip()}))


def allowed_methods(app: Litestar) -> dict[str, str]:
    """Every HTTP path template of `app` (as the router names it, `/api/v0/orgs/{org_id}`)
    with the `Allow` value of all the methods its handlers answer, OPTIONS included."""
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods.setdefault(route.path_format, set()).update(route.methods)
    return {path: allow_value(found) for path, found in methods.items()}


async def answer_options(request: Request[Any, Any, Any]) -> Response[None] | None:
    """The answer to an OPTIONS request (204 with `Allow`); None lets any other through.
    Async although it never waits: Litestar runs a synchronous hook in a worker thread."""
    if request.method != "OPTIONS":
        return None
    allow = allowed_methods(request.app).get(request.scope.get("path_template", ""))
    if allow is None:  # pragma: no cover - the router only routes to known paths
        return None
    return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow})
