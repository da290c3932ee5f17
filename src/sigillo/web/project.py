"""The project page shell: header, environment picker and the six tabs (behaviour.md 14.3).

Each tab lives in its own module under `sigillo.web.tabs` with its own template
`templates/project/<tab>.html`, which extends `project/shell.html` and fills the block
`tab`. A tab's handler does three things:

    page = await project_page(services, viewer, project_id, env_slug)   # 404 unless member
    if page.moved: return redirect(request, page.moved)                   # unknown slug
    return render_tab(request, page, "secrets", {...the tab's own context...})

`project_page` decides access (a member of the project's org; anyone else, and any
unknown id, gets the same 404 page, which reveals nothing about other tenants) and loads
what the shell shows. Tabs that need the admin role check it in their handlers with
`page.is_admin` or through the services, never in templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import Forbidden, NotFound
from sigillo.domain.events import Role
from sigillo.domain.projections.rows import EnvironmentRow, OrgRow, ProjectRow
from sigillo.services.container import Services
from sigillo.services.sign_in_policy import PolicyRefused
from sigillo.web.dash import NO_ENVIRONMENT
from sigillo.web.layout import Sidebar, sidebar
from sigillo.web.pages import redirect, render
from sigillo.web.params import PathText
from sigillo.web.session import Viewer

__all__ = ["ENV", "PROJECT", "TABS", "ProjectPage", "Tab", "project_page", "render_tab"]

PROJECT = "/dash/projects/{project_id:str}"
ENV = PROJECT + "/envs/{env_slug:str}"


@dataclass(frozen=True, slots=True)
class Tab:
    key: str  # also the template's name: project/<key>.html
    label: str
    per_environment: bool  # its URL names an environment: …/envs/<slug>[/suffix]
    suffix: str = ""


TABS = (
    Tab("secrets", "Secrets", per_environment=True),
    Tab("environments", "Environments", per_environment=False, suffix="/environments"),
    Tab("tokens", "Tokens", per_environment=False, suffix="/tokens"),
    Tab("access", "Access", per_environment=False, suffix="/access"),
    Tab("event_log", "Event Log", per_environment=True, suffix="/event-log"),
    Tab("settings", "Settings", per_environment=False, suffix="/settings"),
)


@dataclass(frozen=True)
class ProjectPage:
    viewer: Viewer
    project: ProjectRow
    org: OrgRow
    role: Role
    environments: list[EnvironmentRow]
    environment: EnvironmentRow | None  # the one in the URL (or the first)
    sidebar: Sidebar
    moved: str | None = None  # the URL to go to instead (an unknown environment slug)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def slug(self) -> str:
        return self.environment.slug if self.environment else NO_ENVIRONMENT

    def url(self, tab: str, slug: str | None = None) -> str:
        """The URL of a tab of this project (for another environment, given `slug`)."""
        found = next(t for t in TABS if t.key == tab)
        base = f"/dash/projects/{self.project.id}"
        if found.per_environment:
            return f"{base}/envs/{slug or self.slug}{found.suffix}"
        return base + found.suffix


async def project_page(
    services: Services,
    viewer: Viewer,
    project_id: PathText,
    env_slug: str | None = None,
    *,
    tab: str = "secrets",
) -> ProjectPage:
    """The shell's data, if the viewer is a member of the project's org (else NotFound).
    Given `env_slug`, the environment it names (else the first); an unknown one sets
    `moved` to the same tab of the first environment (`…/envs/_` when there is none)."""
    try:
        project = await services.access.project_for(project_id, viewer.actor)
    except PolicyRefused:
        raise
    except Forbidden:
        raise NotFound("project") from None
    org = await services.catalog.org(project.org_id)
    role = await services.access.role(project.org_id, viewer.actor)
    if org is None or role is None:  # deleted or left in the meantime
        raise NotFound("project")
    environments = await services.catalog.environments(project.id)
    if env_slug is None:
        current = environments[0] if environments else None
    else:
        current = next((e for e in environments if e.slug == env_slug), None)
    nav = await sidebar(services, viewer, org_id=org.id, project_id=project.id)
    page = ProjectPage(viewer, project, org, role, environments, current, nav)
    if env_slug is not None and current is None:
        first = environments[0].slug if environments else NO_ENVIRONMENT
        if env_slug != first:
            return ProjectPage(
                viewer, project, org, role, environments, None, nav, moved=page.url(tab, first)
            )
    return page


def render_tab(
    request: Request[Any, Any, Any],
    page: ProjectPage,
    tab: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response[str]:
    """The project shell with `tab` selected and its template `project/<tab>.html`."""
    current = next(t for t in TABS if t.key == tab)
    values = {
        "page": page,
        "sidebar": page.sidebar,
        "tab": tab,
        "tabs": TABS,
        "current_tab": current,
        **(context or {}),
    }
    return render(request, f"project/{tab}.html", values, status=status)


@get(PROJECT, name="web:project")
async def project(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    page = await project_page(services, viewer, project_id)
    return redirect(request, page.url("secrets", page.slug))


@get(PROJECT + "/event-log", name="web:project-event-log")
async def project_event_log(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    page = await project_page(services, viewer, project_id)
    return redirect(request, page.url("event_log", page.slug))


ROUTES: list[ControllerRouterHandler] = [project, project_event_log]
