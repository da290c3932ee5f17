"""Bearer credentials: API tokens, session tokens, device-flow codes and invitation tokens.

Every value comes from `secrets` (the operating system's CSPRNG). What the database keeps is
only ever a SHA-256 of a bearer credential (behaviour.md 5.1, 5.2; security.md promise 6), so
a database dump yields nothing that can be presented back to the server.

* API token keys: `sig_` + 64 lowercase hex characters from 32 random bytes (256 bits). The
  stored hash covers the whole key including `sig_` (UTF-8); the stored prefix is the first 12
  hex characters after `sig_`, shown in lists as `sig_<prefix>••••`.
* Session tokens: 32 characters from [A-Za-z0-9] (about 190 bits). The alphabet has no `_`, so
  a session token can never start with `sig_`, which is how API tokens are recognised.
* Device codes: 40 characters from [A-Za-z0-9] (about 238 bits; at least 128 are required).
* User codes: 8 characters drawn uniformly from BCDFGHJKLMNPQRSTVWXZ (20^8, about 34.6 bits,
  RFC 8628 section 6.1's recommendation), shown as XXXX-XXXX and accepted with or without the
  dash, in any case (behaviour.md 17 item 7; security.md promise 10). There are no vowels, so
  no words, and no digits, so nothing to confuse with letters.
* Invitation tokens: 24 random bytes, URL-safe base64 (32 characters, 192 bits).

This module, as a whole, is the services' DeviceCodes port (services/ports.py).

Nothing here logs or echoes a credential (security.md promise 8): `IssuedApiToken`'s repr
leaves the key out, and `format_user_code` refuses a bad code without repeating it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass, field

__all__ = [
    "API_TOKEN_PREFIX",
    "USER_CODE_ALPHABET",
    "IssuedApiToken",
    "constant_time_equal",
    "display_prefix",
    "format_user_code",
    "hash_api_token",
    "hash_device_code",
    "hash_session_token",
    "hash_user_code",
    "issue_api_token",
    "issue_device_code",
    "issue_invite_token",
    "issue_session_token",
    "issue_user_code",
    "looks_like_api_token",
    "normalize_user_code",
]

API_TOKEN_PREFIX = "sig_"  # noqa: S105 - the public marker of every API token, not one
API_TOKEN_BYTES = 32
API_TOKEN_DISPLAY_HEX = 12
DISPLAY_MASK = "\u2022" * 4  # four bullets: sig_4f1c9a07e2b8••••

ALPHANUMERIC = string.ascii_letters + string.digits
SESSION_TOKEN_LENGTH = 32
DEVICE_CODE_LENGTH = 40

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
_USER_CODE_INPUT = frozenset(USER_CODE_ALPHABET + USER_CODE_ALPHABET.lower())

INVITE_TOKEN_BYTES = 24


def _utf8(text: str) -> bytes:
    """UTF-8, passing lone surrogates through rather than raising: the result only feeds a
    hash or a comparison, and a string holding one can never equal a token we issued."""
    return text.encode("utf-8", "surrogatepass")


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(_utf8(text)).hexdigest()


def _random_alphanumeric(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


# API tokens ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedApiToken:
    """A freshly created API token. `key` is shown to its creator once and never stored."""

    key: str = field(repr=False)
    prefix: str
    hash: str


def issue_api_token() -> IssuedApiToken:
    key = API_TOKEN_PREFIX + secrets.token_hex(API_TOKEN_BYTES)
    prefix = key[len(API_TOKEN_PREFIX) : len(API_TOKEN_PREFIX) + API_TOKEN_DISPLAY_HEX]
    return IssuedApiToken(key=key, prefix=prefix, hash=hash_api_token(key))


def hash_api_token(key: str) -> str:
    """Lowercase hex SHA-256 of the whole presented key, `sig_` included."""
    return _sha256_hex(key)


def display_prefix(prefix: str) -> str:
    """How lists show a token: `sig_` + the stored 12-hex prefix + four bullets."""
    return f"{API_TOKEN_PREFIX}{prefix}{DISPLAY_MASK}"


def looks_like_api_token(bearer: str) -> bool:
    """True when a bearer credential is to be treated as an API token, never as a session."""
    return bearer.startswith(API_TOKEN_PREFIX)


# Sessions ----------------------------------------------------------------------------------


def issue_session_token() -> str:
    return _random_alphanumeric(SESSION_TOKEN_LENGTH)


def hash_session_token(token: str) -> str:
    """Sessions are stored, and looked up, only by this lowercase hex SHA-256."""
    return _sha256_hex(token)


# Device flow -------------------------------------------------------------------------------


def issue_device_code() -> str:
    return _random_alphanumeric(DEVICE_CODE_LENGTH)


def hash_device_code(code: str) -> str:
    """Device codes are stored, and looked up, only by this lowercase hex SHA-256."""
    return _sha256_hex(code)


def hash_user_code(code: str) -> str:
    """The stored lookup key of a normalized user code: its lowercase hex SHA-256."""
    return _sha256_hex(code)


def issue_user_code() -> str:
    """8 characters, each uniform over the 20-letter alphabet (no modulo bias)."""
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def normalize_user_code(text: str) -> str | None:
    """The stored form (8 upper-case letters) of what a user typed, or None if it is not one.

    Surrounding whitespace, dashes and spaces are dropped and case is ignored. Characters are
    checked before upper-casing, so that no Unicode case mapping ('ß' -> 'SS') can produce a
    valid code from invalid input.
    """
    compact = text.strip().replace("-", "").replace(" ", "")
    if len(compact) != USER_CODE_LENGTH or not all(c in _USER_CODE_INPUT for c in compact):
        return None
    return compact.upper()


def format_user_code(code: str) -> str:
    """`XXXX-XXXX`, for showing a user code; accepts any form `normalize_user_code` accepts."""
    normalized = normalize_user_code(code)
    if normalized is None:
        raise ValueError("not a user code")
    half = USER_CODE_LENGTH // 2
    return f"{normalized[:half]}-{normalized[half:]}"


# Invitations and comparison ----------------------------------------------------------------


def issue_invite_token() -> str:
    return secrets.token_urlsafe(INVITE_TOKEN_BYTES)


def constant_time_equal(a: str, b: str) -> bool:
    """Equality whose running time does not depend on where two strings first differ."""
    return hmac.compare_digest(_utf8(a), _utf8(b))
