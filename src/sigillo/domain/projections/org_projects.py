"""Which projects an org ever had, deleted ones included: the org audit log's index.

A project's row appears with its `project.created` and stays: neither `project.deleted`
nor `org.deleted` removes it, because the log keeps every event of a deleted project and
the audit trail must keep finding them. A row holds ids and the creation's time and
position only, nothing a deletion would need to erase.
"""

from __future__ import annotations

from sigillo.domain.events import ProjectCreated, RecordedEvent
from sigillo.domain.projections.rows import Op, OrgProjectRow, Put, View

__all__ = ["apply"]


def apply(view: View, recorded: RecordedEvent) -> list[Op]:
    event = recorded.event
    if isinstance(event, ProjectCreated):
        row = OrgProjectRow(event.project_id, event.org_id, recorded.occurred_at, recorded.position)
        return [Put(row)]
    return []
