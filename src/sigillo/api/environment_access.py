"""Which environment a request means, and who reads it (behaviour.md 6.2): shared by every
route under an environment (secrets, history, audit, verify, watch).

* a session: the reference as an environment id in any project, else as a slug in the
  URL's project, else 404; then the caller must be a member of the org owning the
  environment found (403 `forbidden`);
* an API token: the reference as an id, else as a slug in *the token's* project (the URL's
  project is ignored); an environment outside the token's project is 403 `token does not
  have access to this environment`, another environment than the one a scoped token names
  is 403 `token is scoped to a different environment`, and a read-only token's writes are
  403 `token is read-only` [D15].

Also the query parameters the reads of values share: `at` (a read of the past, issue 17),
`raw` (references unresolved, issue 18) and `purpose` (what the read is recorded as).
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter

from sigillo.api import suggest
from sigillo.api.auth import Principal
from sigillo.domain.errors import Forbidden
from sigillo.domain.moments import Moment, parse_moment
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.services.container import Services
from sigillo.services.references import ReadScope
from sigillo.services.sign_in_policy import PolicyRefused

__all__ = [
    "NOT_FOUND",
    "NO_STORE",
    "At",
    "DownloadHow",
    "Purpose",
    "Raw",
    "environment_for",
    "moment_of",
    "read_scope",
]


NOT_FOUND = "not found"
ENV_NOT_FOUND = "environment not found"
NO_ACCESS = "token does not have access to this environment"
OTHER_ENVIRONMENT = "token is scoped to a different environment"
READ_ONLY = "token is read-only"
NO_STORE = {"Cache-Control": "no-store"}

# A read of the past (issue 17): the list, a get and a download as they were at a moment.
At = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=64,
        description=(
            "Read the environment as it was at this moment: an RFC 3339 time with its offset "
            "(`2026-12-07T09:30:00Z`) or an event id (the event and those before it); at most "
            "64 characters. 422 when it is neither; 404 `environment: it did not exist yet "
            "at …` before the environment was created; 404 for an unknown event id. A read "
            "of values records the moment (`at`) in its audit event."
        ),
    ),
]


DownloadHow = Literal["download", "run", "mcp"]
Purpose = Annotated[
    DownloadHow,
    QueryParameter(
        description=(
            "What the values are read for, recorded as the read's `how` in the audit log: "
            "`download` (the default), `run` (`sigillo run`) or `mcp` (the MCP server)."
        )
    ),
]
Raw = Annotated[
    bool,
    QueryParameter(
        description=(
            "The value as stored, its references (`${NAME}`, `${env.NAME}`, "
            "`${project.env.NAME}`) not resolved and `$${` not unescaped."
        )
    ),
]


def read_scope(principal: Principal) -> ReadScope:
    """Who reads, for resolving references: an API token reads only its scope."""
    token = principal.token
    if token is None:
        return ReadScope(principal.actor)
    return ReadScope(principal.actor, token.project_id, token.environment_id)


def moment_of(at: str | None) -> Moment | None:
    """The `at` query parameter as a moment (None: now); InvalidInput (422) otherwise."""
    return None if at is None else parse_moment(at, "at")


async def environment_for(
    services: Services, principal: Principal, project_id: str | None, ref: str, *, write: bool
) -> EnvironmentRow:
    """The environment a request may use, by id or slug (behaviour.md 6.2), or an error.
    `project_id` None (the `/api/environments/{id}` routes): a session names an id only, and
    one outside its orgs is the same 404 as an unknown id (its existence is not revealed).
    An unknown slug is answered with the closest one the caller may see (api/suggest.py)."""
    token = principal.token
    if token is None:
        environment = await services.catalog.find_environment(project_id, ref)
        if environment is None:
            if project_id is None:
                raise NotFoundException(NOT_FOUND)
            hint = await suggest.for_member(services, project_id, ref, principal.actor)
            raise suggest.UnknownEnvironment(ENV_NOT_FOUND if hint else NOT_FOUND, hint)
        try:
            await services.access.project_for(environment.project_id, principal.actor)
        except PolicyRefused:
            raise
        except Forbidden:
            if project_id is None:
                raise NotFoundException(NOT_FOUND) from None
            raise
        return environment
    environment = await services.catalog.find_environment(token.project_id, ref)
    if environment is None:
        raise suggest.UnknownToToken(NO_ACCESS, await suggest.for_token(services, token, ref))
    if environment.project_id != token.project_id:
        raise Forbidden(NO_ACCESS)
    if token.environment_id is not None and token.environment_id != environment.id:
        raise Forbidden(OTHER_ENVIRONMENT)
    if write and token.access != "read-write":
        raise Forbidden(READ_ONLY)
    return environment
