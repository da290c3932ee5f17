"""Which values `sigillo run` protects, and in which byte forms (docs/redaction.md).

Decision D18: a value is protected by its role, not its shape. Every value of kind
`secret` (the default) that is at least 4 bytes long is protected whole, whatever it looks
like; of a `plain` value (configuration a person chose to show) only the passwords of its
URLs with credentials are. The parts of a compound secret value are judged as secrets of
their own (`secret_parts`): each string of a JSON value, each value of a `KEY=VALUE` blob,
the credential after `Bearer `/`Basic `/`token `, each run of letters, digits and
`+/=_.~-` that passes the reference's likely-secret rule (behaviour.md 12.5: some maximal
run of ASCII letters and digits of at least 16 characters with a Shannon entropy of at
least 3.5 bits per character); each line of a multi-line secret value that passes that
rule, or is UUID-shaped, is protected too. `--redact NAME`, `--redact-all` and `--show
NAME` adjust this for one run, and every protected value is masked in all its encoded and
quoted forms (`protected_forms`).

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
    "MAX_PARTS",
    "MIN_DERIVED_FORM",
    "MIN_ENTROPY",
    "MIN_PASSWORD",
    "MIN_RUN",
    "MIN_SECRET",
    "PART_DEPTH",
    "Selection",
    "all_forms",
    "entropy",
    "is_likely_secret",
    "is_uuid_shaped",
    "protect",
    "protected_forms",
    "protected_values",
    "secret_parts",
    "select_protected",
    "url_passwords",
]

MIN_SECRET = 4  # bytes (UTF-8) of a value of kind secret, or of a part of one, to be protected
MIN_RUN = 16  # characters of a run of ASCII letters and digits
MIN_ENTROPY = 3.5  # bits per character
MIN_PASSWORD = 4  # bytes (UTF-8) of a URL password
MIN_DERIVED_FORM = 8  # bytes of an encoded or quoted form (base64, hex, percent, JSON, ...)
MAX_PARTS = 256  # parts of one value protected at most (see secret_parts)
PART_DEPTH = 3  # parts of parts (of parts) are looked for, no deeper

_RUN = re.compile(f"[A-Za-z0-9]{{{MIN_RUN},}}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# scheme://authority: the authority ends at the first /, ?, # or white space (as urlsplit)
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#\s]*)")
_PERCENT = re.compile(r"%[0-9A-F]{2}")
# parts of a secret (secret_parts)
_TOKEN_RUN = re.compile(f"[A-Za-z0-9+/=_.~-]{{{MIN_RUN},}}")
_INNER_EQUALS = re.compile(r"=+(?=[^=])")  # `=` inside a run; padding only ends one
_CREDENTIAL = re.compile(r"(?<![A-Za-z0-9])(bearer|basic|token)[ \t]+([^\s\"'`,;]+)", re.I)
_DOTENV = re.compile(r"[ \t]*(?:export[ \t]+)?[A-Za-z0-9_.-]+[ \t]*=[ \t]*")
_DOTENV_COMMENT = re.compile(r"[ \t]#")
_DOTENV_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.S)
_CONTROL = dict(zip("nrtbf", "\n\r\t\b\f", strict=True))
# quoted forms (protected_forms). What needs a backslash, as patterns compiled on first
# use (by re's own cache): most values never need them, and `sigillo run` starts on every
# command.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.+=@%:-]*")  # what every quoting below leaves alone
_DECLARE = r'[\\"$`]'  # declare -p, inside "..."
_PRINTF_Q = r"[ \t\n!\"$&'()*,;<>?\[\\\]^`{|}]|^[#~]|(?<=[=:])~"  # printf %q
# bash in a UTF-8 locale writes these in octal inside $'...': C0 and C1 controls, DEL, the
# line and paragraph separators, and bytes that are not UTF-8 (lone surrogates)
_UNPRINTABLE = "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"
_ANSI_C = "[\\\\'\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"
_ANSI_C_OCTAL = "[^ -~]|[\\\\']"  # the C locale: all but printable ASCII, \ and '
_ANSI_C_ESCAPES = {"\x1b": "\\E", "\a": "\\a", "\v": "\\v", "\b": "\\b", "\f": "\\f"}
_ANSI_C_ESCAPES |= {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "'": "\\'"}
# Python's repr() and ascii(), with ' or " (the callbacks keep printable non-ASCII for repr)
_PYTHON = {q: f"[^ -~]|[\\\\{q}]" for q in "'\""}
_PYTHON_BYTES = {q: f"[^ -~]|[\\\\{q}]".encode() for q in "'\""}
# Node's util.inspect: the quote only when it is ' ("" for " and the backtick)
_JAVASCRIPT = {q: f"[\\\\{q}\x00-\x1f\x7f-\x9f\ud800-\udfff]" for q in ("'", "")}
_JS_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_JS_ESCAPES |= {"\\": "\\\\", "'": "\\'"}
_JSON_HEX = r"\\(u[0-9a-f]{4}|.)"
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
    Under D18 it only picks parts of secret values (lines, runs) to protect on their own."""
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
    the LF dropped) that is a likely secret or UUID-shaped; the passwords of its URLs; then
    each of its parts (secret_parts) the same way, as a secret of its own. Of a plain value
    (`secret` False): the passwords of its URLs only."""
    if not secret:
        return url_passwords(value)
    found = _as_a_secret(value)
    for part in secret_parts(value):
        found += _as_a_secret(part)
    return _unique(found)


def secret_parts(value: str) -> list[str]:
    """The parts of a secret value, each of at least 4 bytes, to be protected as secrets of
    their own (docs/redaction.md section 1, rule 5), without the value itself; in the order
    found, parts of parts (to PART_DEPTH levels) after their parents.

    A value that is JSON (an object, an array or a string, white space around allowed) has
    as parts its strings at any depth (not the keys of objects, not numbers, booleans or
    null). Any other value has as parts: the value of each `NAME=value` line (`export `
    allowed; quoted with ', " or a backtick: what is between the quotes, and for " also
    that decoded; unquoted: the rest of the line and, when it has a ` #` comment, what comes
    before it, trimmed); the credential after `Bearer `, `Basic ` or `token ` (any case; for
    Basic also its base64 decoded and the password after the first `:` of that); each
    maximal run of `A-Za-z0-9+/=_.~-` of 16 or more characters that is a likely secret, and
    the pieces of such a run between its inner `=` signs that are likely secrets too.

    At most MAX_PARTS are given, in the order found; when there are more, the likely
    secrets are kept first, then the longest (by UTF-8 length), the first found on a tie: a
    64 KiB JSON secret must not make tens of thousands of forms."""
    seen = {value}
    found: list[str] = []
    level = [value]
    for _ in range(PART_DEPTH):
        deeper: list[str] = []
        for text in level:
            for part in _parts(text):
                if part not in seen and len(_utf8(part)) >= MIN_SECRET:
                    seen.add(part)
                    deeper.append(part)
        found += deeper
        level = deeper
    if len(found) > MAX_PARTS:  # likely secrets first, then the longest, then the first
        rank = {i: (not is_likely_secret(part), -len(_utf8(part))) for i, part in enumerate(found)}
        kept = sorted(sorted(rank, key=rank.__getitem__)[:MAX_PARTS])
        found = [found[i] for i in kept]
    return found


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
    escaping (ensure_ascii True and False), then its quoted forms (_quoted_forms: shells,
    Python, Node, more URL and JSON encoders), and for a value with line feeds the form a
    pseudo-terminal writes (each LF as CR LF) and the forms the env and docker download
    formats write (a `--mount` file: LF as `\\n`, CR raw or as `\\r`). An encoded form is
    kept when it differs from the value and is at least 8 bytes long. Lines of a multi-line
    value are not included: select_protected lists the protected ones as values of their
    own."""
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
    derived += _quoted_forms(value, raw)
    if b"\n" in raw:  # as a terminal shows it: its line discipline writes LF as CR LF
        derived.append(raw.replace(b"\n", b"\r\n"))
    if b"\n" in raw or b"\r" in raw:  # as the env and docker formats write it (a mount)
        derived.append(raw.replace(b"\n", b"\\n"))  # docker: LF as \n, CR raw
        derived.append(raw.replace(b"\n", b"\\n").replace(b"\r", b"\\r"))  # env
    kept = [raw, *(form for form in derived if form != raw and len(form) >= MIN_DERIVED_FORM)]
    return sorted(_unique(kept), key=len, reverse=True)


