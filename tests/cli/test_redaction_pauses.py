"""Issue 12, item 6: at most 3 leading bytes of a form show, whatever the pauses.

With a short form (`--redact SHORT` where SHORT=`k_`) inside a longer one, writing `s`, a
pause, `k_`, a pause, then the rest of `sk_live_…` showed all but 3 bytes: the release of
`sk_` masked `k_` and forgot that `sk_` could still begin `sk_live_…`. The redactor now
keeps following a released tail (docs/redaction.md section 4).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sigillo.cli.run.redaction import MASK, Redactor
from tests.cli.redaction_support import leaks, splits

LONG = b"sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh0123"


def paused(redactor: Redactor, pieces: list[bytes], pauses: list[bool]) -> bytes:
    out = b""
    for piece, pause in zip(pieces, pauses, strict=True):
        out += redactor.feed(piece)
        if pause:
            out += redactor.release_short_tail()
    return out + redactor.flush()


def test_the_issue_case_shows_one_byte_and_masks() -> None:
    output = paused(Redactor([LONG, b"k_"]), [b"s", b"k_", LONG[3:]], [True, True, False])
    assert output == b"s" + MASK + MASK
    assert LONG[3:] not in output


def test_a_released_tail_that_goes_nowhere_is_written_once() -> None:
    output = paused(Redactor([LONG, b"k_"]), [b"s", b"k_", b" done"], [True, True, False])
    assert output == b"s" + MASK + b" done"


def test_a_short_form_released_alone_is_masked_then_followed() -> None:
    output = paused(
        Redactor([LONG, b"sk_"]), [b"s", b"k_", LONG[3:], b"!"], [True, True, False, False]
    )
    assert output == b"s" + MASK + MASK + b"!"


def test_one_byte_at_a_time_with_pauses_shows_three_bytes() -> None:
    pieces = [bytes([byte]) for byte in LONG]
    output = paused(Redactor([LONG, b"k_", b"_li"]), pieces, [True] * len(pieces))
    assert output.replace(MASK, b"") == b"sk"  # `k_` was masked when it was released
    assert not leaks(output, [LONG])


# Forms over one alphabet, noise over another: every byte of that alphabet in the output
# was part of a form (a mask is `*`, in neither).
FORM_BYTES = b"abcd"
forms = st.lists(
    st.binary(min_size=1, max_size=40).map(lambda raw: bytes(FORM_BYTES[b % 4] for b in raw)),
    min_size=1,
    max_size=5,
)
noise = st.binary(max_size=10).map(lambda raw: bytes(b"xyz \n"[b % 5] for b in raw))


@settings(max_examples=300, deadline=None)
@given(st.data(), forms)
def test_at_most_three_bytes_of_each_long_form_show_with_any_pauses(
    data: st.DataObject, short_and_long: list[bytes]
) -> None:
    long = max(short_and_long, key=len)
    if len(long) < 4:
        return
    # the long form whole, between noise, one to three times; the others are forms too
    count = data.draw(st.integers(1, 3))
    gaps = data.draw(st.lists(noise, min_size=count + 1, max_size=count + 1))
    text = gaps[0] + b"".join(long + gap for gap in gaps[1:])
    pieces = splits(text, data.draw(st.lists(st.integers(0, len(text)), max_size=20)))
    pauses = data.draw(st.lists(st.booleans(), min_size=len(pieces), max_size=len(pieces)))
    output = paused(Redactor(short_and_long), pieces, pauses)
    shown = sum(1 for byte in output if byte in FORM_BYTES)
    assert shown <= 3 * count
    assert leaks(output, [long]) == []
