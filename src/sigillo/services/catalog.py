"""Orgs, projects and environments: their lifecycle as events, their state as read models."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import TypeVar

from sigillo.domain import orgs, projects
from sigillo.domain.errors import Forbidden, NotFound
from sigillo.domain.events import Actor, EnvironmentCreated
from sigillo.domain.projections.rows import EnvironmentRow, OrgRow, ProjectRow, Row
from sigillo.domain.projects import Command as ProjectCommand
from sigillo.domain.streams import org_stream, project_stream
from sigillo.services.ports import EventStore
from sigillo.services.writing import Writer

__all__ = ["CatalogService", "closest_slug"]

R = TypeVar("R", bound=Row)

# What people call the environments every project starts with (dev, preview, prod).
_ALIASES = {
    "dev": ("development", "develop", "local"),
    "preview": ("staging", "stage", "stg"),
    "prod": ("production", "prd", "live"),
}


def closest_slug(ref: str, environments: Iterable[EnvironmentRow]) -> str | None:
    """The slug of `environments` an unknown `ref` most likely meant ("did you mean prod?"):
    a slug or name equal but for case, a common alias (production → prod, staging → preview,
    and back), else the closest slug or name by difflib. Never `ref` itself."""
    wanted = ref.strip().lower()
    if len(wanted) > 128:  # longer than any slug or name: nothing is close, and difflib is slow
        return None
    by_word: dict[str, str] = {}
    for env in environments:
        by_word.setdefault(env.slug, env.slug)
        by_word.setdefault(env.name.strip().lower(), env.slug)
    if wanted in by_word:
        found = by_word[wanted]
        return found if found != ref else None
    for slug, aliases in _ALIASES.items():
        family = (slug, *aliases)  # the slug itself first
        known = [word for word in family if word in by_word]
        if wanted in family and known:
            return by_word[known[0]]
    close = get_close_matches(wanted, list(by_word), n=1, cutoff=0.6)
    return by_word[close[0]] if close else None


class CatalogService:
    def __init__(self, store: EventStore, writer: Writer) -> None:
        self._store, self._writer = store, writer

    async def create_org(self, name: str, actor: Actor) -> OrgRow:
        """The creating user becomes the org's first admin, in the same transaction."""
        if actor.kind != "user":
            raise Forbidden("only a signed-in user can create an org")
        org_id = self._writer.ids()
        command = orgs.CreateOrg(org_id, name, actor.id)
        await self._writer.command(org_stream(org_id), orgs, command, actor)
        return await self._one(OrgRow, org_id, "org")

    async def create_project(self, org_id: str, name: str, actor: Actor) -> ProjectRow:
        await self._one(OrgRow, org_id, "org")
        project_id = self._writer.ids()
        await self._change(project_id, projects.CreateProject(project_id, org_id, name), actor)
        return await self._one(ProjectRow, project_id, "project")

    async def rename_project(self, project_id: str, name: str, actor: Actor) -> ProjectRow:
        await self._change(project_id, projects.RenameProject(name), actor)
        return await self._one(ProjectRow, project_id, "project")

    async def delete_project(self, project_id: str, actor: Actor) -> None:
        await self._change(project_id, projects.DeleteProject(), actor)

    async def create_environment(
        self, project_id: str, name: str, slug: str, actor: Actor
    ) -> EnvironmentRow:
        [created] = await self._change(project_id, projects.CreateEnvironment(name, slug), actor)
        return await self._one(EnvironmentRow, created, "environment")

    async def rename_environment(
        self,
        project_id: str,
        environment_id: str,
        actor: Actor,
        *,
        name: str | None = None,
        slug: str | None = None,
    ) -> EnvironmentRow:
        await self._change(
            project_id, projects.RenameEnvironment(environment_id, name, slug), actor
        )
        return await self._one(EnvironmentRow, environment_id, "environment")

    async def delete_environment(self, project_id: str, environment_id: str, actor: Actor) -> None:
        await self._change(project_id, projects.DeleteEnvironment(environment_id), actor)

    async def find_environment(self, project_id: str | None, ref: str) -> EnvironmentRow | None:
        """An environment by id in any project, else by slug within `project_id` (none: by
        id only) (behaviour.md 6.2). Callers check who may reach the project it belongs to."""
        by_id = await self._store.get(EnvironmentRow, (ref,))
        if by_id is not None or project_id is None:
            return by_id
        return next((env for env in await self.environments(project_id) if env.slug == ref), None)

    async def environments(self, project_id: str) -> list[EnvironmentRow]:
        """In creation order."""
        return await self._store.select(EnvironmentRow, "project_id", project_id)

    async def org(self, org_id: str) -> OrgRow | None:
        return await self._store.get(OrgRow, (org_id,))

    async def projects(self, org_id: str) -> list[ProjectRow]:
        """The org's projects, newest first."""
        return list(reversed(await self._store.select(ProjectRow, "org_id", org_id)))

    async def _change(self, project_id: str, command: ProjectCommand, actor: Actor) -> list[str]:
        """Decide on the project's stream; answers the ids of environments the change created."""

        recorded = await self._writer.command(project_stream(project_id), projects, command, actor)
        return [e.event.environment_id for e in recorded if isinstance(e.event, EnvironmentCreated)]

    async def _one(self, table: type[R], id: str, what: str) -> R:
        row = await self._store.get(table, (id,))
        if row is None:
            raise NotFound(what)
        return row
