"""Projects (behaviour.md 6.5): session only, API tokens get 401."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environments import EnvironmentSummary, PathId, summary
from sigillo.domain.projections.rows import OrgRow, ProjectRow
from sigillo.services.container import Services

__all__ = ["ROUTES"]

PROJECTS = "/api/v0/projects"
PROJECT = PROJECTS + "/{project_id:str}"


class CreateProjectBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str
    org_id: str


class RenameProjectBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class ProjectItem(msgspec.Struct, rename="camel"):
    id: str
    org_id: str
    org_name: str
    name: str
    created_at: int
    updated_at: int
    environments: list[EnvironmentSummary]


class ProjectList(msgspec.Struct):
    projects: list[ProjectItem]


class ProjectAnswer(msgspec.Struct, kw_only=True, rename="camel"):
    ok: bool = True
    id: str
    name: str
    org_id: str


class DeleteProjectAnswer(msgspec.Struct, kw_only=True):
    ok: bool = True
    id: str


async def _item(services: Services, project: ProjectRow, org: OrgRow | None) -> ProjectItem:
    environments = await services.catalog.environments(project.id)
    return ProjectItem(
        project.id,
        project.org_id,
        org.name if org else "",
        project.name,
        project.created_at,
        project.updated_at,
        [summary(env) for env in environments],
    )


def _answer(project: ProjectRow) -> ProjectAnswer:
    return ProjectAnswer(id=project.id, name=project.name, org_id=project.org_id)


@post(
    PROJECTS,
    operation_id="createProject",
    summary="Create a project with three environments",
    status_code=200,
)
async def create_project(
    data: JSONBody[CreateProjectBody],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> ProjectAnswer:
    """The caller must be a member of `orgId`; an org that does not exist is 403 too."""
    actor = session_principal.actor
    await services.access.require_member(data.org_id, actor)
    return _answer(await services.catalog.create_project(data.org_id, data.name, actor))


@get(PROJECTS, operation_id="listProjects", summary="List projects of the caller's orgs")
async def list_projects(
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
    org_id: Annotated[str | None, QueryParameter(name="orgId", min_length=1)] = None,
) -> ProjectList:
    """All the caller's orgs, or only `orgId` (403 if the caller is not a member); within
    an org, newest project first."""
    actor = session_principal.actor
    if org_id is None:
        orgs = [org for org, _ in await services.access.orgs_of(actor)]
    else:
        await services.access.require_member(org_id, actor)
        orgs = [org for org in [await services.catalog.org(org_id)] if org is not None]
    items = []
    for org in orgs:
        for project in await services.catalog.projects(org.id):
            items.append(await _item(services, project, org))
    return ProjectList(items)


@get(PROJECT, operation_id="getProject", summary="Get a project with its environments")
async def get_project(
    project_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> ProjectItem:
    project = await services.access.project_for(project_id, session_principal.actor)
    return await _item(services, project, await services.catalog.org(project.org_id))


@patch(PROJECT, operation_id="renameProject", summary="Rename a project")
async def rename_project(
    project_id: PathId,
    data: JSONBody[RenameProjectBody],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> ProjectAnswer:
    """Members may rename (behaviour.md 17.1)."""
    actor = session_principal.actor
    await services.access.project_for(project_id, actor)
    return _answer(await services.catalog.rename_project(project_id, data.name, actor))


@delete(
    PROJECT,
    operation_id="deleteProject",
    summary="Delete a project and everything in it",
    status_code=200,
)
async def delete_project(
    project_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> DeleteProjectAnswer:
    """Admins only [D3]: its environments, secrets and tokens go with it."""
    actor = session_principal.actor
    await services.access.project_for(project_id, actor, admin=True)
    await services.catalog.delete_project(project_id, actor)
    return DeleteProjectAnswer(id=project_id)


ROUTES: list[ControllerRouterHandler] = [
    create_project,
    list_projects,
    get_project,
    rename_project,
    delete_project,
]
