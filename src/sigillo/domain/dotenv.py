"""Importing .env text (behaviour.md section 13): `parse(text)` -> [(key, value), ...].

Grammar (13.1), applied in this order:

* A byte-order mark (U+FEFF) at the very start is dropped, as `secrets upload` drops it
  when it decodes a file: an editor's BOM must not hide the first key.
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

`scan(text)` also says which lines were skipped and why, by line number and never with
their text (the dashboard's import preview shows it): a line that is not `KEY=value`, and
a key set again later (the earlier line loses). Blank lines and `#` comments are counted,
not listed.

Round trip (13.3): for unique valid secret names and any values without NUL or lone
surrogates, `parse(render("env", pairs).body.decode()) == pairs`, the comment lines the
`env` format writes about values no other reader agrees on included.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

__all__ = ["Scan", "Skipped", "parse", "scan"]

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


class Skipped(NamedTuple):
    """A line that gave no value: its number (from 1) and why, in words."""

    line: int
    reason: str


class Scan(NamedTuple):
    """What .env text holds: the pairs, the skipped lines in order, and how many lines
    were comments."""

    pairs: list[tuple[str, str]]
    skipped: list[Skipped]
    comments: int


NOT_A_PAIR: Final = "not a KEY=value line"
COLON: Final = "not a KEY=value line (after a colon, put a space)"
BAD_KEY: Final = "not a KEY=value line (a key is letters, digits, _, . and -)"


def parse(text: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of .env text, in order of first appearance, last value kept."""
    return scan(text).pairs


def scan(text: str) -> Scan:
    """The pairs of .env text (as `parse`), with the lines skipped and why."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    found: dict[str, str] = {}
    lines: dict[str, int] = {}  # key -> the line it was last set on
    skipped: list[Skipped] = []
    comments = 0
    pos = 0
    number = 1  # the line `pos` is on
    while pos < len(text):
        line_end = _line_end(text, pos)
        head = _HEAD.match(text, pos, line_end)
        if head is None:
            line = text[pos:line_end].strip(_SPACES)
            if line.startswith("#"):
                comments += 1
            elif line:
                skipped.append(Skipped(number, _why_skipped(line)))
            pos, number = line_end + 1, number + 1
            continue
        start = head.end()
        quoted = _quoted(text, start)
        if quoted is not None:
            value, after = quoted
        else:
            value, after = _unquoted(text[start:line_end]), line_end + 1
        key = head.group(1)
        if key in lines:
            skipped.append(Skipped(lines[key], f"{key} is set again on line {number}"))
        found[key] = value
        lines[key] = number
        number += text.count("\n", pos, min(after, len(text)))
        pos = after
    skipped.sort(key=lambda item: item.line)
    return Scan(list(found.items()), skipped, comments)


def _why_skipped(line: str) -> str:
    if re.match(r"(?:export[ \t]+)?[A-Za-z0-9_.-]+:[^ \t]", line):
        return COLON
    if "=" in line:
        return BAD_KEY
    return NOT_A_PAIR


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
