"""Password hashing for local accounts: Argon2id in PHC string form (behaviour.md 5.1).

Parameters: Argon2id, m = 46 MiB (47104 KiB), t = 2 passes, p = 1 lane, 16-byte random salt,
32-byte tag, version 0x13.

Why these. OWASP's Password Storage Cheat Sheet gives a set of equally strong Argon2id
configurations whose most memory-hard member is m = 46 MiB, t = 1, p = 1 (and the commonest
m = 19 MiB, t = 2). We keep that largest memory and double the passes, which stays inside the
cost budget (one hash at most about 150 ms on the 2-core machine the server is sized for) and is
at least as strong as every OWASP option. RFC 9106's second recommended option (m = 64 MiB,
t = 3, p = 4) was measured too: 120-180 ms (median 142 ms) using both cores for one sign-in,
and 175-265 ms with one lane, so over budget; its first option (2 GiB) is far beyond a small
self-hosted server. A single lane keeps one sign-in on one core, so two concurrent sign-ins do
not slow each other down.

Measured on the development machine (2 cores, cryptography 48): 88-122 ms per hash, median
92-95 ms, when idle; median about 138 ms while other processes kept both cores busy.
Verification costs the same, as it recomputes the hash.

A sign-in for an unknown email must cost the same as one for a known email (behaviour.md 5.1:
"takes the same time"): callers run `verify_against_dummy` when there is no stored hash.
`DUMMY_HASH` uses the current parameters, and is the hash of a random password that was
thrown away, so no input matches it.

`verify_password` never raises: a wrong password and any malformed, foreign or absurd stored
string are both just False. Stored strings whose cost parameters exceed generous limits are
refused without hashing, so a corrupt or imported row cannot make one sign-in allocate
gigabytes. Messages never contain a password (security.md promise 8).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from sigillo.domain.errors import InvalidInput

__all__ = [
    "CURRENT",
    "DUMMY_HASH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Argon2Parameters",
    "check_password_policy",
    "hash_password",
    "needs_rehash",
    "verify_against_dummy",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # bounds the work one request can ask the hash to do


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    memory_kib: int
    iterations: int
    lanes: int
    salt_bytes: int = 16
    hash_bytes: int = 32


CURRENT = Argon2Parameters(memory_kib=47104, iterations=2, lanes=1)

# Argon2id over a random 32-byte input that was discarded, with CURRENT's parameters.
DUMMY_HASH = (
    "$argon2id$v=19$m=47104,t=2,p=1$l8lpsNkHeuY9grTAuzfYCQ"
    "$ukgXkgYbRi1ZLrQ9N+zyM5U8/xA7FAFwVjXo+YaKD9s"
)

_VERSION = 19  # Argon2 v1.3
# The most a stored string may ask for before we hash with it: well above CURRENT, far below
# what would let one row exhaust the server.
_MAX_MEMORY_KIB = 256 * 1024
_MAX_ITERATIONS = 16
_MAX_LANES = 16
_MAX_ENCODED_LENGTH = 512

_PHC = re.compile(
    r"\$argon2id\$v=(?P<v>[0-9]{1,3})"
    r"\$m=(?P<m>[0-9]{1,10}),t=(?P<t>[0-9]{1,10}),p=(?P<p>[0-9]{1,10})"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)"
)


@dataclass(frozen=True, slots=True)
class _Parsed:
    version: int
    params: Argon2Parameters


def _b64_length(text: str) -> int:
    """Bytes encoded by unpadded standard base64 text."""
    return len(text) * 3 // 4


def _parse(encoded: str) -> _Parsed | None:
    if len(encoded) > _MAX_ENCODED_LENGTH:
        return None
    match = _PHC.fullmatch(encoded)
    if match is None:
        return None
    params = Argon2Parameters(
        memory_kib=int(match["m"]),
        iterations=int(match["t"]),
        lanes=int(match["p"]),
        salt_bytes=_b64_length(match["salt"]),
        hash_bytes=_b64_length(match["hash"]),
    )
    return _Parsed(version=int(match["v"]), params=params)


def _utf8(password: str) -> bytes:
    # A lone surrogate cannot be typed into a form or sent in JSON, but it must not turn a
    # sign-in into a 500 either: pass it through, consistently for hashing and verifying.
    return password.encode("utf-8", "surrogatepass")


def check_password_policy(password: str) -> None:
    """Rules for a new password. Raises InvalidInput on the field "password"."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    """Argon2id PHC string with CURRENT's parameters and a fresh salt.

    Check a new password with `check_password_policy` first; this hashes whatever it is given.
    """
    kdf = Argon2id(
        salt=os.urandom(CURRENT.salt_bytes),
        length=CURRENT.hash_bytes,
        iterations=CURRENT.iterations,
        lanes=CURRENT.lanes,
        memory_cost=CURRENT.memory_kib,
    )
    return kdf.derive_phc_encoded(_utf8(password))


def verify_password(password: str, encoded: str) -> bool:
    """True only if `encoded` is a sane Argon2id PHC string and `password` matches it."""
    parsed = _parse(encoded)
    if parsed is None or not _within_limits(parsed.params):
        return False
    try:
        Argon2id.verify_phc_encoded(_utf8(password), encoded)
    except (InvalidKey, ValueError, TypeError):
        return False
    return True


def verify_against_dummy(password: str) -> bool:
    """Spend what a real verification spends, for a sign-in with no stored hash. Always False."""
    verify_password(password, DUMMY_HASH)
    return False


def needs_rehash(encoded: str) -> bool:
    """True when `encoded` was not made with CURRENT's parameters (or is not ours at all)."""
    parsed = _parse(encoded)
    return parsed is None or parsed.version != _VERSION or parsed.params != CURRENT


def _within_limits(params: Argon2Parameters) -> bool:
    return (
        params.memory_kib <= _MAX_MEMORY_KIB
        and params.iterations <= _MAX_ITERATIONS
        and params.lanes <= _MAX_LANES
    )
