"""An organisation, its members and its invite links: one aggregate, one stream.

The rules that span members live here, decided on the org's stream under optimistic
concurrency, so they hold when requests race: an org always keeps at least one admin;
a user is a member at most once; an invitation admits only members, only while it is
unexpired and not revoked, and never someone removed from the org after the link was
made (re-inviting them takes a new link). Who may ask for a change (admins only, for most)
is the services' policy.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from sigillo.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from sigillo.domain.events import (
    Event,
    InvitationCreated,
    InvitationRevoked,
    InvitationUsed,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
    OrgCreated,
    OrgDeleted,
    OrgSignInPolicySet,
    Role,
)
from sigillo.domain.values import display_name

__all__ = [
    "LAST_ADMIN",
    "MEMBERS_ONLY",
    "REMOVED",
    "ROLES",
    "AcceptInvitation",
    "ChangeRole",
    "Command",
    "CreateInvitation",
    "CreateOrg",
    "DeleteOrg",
    "Invitation",
    "Member",
    "OrgState",
    "RemoveMember",
    "RevokeInvitation",
    "SetSignInPolicy",
    "authorize",
    "decide",
    "evolve",
    "replay",
]

LAST_ADMIN = "This organization needs at least one admin"
MEMBERS_ONLY = "invite links admit members only: promote someone after they join"
REMOVED = "you were removed from this organization: ask an admin for a new invite link"
ROLES: tuple[Role, ...] = ("admin", "member")


class Member(msgspec.Struct, frozen=True):
    user_id: str
    role: Role


class Invitation(msgspec.Struct, frozen=True):
    role: Role
    token_hash: str
    expires_at: int
    revoked: bool = False
    serial: int = 0  # how many links the org had made before this one


class OrgState(msgspec.Struct, frozen=True):
    org_id: str = ""
    exists: bool = False
    deleted: bool = False
    require_sso: bool = False
    require_two_factor: bool = False
    members: dict[str, Member] = msgspec.field(default_factory=dict)  # by membership id
    invitations: dict[str, Invitation] = msgspec.field(default_factory=dict)
    # user id -> how many links the org had made when that user was last removed: only a
    # link made after that (serial >= it) admits them again
    removed: dict[str, int] = msgspec.field(default_factory=dict)

    def membership_of(self, user_id: str) -> str | None:
        return next((mid for mid, m in self.members.items() if m.user_id == user_id), None)

    def admins(self) -> int:
        return sum(1 for m in self.members.values() if m.role == "admin")


class CreateOrg(msgspec.Struct, frozen=True):
    """The creator becomes the org's first admin."""

    org_id: str
    name: str
    creator_id: str


class DeleteOrg(msgspec.Struct, frozen=True):
    pass


class ChangeRole(msgspec.Struct, frozen=True):
    membership_id: str
    role: str


class RemoveMember(msgspec.Struct, frozen=True):
    membership_id: str


class CreateInvitation(msgspec.Struct, frozen=True):
    token_hash: str
    expires_at: int
    role: str = "member"


class RevokeInvitation(msgspec.Struct, frozen=True):
    invitation_id: str


class AcceptInvitation(msgspec.Struct, frozen=True):
    token_hash: str
    user_id: str


class SetSignInPolicy(msgspec.Struct, frozen=True):
    require_sso: bool
    require_two_factor: bool


Command = (
    CreateOrg
    | DeleteOrg
    | ChangeRole
    | RemoveMember
    | CreateInvitation
    | RevokeInvitation
    | AcceptInvitation
    | SetSignInPolicy
)


def evolve(state: OrgState, event: Event) -> OrgState:
    replace = msgspec.structs.replace
    if isinstance(event, OrgCreated):
        return replace(state, org_id=event.org_id, exists=True)
    if isinstance(event, OrgDeleted):
        return replace(state, deleted=True, members={}, invitations={})
    if isinstance(event, MemberAdded):
        member = Member(event.user_id, event.role)
        return replace(state, members={**state.members, event.membership_id: member})
    if isinstance(event, MemberRoleChanged):
        member = replace(state.members[event.membership_id], role=event.role)
        return replace(state, members={**state.members, event.membership_id: member})
    if isinstance(event, MemberRemoved):
        gone = state.members.get(event.membership_id)
        members = {k: v for k, v in state.members.items() if k != event.membership_id}
        removed = {**state.removed, gone.user_id: len(state.invitations)} if gone else state.removed
        return replace(state, members=members, removed=removed)
    if isinstance(event, OrgSignInPolicySet):
        return replace(
            state, require_sso=event.require_sso, require_two_factor=event.require_two_factor
        )
    if isinstance(event, InvitationCreated):
        serial = len(state.invitations)
        invitation = Invitation(event.role, event.token_hash, event.expires_at, serial=serial)
        return replace(state, invitations={**state.invitations, event.invitation_id: invitation})
    if isinstance(event, InvitationRevoked):
        revoked = replace(state.invitations[event.invitation_id], revoked=True)
        return replace(state, invitations={**state.invitations, event.invitation_id: revoked})
    return state


