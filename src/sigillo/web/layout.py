"""The dashboard's frame: the sidebar every `/dash` page shows (behaviour.md 14.3).

Org switcher (the current org and the caller's role in it; every org of theirs; "Add
organization"), the current org's projects with the "New project" dialog, and the user
box. It is built from the caller's memberships on every request: a role changed or a
membership removed a moment ago already shows [D4]. It never decides access: handlers do
that before building it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sigillo.domain.events import Role
from sigillo.domain.projections.rows import OrgRow, ProjectRow
from sigillo.services.container import Services
from sigillo.web.session import Viewer

__all__ = ["OrgChoice", "Sidebar", "sidebar"]


@dataclass(frozen=True, slots=True)
class OrgChoice:
    org: OrgRow
    role: Role


@dataclass(frozen=True)
class Sidebar:
    viewer: Viewer
    orgs: list[OrgChoice]
    current: OrgChoice | None = None
    projects: list[ProjectRow] = field(default_factory=list)
    project_id: str | None = None  # the project on screen, highlighted in the list

    @property
    def is_admin(self) -> bool:
        return self.current is not None and self.current.role == "admin"


async def sidebar(
    services: Services,
    viewer: Viewer,
    *,
    org_id: str | None = None,
    project_id: str | None = None,
) -> Sidebar:
    """The sidebar with `org_id` as the current org (if the viewer is one of its members)."""
    orgs = [OrgChoice(org, role) for org, role in await services.access.orgs_of(viewer.actor)]
    current = next((choice for choice in orgs if choice.org.id == org_id), None)
    projects = await services.catalog.projects(current.org.id) if current else []
    return Sidebar(viewer, orgs, current, projects, project_id)
