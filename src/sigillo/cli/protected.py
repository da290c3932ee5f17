"""Which values `sigillo run` protects, and in which byte forms (docs/redaction.md).

The likely-secret rule is the reference's (behaviour.md 12.5): a value is protected when some
maximal run of ASCII letters and digits in it is at least 16 characters long with a Shannon
entropy of at least 3.5 bits per character. Sigillo adds the password of a URL with
credentials, UUID-shaped values, each protected line of a multi-line value, `--redact NAME`
and `--redact-all`, and the encoded forms of every protected value.

Standard library only: `sigillo run` imports this before it starts the child.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple, TypeVar
from urllib.parse import quote_from_bytes, unquote

__all__ = [
    "MIN_DERIVED_FORM",
    "MIN_ENTROPY",
    "MIN_PASSWORD",
    "MIN_REDACT_ALL",
    "MIN_RUN",
    "Selection",
    "all_forms",
    "entropy",
    "is_likely_secret",
    "is_uuid_shaped",
    "protect",
    "protected_forms",
    "protected_values",
    "select_protected",
    "url_passwords",
]

MIN_RUN = 16  # characters of a run of ASCII letters and digits
MIN_ENTROPY = 3.5  # bits per character
MIN_PASSWORD = 4  # bytes (UTF-8) of a URL password
MIN_REDACT_ALL = 4  # characters of a value, for --redact-all
MIN_DERIVED_FORM = 8  # bytes of an encoded form (base64, hex, percent, JSON)

_RUN = re.compile(f"[A-Za-z0-9]{{{MIN_RUN},}}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# scheme://authority: the authority ends at the first /, ?, # or white space (as urlsplit)
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#\s]*)")
_PERCENT = re.compile(r"%[0-9A-F]{2}")
_T = TypeVar("_T")


class Selection(NamedTuple):
    """What `sigillo run` protects: the values (longest first, by UTF-8 length) and the
    names of the injected variables of which nothing is protected, in their given order."""

    values: list[str]
    unprotected: list[str]


def entropy(run: str) -> float:
    """Shannon entropy of `run` in bits per character (0.0 for the empty string)."""
    total = len(run)
    return 0.0 - sum(n / total * math.log2(n / total) for n in Counter(run).values())


def is_likely_secret(value: str) -> bool:
    """The reference rule: some run of >= 16 ASCII letters and digits has >= 3.5 bits/char."""
    return any(entropy(run.group()) >= MIN_ENTROPY for run in _RUN.finditer(value))


def is_uuid_shaped(value: str) -> bool:
    """The whole value is 8-4-4-4-12 hexadecimal digits, in any case."""
    return _UUID.fullmatch(value) is not None


def url_passwords(value: str) -> list[str]:
    """The passwords of the URLs with credentials in `value` (`scheme://user:PASSWORD@host`),
    each as written and, when it differs, percent-decoded; those under 4 bytes are left out."""
    found: list[str] = []
    for url in _AUTHORITY.finditer(value):
        userinfo, at, _host = url.group(1).rpartition("@")
        _user, colon, password = userinfo.partition(":")
        if at and colon:
            found += [p for p in (password, unquote(password)) if len(_utf8(p)) >= MIN_PASSWORD]
    return _unique(found)


def protected_values(value: str) -> list[str]:
    """What the rule protects in one value: the whole value when it is a likely secret or
    UUID-shaped, the passwords of its URLs, and the same for each line of a multi-line
    value (lines split at LF, a CR before the LF dropped). Empty when nothing is."""
    found = [value] if is_likely_secret(value) or is_uuid_shaped(value) else []
    found += url_passwords(value)
    if "\n" in value:
        for line in value.split("\n"):
            found += protected_values(line.removesuffix("\r"))
    return _unique(found)


def select_protected(
    secrets: Mapping[str, str], *, redact: Collection[str] = (), redact_all: bool = False
) -> Selection:
    """The values to protect among the injected `secrets` (name -> value).

    `redact` names values protected whatever they look like (`--redact NAME`); with
    `redact_all` every value of 4 characters or more is protected (`--redact-all`). The
    caller prints `Selection.unprotected` (names, never values) on stderr at start."""
    values: list[str] = []
    unprotected: list[str] = []
    for name, value in secrets.items():
        found = protected_values(value)
        if value and (name in redact or (redact_all and len(value) >= MIN_REDACT_ALL)):
            found = [value, *found]
        values += found
        if not found:
            unprotected.append(name)
    return Selection(
        sorted(_unique(values), key=lambda v: len(_utf8(v)), reverse=True), unprotected
    )


def protect(
    secrets: Mapping[str, str], *, redact: Collection[str] = (), redact_all: bool = False
) -> tuple[list[bytes], list[str]]:
    """select_protected, as what `sigillo run` needs: (every form of every protected value,
    longest first; the names of the injected variables of which nothing is protected)."""
    values, unprotected = select_protected(secrets, redact=redact, redact_all=redact_all)
    return sorted(all_forms(values), key=len, reverse=True), unprotected


def protected_forms(value: str) -> list[bytes]:
    """The byte forms of one protected value, longest first: the value itself (UTF-8), then
    its base64 (standard and URL-safe, at byte offsets 0, 1 and 2 of a longer buffer, in the
    middle of it or at its end with and without padding), lowercase and uppercase hex,
    percent-encoding (as quote(safe='') writes it, with upper and lower case digits) and JSON
    escaping (ensure_ascii True and False). An encoded form is kept when it differs from the
    value and is at least 8 bytes long. Lines of a multi-line value are not included:
    select_protected lists the protected ones as values of their own."""
    raw = _utf8(value)
    if not raw:
        return []
    derived = [raw.hex().encode(), raw.hex().upper().encode()]
    for offset in range(3):
        derived += _base64_forms(raw, offset)
    percent = quote_from_bytes(raw, safe="")
    derived += [percent.encode(), _PERCENT.sub(lambda m: m.group().lower(), percent).encode()]
    for ascii_only in (True, False):
        derived.append(_utf8(json.dumps(value, ensure_ascii=ascii_only)[1:-1]))
    kept = [raw, *(form for form in derived if form != raw and len(form) >= MIN_DERIVED_FORM)]
    return sorted(_unique(kept), key=len, reverse=True)


def all_forms(values: Iterable[str]) -> list[bytes]:
    """Every form of every value, without repeats: what a Redactor is built from."""
    return _unique(form for value in values for form in protected_forms(value))


def _base64_forms(raw: bytes, offset: int) -> list[bytes]:
    """Base64 of `raw` placed at `offset` (mod 3) in a longer buffer: the characters that
    depend on `raw` alone (those mixing in a neighbouring byte are dropped), then the same
    running to the end of the encoding when `raw` ends the buffer, with and without '='."""
    first = -(-8 * offset // 6)  # first character whose 6 bits all come from raw
    stable_end = 8 * (offset + len(raw)) // 6  # past the last such character
    forms: list[bytes] = []
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        at_end = encode(bytes(offset) + raw)[first:]
        forms += [at_end[: stable_end - first], at_end, at_end.rstrip(b"=")]
    return forms


def _utf8(text: str) -> bytes:
    """`text` as the child receives it in its environment (os.fsencode on POSIX)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate outside U+DC80..U+DCFF
        return text.encode("utf-8", "surrogatepass")


def _unique(items: Iterable[_T]) -> list[_T]:
    return list(dict.fromkeys(items))
