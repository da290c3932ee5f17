"""Orgs, projects and environments as read models of their lifecycle events."""

from __future__ import annotations

import msgspec

from sigillo.domain.events import (
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentRenamed,
    OrgCreated,
    ProjectCreated,
    ProjectDeleted,
    ProjectRenamed,
    RecordedEvent,
)
from sigillo.domain.projections.rows import (
    CurrentSecretRow,
    EnvironmentRow,
    Op,
    OrgRow,
    ProjectRow,
    Put,
    Remove,
    RemoveWhere,
    View,
)

__all__ = ["apply"]


def apply(view: View, recorded: RecordedEvent) -> list[Op]:
    event, at, pos = recorded.event, recorded.occurred_at, recorded.position
    if isinstance(event, OrgCreated):
        return [Put(OrgRow(event.org_id, event.name, at, at, pos))]
    if isinstance(event, ProjectCreated):
        return [Put(ProjectRow(event.project_id, event.org_id, event.name, at, at, pos))]
    if isinstance(event, ProjectRenamed):
        project = view.get(ProjectRow, (event.project_id,))
        if project is None:
            return []
        return [Put(msgspec.structs.replace(project, name=event.name, updated_at=at))]
    if isinstance(event, ProjectDeleted):
        environments = view.select(EnvironmentRow, "project_id", event.project_id)
        return [
            *(
                RemoveWhere(CurrentSecretRow, "environment_id", env.key_values()[0])
                for env in environments
            ),
            RemoveWhere(EnvironmentRow, "project_id", event.project_id),
            Remove(ProjectRow, (event.project_id,)),
        ]
    if isinstance(event, EnvironmentCreated):
        row = EnvironmentRow(
            event.environment_id, event.project_id, event.name, event.slug, at, at, pos
        )
        return [Put(row)]
    if isinstance(event, EnvironmentRenamed):
        env = view.get(EnvironmentRow, (event.environment_id,))
        if env is None:
            return []
        return [Put(msgspec.structs.replace(env, name=event.name, slug=event.slug, updated_at=at))]
    if isinstance(event, EnvironmentDeleted):
        return [
            RemoveWhere(CurrentSecretRow, "environment_id", event.environment_id),
            Remove(EnvironmentRow, (event.environment_id,)),
        ]
    return []
