"""`/dash`, orgs and new projects (behaviour.md 14.3).

* `/dash`: no org → `/dash/new-org`; else the newest org's newest project's first
  environment, or the org's page when it has no project.
* `/dash/new-org`: "New Organization"; the creator becomes its admin.
* `/dash/orgs/<id>`: members only (anyone else gets the same 404 as for an org that does
  not exist: no id of another tenant is confirmed); the newest project's first environment,
  or the empty state "No projects yet".
* `/dash/orgs/<id>/new-project`: the "New Project" form (the sidebar opens it as a dialog);
  a new project gets Dev, Preview and Prod, and the browser goes to its first one.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.projections.rows import ProjectRow
from sigillo.services.container import Services
from sigillo.web.forms import Form, FormErrors, read_form
from sigillo.web.layout import sidebar
from sigillo.web.pages import redirect, render
from sigillo.web.params import PathText
from sigillo.web.session import Viewer

__all__ = ["ROUTES", "env_url"]

NO_ENVIRONMENT = "_"  # the slug of an environment page when a project has none


async def env_url(services: Services, project: ProjectRow) -> str:
    """The page of a project's first environment (`…/envs/_` when it has none)."""
    environments = await services.catalog.environments(project.id)
    slug = environments[0].slug if environments else NO_ENVIRONMENT
    return f"/dash/projects/{project.id}/envs/{slug}"


async def _member_org(services: Services, viewer: Viewer, org_id: str) -> None:
    """NotFound (a 404 page) unless the viewer is a member of the org."""
    if await services.access.role(org_id, viewer.actor) is None:
        raise NotFound("org")


@get("/dash", name="web:dash")
async def dash(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    orgs = await services.access.orgs_of(viewer.actor)
    if not orgs:
        return redirect(request, "/dash/new-org")
    newest = max((org for org, _ in orgs), key=lambda org: (org.created_at, org.position))
    projects = await services.catalog.projects(newest.id)
    if not projects:
        return redirect(request, f"/dash/orgs/{newest.id}")
    return redirect(request, await env_url(services, projects[0]))


def _new_org(
    request: Request[Any, Any, Any], nav: Any, form: Form | None, errors: FormErrors
) -> Response[str]:
    context = {"sidebar": nav, "name": form.text("name")[:100] if form else "", "errors": errors}
    return render(request, "dash/new_org.html", context, status=422 if errors else 200)


@get("/dash/new-org", name="web:new-org")
async def new_org_page(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    return _new_org(request, await sidebar(services, viewer), None, FormErrors())


@post("/dash/new-org", name="web:new-org-submit", status_code=200)
async def new_org(
    request: Request[Any, Any, Any],
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    form = await read_form(request)
    errors = FormErrors()
    name = errors.required(form, "name")
    if not errors:
        try:
            org = await services.catalog.create_org(name, viewer.actor)
        except InvalidInput as error:
            errors.add(error)
        else:
            return redirect(request, f"/dash/orgs/{org.id}")
    return _new_org(request, await sidebar(services, viewer), form, errors)


@get("/dash/orgs/{org_id:str}", name="web:org")
async def org_page(
    request: Request[Any, Any, Any],
    org_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    await _member_org(services, viewer, org_id)
    projects = await services.catalog.projects(org_id)
    if projects:
        return redirect(request, await env_url(services, projects[0]))
    nav = await sidebar(services, viewer, org_id=org_id)
    return render(request, "dash/org_empty.html", {"sidebar": nav})


async def _new_project(
    request: Request[Any, Any, Any],
    services: Services,
    viewer: Viewer,
    org_id: PathText,
    form: Form | None,
    errors: FormErrors,
) -> Response[str]:
    nav = await sidebar(services, viewer, org_id=org_id)
    context = {"sidebar": nav, "name": form.text("name")[:100] if form else "", "errors": errors}
    return render(request, "dash/new_project.html", context, status=422 if errors else 200)


@get("/dash/orgs/{org_id:str}/new-project", name="web:new-project")
async def new_project_page(
    request: Request[Any, Any, Any],
    org_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    await _member_org(services, viewer, org_id)
    return await _new_project(request, services, viewer, org_id, None, FormErrors())


@post("/dash/orgs/{org_id:str}/new-project", name="web:new-project-submit", status_code=200)
async def new_project(
    request: Request[Any, Any, Any],
    org_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    await _member_org(services, viewer, org_id)
    form = await read_form(request)
    errors = FormErrors()
    name = errors.required(form, "name", "Project name is required")
    if not errors:
        try:
            project = await services.catalog.create_project(org_id, name, viewer.actor)
        except InvalidInput as error:
            errors.add(error)
        else:
            return redirect(request, await env_url(services, project))
    return await _new_project(request, services, viewer, org_id, form, errors)


ROUTES: list[ControllerRouterHandler] = [
    dash,
    new_org_page,
    new_org,
    org_page,
    new_project_page,
    new_project,
]
