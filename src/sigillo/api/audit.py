"""The audit log (behaviour.md 14.8, [D1], [D16]): an environment's events and an org's.

Sessions only: API tokens get 401. Members may read both logs (behaviour.md 5.3 lists no
admin rule for them). The environment is resolved as the secrets routes resolve it (id in
any project, else slug in the URL's project: 404, then membership: 403); an org the caller
is not a member of, existing or not, is 403, as for the other org-scoped routes.

Pages are newest first: `limit` (1..200, default 50) events, and `nextBefore`, the cursor
to pass as `before` for the next (older) page, or null on the last page. `secret` keeps
the events about one secret (its sets, deletes, and the reads that included it), `actor`
those of one user or token id. No answer ever carries a value or a ciphertext.

A read of the whole environment (a download, `sigillo run`) lists no `names`: it read
every secret live at version `secretsVersion` of the environment's secrets, `count` of
them (reads recorded before this existed list their names, as reads of some names do).
The `secret` filter keeps such a read when the secret was live at that version.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environment_access import environment_for
from sigillo.api.environments import PathId
from sigillo.services.audit import DEFAULT_LIMIT, MAX_LIMIT
from sigillo.services.audit_entries import AuditPage
from sigillo.services.container import Services

__all__ = ["ROUTES"]

ENVIRONMENT_EVENTS = "/api/v0/projects/{project_id:str}/environments/{environment_id:str}/events"
ORG_EVENTS = "/api/v0/orgs/{org_id:str}/events"
MAX_POSITION = 2**63 - 1

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Events per page (1..200).")]
Before = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=MAX_POSITION,
        description="The `nextBefore` of the previous page: only events older than it.",
    ),
]
SecretFilter = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=256, description="Only events about this secret."),
]
ActorFilter = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=100,
        pattern="^[^\\x00]+$",
        description="Only events caused by this user or token id.",
    ),
]


@get(
    ENVIRONMENT_EVENTS,
    operation_id="listEnvironmentEvents",
    summary="An environment's audit log, newest first",
    tags=["audit"],
)
async def environment_events(
    project_id: PathId,
    environment_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
    limit: Limit = DEFAULT_LIMIT,
    before: Before = None,
    secret: SecretFilter = None,
    actor: ActorFilter = None,
) -> AuditPage:
    """Its secrets' sets and deletes, the reads of its values (get, download, reveal, run)
    and its project's events about it: its creation, renames and deletion, and the tokens
    scoped to it. `environmentId` is an id or a slug."""
    environment = await environment_for(
        services, session_principal, project_id, environment_id, write=False
    )
    return await services.audit.environment_log(
        environment, before=before, limit=limit, secret=secret, actor=actor
    )


@get(
    ORG_EVENTS,
    operation_id="listOrgEvents",
    summary="An org's audit log, newest first",
    tags=["audit"],
)
async def org_events(
    org_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
    limit: Limit = DEFAULT_LIMIT,
    before: Before = None,
    secret: SecretFilter = None,
    actor: ActorFilter = None,
) -> AuditPage:
    """The org's members, roles and invitations, its projects' and environments' changes,
    its tokens, and every secret write and read in its environments (deleted environments
    included; the events of deleted projects are not found)."""
    await services.access.require_member(org_id, session_principal.actor)
    return await services.audit.org_log(
        org_id, before=before, limit=limit, secret=secret, actor=actor
    )


ROUTES: list[ControllerRouterHandler] = [environment_events, org_events]
