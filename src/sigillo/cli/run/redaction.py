"""The redactor of `sigillo run`: a pure streaming state machine (docs/redaction.md).

One Redactor per output stream of the child. `feed(chunk)` returns at once every byte that
can no longer become part of a protected form, with each protected form replaced by MASK;
it keeps back only a tail that is a proper prefix of some form. `release_short_tail()`,
called by the I/O layer after 50 ms without input, writes such a tail when it is shorter
than 4 bytes (so that prompts appear), and `flush()` ends the stream. No I/O, no clock, no
threads: the I/O layer owns those, and stops all output when any call here raises.

Where forms overlap, the longest one starting at the leftmost position wins and masked
spans never overlap, exactly as if the whole output had been redacted at once. Two passes
(matcher.py) do the matching: the first matches the *text* of the output, in which escape
sequences are set apart (a value coloured in the middle by `grep --color` is still the
value) and written back around the masks; the second matches the bytes of what the first
wrote, for a value whose edge an escape sequence took in. The second runs only while
escape sequences are about: for plain output the first pass is the whole redactor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sigillo.cli.run.escapes import text_of
from sigillo.cli.run.matcher import HEAD, Matcher, MatcherError
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


class RedactionError(Exception):
    """The redactor failed or reached a state it must never be in. The I/O layer stops
    writing the child's output and exits non-zero; the redactor refuses all further calls."""


class Redactor:
    """Masks every occurrence of `forms` in a byte stream fed in chunks of any size."""

    def __init__(self, forms: Iterable[bytes], mask: bytes = MASK) -> None:
        raw = {bytes(form) for form in forms} - {b""}
        texts = {text_of(form) for form in raw}
        try:
            self._text = Matcher(texts, bytes(mask), escapes=True)
            # the bytes pass shares the text pass's matcher unless a form holds a sequence
            self._raw = (
                self._text.sharing(escapes=False)
                if texts == raw
                else Matcher(raw, bytes(mask), escapes=False)
            )
        except MatcherError as error:  # sigillo run must then not start the child
            raise RedactionError(str(error)) from error
        # a form holding escape bytes can lose them to a sequence in any chunk
        self._always_raw = any(b"\x1b" in form or b"\x07" in form for form in raw)
        self._failed = False

    def twin(self) -> Redactor:
        """A redactor of the same forms for another stream. Building the matcher is most of
        a Redactor's cost, so the twin shares it (and the form tables, which never change)
        and has its own scratch space and stream state: twins may scan at the same time."""
        twin = object.__new__(Redactor)
        twin._text, twin._raw = self._text.twin(), self._raw.twin()
        twin._always_raw, twin._failed = self._always_raw, False
        return twin

    @property
    def held(self) -> int:
        """How long the held tail is: 0 when nothing is held back; else the length of the
        candidate prefix it ends, counting the bytes of it that release_short_tail already
        wrote (of either pass, the longer). release_short_tail writes the tail when
        0 < held < SHORT_TAIL."""
        return max(self._text.held, self._raw.held)

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
            message = str(error) if isinstance(error, MatcherError) else type(error).__name__
            raise RedactionError(f"the redactor failed: {message}") from error
        except BaseException:  # KeyboardInterrupt and the like pass as they are
            self._failed = True
            raise

    def _second(self, out: bytes) -> bytes:
        """The bytes pass over what the text pass wrote, while it can matter."""
        if self._always_raw or not self._raw.idle or b"\x1b" in out or b"\x07" in out:
            return self._raw.feed(out)
        return out

    def _feed(self, data: bytes) -> bytes:
        if (
            self._text.plain
            and self._raw.idle
            and not self._always_raw
            and b"\x1b" not in data
            and b"\x07" not in data
        ):
            return self._text.feed(data, plain=True)  # no escape bytes in or out: one pass
        return self._second(self._text.feed(data))

    def _flush(self) -> bytes:
        return self._second(self._text.flush()) + self._raw.flush()

    def _release(self) -> bytes:
        out = self._text.release(SHORT_TAIL)
        return (self._second(out) if out else b"") + self._raw.release(SHORT_TAIL)
