"""Invite links (behaviour.md 9.1, [D3]).

Admins create, list and revoke an org's links. A link is `<origin>/invite/<token>`; the
token is shown once, in the create answer (`Cache-Control: no-store`), and only its SHA-256
is kept, so listings never hold it. Links admit members only (promote after joining); a
listing says who joined through each. Anyone holding a token may see what it offers,
without a session; a signed-in user accepts it to join the org (again: nothing changes).
Unknown, expired and revoked links all answer the same 404; someone removed from the org
after a link was made gets 403 from it (re-inviting them takes a new link).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environments import PathId
from sigillo.api.members import ORG
from sigillo.domain.errors import NotFound, SigilloError
from sigillo.domain.events import Role
from sigillo.domain.projections.rows import InvitationRow
from sigillo.services.access import INVITATION_DAYS, InvitationUse
from sigillo.services.container import Services
from sigillo.settings import Settings

__all__ = ["INVITATION_GONE", "ROUTES", "InvitationGone"]

INVITATIONS = ORG + "/invitations"
INVITATION = INVITATIONS + "/{invitation_id:str}"
LINK = "/api/v0/invitations/{token:str}"
INVITATION_GONE = "invitation not found or expired"
NO_STORE = {"Cache-Control": "no-store"}


class InvitationGone(NotFound):
    """A 404 that says the same for an unknown, an expired and a revoked link."""

    def __init__(self) -> None:
        SigilloError.__init__(self, INVITATION_GONE)
        self.what = "invitation"


class CreateInvitationBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    role: Literal["member"] = "member"  # links admit members: promote after joining
    expires_in_days: Annotated[int, msgspec.Meta(ge=INVITATION_DAYS[0], le=INVITATION_DAYS[1])] = 7


class InvitationUseItem(msgspec.Struct, rename="camel"):
    user_id: str
    at: int


class InvitationItem(msgspec.Struct, rename="camel"):
    id: str
    role: Role
    created_by: str
    created_at: int
    expires_at: int
    revoked_at: int | None
    used_by: list[InvitationUseItem]  # who joined through it, oldest first


class InvitationList(msgspec.Struct):
    invitations: list[InvitationItem]


class Revoked(msgspec.Struct, kw_only=True):
    ok: bool = True
    id: str


class InvitationCreated(msgspec.Struct, kw_only=True, rename="camel"):
    """The link and its token, answered once."""

    ok: bool = True
    id: str
    url: str
    token: str
    role: Role
    expires_at: int

    def __repr__(self) -> str:  # never the token
        return f"InvitationCreated(id={self.id!r}, <token hidden>)"


class InvitationView(msgspec.Struct, rename="camel"):
    org_id: str
    org_name: str
    inviter_name: str
    role: Role
    expires_at: int


class Accepted(msgspec.Struct, kw_only=True, rename="camel"):
    ok: bool = True
    id: str  # the membership's id
    org_id: str
    role: Role


def _role(stored: str) -> Role:
    return "admin" if stored == "admin" else "member"


def _item(row: InvitationRow, uses: list[InvitationUse]) -> InvitationItem:
    used_by = [InvitationUseItem(use.user_id, use.at) for use in uses]
    return InvitationItem(
        row.id, _role(row.role), row.created_by, row.created_at, row.expires_at, row.revoked_at,
        used_by,
    )  # fmt: skip


def _origin(request: Request, settings: Settings) -> str:  # type: ignore[type-arg]
    """Where users reach this server: the configured public URL, else the request's own."""
    return settings.public_url or str(request.base_url).rstrip("/")


@post(
    INVITATIONS, operation_id="createInvitation", summary="Create an invite link", status_code=200
)
async def create_invitation(
    request: Request,  # type: ignore[type-arg]
    org_id: PathId,
    data: JSONBody[CreateInvitationBody],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
) -> Response[InvitationCreated]:
    """Admins only. Answers the link and its token once; they are never shown again."""
    row, token = await services.access.create_invitation(
        org_id, session_principal.actor, role=data.role, days=data.expires_in_days
    )
    body = InvitationCreated(
        id=row.id,
        url=f"{_origin(request, settings)}/invite/{token}",
        token=token,
        role=_role(row.role),
        expires_at=row.expires_at,
    )
    return Response(body, status_code=200, headers=NO_STORE)


@get(INVITATIONS, operation_id="listInvitations", summary="List an org's invite links")
async def list_invitations(
    org_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> InvitationList:
    """Admins only. Newest first, revoked and expired links included, each with who joined
    through it; never a token."""
    rows = await services.access.invitations(org_id, session_principal.actor)
    uses = await services.access.invitation_uses(org_id, session_principal.actor)
    return InvitationList([_item(row, uses.get(row.id, [])) for row in reversed(rows)])


@delete(
    INVITATION, operation_id="revokeInvitation", summary="Revoke an invite link", status_code=200
)
async def revoke_invitation(
    org_id: PathId,
    invitation_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> Revoked:
    """Admins only. The link admits nobody from the next request on; revoking again is 200."""
    await services.access.revoke_invitation(org_id, invitation_id, session_principal.actor)
    return Revoked(id=invitation_id)


@get(LINK, operation_id="getInvitation", summary="What an invite link offers (no session)")
async def get_invitation(
    token: PathId, services: NamedDependency[Services]
) -> Response[InvitationView]:
    try:
        found = await services.access.invitation(token)
    except NotFound:
        raise InvitationGone from None
    view = InvitationView(
        found.org.id,
        found.org.name,
        found.inviter.name if found.inviter else "",
        _role(found.invitation.role),
        found.invitation.expires_at,
    )
    return Response(view, status_code=200, headers=NO_STORE)


@post(LINK + "/accept", operation_id="acceptInvitation", summary="Join an org", status_code=200)
async def accept_invitation(
    token: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> Accepted:
    """Joins the link's org as a member; a member already is left as they are. Someone
    removed from the org after the link was made is refused (403): that takes a new link."""
    try:
        membership = await services.access.accept_invitation(token, session_principal.actor)
    except NotFound:
        raise InvitationGone from None
    return Accepted(id=membership.id, org_id=membership.org_id, role=_role(membership.role))


ROUTES: list[ControllerRouterHandler] = [
    create_invitation,
    list_invitations,
    revoke_invitation,
    get_invitation,
    accept_invitation,
]
