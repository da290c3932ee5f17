"""Reading and undoing the past (issue 17): one secret's history, a diff of two environments
or of two moments, and a rollback to a moment. Sessions and API tokens alike, resolved as
the secrets routes resolve them (sigillo.api.environment_access.environment_for): a token scoped to
one environment reaches neither another environment's present nor its past.

A moment (`fromAt`, `toAt`, a rollback's `to`) is an RFC 3339 time with its offset
(`2026-12-07T09:30:00Z`) or an event id (a history entry's `eventId`); anything else is 422.
A moment before the environment existed is 404 with that reason.

- `GET …/environments/{env}/secrets/{name}/history`: every set, delete and kind change of
  the name, oldest first, with who and when. Values only with `show_values=true`, which
  records one read (how `history`, naming the versions read) before any is opened.
- `GET …/environments/{env}/diff?to=&from_at=&to_at=&show_values=`: the environment (at
  `from_at`, else now) against `to` (another environment, else itself) at `to_at` (else
  now): each name `added`, `removed`, `changed` or `unchanged`. Values only with
  `show_values=true` (recorded as a `diff` read of both sides first); telling changed from
  unchanged is recorded as a `compare` read of the names compared.
- `POST …/environments/{env}/rollback` `{"to", "names"?, "dryRun"?}`: the plan (names only)
  and, unless a dry run, the events appended: one all-or-nothing write that needs write
  access (a read-only token is 403, dry run or not). It is not under `…/secrets/`, where a
  literal segment would shadow a secret of that name (behaviour.md 16).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environment_access import NO_STORE, environment_for
from sigillo.api.environments import PathId
from sigillo.domain.errors import InvalidInput
from sigillo.domain.events import SecretDeleted, SecretKind, SecretKindChanged, SecretSet
from sigillo.domain.moments import Moment, parse_moment
from sigillo.http.origin import refuse_cross_site_reads
from sigillo.services.container import Services
from sigillo.services.diff import SecretsDiff
from sigillo.services.secret_history import SecretHistory

__all__ = ["ROUTES", "RollbackAnswer", "RollbackBody"]

ENV = "/api/v0/projects/{project_id:str}/environments/{environment_id:str}"
MAX_NAMES = 1000
MOMENT = "an RFC 3339 time with its offset (2026-12-07T09:30:00Z) or an event id"

ShowValues = Annotated[
    bool, QueryParameter(description="Return the values too (recorded as a read first).")
]
MomentParam = Annotated[
    str | None, QueryParameter(min_length=1, max_length=64, description=f"A moment: {MOMENT}.")
]
OtherEnvironment = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=100,
        pattern="^[^\\x00]+$",
        description="The environment to compare with (id or slug) [the same one].",
    ),
]


class RollbackBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """`to`: the moment to go back to; `names`: only these secrets [every one];
    `dryRun`: answer the plan, write nothing."""

    to: str
    names: list[str] | None = None
    dry_run: bool = False


class AppendedEvent(msgspec.Struct, frozen=True):
    id: str
    version: int
    type: str  # secret.set, secret.deleted or secret.kind_changed
    name: str


class RollbackAnswer(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The plan by name (never values) and the events appended (none on a dry run).
    `toVersion`: the version of the environment's secrets stream at the moment."""

    ok: bool = True
    environment_id: str
    to: str
    to_version: int
    dry_run: bool
    restore: list[str]
    delete: list[str]
    kinds: dict[str, SecretKind]
    events: list[AppendedEvent]


def _moment(text: str | None, field: str) -> Moment | None:
    return None if text is None else parse_moment(text, field)


async def _history(
    services: Services,
    principal: Principal,
    project_id: str,
    environment_id: str,
    name: str,
    show_values: bool,
) -> Response[SecretHistory]:
    environment = await environment_for(
        services, principal, project_id, environment_id, write=False
    )
    answer = await services.history.history(
        environment, name, principal.actor, show_values=show_values
    )
    return Response(answer, headers=NO_STORE, status_code=200)


