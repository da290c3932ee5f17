"""The Settings tab (behaviour.md 14.9, 5.3, decided point 1): rename the project, delete
it, and the org's danger zone.

* Rename: any member (as the API allows). The new name shows everywhere at once, so a
  rename answers a redirect back to the tab (for htmx too: the sidebar changes with it).
* Delete the project (admins [D3]): a dialog lists what goes with it (each environment
  with its number of secrets, and its tokens) before "Delete project"; then the org's
  page.
* Delete the organization (admins): "Delete <org name>?" lists its projects, oldest
  first, before "Delete organization"; then `/`.

A member sees both deletions disabled, with the reason. The handlers ask the access
service for the admin role all the same, so a member who posts anyway gets 403. Each
dialog opens without script too, through `?dialog=delete-project` / `?dialog=delete-org`.
Counting secrets reads only the live names: nothing is decrypted, nothing recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import InvalidInput
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.services.container import Services
from sigillo.web.forms import read_form
from sigillo.web.pages import redirect
from sigillo.web.params import PathText, QueryText
from sigillo.web.project import PROJECT, ProjectPage, project_page, render_tab
from sigillo.web.session import Viewer

__all__ = ["ROUTES"]

SETTINGS = PROJECT + "/settings"
DIALOGS = frozenset({"delete-project", "delete-org"})
NAME_REQUIRED = "Project name is required"
NAME_RULE = "Project name must be 1-100 characters with no control characters"


@dataclass(frozen=True, slots=True)
class EnvironmentCount:
    environment: EnvironmentRow
    secrets: int


async def _context(
    services: Services,
    page: ProjectPage,
    *,
    dialog: str | None = None,
    name: str | None = None,
    error: str | None = None,
    saved: bool = False,
) -> dict[str, Any]:
    environments = [
        EnvironmentCount(env, len(await services.secrets.current(env.id)))
        for env in await services.catalog.environments(page.project.id)
    ]
    tokens = await services.access.tokens(page.project.id, page.viewer.actor)
    projects = list(reversed(await services.catalog.projects(page.org.id)))  # oldest first
    return {
        "environments": environments,
        "tokens": [token for token in tokens if token.revoked_at is None],
        "projects": projects,
        "can_delete": page.is_admin,
        "dialog": dialog if dialog in DIALOGS and page.is_admin else None,
        "name": page.project.name if name is None else name,
        "error": error,
        "saved": saved,
        "base": page.url("settings"),
    }


@get(SETTINGS, name="web:tab-settings")
async def settings_tab(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    dialog: QueryText = "",
    saved: QueryText = "",
) -> Response[str]:
    page = await project_page(services, viewer, project_id)
    context = await _context(services, page, dialog=dialog, saved=saved == "name")
    return render_tab(request, page, "settings", context)


@post(SETTINGS + "/name", name="web:project-rename", status_code=200)
async def rename_project(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Any member (decided point 1). Trimmed; refused with the rule (422)."""
    page = await project_page(services, viewer, project_id)
    typed = (await read_form(request)).text("name")
    name = typed.strip()
    error = None
    if not name:
        error = NAME_REQUIRED
    elif name != page.project.name:  # the same name again writes nothing
        try:
            await services.catalog.rename_project(page.project.id, name, viewer.actor)
        except InvalidInput:
            error = NAME_RULE
    if error is not None:
        context = await _context(services, page, name=typed[:100], error=error)
        return render_tab(request, page, "settings", context, status=422)
    return redirect(request, page.url("settings") + "?saved=name")


@post(SETTINGS + "/delete-project", name="web:project-delete", status_code=200)
async def delete_project(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only: its environments, secrets and tokens go with it; then the org's page."""
    page = await project_page(services, viewer, project_id)
    await services.access.project_for(page.project.id, viewer.actor, admin=True)
    await services.catalog.delete_project(page.project.id, viewer.actor)
    return redirect(request, f"/dash/orgs/{page.org.id}")


@post(SETTINGS + "/delete-org", name="web:org-delete", status_code=200)
async def delete_org(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only: the org of this project with everything in it; then `/`."""
    page = await project_page(services, viewer, project_id)
    await services.access.delete_org(page.org.id, viewer.actor)
    return redirect(request, "/")


ROUTES: list[ControllerRouterHandler] = [
    settings_tab,
    rename_project,
    delete_project,
    delete_org,
]
