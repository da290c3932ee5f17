"""Making an account: sign-up, and the first account at first run [D17].

Sign-up is open only when the server allows it (`SIGILLO_ALLOW_SIGNUP=1`); otherwise it
needs a live invitation, and the new account joins that org in the same request. First-run
setup makes the first account with the one-time token the server logged at start, and only
while no account exists. Both answer like sign-in: `{"token", "user", "csrfToken"}` and the
session cookie, and, like sign-in, refuse a request another site's page sent (403,
sigillo.http.origin.refuse_cross_site).
"""

from __future__ import annotations

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.invitations import InvitationGone
from sigillo.api.sessions import SignedIn, client_of, signed_in
from sigillo.domain.errors import NotFound
from sigillo.domain.events import Actor
from sigillo.domain.projections.rows import UserRow
from sigillo.http.origin import refuse_cross_site
from sigillo.services.container import Services
from sigillo.settings import Settings

__all__ = ["ROUTES"]


class SignUpBody(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str
    name: str
    invitation: str | None = None  # an invite link's token


class SetupBody(msgspec.Struct, forbid_unknown_fields=True):
    token: str
    email: str
    password: str
    name: str


async def _session_for(
    request: Request,  # type: ignore[type-arg]
    services: Services,
    settings: Settings,
    user: UserRow,
) -> Response[SignedIn]:
    ip_address, user_agent = client_of(request)
    token, _ = await services.accounts.start_session(
        user, ip_address=ip_address, user_agent=user_agent
    )
    return signed_in(request, settings, token, user)


@post(
    "/api/auth/sign-up/email",
    operation_id="signUp",
    summary="Create an account (open sign-up, or with an invitation)",
    status_code=200,
    opt={"rate_limit": "sign-up", "errors": (403, 404, 409)},
    guards=[refuse_cross_site],
)
async def sign_up(
    request: Request,  # type: ignore[type-arg]
    data: JSONBody[SignUpBody],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
) -> Response[SignedIn]:
    """403 `sign-up is by invitation only` when sign-up is closed and no live invitation is
    given; 404 `invitation not found or expired` when sign-up is open but the invitation
    given is not live (the caller asked to join an org: no account is made); 409 for an
    email that already has an account."""
    invited = False
    if data.invitation is not None:
        try:
            await services.access.invitation(data.invitation)
            invited = True
        except NotFound:
            if settings.allow_signup:
                raise InvitationGone from None
    user = await services.accounts.sign_up(
        data.email, data.name, data.password, open_signup=settings.allow_signup, invited=invited
    )
    if invited and data.invitation is not None:
        try:
            await services.access.accept_invitation(data.invitation, Actor("user", user.id))
        except NotFound:  # revoked or expired in the moment since it was checked
            raise InvitationGone from None
    return await _session_for(request, services, settings, user)


@post(
    "/api/auth/setup",
    operation_id="completeSetup",
    summary="Create the first account with the setup token the server logged",
    status_code=200,
    opt={"rate_limit": "sign-up", "errors": (403, 409)},
    guards=[refuse_cross_site],
)
async def setup(
    request: Request,  # type: ignore[type-arg]
    data: JSONBody[SetupBody],
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
) -> Response[SignedIn]:
    """409 once any account exists; 403 `invalid setup token` for a token the server did
    not issue (or one already used)."""
    user = await services.accounts.complete_setup(data.token, data.email, data.name, data.password)
    return await _session_for(request, services, settings, user)


ROUTES: list[ControllerRouterHandler] = [sign_up, setup]
