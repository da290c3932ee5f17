"""Which values `sigillo run` protects, and in which byte forms (docs/redaction.md).

Decision D18: a value is protected by its role, not its shape. Every value of kind
`secret` (the default) that is at least 4 bytes long is protected whole, whatever it looks
like; of a `plain` value (configuration a person chose to show) only the passwords of its
URLs with credentials are. The reference's likely-secret rule (behaviour.md 12.5: some
maximal run of ASCII letters and digits of at least 16 characters with a Shannon entropy of
at least 3.5 bits per character) survives only for the parts of compound secret values:
each line of a multi-line secret value that passes it, or is UUID-shaped, is protected as a
value of its own. `--redact NAME`, `--redact-all` and `--show NAME` adjust this for one
run, and every protected value is masked in all its encoded forms.

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
    "MIN_RUN",
    "MIN_SECRET",
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

MIN_SECRET = 4  # bytes (UTF-8) of a value of kind secret, to be protected whole
MIN_RUN = 16  # characters of a run of ASCII letters and digits
MIN_ENTROPY = 3.5  # bits per character
MIN_PASSWORD = 4  # bytes (UTF-8) of a URL password
MIN_DERIVED_FORM = 8  # bytes of an encoded form (base64, hex, percent, JSON)

_RUN = re.compile(f"[A-Za-z0-9]{{{MIN_RUN},}}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# scheme://authority: the authority ends at the first /, ?, # or white space (as urlsplit)
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#\s]*)")
_PERCENT = re.compile(r"%[0-9A-F]{2}")
_T = TypeVar("_T")


class Selection(NamedTuple):
    """What `sigillo run` protects: the values (longest first, by UTF-8 length) and the
    names, in their given order, of the secrets (kind `secret`, not shown) whose value is
    too short to protect: 1 to 3 bytes long, and not named by `--redact`."""

    values: list[str]
    short: list[str]


def entropy(run: str) -> float:
    """Shannon entropy of `run` in bits per character (0.0 for the empty string)."""
    total = len(run)
    return 0.0 - sum(n / total * math.log2(n / total) for n in Counter(run).values())


def is_likely_secret(value: str) -> bool:
    """The reference rule: some run of >= 16 ASCII letters and digits has >= 3.5 bits/char.
    Under D18 it only picks the lines of a multi-line secret value to protect on their own."""
    return any(entropy(run.group()) >= MIN_ENTROPY for run in _RUN.finditer(value))


def is_uuid_shaped(value: str) -> bool:
    """The whole value is 8-4-4-4-12 hexadecimal digits, in any case."""
    return _UUID.fullmatch(value) is not None


def url_passwords(value: str) -> list[str]:
    """The passwords of the URLs with credentials in `value` (`scheme://user:PASSWORD@host`,
    on any of its lines), each as written and, when it differs, percent-decoded; those under
    4 bytes are left out."""
    found: list[str] = []
    for url in _AUTHORITY.finditer(value):
        userinfo, at, _host = url.group(1).rpartition("@")
        _user, colon, password = userinfo.partition(":")
        if at and colon:
            found += [p for p in (password, unquote(password)) if len(_utf8(p)) >= MIN_PASSWORD]
    return _unique(found)


def protected_values(value: str, *, secret: bool = True) -> list[str]:
    """What one value protects, empty when nothing. Of a secret (`secret` True): the whole
    value when it is at least 4 bytes long; the value without surrounding white space when
    that differs and is as long; each line of a multi-line value (split at LF, a CR before
    the LF dropped) that is a likely secret or UUID-shaped; the passwords of its URLs. Of a
    plain value (`secret` False): the passwords of its URLs only."""
    if not secret:
        return url_passwords(value)
    found = [text for text in (value, value.strip()) if len(_utf8(text)) >= MIN_SECRET]
    if "\n" in value:
        lines = (line.removesuffix("\r") for line in value.split("\n"))
        found += [line for line in lines if is_likely_secret(line) or is_uuid_shaped(line)]
    return _unique([*found, *url_passwords(value)])


def select_protected(
    secrets: Mapping[str, str],
    *,
    plain: Collection[str] = (),
    show: Collection[str] = (),
    redact: Collection[str] = (),
    redact_all: bool = False,
) -> Selection:
    """The values to protect among the injected `secrets` (name -> value).

    A name in `plain` is of kind plain; every other name is a secret (so a missing or
    unknown kind fails closed). `show` (`--show NAME`) treats those secrets as plain for
    this run. `redact_all` (`--redact-all`) treats every value as a secret, except those
    named in `show`: explicit beats blanket. `redact` (`--redact NAME`) protects those values
    whole whatever they are (any non-empty value; it wins over `show`, a combination that
    `sigillo run` refuses). The caller names `Selection.short` (never the values) on stderr
    at start."""
    values: list[str] = []
    short: list[str] = []
    for name, value in secrets.items():
        shown = name in show
        secret = not shown and (redact_all or name not in plain)
        found = protected_values(value, secret=secret or name in redact)
        if name in redact and value:
            found = [value, *found]
        elif secret and name not in plain and 0 < len(_utf8(value)) < MIN_SECRET:
            short.append(name)
        values += found
    return Selection(sorted(_unique(values), key=lambda v: len(_utf8(v)), reverse=True), short)


def protect(
    secrets: Mapping[str, str],
    *,
    plain: Collection[str] = (),
    show: Collection[str] = (),
    redact: Collection[str] = (),
    redact_all: bool = False,
) -> tuple[list[bytes], list[str]]:
    """select_protected, as what `sigillo run` needs: (every form of every protected value,
    longest first; the names of the secrets too short to protect)."""
    values, short = select_protected(
        secrets, plain=plain, show=show, redact=redact, redact_all=redact_all
    )
    return sorted(all_forms(values), key=len, reverse=True), short


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
