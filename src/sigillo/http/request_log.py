"""One log line per request, and its id in an `X-Request-Id` response header.

The line holds the request id, the method, the route's template (`/api/v0/projects/
{project_id}/…`, never the path as sent: paths carry invite and setup tokens), the status
and the duration; logs.py writes it as text or as a JSON line. Health checks, which load
balancers make every few seconds, are logged at DEBUG only. A request that matched no route
is logged with the route `-`. The same request is counted in the metrics (sigillo.metrics),
by the same template.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from sigillo import metrics

__all__ = ["QUIET_PREFIX", "RequestLog"]

log = logging.getLogger("sigillo.request")

QUIET_PREFIX = "/health"  # /health, /health/live, /health/ready
Scope = dict[str, Any]


class RequestLog:
    """ASGI wrapper of the whole app (outside routing, so that every request is counted)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        started = time.perf_counter()
        status = 500  # unless a response starts: the app failed before answering

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("path_template") or "-"  # set by the router once it matched
            seconds = time.perf_counter() - started
            metrics.count_request(scope["method"], route, status, seconds)
            milliseconds = round(seconds * 1000, 1)
            level = logging.DEBUG if route.startswith(QUIET_PREFIX) else logging.INFO
            log.log(
                level,
                "%s %s %s %d %.1f ms",
                request_id,
                scope["method"],
                route,
                status,
                milliseconds,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": milliseconds,
                },
            )
