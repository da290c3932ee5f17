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
import threading
from collections.abc import Iterable

import hyperscan

from sigillo.cli.run.escapes import Escape, split_escapes

__all__ = ["HEAD", "Matcher", "MatcherError"]

Span = tuple[int, int]  # (start, end) of a masked piece of the output
HEAD = 32  # bytes of each form the matcher looks for; longer forms are verified here
TAIL_KEY = 3  # a tail longer than this is looked up only when it ends as a prefix can
# a chunk at least this long (and than the longest form) that follows a held tail is matched
# apart from it; a shorter one is copied behind the tail, which costs less than a second scan
APART = 1 << 16


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
        self._prefixes = _Prefixes(heads)  # shared by twins, built at its first use
        self._window = min(self._longest, HEAD) - 1
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
        held = self._written + self._pending
        if held and not escapes and len(text) >= max(self._longest, APART):
            # nothing held can reach past the first `longest` bytes of text, and no tail can
            # start in it: the seam is matched apart and text is not copied behind it
            return self._feed_seam(held, text)
        buffer, written = held + text, len(self._written)
        masks, tail, _, stop = self._redact(buffer, written, final=False)
        out, kept = self._compose(buffer, written, masks, stop, escapes)
        self._escapes = [(at - tail, sequence) for at, sequence in kept]
        if tail < written:  # the candidate starts inside the released bytes
            self._written, self._pending = buffer[tail:written], buffer[written:]
        else:
            self._written, self._pending = b"", buffer[tail:]
        if len(buffer) - tail >= max(self._longest, 1):
            raise MatcherError("held back more than a proper prefix of a form")
        return out

    def _feed_seam(self, held: bytes, text: bytes) -> bytes:
        """`feed` of `text` behind the held tail `held`, when text is at least as long as
        the longest form and no escape sequence is about. Positions count from the start of
        text (those in `held` are negative): a form starting in held ends within the seam,
        held and the first `longest` bytes of text, and every candidate starts in text."""
        base = len(held)
        written = len(self._written) - base
        masks, tail, _, stop = self._redact(text, written, final=False, held=held)
        mask = self._mask
        view = memoryview(text)
        out: list[bytes | memoryview] = []
        prev = written
        for start, end in masks:
            if prev >= 0:
                out += (view[prev:start], mask)
            elif start <= 0:
                out += (held[prev + base : start + base], mask)
            else:
                out += (held[prev + base :], view[:start], mask)
            prev = end
        if prev >= 0:
            out.append(view[prev:stop])
        else:
            out += (held[prev + base :], view[:stop])
        self._written, self._pending, self._escapes = b"", text[tail:], []
        if len(text) - tail >= self._longest:
            raise MatcherError("held back more than a proper prefix of a form")
        return b"".join(out)

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
        self, buffer: bytes, written: int, *, final: bool, held: bytes = b""
    ) -> tuple[list[Span], int, int, int]:
        """Redact `buffer`, of which the first `written` bytes are already out. Returns the
        spans to mask from `written` on, where the tail that may still become a form
        starts, where the first such candidate starts (anywhere), and where the bytes to
        write now end; when `final` the tail is written too (as at end of stream) instead
        of being left undecided. With `held` (only when buffer is at least as long as the
        longest form), the stream is held + buffer: positions in held are negative, and
        `written` counts from the start of buffer too."""
        size = len(buffer)
        if not buffer:
            return [], 0, 0, 0
        hits = self._hits(buffer)
        candidates = self._candidates(buffer, hits)
        base = len(held)
        seam = held + buffer[: self._longest] if held else b""
        if held:  # the forms that start in held: the matcher sees them in the seam
            hits = [hit for hit in self._hits(seam, base) if hit[0] < 0] + hits
        masks: list[Span] = []
        forms = self._forms
        pos = -base  # everything before pos is decided
        # a hit at or after `limit` is left undecided: a longer form may start before it
        limit = size + 1 if final else candidates[0] if candidates else size
        found, count = 0, len(candidates)  # candidates[found:] start at or after pos
        index, hit_count = 0, len(hits)
        while index < hit_count:
            start, head = hits[index]
            index += 1
            if start < pos:
                continue  # inside the span masked just before: no overlap
            if start >= limit:
                break
            if start >= 0:
                source, at = buffer, start
            else:
                source, at = seam, start + base
            length = 0  # of the longest form whole here, of this head (longest first)
            for form in forms[head]:
                if source.startswith(form, at):
                    length = len(form)
                    break
            while index < hit_count and hits[index][0] == start:  # heads of other lengths
                for form in forms[hits[index][1]]:
                    if len(form) > length and source.startswith(form, at):
                        length = len(form)
                        break
                index += 1
            end = start + length
            if not length or end <= written:
                continue  # no form here, or one already written (masked when released)
            masks.append((start if start > written else written, end))
            pos = end
            while found < count and candidates[found] < pos:
                found += 1
            if not final:
                limit = candidates[found] if found < count else size
        while found < count and candidates[found] < pos:
            found += 1
        tail = candidates[found] if found < count else size
        stop = size if final else tail
        return masks, tail, candidates[0] if candidates else size, max(stop, written)

    def _hits(self, buffer: bytes, offset: int = 0) -> list[tuple[int, int]]:
        """(start - offset, head id) of every occurrence of a head in `buffer`, in order."""
        assert self._database is not None
        hits: list[tuple[int, int]] = []
        sizes = self._head_sizes
        self._database.scan(
            buffer,
            match_event_handler=lambda i, _f, to, _fl, _c: hits.append((to - sizes[i] - offset, i)),
            scratch=self._scratch,
        )
        hits.sort()
        return hits

    def _candidates(self, buffer: bytes, hits: list[tuple[int, int]]) -> list[int]:
        """The sorted positions where the rest of `buffer` is a proper prefix of a form:
        heads found near the end whose form runs past it, and the last HEAD-1 positions
        (those before the last TAIL_KEY - 1 only when buffer ends as such a prefix can)."""
        size = len(buffer)
        found = set()
        for start, head in reversed(hits):
            if start <= size - self._longest:
                break
            rest = buffer[start:]
            if any(len(form) > len(rest) and form.startswith(rest) for form in self._forms[head]):
                found.add(start)
        prefixes, enders = self._prefixes.built()
        window = self._window if buffer[-TAIL_KEY:] in enders else TAIL_KEY - 1
        for length in range(1, min(window, size) + 1):
            if buffer[-length:] in prefixes:
                found.add(size - length)
        return sorted(found)


class _Prefixes:
    """The proper prefixes shorter than HEAD of every head (a tail shorter than HEAD is
    looked up here; a longer one is found by the matcher, its head being complete, and
    verified), and the last TAIL_KEY bytes of those as long (a buffer that ends otherwise
    ends in no prefix longer than TAIL_KEY - 1 bytes: nearly always, for random-looking
    text). Built at the first output rather than at start-up: for 1,000 forms they take
    longer to build than the rest of the matcher (~20 ms of `sigillo run -- true`), and a
    child that prints nothing never needs them. The stream threads of twins share them."""

    def __init__(self, heads: list[bytes]) -> None:
        self._heads = heads
        self._lock = threading.Lock()
        self._built: tuple[set[bytes], set[bytes]] | None = None

    def built(self) -> tuple[set[bytes], set[bytes]]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    prefixes = {
                        head[:n] for head in self._heads for n in range(1, min(len(head), HEAD))
                    }
                    enders = {prefix[-TAIL_KEY:] for prefix in prefixes if len(prefix) >= TAIL_KEY}
                    self._built = (prefixes, enders)
        return self._built


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
