"""Environments of a project (behaviour.md 6.6): session only, API tokens get 401.

`{environment_id}` is an id or a slug (6.2): an id is looked up in any project, a slug in
the URL's project; membership is then checked against the org owning what was found.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import JSONBody, PathParameter
from litestar.types import ControllerRouterHandler

from sigillo.api import suggest
from sigillo.api.auth import Principal
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.services.container import Services

__all__ = ["ROUTES", "EnvironmentSummary", "PathId", "summary"]

ENVIRONMENTS = "/api/v0/projects/{project_id:str}/environments"
ENVIRONMENT = ENVIRONMENTS + "/{environment_id:str}"
NEITHER = "at least one of name or slug required"

# Ids and slugs never hold a NUL, and PostgreSQL text cannot: refuse one as bad input.
PathId = Annotated[str, PathParameter(pattern="^[^\\x00]+$")]


class CreateEnvironmentBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    slug: str


class ChangeEnvironmentBody(msgspec.Struct, forbid_unknown_fields=True):
    """Omitted, null and "" all mean "not given" [D9]."""

    name: str | None = None
    slug: str | None = None


class EnvironmentSummary(msgspec.Struct, rename="camel"):
    id: str
    project_id: str
    name: str
    slug: str
    created_at: int
    updated_at: int


class EnvironmentList(msgspec.Struct, rename="camel"):
    project_id: str
    environments: list[EnvironmentSummary]


class EnvironmentAnswer(msgspec.Struct, kw_only=True, rename="camel"):
    ok: bool = True
    id: str
    project_id: str
    name: str
    slug: str


class DeleteEnvironmentAnswer(msgspec.Struct, kw_only=True):
    ok: bool = True
    id: str


def summary(env: EnvironmentRow) -> EnvironmentSummary:
    return EnvironmentSummary(
        env.id, env.project_id, env.name, env.slug, env.created_at, env.updated_at
    )


def _answer(env: EnvironmentRow) -> EnvironmentAnswer:
    return EnvironmentAnswer(id=env.id, project_id=env.project_id, name=env.name, slug=env.slug)


async def _reach(
    services: Services, project_id: str, ref: str, principal: Principal, *, admin: bool = False
) -> EnvironmentRow:
    """The environment `ref` names (404, with the closest slug the caller may see), if the
    caller may reach its project (403)."""
    env = await services.catalog.find_environment(project_id, ref)
    if env is None:
        hint = await suggest.for_member(services, project_id, ref, principal.actor)
        raise suggest.UnknownEnvironment("environment not found", hint)
    await services.access.project_for(env.project_id, principal.actor, admin=admin)
    return env


@get(ENVIRONMENTS, operation_id="listEnvironments", summary="List a project's environments")
async def list_environments(
    project_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> EnvironmentList:
    """In creation order."""
    await services.access.project_for(project_id, session_principal.actor)
    environments = await services.catalog.environments(project_id)
    return EnvironmentList(project_id, [summary(env) for env in environments])


@post(
    ENVIRONMENTS,
    operation_id="createEnvironment",
    summary="Create an environment",
    status_code=200,
)
async def create_environment(
    project_id: PathId,
    data: JSONBody[CreateEnvironmentBody],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> EnvironmentAnswer:
    """A slug already used in the project is 409."""
    actor = session_principal.actor
    await services.access.project_for(project_id, actor)
    env = await services.catalog.create_environment(project_id, data.name, data.slug, actor)
    return _answer(env)


@get(ENVIRONMENT, operation_id="getEnvironment", summary="Get an environment by id or slug")
async def get_environment(
    project_id: PathId,
    environment_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> EnvironmentSummary:
    return summary(await _reach(services, project_id, environment_id, session_principal))


@patch(ENVIRONMENT, operation_id="updateEnvironment", summary="Rename an environment")
async def update_environment(
    project_id: PathId,
    environment_id: PathId,
    data: JSONBody[ChangeEnvironmentBody],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> EnvironmentAnswer:
    """Change the name and/or the slug; members may (behaviour.md 17.1). A taken slug is 409."""
    name, slug = data.name or None, data.slug or None
    if name is None and slug is None:
        raise ClientException(NEITHER)
    env = await _reach(services, project_id, environment_id, session_principal)
    renamed = await services.catalog.rename_environment(
        env.project_id, env.id, session_principal.actor, name=name, slug=slug
    )
    return _answer(renamed)


@delete(
    ENVIRONMENT,
    operation_id="deleteEnvironment",
    summary="Delete an environment and its secrets",
    status_code=200,
)
async def delete_environment(
    project_id: PathId,
    environment_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> DeleteEnvironmentAnswer:
    """Admins only [D3]. Tokens scoped to it are revoked, never widened [D2]."""
    env = await _reach(services, project_id, environment_id, session_principal, admin=True)
    await services.catalog.delete_environment(env.project_id, env.id, session_principal.actor)
    return DeleteEnvironmentAnswer(id=env.id)


ROUTES: list[ControllerRouterHandler] = [
    list_environments,
    create_environment,
    get_environment,
    update_environment,
    delete_environment,
]