def all_forms(values: Iterable[str]) -> list[bytes]:
    """Every form of every value, without repeats: what a Redactor is built from."""
    return _unique(form for value in values for form in protected_forms(value))


# ---------------------------------------------------------------- parts of a secret


def _as_a_secret(value: str) -> list[str]:
    """Rules 1, 3 and 4 of one secret value, without its parts: the value and the value
    stripped (4 bytes or more), its likely-secret or UUID-shaped lines, its URL passwords."""
    found = [text for text in (value, value.strip()) if len(_utf8(text)) >= MIN_SECRET]
    if "\n" in value:
        lines = (line.removesuffix("\r") for line in value.split("\n"))
        found += [line for line in lines if is_likely_secret(line) or is_uuid_shaped(line)]
    return found + url_passwords(value)


def _parts(text: str) -> list[str]:
    """The parts of `text` one level down (secret_parts), short ones included."""
    strings = _json_strings(text)
    if strings is not None:
        return strings
    parts = _dotenv_values(text)
    for credential in _CREDENTIAL.finditer(text):
        parts.append(credential.group(2))
        if credential.group(1).lower() == "basic":
            parts += _basic(credential.group(2))
    for run in _TOKEN_RUN.findall(text):
        if run == text and "=" not in run.rstrip("="):
            continue  # the value itself: no part of its own
        if is_likely_secret(run):
            parts.append(run)
            if "=" in run:
                pieces = _INNER_EQUALS.split(run)
                parts += [p for p in pieces if len(p) >= MIN_RUN and is_likely_secret(p)]
    return parts


