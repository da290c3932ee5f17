"""The device authorization grant's rules (RFC 8628; behaviour.md 8.2; security.md promise 10).

Pure: every function takes the stored code and the moment, and answers what to keep and
what to tell the caller. The store applies that answer inside one write transaction, which
is what makes an approved code single-use even when several polls race for it.

A code lives 10 minutes. The client polls at most every 5 seconds; a poll that comes too
soon earns `slow_down` and raises the interval the server requires from then on by 5
seconds (RFC 8628 section 3.5: the client adds 5 s to its interval for this and all later
polls). The status `expired` is never stored: a poller that finds its code expired is told
so and the code is deleted, as it is after a denial the poller has seen or a successful
exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sigillo.domain.errors import SigilloError

__all__ = [
    "CLIENT_MISMATCH",
    "DENIED",
    "DEVICE_CODE_EXPIRED",
    "GRANT_TYPE",
    "INTERVAL_MS",
    "INVALID_DEVICE_CODE",
    "INVALID_USER_CODE",
    "LIFETIME_MS",
    "PENDING",
    "PROCESSED",
    "SLOW_DOWN",
    "SLOW_DOWN_STEP_MS",
    "UNSUPPORTED_GRANT_TYPE",
    "USER_CODE_EXPIRED",
    "DeviceCode",
    "DeviceFlowError",
    "Refusal",
    "Status",
    "Transition",
    "decide",
    "new_code",
    "poll",
    "review",
]

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
LIFETIME_MS = 10 * 60 * 1000
INTERVAL_MS = 5_000
SLOW_DOWN_STEP_MS = 5_000

Status = Literal["pending", "approved", "denied"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """An OAuth error answer: `error` is the RFC 6749/8628 code, `description` a fixed text."""

    error: str
    description: str


INVALID_DEVICE_CODE = Refusal("invalid_grant", "Invalid device code")
CLIENT_MISMATCH = Refusal("invalid_grant", "Client ID mismatch")
SLOW_DOWN = Refusal("slow_down", "Polling too frequently")
DEVICE_CODE_EXPIRED = Refusal("expired_token", "Device code has expired")
PENDING = Refusal("authorization_pending", "Authorization pending")
DENIED = Refusal("access_denied", "Access denied")
UNSUPPORTED_GRANT_TYPE = Refusal("unsupported_grant_type", "Unsupported grant type")
INVALID_USER_CODE = Refusal("invalid_request", "Invalid user code")
USER_CODE_EXPIRED = Refusal("expired_token", "User code has expired")
PROCESSED = Refusal("invalid_request", "Device code already processed")


class DeviceFlowError(SigilloError):
    """A device-flow request refused with an OAuth error (400 at the API)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.description)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """A device authorization request as stored. The device and user codes themselves are
    not part of it: the store keeps only their SHA-256 hashes, as lookup keys."""

    id: str
    client_id: str
    scope: str
    ip_address: str  # of the client that asked for the code, shown on the consent screen
    status: Status
    user_id: str | None  # who approved or denied it
    created_at: int
    expires_at: int
    interval_ms: int  # the least time between two polls the server accepts
    last_polled_at: int | None
    # how the approving session was signed in; the session the CLI gets inherits it, so an
    # org's sign-in policy (single sign-on, two-factor) binds the CLI as it binds the browser
    sso_provider: str = ""
    two_factor: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    """What one request does: `before` is the stored code (None: there is none), `after`
    what to store instead (None: delete it), `refusal` the error to answer (None: success)."""

    before: DeviceCode | None
    after: DeviceCode | None
    refusal: Refusal | None


def new_code(id: str, client_id: str, scope: str, ip_address: str, *, now: int) -> DeviceCode:
    return DeviceCode(
        id, client_id, scope, ip_address, "pending", None, now, now + LIFETIME_MS, INTERVAL_MS,
        None,
    )  # fmt: skip


def poll(code: DeviceCode | None, client_id: str, *, now: int) -> Transition:
    """One poll of the token endpoint, checked in behaviour.md 8.2's order."""
    if code is None:
        return Transition(None, None, INVALID_DEVICE_CODE)
    if client_id != code.client_id:
        return Transition(code, code, CLIENT_MISMATCH)
    if code.last_polled_at is not None and now - code.last_polled_at < code.interval_ms:
        slower = replace(code, interval_ms=code.interval_ms + SLOW_DOWN_STEP_MS)
        return Transition(code, slower, SLOW_DOWN)
    polled = replace(code, last_polled_at=now)
    if now >= code.expires_at:
        return Transition(code, None, DEVICE_CODE_EXPIRED)
    if code.status == "pending":
        return Transition(code, polled, PENDING)
    if code.status == "denied":
        return Transition(code, None, DENIED)
    return Transition(code, None, None)  # approved: exchanged exactly once


def review(code: DeviceCode | None, *, now: int) -> Refusal | None:
    """Whether a user code may be shown on the consent screen (None: it may)."""
    if code is None:
        return INVALID_USER_CODE
    if now >= code.expires_at:
        return USER_CODE_EXPIRED
    return None


def decide(
    code: DeviceCode | None,
    user_id: str,
    *,
    approve: bool,
    now: int,
    sso_provider: str = "",
    two_factor: bool = False,
) -> Transition:
    """The signed-in user's Approve or Deny on the consent screen, with how their session
    was signed in."""
    refusal = review(code, now=now)
    if code is None or refusal is not None:
        return Transition(code, code, refusal)
    if code.status != "pending":
        return Transition(code, code, PROCESSED)
    status: Status = "approved" if approve else "denied"
    decided = replace(
        code, status=status, user_id=user_id, sso_provider=sso_provider, two_factor=two_factor
    )
    return Transition(code, decided, None)
