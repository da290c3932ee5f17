"""`GET /api/auth/providers`: the single sign-on providers this server offers (issue 20),
for clients that show sign-in choices. Public, like the sign-in page's buttons; it names
each provider and the dashboard URL that starts a sign-in with it, never an issuer, a
client id or a secret.
"""

from __future__ import annotations

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.services.container import Services
from sigillo.settings import Settings

__all__ = ["ROUTES", "SsoProvider"]


class SsoProvider(msgspec.Struct, frozen=True):
    """One provider: `url` starts a sign-in with it in a browser."""

    id: str
    label: str
    url: str


@get(
    "/api/auth/providers",
    operation_id="listSignInProviders",
    summary="The single sign-on (OpenID Connect) providers people may sign in with",
)
async def providers(
    request: Request,  # type: ignore[type-arg]
    services: NamedDependency[Services],
    settings: NamedDependency[Settings],
) -> Response[list[SsoProvider]]:
    origin = (settings.public_url or str(request.base_url)).rstrip("/")
    listed = [
        SsoProvider(provider.name, provider.button, f"{origin}/login/sso/{provider.name}")
        for provider in services.sso.providers()
    ]
    return Response(listed, headers={"Cache-Control": "no-store"})


ROUTES: list[ControllerRouterHandler] = [providers]
