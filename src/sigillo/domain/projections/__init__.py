"""Projections: pure folds from recorded events to read-model rows.

`apply(view, event)` gives the row operations for one event, asking every read model in
turn. Stores execute them in the transaction that appends the event; a rebuild replays
the whole log through the same function into MemoryTables.
"""

from __future__ import annotations

from sigillo.domain.events import RecordedEvent
from sigillo.domain.projections import access, catalog, current_secrets, org_projects
from sigillo.domain.projections.rows import (
    ApiTokenRow,
    CurrentSecretRow,
    EnvironmentRow,
    InvitationRow,
    KeyUsageRow,
    MembershipRow,
    Op,
    OrgProjectRow,
    OrgRow,
    ProjectRow,
    Row,
    UserRow,
    View,
)

__all__ = ["TABLES", "apply"]

TABLES: tuple[type[Row], ...] = (
    OrgRow,
    ProjectRow,
    OrgProjectRow,
    EnvironmentRow,
    CurrentSecretRow,
    KeyUsageRow,
    MembershipRow,
    InvitationRow,
    ApiTokenRow,
    UserRow,
)


def apply(view: View, recorded: RecordedEvent) -> list[Op]:
    return [
        *catalog.apply(view, recorded),
        *current_secrets.apply(view, recorded),
        *access.apply(view, recorded),
        *org_projects.apply(view, recorded),
    ]
