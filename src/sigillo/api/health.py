"""Service endpoints: health (liveness, readiness, and the older combined check) and
instance info. All public, tiny JSON, and never logged or audited per request.

- `/health/live`: the process answers. Nothing else is checked, so an orchestrator's
  liveness probe never restarts a server for its database's sake.
- `/health/ready`: the database answers a read and takes a one-row write within a few
  seconds (services/health.py); else 503. For load balancers and readiness probes.
- `/health`: as before, a read answers (kept for compatibility).
"""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from sigillo.services.container import Services

__all__ = ["health", "info", "live", "ready"]

SERVICE = "sigillo-app"
# A probe's answer is about this moment: no cache between prober and server may keep it.
NO_STORE = {"Cache-Control": "no-store"}


class Health(msgspec.Struct, frozen=True, omit_defaults=True):
    """`{"ok": true, "service": "sigillo-app"}`; when not ok (503), also `error`."""

    ok: bool
    service: str
    error: str | None = None  # omitted when None


class Info(msgspec.Struct, frozen=True):
    colo: str


@get("/health", operation_id="health", summary="Is the server up and its database reachable")
async def health(services: NamedDependency[Services]) -> Response[Health]:
    if await services.health.database_ok():
        return Response(Health(True, SERVICE))
    return Response(Health(False, SERVICE, "database unavailable"), status_code=503)


@get(
    "/health/live",
    operation_id="healthLive",
    summary="Liveness: the process answers (the database is not checked)",
)
async def live() -> Response[Health]:
    return Response(Health(True, SERVICE), headers=NO_STORE)


@get(
    "/health/ready",
    operation_id="healthReady",
    summary="Readiness: the database answers a read and takes a write within a few seconds",
)
async def ready(services: NamedDependency[Services]) -> Response[Health]:
    problem = await services.health.ready()
    if problem is None:
        return Response(Health(True, SERVICE), headers=NO_STORE)
    return Response(Health(False, SERVICE, problem), status_code=503, headers=NO_STORE)


@get("/api/info", operation_id="info", summary="Instance information")
async def info() -> Info:
    return Info(colo="unknown")
