"""One pass of the redactor over a stream (docs/redaction.md sections 3 and 4).

A Matcher masks every occurrence of its forms, leftmost-longest, in a stream fed in chunks,
holding back only a tail that is a proper prefix of a form. Matching uses Hyperscan, which
finds ~1,000 literals in a buffer at the speed of a few plain copies (the standard
library's `re` is some thousand times slower on them): it is given the first HEAD bytes of
every form, and the rest of a longer form is compared here. With `escapes`, it matches the
text of the stream (escapes.py) and writes the escape sequences back in place.
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Iterable

import hyperscan

from sigillo.cli.run.escapes import Escape, split_escapes

__all__ = ["HEAD", "Matcher", "MatcherError"]

Span = tuple[int, int]  # (start, end) of a masked piece of the output
HEAD = 32  # bytes of each form the matcher looks for; longer forms are verified here


class MatcherError(Exception):
    """A state the matcher must never be in, or a matcher that cannot be built."""


class Matcher:
    """One pass of the redactor over a stream: masks `forms` in its bytes, or with
    `escapes` in its text (escape sequences set apart, put back around the masks)."""

    def __init__(self, forms: Iterable[bytes], mask: bytes, *, escapes: bool) -> None:
        ordered = sorted(set(forms) - {b""}, key=len, reverse=True)
        self.forms = ordered
        self._escapes_apart = escapes
        self._mask = mask
        self._longest = len(ordered[0]) if ordered else 0
        by_head: dict[bytes, list[bytes]] = {}
        for form in ordered:
            by_head.setdefault(form[:HEAD], []).append(form)
        heads = list(by_head)  # the matcher's id of a head is its index here
        self._forms = [by_head[head] for head in heads]  # by head id, longest first
        self._head_sizes = [len(head) for head in heads]
        # the proper prefixes shorter than HEAD: a tail shorter than HEAD is looked up here,
        # a longer one is found by the matcher (its head is complete) and verified
        self._prefixes = {form[:n] for form in ordered for n in range(1, min(len(form), HEAD))}
        self._window = min(self._longest, HEAD) - 1
        self._enders = {prefix[-1] for prefix in self._prefixes}  # the last bytes of those
        try:
            self._database = _compile(heads) if ordered else None
        except Exception as error:  # sigillo run must then not start the child
            raise MatcherError(f"the matcher failed: {type(error).__name__}") from error
        self._scratch: hyperscan.Scratch | None = None  # None: the database's own
        self._written = b""  # released by release_short_tail, may still start a form
        self._pending = b""  # not written yet: a proper prefix of some form
        self._escapes: list[Escape] = []  # escape sequences standing inside _pending
        self._partial = b""  # an incomplete escape sequence at the end of what was fed

    def twin(self) -> Matcher:
        """A matcher of the same forms with its own scratch space and no stream state."""
        twin = copy.copy(self)
        twin._scratch = hyperscan.Scratch(self._database) if self._database else None
        twin._written = twin._pending = twin._partial = b""
        twin._escapes = []
        return twin

    def sharing(self, *, escapes: bool) -> Matcher:
        """A twin that sets escape sequences apart or not (same forms, same matcher)."""
        twin = self.twin()
        twin._escapes_apart = escapes
        return twin

    @property
    def held(self) -> int:
        """0 when nothing is held back; else the length of the candidate prefix the held
        tail ends, counting the bytes of it that `release` already wrote."""
        return len(self._written) + len(self._pending) if self._pending else 0

    @property
    def idle(self) -> bool:
        """Nothing held, nothing released being followed: the stream so far is done with."""
        return not (self._written or self._pending or self._partial)

    @property
    def plain(self) -> bool:
        """No escape sequence held: for input without escape bytes, none is written."""
        return not (self._escapes or self._partial)

    def feed(self, data: bytes, *, plain: bool = False) -> bytes:
        """What to write now for `data`; `plain`: the caller knows it has no escape bytes
        and that the matcher holds no sequence (so there is nothing to set apart)."""
        if self._database is None:
            return data
        if plain or not self._escapes_apart:
            text, escapes = data, list[Escape]()
        else:
            text, escapes = self._text(self._partial + data, final=False)
        buffer, written = self._written + self._pending + text, len(self._written)
        masks, tail, _, stop = self._redact(buffer, written, final=False)
        out, held = self._compose(buffer, written, masks, stop, escapes)
        self._escapes = [(at - tail, sequence) for at, sequence in held]
        if tail < written:  # the candidate starts inside the released bytes
            self._written, self._pending = buffer[tail:written], buffer[written:]
        else:
            self._written, self._pending = b"", buffer[tail:]
        if len(buffer) - tail >= max(self._longest, 1):
            raise MatcherError("held back more than a proper prefix of a form")
        return out

    def flush(self) -> bytes:
        text, escapes = b"", self._escapes
        if self._partial:
            text, escapes = self._text(self._partial, final=True)
        buffer, written = self._written + self._pending + text, len(self._written)
        self._written = self._pending = b""
        self._escapes = []
        if not buffer:
            return b"".join(sequence for _, sequence in escapes)
        masks, _, _, stop = self._redact(buffer, written, final=True)
        return self._compose(buffer, written, masks, stop, escapes)[0]

    def release(self, short_tail: int) -> bytes:
        """The held tail, when the candidate it ends is shorter than `short_tail`."""
        if not 0 < self.held < short_tail:
            return b""
        buffer, written = self._written + self._pending, len(self._written)
        masks, _, first, stop = self._redact(buffer, written, final=True)
        out, _ = self._compose(buffer, written, masks, stop, self._escapes)
        # everything is out now; the redactor keeps following a candidate that began in it,
        # even one inside which a shorter form was just masked (docs/redaction.md section 4)
        self._written, self._pending, self._escapes = buffer[first:], b"", []
        return out

    def _text(self, data: bytes, *, final: bool) -> tuple[bytes, list[Escape]]:
        """The text of `data` and the escape sequences held and in it, positioned in the
        buffer this text will extend; an incomplete sequence at its end is kept back."""
        text, escapes, self._partial = split_escapes(data, final=final)
        if not escapes:
            return text, self._escapes
        base = len(self._written) + len(self._pending)
        return text, self._escapes + [(base + at, sequence) for at, sequence in escapes]

    def _compose(
        self, buffer: bytes, written: int, masks: list[Span], stop: int, escapes: list[Escape]
    ) -> tuple[bytes, list[Escape]]:
        """The output for `buffer[written:stop]` with `masks` masked and the escape sequences
        standing before text up to `stop` in their places (those inside a masked span go
        before its mask). Returns it and the escape sequences still held, which stand
        inside the held tail."""
        view = memoryview(buffer)  # pieces of the output are joined without copying twice
        mask = self._mask
        out: list[bytes | memoryview] = []
        prev = written
        if not escapes:
            if not masks and not written and stop == len(buffer):
                return buffer, []  # nothing masked or held: no copy at all
            for start, end in masks:
                out += (view[prev:start], mask)
                prev = end
            out.append(view[prev:stop])
            return b"".join(out), []
        index, count = 0, len(escapes)
        for start, end in [*masks, (stop, -1)]:  # the last: text up to stop, no mask
            while index < count and escapes[index][0] < start:
                at, sequence = escapes[index]
                out += (view[prev:at], sequence) if at > prev else (sequence,)
                prev = max(prev, at)
                index += 1
            out.append(view[prev:start])
            if end < 0:
                break
            while index < count and escapes[index][0] < end:  # inside: before the mask
                out.append(escapes[index][1])
                index += 1
            out.append(mask)
            prev = end
        while index < count and escapes[index][0] <= stop:
            out.append(escapes[index][1])
            index += 1
        return b"".join(out), escapes[index:]

    def _redact(
        self, buffer: bytes, written: int, *, final: bool
    ) -> tuple[list[Span], int, int, int]:
        """Redact `buffer`, of which the first `written` bytes are already out. Returns the
        spans to mask from `written` on, where the tail that may still become a form
        starts, where the first such candidate starts (anywhere), and where the bytes to
        write now end; when `final` the tail is written too (as at end of stream) instead
        of being left undecided."""
        size = len(buffer)
        if not buffer:
            return [], 0, 0, 0
        hits = self._hits(buffer)
        candidates = self._candidates(buffer, hits)
        masks: list[Span] = []
        pos = 0  # everything before pos is decided
        # a hit at or after `limit` is left undecided: a longer form may start before it
        limit = size + 1 if final else _first_at_or_after(candidates, 0, size)
        index, count = 0, len(hits)
        while index < count:
            start, head = hits[index]
            index += 1
            if start < pos:
                continue  # inside the span masked just before: no overlap
            if start >= limit:
                break
            end = self._complete(buffer, start, head)
            while index < count and hits[index][0] == start:  # heads of other lengths here
                end = max(end, self._complete(buffer, start, hits[index][1]))
                index += 1
            if end <= written:
                continue  # no form here, or one already written (masked when released)
            masks.append((start if start > written else written, end))
            pos = end
            if not final:
                limit = _first_at_or_after(candidates, pos, size)
        tail = _first_at_or_after(candidates, pos, size)
        stop = size if final else tail
        return masks, tail, candidates[0] if candidates else size, max(stop, written)

    def _hits(self, buffer: bytes) -> list[tuple[int, int]]:
        """(start, head id) of every occurrence of a head in `buffer`, in order."""
        assert self._database is not None
        hits: list[tuple[int, int]] = []
        sizes = self._head_sizes
        self._database.scan(
            buffer,
            match_event_handler=lambda i, _f, to, _fl, _c: hits.append((to - sizes[i], i)),
            scratch=self._scratch,
        )
        hits.sort()
        return hits

    def _complete(self, buffer: bytes, start: int, head: int) -> int:
        """The end of the longest form with this head whole at `start`; 0 when none is."""
        for form in self._forms[head]:
            if buffer.startswith(form, start):
                return start + len(form)
        return 0

    def _candidates(self, buffer: bytes, hits: list[tuple[int, int]]) -> list[int]:
        """The sorted positions where the rest of `buffer` is a proper prefix of a form:
        heads found near the end whose form runs past it, and the last HEAD-1 positions."""
        size = len(buffer)
        found = set()
        for start, head in reversed(hits):
            if start <= size - self._longest:
                break
            rest = buffer[start:]
            if any(len(form) > len(rest) and form.startswith(rest) for form in self._forms[head]):
                found.add(start)
        if buffer[-1] in self._enders:  # else no ending of buffer is such a prefix
            for start in range(max(0, size - self._window), size):
                if buffer[start:] in self._prefixes:
                    found.add(start)
        return sorted(found)


def _first_at_or_after(positions: list[int], pos: int, default: int) -> int:
    index = bisect_left(positions, pos)
    return positions[index] if index < len(positions) else default


def _compile(heads: list[bytes]) -> hyperscan.Database:
    """A Hyperscan block-mode database finding every occurrence of each head. Heads are
    compiled as pure literals (Hyperscan's literal compiler, twice as fast to build); the
    binding passes them as C strings, so should a head hold a NUL byte (a value can: JSON
    allows \\u0000), all are compiled as expressions of \\xHH escapes instead, where every
    byte stands for itself."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    literal = not any(0 in head for head in heads)
    expressions = heads if literal else [b"".join(b"\\x%02x" % b for b in head) for head in heads]
    database.compile(
        expressions=expressions, ids=list(range(len(heads))), elements=len(heads), literal=literal
    )
    return database
