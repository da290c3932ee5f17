"""Value objects: the rules a name, slug, display name or secret value must keep.

Each validator returns the accepted value or raises InvalidInput naming the field and
the rule. Messages never repeat the offending value: it may be a secret.
"""

from __future__ import annotations

import re

from sigillo.domain.errors import InvalidInput

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_VALUE_BYTES",
    "SECRET_NAME_PATTERN",
    "display_name",
    "email",
    "secret_name",
    "secret_value",
    "slug",
]

MAX_NAME_LENGTH = 256
MAX_VALUE_BYTES = 64 * 1024
MAX_DISPLAY_NAME = 100

SECRET_NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]*"  # noqa: S105 (a regex, not a password)
_SECRET_NAME = re.compile(SECRET_NAME_PATTERN)
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def secret_name(name: str, field: str = "name") -> str:
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not _SECRET_NAME.fullmatch(name):
        raise InvalidInput(
            field, f"must match ^[A-Za-z_][A-Za-z0-9_]*$ (at most {MAX_NAME_LENGTH} characters)"
        )
    return name


def secret_value(value: str, field: str = "value") -> str:
    """A value is text that can live in a process environment: UTF-8, no NUL, at most 64 KiB."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput(field, "must be valid Unicode text (no lone surrogates)") from None
    if size > MAX_VALUE_BYTES:
        raise InvalidInput(field, f"must be at most {MAX_VALUE_BYTES} bytes of UTF-8")
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    return value


def slug(value: str, field: str = "slug") -> str:
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise InvalidInput(field, "must match ^[a-z0-9][a-z0-9-]{0,62}$")
    return value


def email(value: str, field: str = "email") -> str:
    """An email address as accounts key it: trimmed, lower-cased, one @ with text around it."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    address = value.strip().lower()
    local, at, domain = address.partition("@")
    if (
        not at
        or not local
        or "@" in domain
        or "." not in domain
        or len(address) > 254
        or any(ch.isspace() or ch < " " for ch in address)
    ):
        raise InvalidInput(field, "must be an email address")
    return address


def display_name(value: str, field: str = "name") -> str:
    """Names of orgs, projects and environments: 1-100 characters after trimming."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    trimmed = value.strip()
    if not 1 <= len(trimmed) <= MAX_DISPLAY_NAME or any(ch < " " for ch in trimmed):
        raise InvalidInput(
            field, f"must be 1-{MAX_DISPLAY_NAME} characters with no control characters"
        )
    return trimmed
