"""The codes of two-factor authentication (issue 20), without storage or clock of their own.

TOTP (RFC 6238) through `pyotp`: a 160-bit base32 secret, six digits, 30-second steps. A
code is accepted for the current step or one either side (clocks drift), and the caller
keeps the newest step accepted so that no code is taken twice (services/two_factor.py).

Recovery codes are ten random base32 characters shown as `xxxxx-xxxxx` (50 bits each;
guesses are rate-limited like passwords); only their SHA-256 is stored. What a person types
is normalised first: spaces and dashes dropped, letters lower-cased.

The QR code of the `otpauth://` URI is drawn on the server by `segno` as an inline SVG: no
third-party service sees the secret, and the strict CSP allows it (no script, no image URL).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets

import pyotp
import segno

__all__ = [
    "ISSUER",
    "RECOVERY_CODES",
    "STEP_SECONDS",
    "is_recovery_code",
    "is_totp_code",
    "matching_step",
    "new_recovery_codes",
    "new_secret",
    "normalise",
    "provisioning_uri",
    "qr_svg",
    "recovery_code_hash",
]

ISSUER = "Sigillo"
STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side of now
RECOVERY_CODES = 10
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_RECOVERY = re.compile(r"[a-z2-7]{10}")
_TOTP = re.compile(r"[0-9]{6}")
_HASH_CONTEXT = b"sigillo:recovery-code:v1\x00"


def new_secret() -> str:
    """A fresh TOTP secret: 32 base32 characters (160 bits, RFC 4226's recommendation)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    """The `otpauth://totp/...` URI authenticator apps read (from the QR code)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def normalise(code: str) -> str:
    """What was typed, as compared: no spaces or dashes, lower case."""
    return re.sub(r"[\s-]", "", code).lower()


def is_totp_code(code: str) -> bool:
    return _TOTP.fullmatch(normalise(code)) is not None


def is_recovery_code(code: str) -> bool:
    return _RECOVERY.fullmatch(normalise(code)) is not None


def matching_step(secret: str, code: str, now_ms: int) -> int | None:
    """The time step (within one of `now_ms`'s) whose code this is, newest first; None if
    none. Compared in constant time."""
    typed = normalise(code)
    if _TOTP.fullmatch(typed) is None:
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = now_ms // 1000 // STEP_SECONDS
    for step in range(now_step + VALID_WINDOW, now_step - VALID_WINDOW - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Fresh single-use recovery codes, as shown to the person: `xxxxx-xxxxx`."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_BASE32) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_code_hash(code: str) -> str:
    """The SHA-256 (hex) a recovery code is stored and looked up by, from its normalised
    form, so `ABCDE-FGHIJ`, `abcde fghij` and `abcdefghij` are one code."""
    return hashlib.sha256(_HASH_CONTEXT + normalise(code).encode("utf-8")).hexdigest()


def qr_svg(uri: str) -> str:
    """The URI as a QR code: an `<svg>` element (no XML declaration) to place in a page. Its
    width and height are set (4 pixels a module), and it carries a title for screen readers."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        scale=4,
        border=2,
        dark="#000",
        light="#fff",  # dark modules on white, whatever the page's theme
        title="QR code for your authenticator app",
        svgclass="qr-code",
        lineclass=None,
    )
    return out.getvalue().decode("utf-8")
