"""Orgs, projects and environments as read models of their lifecycle events."""

from __future__ import annotations

import msgspec

from sigillo.domain.events import (
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentRenamed,
    OrgCreated,
    OrgDeleted,
    OrgSignInPolicySet,
    ProjectCreated,
    ProjectDeleted,
    ProjectRenamed,
    RecordedEvent,
)
from sigillo.domain.projections.rows import (
    ApiTokenRow,
    CurrentSecretRow,
    EnvironmentRow,
    InvitationRow,
    MembershipRow,
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
    if isinstance(event, OrgSignInPolicySet):
        org = view.get(OrgRow, (event.org_id,))
        if org is None:
            return []
        policy = {"require_sso": event.require_sso, "require_two_factor": event.require_two_factor}
        return [Put(msgspec.structs.replace(org, **policy, updated_at=at))]
    if isinstance(event, ProjectCreated):
        return [Put(ProjectRow(event.project_id, event.org_id, event.name, at, at, pos))]
    if isinstance(event, ProjectRenamed):
        project = view.get(ProjectRow, (event.project_id,))
        if project is None:
            return []
        return [Put(msgspec.structs.replace(project, name=event.name, updated_at=at))]
    if isinstance(event, ProjectDeleted):
        return _remove_project(view, event.project_id)
    if isinstance(event, OrgDeleted):
        projects = view.select(ProjectRow, "org_id", event.org_id)
        return [
            *(op for project in projects for op in _remove_project(view, project.key_values()[0])),
            RemoveWhere(MembershipRow, "org_id", event.org_id),
            RemoveWhere(InvitationRow, "org_id", event.org_id),
            Remove(OrgRow, (event.org_id,)),
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


def _remove_project(view: View, project_id: str) -> list[Op]:
    """A project goes with its environments, their secrets and its tokens (the log keeps
    every event, so the audit trail and token attribution survive)."""
    environments = view.select(EnvironmentRow, "project_id", project_id)
    return [
        *(RemoveWhere(CurrentSecretRow, "environment_id", e.key_values()[0]) for e in environments),
        RemoveWhere(EnvironmentRow, "project_id", project_id),
        RemoveWhere(ApiTokenRow, "project_id", project_id),
        Remove(ProjectRow, (project_id,)),
    ]
