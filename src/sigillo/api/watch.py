"""Watching an environment for changes (issue 18): the long poll behind `sigillo run --watch`.

`GET /api/v0/projects/{projectId}/environments/{environmentId}/watch?since=&timeout=`
admits whoever may read the environment's secrets (sigillo.api.environment_access.environment_for,
sessions and API tokens alike: a token scoped to another environment is refused as a read
would be). It answers `{"token", "changed"}` and never a value or a name:

- `token` is opaque: a digest of the versions of the secrets streams watched (the
  environment's, and those of the environments its values refer to). It changes whenever
  one of them does; it means nothing to another environment.
- Without `since`, or when `since` is not the current token, the answer comes at once
  (`changed` is true when `since` was given). Otherwise the request waits until a watched
  stream moves (`changed: true`, the new token) or `timeout` seconds pass (`changed:
  false`, the same token), holding no database connection meanwhile (services.watch: one
  poller per server process reads the versions of every watched stream every half second,
  so changes made through any replica wake it). A client watches by asking again with the
  token it was given, one request open at a time.
- `timeout` is 1 to 60 seconds [25]. Past 1,000 waiting requests a server process answers
  503 with Retry-After; a server shutting down answers the waiting ones at once, unchanged.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environment_access import NO_STORE, environment_for, read_scope
from sigillo.api.environments import PathId
from sigillo.domain.streams import environment_stream
from sigillo.services.container import Services
from sigillo.services.watch import TooManyWatchers

__all__ = ["ROUTES", "WatchAnswer", "watch_token"]

WATCH = "/api/v0/projects/{project_id:str}/environments/{environment_id:str}/watch"
DEFAULT_TIMEOUT = 25
MAX_TIMEOUT = 60
TOKEN_PREFIX = "w1-"  # noqa: S105 - the token format's version, not a credential
TOKEN_LENGTH = len(TOKEN_PREFIX) + 32
RETRY_AFTER = "5"  # seconds, when the process holds as many waiting requests as it may

Since = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=TOKEN_LENGTH,
        pattern="^[A-Za-z0-9_-]+$",
        description="The token of the previous answer: wait until it is no longer current.",
    ),
]
Timeout = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_TIMEOUT,
        description=f"Seconds to wait for a change, 1 to {MAX_TIMEOUT} [{DEFAULT_TIMEOUT}].",
    ),
]


class WatchAnswer(msgspec.Struct, frozen=True):
    """`token`: opaque, current now (give it as `since` to wait for the next change);
    `changed`: whether it differs from the `since` given."""

    token: str
    changed: bool


def watch_token(versions: dict[str, int]) -> str:
    """The opaque token of these stream versions."""
    text = "\n".join(f"{stream}={version}" for stream, version in sorted(versions.items()))
    return TOKEN_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:32]


def _answer(token: str, changed: bool) -> Response[WatchAnswer]:
    return Response(WatchAnswer(token, changed), headers=NO_STORE, status_code=200)


@get(
    WATCH,
    operation_id="watchEnvironment",
    summary="Wait until an environment's secrets change (a long poll)",
    tags=["secrets"],
)
async def watch_environment(
    project_id: PathId,
    environment_id: PathId,
    services: NamedDependency[Services],
    principal: NamedDependency[Principal],
    since: Since = None,
    timeout: Timeout = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a query parameter
) -> Response[WatchAnswer]:
    """Answers at once without `since` or when `since` is stale; otherwise when a secret of
    the environment (or of one its values refer to) changes, or after `timeout` seconds.
    No value and no name is ever answered: only an opaque token. `environmentId` is an id
    or a slug."""
    environment = await environment_for(
        services, principal, project_id, environment_id, write=False
    )
    feed = services.watch
    if feed.closed:
        raise ServiceUnavailableException(
            "the server is shutting down", headers={"Retry-After": "1"}
        )
    # the environment and those its values refer to, that the caller may read
    watched = await services.references.sources(environment, read_scope(principal))
    versions = await feed.versions([environment_stream(each.id) for each in watched])
    token = watch_token(versions)
    if since != token:
        return _answer(token, since is not None)
    try:
        moved = await feed.wait(versions, within=timeout)
    except TooManyWatchers:
        raise ServiceUnavailableException(
            "too many clients are watching; try again later",
            headers={"Retry-After": RETRY_AFTER},
        ) from None
    if moved is None:
        return _answer(token, False)
    return _answer(watch_token(moved), True)


ROUTES: list[ControllerRouterHandler] = [watch_environment]
