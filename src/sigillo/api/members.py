"""An org's members and the org itself (behaviour.md 5.3, 9.2, 9.3): session only.

Members may list the org's members; only admins change roles, remove members and delete the
org [D3], except that a member may remove themself (leave). The org always keeps one admin,
also when changes race: the rule is decided on the org's stream (domain/orgs.py). A caller
who is not a member gets 403 `forbidden` whether or not the org exists. Every check reads
the current memberships, so a change applies on the very next request [D4].
"""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import delete, get, patch
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environments import PathId
from sigillo.domain.events import Role
from sigillo.services.container import Services

__all__ = ["ORG", "ROUTES"]

ORG = "/api/v0/orgs/{org_id:str}"
MEMBERS = ORG + "/members"
MEMBER = MEMBERS + "/{membership_id:str}"


class MemberItem(msgspec.Struct, rename="camel"):
    id: str  # the membership's id
    user_id: str
    name: str
    email: str
    role: Role
    created_at: int


class MemberList(msgspec.Struct):
    members: list[MemberItem]


class ChangeRoleBody(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["admin", "member"]


class RoleAnswer(msgspec.Struct, kw_only=True):
    ok: bool = True
    id: str
    role: Role


class Removed(msgspec.Struct, kw_only=True):
    ok: bool = True
    id: str


@get(MEMBERS, operation_id="listMembers", summary="List an org's members")
async def list_members(
    org_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> MemberList:
    """Oldest membership first. Any member may list."""
    found = await services.access.members_with_users(org_id, session_principal.actor)
    return MemberList(
        [
            MemberItem(
                m.id,
                m.user_id,
                user.name if user else "",
                user.email if user else "",
                "admin" if m.role == "admin" else "member",
                m.created_at,
            )
            for m, user in found
        ]
    )


@patch(MEMBER, operation_id="changeMemberRole", summary="Change a member's role")
async def change_role(
    org_id: PathId,
    membership_id: PathId,
    data: JSONBody[ChangeRoleBody],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> RoleAnswer:
    """Admins only. The role a member already has is a no-op that succeeds; demoting the
    last admin is 409 `This organization needs at least one admin`."""
    await services.access.change_role(org_id, membership_id, data.role, session_principal.actor)
    return RoleAnswer(id=membership_id, role=data.role)


@delete(MEMBER, operation_id="removeMember", summary="Remove a member", status_code=200)
async def remove_member(
    org_id: PathId,
    membership_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> Removed:
    """Admins remove anyone; a member may remove themself. Removing the last admin is 409."""
    await services.access.remove_member(org_id, membership_id, session_principal.actor)
    return Removed(id=membership_id)


@delete(
    ORG, operation_id="deleteOrg", summary="Delete an org and everything in it", status_code=200
)
async def delete_org(
    org_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> Removed:
    """Admins only: its memberships, invitations, projects, environments, secrets and tokens
    go with it (the log keeps its events)."""
    await services.access.delete_org(org_id, session_principal.actor)
    return Removed(id=org_id)


ROUTES: list[ControllerRouterHandler] = [list_members, change_role, remove_member, delete_org]
