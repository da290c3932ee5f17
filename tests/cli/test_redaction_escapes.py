"""Issue 12, item 4: escape sequences inside a value (docs/redaction.md section 2).

`grep --color` colours the matched part of a line, so a value is written with SGR codes in
the middle; before this, the redactor compared bytes and let it through. It now matches the
text without escape sequences and writes the sequences that stood inside a masked value
before the mask, so the terminal's colours stay as the program set them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sigillo.cli.run.escapes import split_escapes, text_of
from sigillo.cli.run.redaction import MASK, Redactor
from tests.cli.redaction_support import leaks, splits, streamed

VALUE = b"sk_live_4eC39HqLyjWDarjtT1zdp7dc"
RED, RESET, ERASE = b"\x1b[01;31m", b"\x1b[m", b"\x1b[K"
# sequences of every kind the splitter sets apart
SEQUENCES = [
    RED, RESET, ERASE, b"\x1b[38;2;255;0;0m", b"\x1b[?25l", b"\x1b(B", b"\x1b7", b"\x1b=",
    b"\x1b]", b"\x1b\\", b"\x07", b"\x1b[1 q",
]  # fmt: skip


def redact(data: bytes, forms: list[bytes] = [VALUE]) -> bytes:  # noqa: B006 (never mutated)
    redactor = Redactor(forms)
    return redactor.feed(data) + redactor.flush()


def test_grep_colouring_part_of_a_value_masks_it_and_keeps_the_codes() -> None:
    line = b"key=" + RED + ERASE + b"sk_live" + RESET + ERASE + b"_4eC39HqLyjWDarjtT1zdp7dc\n"
    assert redact(line) == b"key=" + RED + ERASE + RESET + ERASE + MASK + b"\n"


def test_a_sequence_between_every_byte_is_skipped() -> None:
    coloured = b"".join(
        bytes([byte]) + SEQUENCES[i % len(SEQUENCES)] for i, byte in enumerate(VALUE)
    )
    output = redact(b"<" + coloured + b">")
    assert text_of(output) == b"<" + MASK + b">"
    # the sequences inside the value come before the mask, the last one (after it) follows
    inside = b"".join(SEQUENCES[i % len(SEQUENCES)] for i in range(len(VALUE) - 1))
    assert output == b"<" + inside + MASK + SEQUENCES[(len(VALUE) - 1) % len(SEQUENCES)] + b">"


def test_a_value_in_an_osc_hyperlink_address_is_masked_inside_it() -> None:
    link = b"\x1b]8;;https://example.com/?token=" + VALUE + b"\x1b\\here\x1b]8;;\x1b\\"
    assert (
        redact(link) == b"\x1b]8;;https://example.com/?token=" + MASK + b"\x1b\\here\x1b]8;;\x1b\\"
    )


def test_a_window_title_holding_a_value_is_masked() -> None:
    assert redact(b"\x1b]0;deploying " + VALUE + b"\x07") == b"\x1b]0;deploying " + MASK + b"\x07"


def test_output_without_a_value_passes_byte_for_byte_escapes_included() -> None:
    text = b"".join(SEQUENCES) + b"plain \x1b[1mbold\x1b[0m \x1bnot-a-sequence \x1b[" + b"9" * 40
    assert redact(text) == text


def test_an_incomplete_sequence_at_the_end_is_completed_by_the_next_write() -> None:
    redactor = Redactor([VALUE])
    out = redactor.feed(b"sk_live\x1b[01")
    out += redactor.feed(b";31m_4eC39HqLyjWDarjtT1zdp7dc!")
    assert out + redactor.flush() == b"\x1b[01;31m" + MASK + b"!"
    # at the end of the stream an incomplete sequence is written as it is
    assert streamed(Redactor([VALUE]), [b"ok \x1b[3"]) == b"ok \x1b[3"


def test_a_value_that_itself_holds_an_escape_sequence_is_matched_by_its_text() -> None:
    value = b"pre\x1b[1mSECRETvalue-2024"
    assert redact(b"x " + value + b" y", [value]) == b"x \x1b[1m" + MASK + b" y"


def test_nothing_protected_passes_escapes_and_partial_sequences_untouched() -> None:
    redactor = Redactor([])
    assert redactor.feed(b"a\x1b[3") + redactor.feed(b"1mb") + redactor.flush() == b"a\x1b[31mb"


def test_split_escapes_positions_and_partial() -> None:
    text, escapes, partial = split_escapes(b"a\x1b[1mb\x07c\x1b(")
    assert (text, escapes, partial) == (b"abc", [(1, b"\x1b[1m"), (2, b"\x07")], b"\x1b(")
    assert split_escapes(b"a\x1b(", final=True) == (b"a\x1b(", [], b"")
    assert split_escapes(b"plain", final=False) == (b"plain", [], b"")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(SEQUENCES), min_size=len(VALUE), max_size=len(VALUE)),
    st.lists(st.booleans(), min_size=len(VALUE), max_size=len(VALUE)),
    st.lists(st.integers(0, 200), max_size=12),
    st.binary(max_size=8).filter(lambda b: 0x1B not in b and 0x07 not in b),
)
def test_any_colouring_in_any_chunks_never_shows_the_value_and_keeps_every_sequence(
    sequences: list[bytes], used: list[bool], cuts: list[int], noise: bytes
) -> None:
    coloured = b"".join(
        bytes([byte]) + (sequence if use else b"")
        for byte, sequence, use in zip(VALUE, sequences, used, strict=True)
    )
    data = noise + coloured + noise
    output = streamed(Redactor([VALUE]), splits(data, [c % (len(data) + 1) for c in cuts]))
    assert text_of(output) == noise + MASK + noise
    kept = [s for s, use in zip(sequences, used, strict=True) if use]
    assert [sequence for _, sequence in split_escapes(output, final=True)[1]] == kept


# Forms and noise over an alphabet rich in escape bytes, so that sequences form inside
# forms, take in their edges and split them.
ESCAPE_RICH = b"\x1b\x07[]m6;ab"
rich = st.binary(min_size=1, max_size=24).map(
    lambda raw: bytes(ESCAPE_RICH[b % len(ESCAPE_RICH)] for b in raw)
)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.lists(rich, min_size=1, max_size=5))
def test_escape_rich_output_in_any_chunks_with_pauses_never_shows_a_form_whole(
    data: st.DataObject, forms: list[bytes]
) -> None:
    text = b"".join(data.draw(st.lists(rich | st.sampled_from(forms), max_size=10)))
    whole = streamed(Redactor(forms), [text])
    pieces = splits(text, data.draw(st.lists(st.integers(0, len(text)), max_size=10)))
    assert streamed(Redactor(forms), pieces) == whole  # the same whatever the chunking
    assert leaks(whole, forms) == []
    assert leaks(streamed(Redactor(forms), pieces, pause=True), forms) == []
