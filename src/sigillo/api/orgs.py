"""Orgs and the current user (behaviour.md 6.4): session only, API tokens get 401."""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.domain.events import Role
from sigillo.domain.projections.rows import OrgRow
from sigillo.services.container import Services

__all__ = ["ROUTES"]


class CreateOrgBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class CreateOrgAnswer(msgspec.Struct, kw_only=True):
    ok: bool = True
    id: str
    name: str


class OrgItem(msgspec.Struct, rename="camel"):
    id: str
    name: str
    role: Role
    created_at: int
    updated_at: int


class OrgList(msgspec.Struct):
    orgs: list[OrgItem]


class MeUser(msgspec.Struct):
    id: str
    name: str
    email: str


class MeOrg(msgspec.Struct):
    id: str
    name: str
    role: Role


class Me(msgspec.Struct):
    user: MeUser
    orgs: list[MeOrg]


@post("/api/v0/orgs", operation_id="createOrg", summary="Create an org", status_code=200)
async def create_org(
    data: JSONBody[CreateOrgBody],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> CreateOrgAnswer:
    """The caller becomes the org's first admin."""
    org = await services.catalog.create_org(data.name, session_principal.actor)
    return CreateOrgAnswer(id=org.id, name=org.name)


@get("/api/v0/orgs", operation_id="listOrgs", summary="List the caller's orgs")
async def list_orgs(
    session_principal: NamedDependency[Principal], services: NamedDependency[Services]
) -> OrgList:
    memberships = await services.access.orgs_of(session_principal.actor)
    return OrgList([_org_item(org, role) for org, role in memberships])


@get("/api/v0/me", operation_id="getMe", summary="The current user and their orgs")
async def me(
    session_principal: NamedDependency[Principal], services: NamedDependency[Services]
) -> Me:
    user = session_principal.user
    memberships = await services.access.orgs_of(session_principal.actor)
    return Me(
        user=MeUser(
            id=session_principal.actor.id,
            name=user.name if user else "",
            email=user.email if user else "",
        ),
        orgs=[MeOrg(org.id, org.name, role) for org, role in memberships],
    )


def _org_item(org: OrgRow, role: Role) -> OrgItem:
    return OrgItem(org.id, org.name, role, org.created_at, org.updated_at)


ROUTES: list[ControllerRouterHandler] = [create_org, list_orgs, me]
