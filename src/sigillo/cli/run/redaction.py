"""The redactor of `sigillo run`: a pure streaming state machine (docs/redaction.md).

One Redactor per output stream of the child. `feed(chunk)` returns at once every byte that
can no longer become part of a protected form, with each protected form replaced by MASK;
it keeps back only a tail that is a proper prefix of some form. `release_short_tail()`,
called by the I/O layer after 50 ms without input, writes such a tail when it is shorter
than 4 bytes (so that prompts appear), and `flush()` ends the stream. No I/O, no clock, no
threads: the I/O layer owns those, and stops all output when any call here raises.

Where forms overlap, the longest one starting at the leftmost position wins and masked
spans never overlap, exactly as if the whole output had been redacted at once. Matching
uses Hyperscan, which finds ~1,000 literals in a buffer at the speed of a few plain copies
(the standard library's `re` is some thousand times slower on them): it is given the first
HEAD bytes of every form, and the rest of a longer form is compared here.
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Callable, Iterable

import hyperscan

from sigillo.cli.run.protected import (
    Selection,
    all_forms,
    entropy,
    is_likely_secret,
    protect,
    protected_forms,
    select_protected,
)

__all__ = [
    "HEAD",
    "MASK",
    "SHORT_TAIL",
    "RedactionError",
    "Redactor",
    "Selection",
    "all_forms",
    "entropy",
    "is_likely_secret",
    "protect",
    "protected_forms",
    "select_protected",
]

MASK = b"********"  # fixed: it does not tell how long the hidden value was
SHORT_TAIL = 4  # a candidate prefix shorter than this may be released by release_short_tail
HEAD = 32  # bytes of each form the matcher looks for; longer forms are verified here


class RedactionError(Exception):
    """The redactor failed or reached a state it must never be in. The I/O layer stops
    writing the child's output and exits non-zero; the redactor refuses all further calls."""


class Redactor:
    """Masks every occurrence of `forms` in a byte stream fed in chunks of any size."""

    def __init__(self, forms: Iterable[bytes], mask: bytes = MASK) -> None:
        ordered = sorted({bytes(form) for form in forms if form}, key=len, reverse=True)
        self._mask = bytes(mask)
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
            raise RedactionError(f"the matcher failed: {type(error).__name__}") from error
        self._scratch: hyperscan.Scratch | None = None  # None: the database's own
        self._written = b""  # released by release_short_tail, may still start a form
        self._pending = b""  # not written yet: a proper prefix of some form
        self._failed = False

    def twin(self) -> Redactor:
        """A redactor of the same forms for another stream. Building the matcher is most of
        a Redactor's cost, so the twin shares it (and the form tables, which never change)
        and has its own scratch space and stream state: twins may scan at the same time."""
        twin = copy.copy(self)
        twin._scratch = hyperscan.Scratch(self._database) if self._database else None
        twin._written = twin._pending = b""
        twin._failed = False
        return twin

    @property
    def held(self) -> int:
        """How long the held tail is: 0 when nothing is held back; else the length of the
        candidate prefix it ends, counting the bytes of it that release_short_tail already
        wrote. release_short_tail writes the tail exactly when 0 < held < SHORT_TAIL."""
        return len(self._written) + len(self._pending) if self._pending else 0

    def feed(self, data: bytes) -> bytes:
        """The bytes to write now for `data`, the next piece of the stream."""
        return self._guarded(self._feed, bytes(data))

    def flush(self) -> bytes:
        """End of stream: everything still held, redacted. The Redactor can then be reused."""
        return self._guarded(self._flush)

    def release_short_tail(self) -> bytes:
        """After a silence: the held tail, redacted, when the candidate prefix it belongs to
        (bytes released earlier included) is shorter than SHORT_TAIL; else nothing."""
        return self._guarded(self._release)

    def _guarded(self, step: Callable[..., bytes], *args: bytes) -> bytes:
        if self._failed:
            raise RedactionError("the redactor failed earlier; no more output")
        try:
            return step(*args)
        except RedactionError:
            self._failed = True
            raise
        except Exception as error:
            self._failed = True
            raise RedactionError(f"the redactor failed: {type(error).__name__}") from error
        except BaseException:  # KeyboardInterrupt and the like pass as they are
            self._failed = True
            raise

    def _feed(self, data: bytes) -> bytes:
        if self._database is None:
            return data
        buffer, written = self._written + self._pending + data, len(self._written)
        out, tail = self._redact(buffer, written, final=False)
        if tail < written:  # the candidate starts inside the released bytes
            self._written, self._pending = buffer[tail:written], buffer[written:]
        else:
            self._written, self._pending = b"", buffer[tail:]
        if len(buffer) - tail >= max(self._longest, 1):
            raise RedactionError("held back more than a proper prefix of a form")
        return out

    def _flush(self) -> bytes:
        buffer, written = self._written + self._pending, len(self._written)
        self._written = self._pending = b""
        return self._redact(buffer, written, final=True)[0] if buffer else b""

    def _release(self) -> bytes:
        if not 0 < self.held < SHORT_TAIL:
            return b""
        buffer, written = self._written + self._pending, len(self._written)
        out, tail = self._redact(buffer, written, final=True)
        self._written, self._pending = buffer[tail:], b""
        return out

    def _redact(self, buffer: bytes, written: int, *, final: bool) -> tuple[bytes, int]:
        """Redact `buffer`, of which the first `written` bytes are already out. Returns the
        bytes to write and where the tail that may still become a form starts; when `final`
        that tail is written too (as at end of stream) instead of being left undecided."""
        if not buffer:
            return b"", 0
        hits = self._hits(buffer)
        candidates = self._candidates(buffer, hits)
        size = len(buffer)
        view = memoryview(buffer)  # pieces of the output are joined without copying twice
        out: list[bytes | memoryview] = []
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
            if end == 0:
                continue  # a head, but not a whole form
            if end <= written:
                raise RedactionError("a form lies wholly inside bytes already written")
            if start > max(pos, written):
                out.append(view[max(pos, written) : start])
            out.append(self._mask)
            pos = end
            if not final:
                limit = _first_at_or_after(candidates, pos, size)
        tail = _first_at_or_after(candidates, pos, len(buffer))
        stop = len(buffer) if final else tail
        if stop > max(pos, written):
            out.append(view[max(pos, written) : stop])
        if len(out) == 1 and stop == len(buffer) and not written and not pos:
            return buffer, tail  # nothing masked or held: no copy at all
        return b"".join(out), tail

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
