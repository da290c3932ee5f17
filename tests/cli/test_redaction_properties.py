"""Properties of the redactor over random secrets, text, chunkings and pauses (hypothesis).

The redactor fed in any chunks writes exactly what redacting the whole output at once
writes (tests/cli/redaction_support.reference), never shows a protected form whole, even
with pauses (release_short_tail) anywhere, and holds back only proper prefixes of forms.
"""

from __future__ import annotations

import base64
import json
import string
from urllib.parse import quote

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sigillo.cli.run.redaction import (
    HEAD,
    MASK,
    Redactor,
    is_likely_secret,
    protect,
    protected_forms,
)
from tests.cli.redaction_support import leaks, paused, reference, splits, streamed

ALNUM = string.ascii_letters + string.digits

# Secrets that pass the rule: 16 to 30 distinct letters and digits (>= 4 bits a character),
# sometimes with a prefix and a suffix that are not part of the run.
secrets = st.builds(
    lambda before, run, after: before + "".join(run) + after,
    st.sampled_from(["", "sk_live_", "ghp_", "key="]),
    st.lists(st.sampled_from(ALNUM), min_size=16, max_size=30, unique=True),
    st.sampled_from(["", "==", "/x", "ü"]),
)

# Forms over a small alphabet, so that they overlap, share prefixes and suffixes, and
# contain one another; some are longer than the matcher's HEAD. No '*': the mask's byte.
small = st.binary(min_size=1, max_size=2 * HEAD + 8).map(
    lambda raw: bytes(b"ab\x00\xff\n"[byte % 5] for byte in raw)
)


@st.composite
def stream(draw: st.DrawFn, forms: list[bytes]) -> bytes:
    """Output made of noise, whole forms and pieces of forms (prefixes and suffixes)."""
    pieces = draw(
        st.lists(
            st.one_of(
                st.binary(max_size=12),
                st.sampled_from(forms),
                st.sampled_from(forms).flatmap(
                    lambda form: st.integers(0, len(form)).map(lambda n: form[:n])
                ),
                st.sampled_from(forms).flatmap(
                    lambda form: st.integers(0, len(form)).map(lambda n: form[n:])
                ),
            ),
            max_size=12,
        )
    )
    return b"".join(pieces)


@st.composite
def cut(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """`data` in random chunks (empty ones included)."""
    return splits(data, draw(st.lists(st.integers(0, len(data)), max_size=12)))


@settings(max_examples=300, deadline=None)
@given(st.data(), st.lists(small, min_size=1, max_size=6))
def test_any_chunking_writes_the_whole_redaction_and_no_form(
    data: st.DataObject, forms: list[bytes]
) -> None:
    text = data.draw(stream(forms))
    pieces = data.draw(cut(text))
    output = streamed(Redactor(forms), pieces)
    assert output == reference(text, forms)
    assert leaks(output, forms) == []


@settings(max_examples=300, deadline=None)
@given(st.data(), st.lists(small, min_size=1, max_size=6))
def test_pauses_anywhere_never_show_a_form_whole(data: st.DataObject, forms: list[bytes]) -> None:
    text = data.draw(stream(forms))
    pieces = data.draw(cut(text))
    pauses = data.draw(st.lists(st.booleans(), min_size=len(pieces), max_size=len(pieces)))
    output, released = paused(Redactor(forms), pieces, pauses)
    assert leaks(output, forms) == []
    if not released:  # a silence that released nothing changes nothing
        assert output == reference(text, forms)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.lists(small, min_size=1, max_size=6))
def test_only_a_proper_prefix_of_a_form_is_held_back(
    data: st.DataObject, forms: list[bytes]
) -> None:
    text = data.draw(stream(forms))
    # `held` counts the text of the tail; escape bytes are not text (test_redaction_escapes.py)
    assume(b"\x1b" not in text and b"\x07" not in text)
    redactor = Redactor(forms)
    fed = b""
    for piece in data.draw(cut(text)):
        redactor.feed(piece)
        fed += piece
        if redactor.held:
            tail = fed[-redactor.held :]
            assert any(len(form) > len(tail) and form.startswith(tail) for form in forms)


@settings(max_examples=100, deadline=None)
@given(st.data(), st.lists(secrets, min_size=1, max_size=4, unique=True))
def test_secret_values_and_their_encodings_in_random_text(
    data: st.DataObject, values: list[str]
) -> None:
    assert all(is_likely_secret(value) for value in values)
    forms, unprotected = protect({f"S{i}": value for i, value in enumerate(values)})
    assert unprotected == []
    noise = st.text(max_size=30).map(str.encode) | st.binary(max_size=30)
    parts = data.draw(st.lists(noise | st.sampled_from(forms), max_size=10))
    text = b"".join(parts)
    output = streamed(Redactor(forms), data.draw(cut(text)))
    if b"\x1b" not in text and b"\x07" not in text:  # else see test_redaction_escapes.py
        assert output == reference(text, forms)
    assert leaks(output, forms) == []


@settings(max_examples=200, deadline=None)
@given(secrets, st.binary(max_size=5), st.binary(max_size=5), st.booleans(), st.booleans())
def test_base64_of_a_secret_inside_any_buffer_keeps_only_edge_characters(
    value: str, before: bytes, after: bytes, urlsafe: bool, padded: bool
) -> None:
    raw = value.encode()
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    encoded = encode(before + raw + after)
    encoded = encoded if padded else encoded.rstrip(b"=")
    redactor = Redactor(protected_forms(value))
    output = redactor.feed(encoded) + redactor.flush()
    head, mask, rest = output.partition(MASK)
    first, stable_end = -(-8 * len(before) // 6), 8 * (len(before) + len(raw)) // 6
    assert mask == MASK
    assert encoded.startswith(head)
    assert encoded.endswith(rest)
    assert len(head) <= first
    assert len(encoded) - len(rest) >= stable_end


@settings(max_examples=200, deadline=None)
@given(secrets, st.text(max_size=5), st.text(max_size=5))
def test_hex_percent_and_json_forms_of_a_secret_are_masked_in_place(
    value: str, before: str, after: str
) -> None:
    forms = protected_forms(value)
    redactor = Redactor(forms)

    def redact(data: bytes) -> bytes:
        return redactor.feed(data) + redactor.flush()

    raw, pre, post = (part.encode("utf-8", "surrogatepass") for part in (value, before, after))
    for case in (str.lower, str.upper):
        hexed = [case(part.hex()).encode() for part in (pre, raw, post)]
        assert redact(b"".join(hexed)) == hexed[0] + MASK + hexed[2]
    percent = [quote(part, safe="").encode() for part in (pre, raw, post)]
    assert redact(b"".join(percent)) == percent[0] + MASK + percent[2]
    for ascii_only in (True, False):
        escaped = [
            json.dumps(part, ensure_ascii=ascii_only)[1:-1].encode("utf-8", "surrogatepass")
            for part in (before, value, after)
        ]
        assert redact(b"".join(escaped)) == escaped[0] + MASK + escaped[2]
