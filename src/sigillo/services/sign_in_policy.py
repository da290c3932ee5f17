"""An org's sign-in policy (issue 20): whether its members must have signed in through
single sign-on, with a second factor, or both. Checked on every access to the org
(services/access.py), against how the request's session was signed in
(services/signed_in.py). API tokens are machine credentials, not bound by it.
"""

from __future__ import annotations

from sigillo.domain.errors import Forbidden, InvalidInput
from sigillo.domain.projections.rows import OrgRow
from sigillo.services.signed_in import SignedInWith

__all__ = [
    "NO_PROVIDER",
    "SSO_REQUIRED",
    "TWO_FACTOR_REQUIRED",
    "PolicyRefused",
    "check",
    "check_own",
]

SSO_REQUIRED = (
    "this organization requires single sign-on: sign out, then sign in with your "
    "organization's provider"
)
TWO_FACTOR_REQUIRED = (
    "this organization requires two-factor authentication: turn it on in your account's "
    "Security page (/account/security), then try again"
)
NO_PROVIDER = "this server offers no single sign-on provider to require"
OWN_SSO = "sign in with single sign-on yourself before requiring it"
OWN_TWO_FACTOR = "turn on two-factor authentication yourself before requiring it"


class PolicyRefused(Forbidden):
    """A member refused for how their session was signed in. Unlike other refusals it is
    never turned into "not found": the member may know the org, and must learn what to do."""


def check(org: OrgRow, facts: SignedInWith | None) -> None:
    """Forbidden, saying what to do, when a session signed in as `facts` may not reach the
    org (None: no session is known, so a policy refuses)."""
    facts = facts or SignedInWith()
    if org.require_sso and not facts.sso_provider:
        raise PolicyRefused(SSO_REQUIRED)
    if org.require_two_factor and not facts.two_factor:
        raise PolicyRefused(TWO_FACTOR_REQUIRED)


def check_own(org: OrgRow, facts: SignedInWith | None) -> None:
    """As `check`, for the admin setting the policy: a policy they would fail themselves
    is refused as input (it would lock them out with their next request)."""
    facts = facts or SignedInWith()
    if org.require_sso and not facts.sso_provider:
        raise InvalidInput("requireSso", OWN_SSO)
    if org.require_two_factor and not facts.two_factor:
        raise InvalidInput("requireTwoFactor", OWN_TWO_FACTOR)
