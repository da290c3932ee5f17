"""Importing .env text (behaviour.md section 13): `parse(text)` -> [(key, value), ...].

Grammar (13.1), applied in this order:

* CR LF and lone CR become LF, in the whole text, before anything else. The `env` export
  writes a carriage return as the escape `\\r`, so a raw CR only appears in hand-written
  text; a raw CR inside a hand-written quoted value therefore becomes LF, as in the
  reference. The text is then split into lines only at LF: U+2028, U+0085, vertical tab
  and form feed are ordinary characters (splitting on them would break the round trip).
* A line is: optional spaces, optional `export` and spaces, a key of ASCII letters,
  digits, `_`, `.` and `-`, then `=` with optional spaces around it or `:` followed by at
  least one space, then the value. Every other line (blank, `# comment`, `KEY:value`, ...)
  is ignored. "Spaces" here means space and TAB, both for this pattern and for trimming.
* Values:
  - `'...'` and backtick-quoted: everything up to the next same quote, kept exactly;
  - `"..."`: up to the first `"` not escaped by a backslash (a backslash always escapes
    the character after it, so `\\\\"` ends the value), then decoded as in 13.2;
  - quoted values may span lines; after the closing quote only spaces and an optional
    `# comment` may follow on that line. Otherwise (or when the quote is never closed)
    the value is read as an unquoted value from the same start on the first line, one
    pair of matching outer quotes is removed, and no escape is decoded;
  - unquoted: up to the first `#` or the end of the line, trimmed of spaces and TABs.
* Double-quoted escapes (13.2): `\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and
  `\\uXXXX` (surrogate pairs combined) decode as JSON decodes them. Any other backslash
  sequence, and a `\\u` escape naming a lone surrogate, is kept as written (backslash
  included), so the result is always valid Unicode text. `$` is never expanded.
* Duplicate keys: the later value wins, and the key keeps the position of its first
  appearance (the order a JavaScript object or a Python dict gives).

Round trip (13.3): for unique valid secret names and any values without NUL or lone
surrogates, `parse(render("env", pairs).body.decode()) == pairs`.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["parse"]

_HEAD: Final = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z0-9_.-]+)(?:[ \t]*=[ \t]*|:[ \t]+)")
_TRAILER: Final = re.compile(r"[ \t]*(?:#.*)?")
_QUOTES: Final = "\"'`"
_SPACES: Final = " \t"
_SHORT_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_HEX: Final = frozenset("0123456789abcdefABCDEF")


def parse(text: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of .env text, in order of first appearance, last value kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        line_end = _line_end(text, pos)
        head = _HEAD.match(text, pos, line_end)
        if head is None:
            pos = line_end + 1
            continue
        start = head.end()
        quoted = _quoted(text, start)
        if quoted is not None:
            value, pos = quoted
        else:
            value, pos = _unquoted(text[start:line_end]), line_end + 1
        found[head.group(1)] = value
    return list(found.items())


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end == -1 else end


def _quoted(text: str, start: int) -> tuple[str, int] | None:
    """A well-formed quoted value at `start`: (value, position after its line), else None."""
    if start >= len(text) or text[start] not in _QUOTES:
        return None
    quote = text[start]
    close = _closing(text, start + 1) if quote == '"' else text.find(quote, start + 1)
    if close == -1:
        return None
    line_end = _line_end(text, close + 1)
    if not _TRAILER.fullmatch(text, close + 1, line_end):
        return None
    content = text[start + 1 : close]
    return (_decode(content) if quote == '"' else content), line_end + 1


def _closing(text: str, pos: int) -> int:
    """Index of the first `"` from `pos` not escaped by a backslash, or -1."""
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return pos
        pos += 2 if char == "\\" else 1
    return -1


def _unquoted(raw: str) -> str:
    value = raw.split("#", 1)[0].strip(_SPACES)
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] == value[0]:
        value = value[1:-1]
    return value


def _decode(content: str) -> str:
    """Decode the JSON escapes of a double-quoted value; keep every other sequence as is."""
    out: list[str] = []
    pos = 0
    while True:
        slash = content.find("\\", pos)
        if slash == -1 or slash == len(content) - 1:
            out.append(content[pos:])
            return "".join(out)
        out.append(content[pos:slash])
        escape = content[slash + 1]
        if escape in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[escape])
            pos = slash + 2
            continue
        code = _hex4(content, slash + 2) if escape == "u" else None
        if code is None or 0xDC00 <= code <= 0xDFFF:
            out.append(content[slash : slash + 2])  # unknown escape (or lone low surrogate)
            pos = slash + 2
        elif 0xD800 <= code <= 0xDBFF:
            low = _hex4(content, slash + 8) if content[slash + 6 : slash + 8] == "\\u" else None
            if low is not None and 0xDC00 <= low <= 0xDFFF:
                out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                pos = slash + 12
            else:
                out.append(content[slash : slash + 2])  # lone high surrogate: kept as written
                pos = slash + 2
        else:
            out.append(chr(code))
            pos = slash + 6


def _hex4(content: str, pos: int) -> int | None:
    digits = content[pos : pos + 4]
    if len(digits) == 4 and all(char in _HEX for char in digits):
        return int(digits, 16)
    return None
