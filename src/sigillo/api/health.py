"""Service endpoints: health (liveness, readiness, and the older combined check) and
instance info. All public, tiny JSON, and never logged or audited per request.

- `/health/live`: the process answers. Nothing else is checked, so an orchestrator's
  liveness probe never restarts a server for its database's sake.
- `/health/ready`: the database answers a read and takes a one-row write within a few
  seconds (services/health.py); else 503. For load balancers and readiness probes.
- `/health`: as before, a read answers (kept for compatibility).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from sigillo.services.container import Services

__all__ = ["health", "info", "live", "ready"]

SERVICE = "sigillo-app"
# A probe's answer is about this moment: no cache between prober and server may keep it.
NO_STORE = {"Cache-Control": "no-store"}


@get("/health", operation_id="health", summary="Is the server up and its database reachable")
async def health(services: NamedDependency[Services]) -> Response[dict[str, Any]]:
    if await services.health.database_ok():
        return Response({"ok": True, "service": SERVICE})
    return Response(
        {"ok": False, "service": SERVICE, "error": "database unavailable"}, status_code=503
    )


@get(
    "/health/live",
    operation_id="healthLive",
    summary="Liveness: the process answers (the database is not checked)",
)
async def live() -> Response[dict[str, Any]]:
    return Response({"ok": True, "service": SERVICE}, headers=NO_STORE)


@get(
    "/health/ready",
    operation_id="healthReady",
    summary="Readiness: the database answers a read and takes a write within a few seconds",
)
async def ready(services: NamedDependency[Services]) -> Response[dict[str, Any]]:
    problem = await services.health.ready()
    if problem is None:
        return Response({"ok": True, "service": SERVICE}, headers=NO_STORE)
    return Response(
        {"ok": False, "service": SERVICE, "error": problem}, status_code=503, headers=NO_STORE
    )


@get("/api/info", operation_id="info", summary="Instance information")
async def info() -> dict[str, str]:
    return {"colo": "unknown"}
