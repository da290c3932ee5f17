"""How long an account's sign-ins must wait after failures (issue 13, finding 5). Pure.

Every sign-in for an email address counts against that address, whether or not an account
has it, so the limit answers alike for both and reveals nothing. An attempt is recorded
before its password is checked and forgotten only when the password was right: attempts in
flight count, so parallel guesses from many addresses cannot slip past together.

The first `FREE_ATTEMPTS` failures within `WINDOW_MS` cost nothing; after that each attempt
must wait `BASE_WAIT_MS` doubled per further failure, at most `MAX_WAIT_MS`, counted from
the latest one. A successful sign-in clears nothing but its own attempt: an attacker's
failures keep counting whoever signs in meanwhile, and age out of the window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "BASE_WAIT_MS",
    "FREE_ATTEMPTS",
    "MAX_WAIT_MS",
    "RETENTION_MS",
    "WINDOW_MS",
    "sign_in_key",
    "sign_in_wait",
]

FREE_ATTEMPTS = 5
WINDOW_MS = 60 * 60 * 1000  # failures older than an hour no longer slow anyone down
BASE_WAIT_MS = 1000
MAX_WAIT_MS = 15 * 60 * 1000
RETENTION_MS = 30 * 24 * 3600 * 1000  # failed sign-ins are kept for the audit this long
_KEY_CONTEXT = b"sigillo:sign-in:v1\x00"


def sign_in_key(address: str) -> str:
    """The key an email's attempts are counted and audited under: SHA-256 (hex) of the
    address as accounts normalise it (trimmed, lower case), with a fixed context. Any text
    has a key: an address that is not valid counts like one that is."""
    return hashlib.sha256(
        _KEY_CONTEXT + address.strip().lower().encode("utf-8", "replace")
    ).hexdigest()


def sign_in_wait(attempts: Sequence[int], now: int) -> int | None:
    """Given the times (ms) of an email's unforgiven attempts, the milliseconds a new one
    must still wait, or None when it may go ahead."""
    recent = [at for at in attempts if now - WINDOW_MS <= at]
    if len(recent) < FREE_ATTEMPTS:
        return None
    wait = min(MAX_WAIT_MS, BASE_WAIT_MS * 2 ** min(len(recent) - FREE_ATTEMPTS, 32))
    remaining = max(recent) + wait - now
    return remaining if remaining > 0 else None
