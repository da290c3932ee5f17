"""The CSRF token of a session, and its check.

The token is derived from the session token, which a page of another site cannot read,
and reveals nothing about it (SHA-256 is one-way). Pages embed it; cookie clients of the
API get it from sign-in or `GET /api/auth/session` and send it as `X-CSRF-Token`."""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["CSRF_HEADER", "csrf_matches", "csrf_token"]

CSRF_HEADER = "X-CSRF-Token"


def csrf_token(session_token: str) -> str:
    digest = hashlib.sha256(b"sigillo-csrf\0" + session_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_matches(presented: str | None, session_token: str) -> bool:
    """True when `presented` is the session's token (compared in constant time)."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), csrf_token(session_token).encode())