@get(
    ENV + "/secrets/{name:str}/history",
    operation_id="getSecretHistory",
    summary="One secret's changes, oldest first (values only when asked)",
    tags=["secrets"],
    guards=[refuse_cross_site_reads],
)
async def secret_history(
    project_id: PathId,
    environment_id: PathId,
    name: PathId,
    services: NamedDependency[Services],
    principal: NamedDependency[Principal],
    show_values: ShowValues = False,
) -> Response[SecretHistory]:
    """Every set, delete and kind change of the name, with its event id, version, time and
    author (a user's email or a token's name). 404 when the name has no history here.
    With `show_values=true` the values of the sets come too, recorded first as one read."""
    return await _history(services, principal, project_id, environment_id, name, show_values)


@get(
    ENV + "/secrets/download/history",
    operation_id="getHistoryOfSecretNamedDownload",
    summary="The history of the secret named `download`",
    tags=["secrets"],
    guards=[refuse_cross_site_reads],
)
async def download_history(
    project_id: PathId,
    environment_id: PathId,
    services: NamedDependency[Services],
    principal: NamedDependency[Principal],
    show_values: ShowValues = False,
) -> Response[SecretHistory]:
    """The literal `download` segment shadows `{name}` (behaviour.md 16): as
    `getSecretHistory` for the secret named `download`."""
    return await _history(services, principal, project_id, environment_id, "download", show_values)


@get(
    ENV + "/diff",
    operation_id="diffSecrets",
    summary="Compare an environment with another, or with itself at another moment",
    tags=["secrets"],
    guards=[refuse_cross_site_reads],
)
async def diff_secrets(
    project_id: PathId,
    environment_id: PathId,
    services: NamedDependency[Services],
    principal: NamedDependency[Principal],
    to: OtherEnvironment = None,
    from_at: MomentParam = None,
    to_at: MomentParam = None,
    show_values: ShowValues = False,
) -> Response[SecretsDiff]:
    """Names `added` (only in `to`), `removed` (only here), `changed` or `unchanged`,
    sorted, with each side's kind. The caller must be able to read both environments."""
    first_at, second_at = _moment(from_at, "from_at"), _moment(to_at, "to_at")
    first = await environment_for(services, principal, project_id, environment_id, write=False)
    second = first
    if to is not None:
        second = await environment_for(services, principal, project_id, to, write=False)
        if second.project_id != first.project_id:
            raise InvalidInput("to", "must be an environment of the same project")
    answer = await services.diff.diff(
        (first, first_at), (second, second_at), principal.actor, show_values=show_values
    )
    return Response(answer, headers=NO_STORE, status_code=200)


@post(
    ENV + "/rollback",
    operation_id="rollbackSecrets",
    summary="Bring secrets back to a moment, by appending (one all-or-nothing write)",
    tags=["secrets"],
    status_code=200,
)
async def rollback_secrets(
    project_id: PathId,
    environment_id: PathId,
    data: JSONBody[RollbackBody],
    services: NamedDependency[Services],
    principal: NamedDependency[Principal],
) -> RollbackAnswer:
    """Sets back the names whose value changed (or that were deleted) since the moment,
    deletes the names created since, and gives names their kind then; `names` limits it to
    those. The history stays: this appends. 404 when a name asked for was live neither
    then nor now. Values never appear in the answer."""
    moment = parse_moment(data.to, "to")
    if data.names is not None and len(data.names) > MAX_NAMES:
        raise InvalidInput("names", f"at most {MAX_NAMES} names")
    environment = await environment_for(services, principal, project_id, environment_id, write=True)
    result = await services.rollback.rollback(
        environment, moment, principal.actor, data.names, dry_run=data.dry_run
    )
    events = []
    for recorded in result.recorded:
        event = recorded.event
        if isinstance(event, SecretSet | SecretDeleted | SecretKindChanged):
            tag = str(type(event).__struct_config__.tag)
            events.append(AppendedEvent(recorded.event_id, recorded.version, tag, event.name))
    plan = result.plan
    return RollbackAnswer(
        environment_id=environment.id,
        to=str(moment),
        to_version=result.moment_version,
        dry_run=data.dry_run,
        restore=plan.restore,
        delete=plan.delete,
        kinds=plan.kinds,
        events=events,
    )


ROUTES: list[ControllerRouterHandler] = [
    secret_history,
    download_history,
    diff_secrets,
    rollback_secrets,
]
