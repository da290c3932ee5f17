"""Who may reach what: accounts, memberships, invite links and API tokens as read models.

An email belongs to one account: the projection refuses a second registration of it,
inside the append's transaction, so two racing sign-ups cannot both succeed."""

from __future__ import annotations

import msgspec

from sigillo.domain.errors import Conflict
from sigillo.domain.events import (
    InvitationCreated,
    InvitationRevoked,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
    RecordedEvent,
    TokenCreated,
    TokenRevoked,
    UserRegistered,
)
from sigillo.domain.projections.rows import (
    ApiTokenRow,
    InvitationRow,
    MembershipRow,
    Op,
    Put,
    Remove,
    UserRow,
    View,
)

__all__ = ["EMAIL_TAKEN", "apply"]

EMAIL_TAKEN = "an account with this email already exists"


def apply(view: View, recorded: RecordedEvent) -> list[Op]:
    event, at, pos, actor = recorded.event, recorded.occurred_at, recorded.position, recorded.actor
    if isinstance(event, UserRegistered):
        if view.select(UserRow, "email", event.email):
            raise Conflict(EMAIL_TAKEN)
        return [Put(UserRow(event.user_id, event.email, event.name, at, pos))]
    if isinstance(event, MemberAdded):
        row = MembershipRow(event.membership_id, event.org_id, event.user_id, event.role, at, pos)
        return [Put(row)]
    if isinstance(event, MemberRoleChanged):
        member = view.get(MembershipRow, (event.membership_id,))
        return [Put(msgspec.structs.replace(member, role=event.role))] if member else []
    if isinstance(event, MemberRemoved):
        return [Remove(MembershipRow, (event.membership_id,))]
    if isinstance(event, InvitationCreated):
        invitation = InvitationRow(
            event.invitation_id, event.org_id, event.role, event.token_hash,
            event.expires_at, actor.id, at, None, pos,
        )  # fmt: skip
        return [Put(invitation)]
    if isinstance(event, InvitationRevoked):
        return _revoke(view.get(InvitationRow, (event.invitation_id,)), at)
    if isinstance(event, TokenCreated):
        token = ApiTokenRow(
            event.token_id, event.project_id, event.environment_id, event.name, event.prefix,
            event.token_hash, event.access, event.expires_at, actor.id, at, None, pos,
        )  # fmt: skip
        return [Put(token)]
    if isinstance(event, TokenRevoked):
        return _revoke(view.get(ApiTokenRow, (event.token_id,)), at)
    return []


def _revoke(row: object, at: int) -> list[Op]:
    """Record the first revocation time; revoking again changes nothing."""
    if isinstance(row, InvitationRow | ApiTokenRow) and row.revoked_at is None:
        return [Put(msgspec.structs.replace(row, revoked_at=at))]
    return []
