"""The tamper-evident log, through the API (issue 17): does an environment's chain hold?

`GET /api/v0/projects/{projectId}/environments/{environmentId}/verify` walks the
environment's stream's own chain now, with the same `Services.verify_streams` as the
dashboard's Event Log tab (store.log_verify: every seal and version of the stream, the
head record, and its live secrets against a fold of the stream). It sits beside `…/events`
because it answers about that log, and it admits whoever may read that log (sigillo.api
.audit): sessions only, members of the environment's org; API tokens get 401.

The answer says whether the chain is intact, through which event, and otherwise the first
broken link in words (`problem`, its `stream` and `position`). A stream longer than the
dashboard's window has only its newest events checked (`partial`); `sigillo admin verify`
on the server walks the whole log and its read models.
"""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environment_access import environment_for
from sigillo.api.environments import PathId
from sigillo.domain.errors import StorageUnavailable
from sigillo.domain.streams import environment_stream
from sigillo.services.container import Services

__all__ = ["ROUTES", "ChainVerification"]

VERIFY = "/api/v0/projects/{project_id:str}/environments/{environment_id:str}/verify"


class ChainVerification(msgspec.Struct, frozen=True, rename="camel"):
    """What a walk of the environment's chain found."""

    intact: bool  # every link held
    through: int  # the last event position checked (0: no events yet)
    checked: int  # the chained events whose seals were checked
    partial: bool  # only the stream's newest events were checked
    problem: str | None  # the first broken link, in words; None when intact
    stream: str | None  # the stream of the broken link, when known
    position: int | None  # the event position of the broken link, when known


@get(
    VERIFY,
    operation_id="verifyEnvironmentChain",
    summary="Whether an environment's tamper-evident chain is intact",
    tags=["audit"],
)
async def verify_environment(
    project_id: PathId,
    environment_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> ChainVerification:
    """The environment's stream's seals and versions, walked now, as the Event Log tab shows
    them. `environmentId` is an id or a slug."""
    environment = await environment_for(
        services, session_principal, project_id, environment_id, write=False
    )
    if services.verify_streams is None:
        raise StorageUnavailable("this server keeps no tamper-evident chain")
    report = await services.verify_streams([environment_stream(environment.id)])
    return ChainVerification(
        intact=report.intact,
        through=report.through,
        checked=report.checked,
        partial=report.partial,
        problem=report.problem,
        stream=report.stream,
        position=report.position,
    )


ROUTES: list[ControllerRouterHandler] = [verify_environment]
