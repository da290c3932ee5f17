"""The seam between chunks: a chunk that follows a held tail (docs/redaction.md section 4).

A long chunk (matcher.APART bytes or more, and at least as long as the longest form) is
matched apart from the tail held before it: the matcher reads the seam, the held tail and
the chunk's first bytes, on its own instead of copying the chunk behind the tail. Here
APART is lowered so that every chunk as long as the longest form goes that way. Whatever
the chunk sizes, the output must be exactly the whole redaction: forms that start in the
held tail (or in bytes a silence released) and end in the chunk, forms sharing their first
HEAD bytes, forms inside others.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigillo.cli.run import matcher
from sigillo.cli.run.matcher import Matcher
from sigillo.cli.run.redaction import HEAD, MASK, Redactor
from tests.cli.redaction_support import leaks, paused, reference, splits, streamed

# Two long forms with the same head (the matcher finds both at one hit), one a prefix of the
# other, a form inside the longest, and one that starts inside it and runs past its end.
SHARED = b"tok_" + bytes(range(65, 65 + HEAD - 4))
LONGEST = SHARED + b"-0123456789abcdefghij"
FORMS = [
    LONGEST,
    SHARED + b"-0123",
    SHARED + b"+zyx",
    LONGEST[10:30],
    LONGEST[-8:] + b"klmnop",
    b"tok_",
]
STREAM = b"".join(
    [
        b"noise ",
        LONGEST,
        b" ",
        SHARED + b"-0123",
        b"|",
        SHARED + b"+zyx",
        SHARED + b"-01",  # a proper prefix, then a form that starts inside it
        LONGEST[10:30],
        LONGEST + b"klmnop",  # the longest then one that starts inside it: longest wins
        LONGEST[-8:] + b"klmnop",
        b"tok_tok_" + LONGEST[:40],
        b" end",
    ]
)


@pytest.fixture(autouse=True)
def every_long_chunk_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher, "APART", 0)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_every_chunk_size_writes_the_whole_redaction() -> None:
    expected = reference(STREAM, FORMS)
    assert expected.count(MASK) >= 10
    redactor = Redactor(FORMS)
    wrong = [
        size
        for size in range(1, 3 * len(LONGEST) + 2)
        if streamed(redactor, chunked(STREAM, size)) != expected
    ]
    assert wrong == []


@pytest.mark.parametrize("first", range(1, len(LONGEST)))
def test_a_form_cut_anywhere_is_masked_by_a_long_chunk_after_it(first: int) -> None:
    data = b"x " + LONGEST + b" and more text than the longest form, " * 3
    output = streamed(Redactor(FORMS), splits(data, [2 + first]))
    assert output == reference(data, FORMS)
    assert leaks(output, FORMS) == []


def test_a_form_begun_in_released_bytes_is_masked_from_them_by_a_long_chunk() -> None:
    redactor = Redactor(FORMS)
    out = redactor.feed(b"prompt: to")
    assert (out, redactor.held) == (b"prompt: ", 2)
    out += redactor.release_short_tail()  # `to` is shown, and followed
    assert out == b"prompt: to"
    rest = LONGEST[2:] + b" " + b"x" * len(LONGEST)
    out += redactor.feed(rest) + redactor.flush()
    assert out == b"prompt: to" + MASK + b" " + b"x" * len(LONGEST)


def test_released_bytes_that_begin_no_form_are_not_written_again() -> None:
    redactor = Redactor(FORMS)
    out = redactor.feed(b"prompt: to") + redactor.release_short_tail()
    rest = b"ad, and more text than the longest form " * 2
    out += redactor.feed(rest) + redactor.flush()
    assert out == b"prompt: to" + rest


def test_a_short_form_masked_in_released_bytes_then_a_long_chunk() -> None:
    redactor = Redactor([LONGEST, b"ok"])
    out = redactor.feed(b"t") + redactor.release_short_tail()
    out += redactor.feed(b"ok") + redactor.release_short_tail()
    assert out == b"t" + MASK  # `ok` masked as it was released; `tok` still followed
    out += redactor.feed(LONGEST[3:] + b"." * 2 * len(LONGEST)) + redactor.flush()
    assert out == b"t" + MASK + MASK + b"." * 2 * len(LONGEST)


def test_a_long_chunk_behind_a_held_tail_is_matched_apart_from_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, int]] = []
    seam = Matcher._feed_seam

    def spy(self: Matcher, held: bytes, text: bytes) -> bytes:
        calls.append((held, len(text)))
        return seam(self, held, text)

    monkeypatch.setattr(Matcher, "_feed_seam", spy)
    redactor = Redactor(FORMS)
    chunk = b"." * (len(LONGEST) - 1) + b"t"
    out = redactor.feed(chunk) + redactor.feed(b"ok_" + b"." * len(LONGEST))
    assert calls == [(b"t", len(LONGEST) + 3)]
    assert out + redactor.flush() == chunk[:-1] + MASK + b"." * len(LONGEST)


def test_chunks_of_the_real_size_behind_held_tails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # matcher.APART as it is
    assert matcher.APART <= 1 << 16
    filler = bytes(range(40, 120)) * (1 << 10)
    data = b"".join(filler[i:] + FORMS[i % len(FORMS)] for i in range(8))
    cuts = [len(data) * n // 9 + n for n in range(1, 9)]
    assert all(len(piece) > matcher.APART for piece in splits(data, cuts))
    for shift in range(-8, 9, 2):  # cuts that fall inside the forms, or not
        pieces = splits(data, [cut + shift for cut in cuts])
        assert streamed(Redactor(FORMS), pieces) == reference(data, FORMS), shift


def test_escape_sequences_in_forms_across_the_seam() -> None:
    # a form holding an escape sequence: the bytes pass matches it, in chunks of any size
    coloured = b"\x1b[31m" + LONGEST + b"\x1b[m"
    forms = [coloured, LONGEST]
    data = b"a" * 50 + coloured + b"b" * 50 + LONGEST[:20] + b"\x1b[m" + LONGEST + b"c" * 50
    expected = reference(data, forms).replace(b"\x1b[31m" + MASK + b"\x1b[m", MASK)
    for size in range(1, 3 * len(coloured)):
        output = streamed(Redactor(forms), chunked(data, size))
        assert leaks(output, forms) == []
        assert output.replace(b"\x1b[31m" + MASK + b"\x1b[m", MASK) == expected, size


# Forms over a small alphabet, so that they overlap, share heads and contain one another.
small = st.binary(min_size=1, max_size=2 * HEAD + 8).map(
    lambda raw: bytes(b"ab\x00\n"[byte % 4] for byte in raw)
)


@st.composite
def stream_and_cuts(draw: st.DrawFn, forms: list[bytes]) -> tuple[bytes, list[int]]:
    """Forms, pieces of forms and noise; cut mostly into chunks near the longest form's
    length or longer, so that most chunks follow a held tail and are matched apart."""
    pieces = draw(
        st.lists(
            st.one_of(
                # noise without escape bytes: a sequence is set apart from the text matched
                # (test_redaction_escapes.py), which the plain reference does not do
                st.binary(max_size=6).map(lambda raw: raw.translate(None, b"\x1b\x07")),
                st.sampled_from(forms),
                st.sampled_from(forms).flatmap(
                    lambda form: st.integers(1, len(form)).map(lambda n: form[:n])
                ),
            ),
            max_size=16,
        )
    )
    data = b"".join(pieces)
    longest = max(map(len, forms))
    sizes = draw(
        st.lists(
            st.one_of(
                st.integers(1, 4),
                st.integers(max(1, longest - 2), longest + 2),
                st.integers(longest, 3 * longest),
            ),
            max_size=20,
        )
    )
    cuts, at = [], 0
    for size in sizes:
        at = min(at + size, len(data))
        cuts.append(at)
    return data, cuts


@settings(max_examples=400, deadline=None)
@given(st.data(), st.lists(small, min_size=1, max_size=6))
def test_chunks_at_and_past_the_longest_form_write_the_whole_redaction(
    data: st.DataObject, forms: list[bytes]
) -> None:
    text, cuts = data.draw(stream_and_cuts(forms))
    output = streamed(Redactor(forms), splits(text, cuts))
    assert output == reference(text, forms)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.lists(small, min_size=1, max_size=6))
def test_pauses_then_long_chunks_never_show_a_form_whole(
    data: st.DataObject, forms: list[bytes]
) -> None:
    text, cuts = data.draw(stream_and_cuts(forms))
    pieces = splits(text, cuts)
    pauses = data.draw(st.lists(st.booleans(), min_size=len(pieces), max_size=len(pieces)))
    output, released = paused(Redactor(forms), pieces, pauses)
    assert leaks(output, forms) == []
    if not released:
        assert output == reference(text, forms)
