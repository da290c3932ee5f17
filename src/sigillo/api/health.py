"""Service endpoints: liveness with a database check, and instance info."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from sigillo.services.container import Services

__all__ = ["health", "info"]


@get("/health", operation_id="health", summary="Is the server up and its database reachable")
async def health(services: NamedDependency[Services]) -> Response[dict[str, Any]]:
    if await services.health.database_ok():
        return Response({"ok": True, "service": "sigillo-app"})
    return Response(
        {"ok": False, "service": "sigillo-app", "error": "database unavailable"}, status_code=503
    )


@get("/api/info", operation_id="info", summary="Instance information")
async def info() -> dict[str, str]:
    return {"colo": "unknown"}
