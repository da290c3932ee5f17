"""What the redaction tests share: a plain reference redactor and stream drivers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

from sigillo.cli.run.redaction import MASK, Redactor


def reference(data: bytes, forms: Iterable[bytes], mask: bytes = MASK) -> bytes:
    """The whole output redacted at once, the slow obvious way: scanning left to right, the
    longest form starting at each position is masked and scanning resumes after it."""
    ordered = sorted({form for form in forms if form}, key=len, reverse=True)
    out = bytearray()
    pos = 0
    while pos < len(data):
        form = next((f for f in ordered if data.startswith(f, pos)), None)
        if form is None:
            out.append(data[pos])
            pos += 1
        else:
            out += mask
            pos += len(form)
    return bytes(out)


def streamed(redactor: Redactor, pieces: Iterable[bytes], *, pause: bool = False) -> bytes:
    """Everything written for `pieces` fed one after the other, then flushed; with `pause`,
    the I/O layer's silence (release_short_tail) comes after every piece."""
    out = b""
    for piece in pieces:
        out += redactor.feed(piece)
        if pause:
            out += redactor.release_short_tail()
    return out + redactor.flush()


def paused(
    redactor: Redactor, pieces: Sequence[bytes], pauses: Sequence[bool]
) -> tuple[bytes, bool]:
    """Everything written for `pieces` fed one after the other, a silence
    (release_short_tail) after each piece whose pause is True, then flushed; and whether
    any silence released something."""
    output = b""
    released = False
    for piece, pause in zip(pieces, pauses, strict=True):
        output += redactor.feed(piece)
        if pause:
            tail = redactor.release_short_tail()
            released = released or bool(tail)
            output += tail
    return output + redactor.flush(), released


def splits(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """`data` cut at the given positions (sorted, duplicates allowed)."""
    edges = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in pairwise(edges)]


def leaks(output: bytes, forms: Iterable[bytes]) -> list[bytes]:
    """The forms that appear whole in `output`."""
    return [form for form in forms if form in output]