def replay(events: list[Event]) -> OrgState:
    state = OrgState()
    for event in events:
        state = evolve(state, event)
    return state


def authorize(state: OrgState, user_id: str, *, admin: bool) -> None:
    """Refuse a non-member, or a member where an admin is needed ([D3]). Checked on the
    state a change is decided on, so a role lost a moment ago is already lost."""
    membership = state.membership_of(user_id)
    if membership is None:
        raise Forbidden("forbidden")
    if admin and state.members[membership].role != "admin":
        raise Forbidden("admin role required")


def decide(
    state: OrgState, command: Command, *, now: int, new_id: Callable[[], str]
) -> list[Event]:
    if isinstance(command, CreateOrg):
        if state.exists:
            raise Conflict("org already exists")
        return [
            OrgCreated(command.org_id, display_name(command.name)),
            MemberAdded(command.org_id, new_id(), command.creator_id, "admin"),
        ]
    if not state.exists or state.deleted:
        raise NotFound("org")
    org = state.org_id
    if isinstance(command, DeleteOrg):
        return [OrgDeleted(org)]
    if isinstance(command, CreateInvitation):
        if _role(command.role) != "member":
            raise InvalidInput("role", MEMBERS_ONLY)
        if command.expires_at <= now:
            raise InvalidInput("expiresAt", "must be in the future")
        return [
            InvitationCreated(
                org, new_id(), _role(command.role), command.token_hash, command.expires_at
            )
        ]
    if isinstance(command, RevokeInvitation):
        if command.invitation_id not in state.invitations:
            raise NotFound("invitation")
        return [InvitationRevoked(org, command.invitation_id)]
    if isinstance(command, AcceptInvitation):
        return _accept(state, command, now=now, new_id=new_id)
    if isinstance(command, SetSignInPolicy):
        wanted = (command.require_sso, command.require_two_factor)
        if wanted == (state.require_sso, state.require_two_factor):
            return []  # the policy the org already has: a no-op that succeeds
        return [OrgSignInPolicySet(org, *wanted)]
    member = state.members.get(command.membership_id)
    if member is None:
        raise NotFound("member")
    if isinstance(command, RemoveMember):
        if member.role == "admin" and state.admins() == 1:
            raise Conflict(LAST_ADMIN)
        return [MemberRemoved(org, command.membership_id)]
    role = _role(command.role)
    if role == member.role:
        return []  # setting the role a member already has is a no-op that succeeds
    if member.role == "admin" and state.admins() == 1:
        raise Conflict(LAST_ADMIN)
    return [MemberRoleChanged(org, command.membership_id, role)]


def _accept(
    state: OrgState, command: AcceptInvitation, *, now: int, new_id: Callable[[], str]
) -> list[Event]:
    found = next(
        ((k, i) for k, i in state.invitations.items() if i.token_hash == command.token_hash),
        None,
    )
    if found is None or found[1].revoked or found[1].expires_at <= now:
        raise NotFound("invitation")  # one answer for unknown, expired and revoked links
    invitation_id, invitation = found
    if invitation.role != "member":
        raise NotFound("invitation")  # a link of before links admitted members only
    if state.membership_of(command.user_id) is not None:
        return []  # already a member: accepting again changes nothing
    if invitation.serial < state.removed.get(command.user_id, 0):
        raise Forbidden(REMOVED)
    user = command.user_id
    return [
        InvitationUsed(state.org_id, invitation_id, user),
        MemberAdded(state.org_id, new_id(), user, "member"),
    ]


def _role(role: str) -> Role:
    if role == "admin":
        return "admin"
    if role == "member":
        return "member"
    raise InvalidInput("role", "must be admin or member")
