"""An org's sign-in policy (issue 20): whether members must have signed in through single
sign-on, with a second factor, or both. Session only: members read it, admins set it.

Setting a policy the admin's own session would fail is refused (422), so no admin locks
themself out; requiring single sign-on on a server without a provider is refused too. A
member whose session falls short is refused on every route of the org with a 403 that
says what to do (services/sign_in_policy.py); API tokens are not bound by it.
"""

from __future__ import annotations

import msgspec
from litestar import Request, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environments import PathId
from sigillo.api.members import ORG
from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.projections.rows import OrgRow
from sigillo.services.container import Services
from sigillo.settings import Settings

__all__ = ["ROUTES"]

POLICY = ORG + "/sign-in-policy"


class SignInPolicy(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    require_sso: bool
    require_two_factor: bool


def _strictly(body: bytes) -> SignInPolicy:
    """The body again, decoded strictly: a switch is `true` or `false`, never 0 or "yes"
    (the framework's conversion is lax, and a policy is no place for guessing)."""
    try:
        return msgspec.json.decode(body, type=SignInPolicy)
    except msgspec.ValidationError as bad:
        raise InvalidInput("body", str(bad).split(" - at ")[0]) from None


def _policy(org: OrgRow) -> SignInPolicy:
    return SignInPolicy(bool(org.require_sso), bool(org.require_two_factor))


@get(POLICY, operation_id="getSignInPolicy", summary="How an org's members must sign in")
async def get_policy(
    org_id: PathId,
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
) -> SignInPolicy:
    """Any member may read it (a member whose session falls short gets the 403 that says
    what to do)."""
    await services.access.require_member(org_id, session_principal.actor)
    org = await services.store.get(OrgRow, (org_id,))
    if org is None:
        raise NotFound("org")
    return _policy(org)


@put(
    POLICY,
    operation_id="setSignInPolicy",
    summary="Require single sign-on or two-factor authentication",
    opt={"errors": (422,)},
)
async def set_policy(
    request: Request,  # type: ignore[type-arg]
    org_id: PathId,
    data: JSONBody[SignInPolicy],
    session_principal: NamedDependency[Principal],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
) -> SignInPolicy:
    """Admins only. 422 when the policy would shut out the admin's own session, or requires
    single sign-on on a server that offers none."""
    data = _strictly(await request.body())
    org = await services.access.set_sign_in_policy(
        org_id,
        session_principal.actor,
        require_sso=data.require_sso,
        require_two_factor=data.require_two_factor,
        sso_offered=bool(settings.oidc_providers),
    )
    return _policy(org)


ROUTES: list[ControllerRouterHandler] = [get_policy, set_policy]