def _json_strings(text: str) -> list[str] | None:
    """The strings in `text` read as JSON, in document order (the values of objects, not
    their keys), or None when `text` is not a JSON object, array or string."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[", '"')):
        return None
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    strings: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            stack += reversed(list(item.values()))
        elif isinstance(item, list):
            stack += reversed(item)
    return strings


def _dotenv_values(text: str) -> list[str]:
    """The values of the `NAME=value` lines of `text` (secret_parts), as dotenv readers
    take them: what is between quotes (and for " also decoded), else the rest of the line
    and what comes before a ` #` comment, trimmed. A quoted value may span lines."""
    if "=" not in text:
        return []
    values: list[str] = []
    pos, size = 0, len(text)
    while pos < size:
        end = text.find("\n", pos)
        end = size if end < 0 else end
        head = _DOTENV.match(text, pos, end)
        if head is None:
            pos = end + 1
            continue
        start = head.end()
        quote = text[start : start + 1]
        close = _closing_quote(text, start + 1, quote) if quote in ("'", '"', "`") else -1
        if close >= 0:
            inner = text[start + 1 : close]
            values.append(inner)
            if quote == '"':
                values.append(_DOTENV_ESCAPE.sub(_unescape, inner))
            after = text.find("\n", close)
            pos = size if after < 0 else after + 1
            continue
        line = text[start:end]
        values.append(line.strip())
        comment = _DOTENV_COMMENT.search(line)
        if comment:
            values.append(line[: comment.start()].strip())
        pos = end + 1
    return values


def _closing_quote(text: str, pos: int, quote: str) -> int:
    """Where the quoted value starting at `pos` ends (-1: never); in ", a backslash escapes
    the character after it."""
    if quote != '"':
        return text.find(quote, pos)
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return pos
        pos += 2 if char == "\\" else 1
    return -1


def _unescape(escape: re.Match[str]) -> str:
    """A backslash sequence inside a double-quoted dotenv value, decoded: \\n, \\r, \\t, \\b,
    \\f and \\uXXXX as JSON reads them, a backslash before any other character dropped."""
    code = escape.group(1)
    if len(code) == 5:
        return chr(int(code[1:], 16))
    return _CONTROL.get(code, code)


def _basic(credential: str) -> list[str]:
    """A Basic credential decoded (`user:password`) and its password, when it is base64 of
    UTF-8 text."""
    try:
        decoded = base64.b64decode(credential + "=" * (-len(credential) % 4), validate=True)
        text = decoded.decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return []
    return [text, text.partition(":")[2]]


# ---------------------------------------------------------------- forms of a value


def _quoted_forms(value: str, raw: bytes) -> list[bytes]:
    """The value as programs quote or escape it (docs/redaction.md section 2), each written
    without its surrounding quotes (they add nothing to a mask), or with them when it is
    shorter than 8 bytes without; a quoting that leaves the value as it is gives nothing."""
    if _UNQUOTED.fullmatch(value):
        return []  # no quoting or escaping below changes these characters
    forms: list[tuple[str, str, str]] = []  # (opening, escaped text, closing)
    if "'" in value:
        forms.append(("'", value.replace("'", "'\\''"), "'"))  # bash -x, ${x@Q}
        forms.append(("'", value.replace("'", "'\"'\"'"), "'"))  # shlex.quote
        forms.append(("'", value.replace("'", "''"), "'"))  # SQL, YAML
    if '"' in value:
        forms.append(('"', value.replace('"', '""'), '"'))  # CSV
    if re.search(_UNPRINTABLE, value):  # bash's $'...' (printf %q, declare -p)
        forms.append(("$'", re.sub(_ANSI_C, _ansi_c, value), "'"))
    else:
        forms.append(('"', re.sub(_DECLARE, r"\\\g<0>", value), '"'))  # declare -p
        forms.append(("", re.sub(_PRINTF_Q, r"\\\g<0>", value), ""))  # printf %q
    if not value.isascii():  # $'...' in the C locale: every non-ASCII byte in octal too
        forms.append(("$'", re.sub(_ANSI_C_OCTAL, _ansi_c, value), "'"))
    for quote in ("'", '"'):  # Python repr() and ascii(), quoted with ' and with "
        forms.append((quote, re.sub(_PYTHON[quote], _python_repr, value), quote))
        forms.append((quote, re.sub(_PYTHON[quote], _python_ascii, value), quote))
        bytes_repr = re.sub(_PYTHON_BYTES[quote], _python_bytes, raw).decode("ascii")
        forms.append(("b" + quote, bytes_repr, quote))  # repr(os.environb[...])
    # Node's util.inspect: quoted with ' (escaped), else with " or a backtick (not escaped)
    forms.append(("'", re.sub(_JAVASCRIPT["'"], _javascript, value), "'"))
    other = '"' if '"' not in value else "`"
    forms.append((other, re.sub(_JAVASCRIPT[""], _javascript, value), other))
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        variants = (
            [escaped, re.sub(_JSON_HEX, _upper_hex, escaped)] if "\\u" in escaped else [escaped]
        )
        for text in variants:
            forms.append(('"', text, '"'))
            if "/" in text:
                forms.append(('"', text.replace("/", "\\/"), '"'))
    found = []
    for opening, text, closing in forms:
        if text != value:
            escaped_raw = _utf8(text)
            enclosed = len(escaped_raw) < MIN_DERIVED_FORM
            found.append(_utf8(opening + text + closing) if enclosed else escaped_raw)
    if "/" in value:
        found.append(quote_from_bytes(raw, safe="/").encode())  # urllib.parse.quote's default
    if " " in value:  # quote_plus
        found.append(quote_from_bytes(raw, safe=" ").replace(" ", "+").encode())
    return found


def _ansi_c(match: re.Match[str]) -> str:
    """One character inside bash's $'...': a C escape, else its UTF-8 bytes in octal."""
    char = match.group()
    return _ANSI_C_ESCAPES.get(char) or "".join(f"\\{byte:03o}" for byte in _utf8(char))


def _python_repr(match: re.Match[str]) -> str:
    """One character of Python's repr() of a string that needs a backslash."""
    char = match.group()
    return "\\" + char if char in "'\"\\" else repr(char)[1:-1]


def _python_ascii(match: re.Match[str]) -> str:
    char = match.group()
    return "\\" + char if char in "'\"\\" else ascii(char)[1:-1]


def _python_bytes(match: re.Match[bytes]) -> bytes:
    byte = match.group()
    return b"\\" + byte if byte in b"'\"\\" else repr(byte)[2:-1].encode("ascii")


def _javascript(match: re.Match[str]) -> str:
    """One character of Node's util.inspect of a string that needs a backslash: \\b \\t
    \\n \\f \\r \\\\ \\', other C0 and C1 controls as \\xHH, lone surrogates as \\uhhhh."""
    char = match.group()
    code = ord(char)
    if char in _JS_ESCAPES:
        return _JS_ESCAPES[char]
    return f"\\x{code:02X}" if code < 0xD800 else f"\\u{code:04x}"


def _upper_hex(escape: re.Match[str]) -> str:
    """A JSON escape with the hexadecimal digits of a \\uXXXX in upper case."""
    code = escape.group(1)
    return "\\" + (code[0] + code[1:].upper() if len(code) == 5 else code)


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
