"""Every route of the JSON API, and the dependencies its handlers may ask for."""

from __future__ import annotations

from typing import Any

from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from sigillo.api import auth, environments, health, orgs, projects, secrets, sessions, tokens

__all__ = ["DEPENDENCIES", "ROUTES"]

ROUTES: list[ControllerRouterHandler] = [
    health.health,
    health.info,
    sessions.sign_in,
    sessions.sign_out,
    *orgs.ROUTES,
    *projects.ROUTES,
    *environments.ROUTES,
    *secrets.ROUTES,
    *tokens.ROUTES,
]

DEPENDENCIES: dict[str, Any] = {
    "principal": Provide(auth.principal),
    "session_principal": Provide(auth.session_principal),
}
