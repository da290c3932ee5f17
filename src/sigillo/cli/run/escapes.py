"""Terminal escape sequences, set apart from the text the redactor matches.

`grep --color`, `ls --color`, test runners and prompts put escape sequences between the
characters of what they print; a value coloured in the middle (`ESC[01;31m` sk_live
`ESC[m` _abc…) is then not the value byte for byte. The redactor therefore matches the
*text* of the output, from which these are set apart (docs/redaction.md section 2):

* CSI sequences: ESC `[`, up to 32 parameter bytes (`0` to `?`), up to 8 intermediate bytes
  (space to `/`) and a final byte (`@` to `~`): colours, cursor moves, erasing;
* nF sequences: ESC, 1 to 8 intermediate bytes and a final byte (`ESC ( B` of `tput sgr0`);
* two-byte escapes: ESC and one byte from `0` to `~` other than `[` (`ESC 7`, `ESC =`, and
  the introducers and terminator of OSC and other strings: `ESC ]`, `ESC P`, `ESC \\`);
* BEL, which also ends an OSC string.

The *content* of an OSC string (a window title, a hyperlink's address) stays text, so a
value in it is matched like any other. Anything else, an ESC that begins none of these
included, is text. Splitting is the same whatever the chunking: an incomplete sequence at
the end of a chunk is kept back (`partial`) and completed by the next chunk.
"""

from __future__ import annotations

import re

__all__ = ["Escape", "split_escapes", "text_of"]

Escape = tuple[int, bytes]  # (position in the text before which it stands, its bytes)

_SEQUENCE = re.compile(
    rb"\x07|\x1b(?:\[[\x30-\x3f]{0,32}[\x20-\x2f]{0,8}[\x40-\x7e]"
    rb"|[\x20-\x2f]{1,8}[\x30-\x7e]|[\x30-\x5a\x5c-\x7e])"
)
# the beginning of a sequence that the next bytes may complete
_INCOMPLETE = re.compile(rb"\x1b(?:\[[\x30-\x3f]{0,32}[\x20-\x2f]{0,8}|[\x20-\x2f]{1,8})?")
_LONGEST_INCOMPLETE = 2 + 32 + 8


def split_escapes(data: bytes, *, final: bool = False) -> tuple[bytes, list[Escape], bytes]:
    """(text, escapes, partial) of `data`: the text without the escape sequences, each
    sequence with the text position it stands before, and an incomplete sequence at the end
    (kept back to be completed by the next chunk; with `final` it is text instead)."""
    if b"\x1b" not in data and b"\x07" not in data:
        return data, [], b""
    pieces: list[bytes] = []
    escapes: list[Escape] = []
    length = last = 0
    for match in _SEQUENCE.finditer(data):
        piece = data[last : match.start()]
        pieces.append(piece)
        length += len(piece)
        escapes.append((length, match.group()))
        last = match.end()
    partial = b""
    if not final:
        start = data.rfind(b"\x1b", max(last, len(data) - _LONGEST_INCOMPLETE))
        if start >= 0 and _INCOMPLETE.fullmatch(data, start):
            partial, data = data[start:], data[:start]
    pieces.append(data[last:])
    return b"".join(pieces), escapes, partial


def text_of(data: bytes) -> bytes:
    """`data` without its escape sequences: what the redactor matches for a value."""
    return split_escapes(data, final=True)[0]
