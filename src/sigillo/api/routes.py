"""Every route of the JSON API, and the dependencies its handlers may ask for."""

from __future__ import annotations

from typing import Any

from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from sigillo.api import (
    auth,
    device,
    environment_secrets,
    environments,
    health,
    orgs,
    projects,
    secrets,
    sessions,
    tokens,
    user_sessions,
)
from sigillo.api.audit import ROUTES as AUDIT_ROUTES
from sigillo.api.history import ROUTES as HISTORY_ROUTES
from sigillo.api.invitations import ROUTES as INVITATION_ROUTES
from sigillo.api.members import ROUTES as MEMBER_ROUTES
from sigillo.api.sign_in_policy import ROUTES as SIGN_IN_POLICY_ROUTES
from sigillo.api.signup import ROUTES as SIGNUP_ROUTES
from sigillo.api.sso import ROUTES as SSO_ROUTES
from sigillo.api.two_factor import ROUTES as TWO_FACTOR_ROUTES
from sigillo.api.verify import ROUTES as VERIFY_ROUTES
from sigillo.api.watch import ROUTES as WATCH_ROUTES

__all__ = ["DEPENDENCIES", "ROUTES"]

ROUTES: list[ControllerRouterHandler] = [
    health.health,
    health.live,
    health.ready,
    health.info,
    sessions.sign_in,
    sessions.session_info,
    sessions.sign_out,
    *user_sessions.ROUTES,
    *TWO_FACTOR_ROUTES,
    *SIGNUP_ROUTES,
    *SSO_ROUTES,
    *orgs.ROUTES,
    *MEMBER_ROUTES,
    *SIGN_IN_POLICY_ROUTES,
    *INVITATION_ROUTES,
    *projects.ROUTES,
    *environments.ROUTES,
    *secrets.ROUTES,
    *environment_secrets.ROUTES,
    *HISTORY_ROUTES,
    *tokens.ROUTES,
    *AUDIT_ROUTES,
    *VERIFY_ROUTES,
    *WATCH_ROUTES,
    *device.ROUTES,
]

DEPENDENCIES: dict[str, Any] = {
    "principal": Provide(auth.principal),
    "session_principal": Provide(auth.session_principal),
    "own_session": Provide(user_sessions.own_session),
}
