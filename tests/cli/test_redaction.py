"""The redaction contract of `sigillo run` (docs/redaction.md), line by line.

Which values are protected (D18 by kind, tests/cli/test_protected_kinds.py; here the
likely-secret rule of behaviour.md 12.5 and 15.3 that picks the parts of compound values,
and Sigillo's additions), which
forms of them, the fixed mask, longest match first, the streaming guarantee at every split
point and across pauses, byte-exact binary, failing closed, and what is not covered.
"""

from __future__ import annotations

import ast
import base64
import json
import random
import re
import string
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from sigillo.cli.run import matcher, protected, redaction
from sigillo.cli.run.matcher import Matcher
from sigillo.cli.run.redaction import (
    HEAD,
    MASK,
    SHORT_TAIL,
    RedactionError,
    Redactor,
    entropy,
    is_likely_secret,
    protect,
    protected_forms,
    select_protected,
)
from tests.cli.redaction_support import leaks, reference, splits, streamed

TOKEN = "sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890"  # 46 bytes
HEX = "9f8c2b6a1d4e7f0a3c5b8d1e4f7a9b2c"
ODD = 'Zx9/+Qw"e\\rTy 7ü€Kp3Lm8Nb2Vc4Jh6Gf?&='  # quotes, backslash, space, non-ASCII
SIXTEEN = "Qx7mP2vN9kL4rT8y"
VALUES = [TOKEN, HEX, ODD, SIXTEEN, SIXTEEN + "W", SIXTEEN + "W1"]  # 3 alignments, padding
BEFORE = b"log: \x00\xff\xc3( noise "  # invalid UTF-8 around the secret
AFTER = b" \xe2\x82 tail\r\n"


def redact(data: bytes, forms: list[bytes]) -> bytes:
    redactor = Redactor(forms)
    return redactor.feed(data) + redactor.flush()


# ---------------------------------------------------------------- the rule (12.5, 15.3)

RULE_TABLE = [
    ("sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890", 5.14, True),
    ("9f8c2b6a1d4e7f0a3c5b8d1e4f7a9b2c", 3.91, True),
    ("1234wxyzABCD9876", 4.0, True),
    ("abcd1234wxyzABCD9876wxyz", 4.25, True),
    ("sk_live_abcdefghijklmnop", 4.0, True),
    ("aabbccddeeffgghh", 3.0, False),
    ("abababababababab", 1.0, False),
    ("aaaaaaaaaaaaaaaaaaaaaaaa", 0.0, False),
]


@pytest.mark.parametrize(("value", "bits", "redacted"), RULE_TABLE)
def test_the_rule_table_of_12_5(value: str, bits: float, redacted: bool) -> None:
    longest_run = max(value.replace("_", " ").split(), key=len)
    assert entropy(longest_run) == pytest.approx(bits, abs=0.005)
    assert is_likely_secret(value) is redacted


@pytest.mark.parametrize(
    "value",
    [
        "development",
        "current environment",
        "https://example.com/dashboard",
        "postgres://localhost:5432/app",
        "123e4567-e89b-12d3-a456-426614174000",  # longest run 12: not by the reference rule
        "",
    ],
)
def test_values_without_a_qualifying_run_are_not_likely_secrets(value: str) -> None:
    assert not is_likely_secret(value)


def test_the_redaction_rule_line_of_15_3() -> None:
    assert is_likely_secret(TOKEN)
    assert is_likely_secret(HEX)
    assert entropy("Qx7mP2vN9kL4rT8yW1cB6hJ3sD5fG0zA") > 3.5 > entropy("dashboard")
    secrets = {
        "PUBLIC_URL": "https://example.com/dashboard",
        "ENV_NAME": "development",
        "TOKEN": TOKEN,
        "HEX": HEX,
    }
    # D18: the URL and the word are collected only as plain configuration is not
    assert select_protected(secrets, plain={"PUBLIC_URL", "ENV_NAME"}) == ([TOKEN, HEX], [])
    assert select_protected(secrets).values == [TOKEN, HEX, secrets["PUBLIC_URL"], "development"]


def test_only_ascii_letters_and_digits_make_a_run() -> None:
    assert not is_likely_secret("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏ")  # 16 distinct letters, none ASCII
    assert not is_likely_secret("abcdefgh-ijklmnop")  # two runs of 8
    assert is_likely_secret("é-abcdefghijklmnop-é")


def test_entropy_of_nothing_is_zero() -> None:
    assert entropy("") == 0.0


# ---------------------------------------------------------------- Sigillo's additions


def test_the_password_of_a_url_with_credentials_is_protected() -> None:
    url = "postgres://app:pw12@db.internal:5432/app"
    assert not is_likely_secret(url)
    assert select_protected({"DATABASE_URL": url}, plain={"DATABASE_URL"}) == (["pw12"], [])
    assert select_protected({"DATABASE_URL": url}) == ([url, "pw12"], [])  # a secret: whole
    forms = protect({"DATABASE_URL": url}, plain={"DATABASE_URL"})[0]
    output = redact(f"connecting to {url}\n".encode(), forms)
    assert output == b"connecting to postgres://app:********@db.internal:5432/app\n"


@pytest.mark.parametrize(
    ("value", "passwords"),
    [
        ("postgres://u:PASSWORD@h/db", ["PASSWORD"]),
        ("redis://:s3cr3t@cache:6379/0", ["s3cr3t"]),
        ("https://u:p%40ss%2Fw0rd@h/", ["p%40ss%2Fw0rd", "p@ss/w0rd"]),  # also decoded
        ("amqp://u:pass@h and mysql://v:word@k", ["pass", "word"]),
        ("postgres://u:abc@h/db", []),  # under 4 bytes
        ("postgres://user@h/db", []),  # no password
        ("postgres://localhost:5432/app", []),
        ("mailto:u:pass@example.com", []),  # not scheme://
    ],
)
def test_url_passwords(value: str, passwords: list[str]) -> None:
    assert protected.url_passwords(value) == passwords


@pytest.mark.parametrize(
    "value", ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000"]
)
def test_uuid_shaped_values_are_protected(value: str) -> None:
    assert protected.is_uuid_shaped(value)
    assert select_protected({"ID": value}) == ([value], [])
    assert select_protected({"CONF": f"a: b\n{value}\n"}, plain={"CONF"}) == ([], [])
    assert redact(f"id={value}.".encode(), protected_forms(value)) == b"id=********."


@pytest.mark.parametrize(
    "value",
    ["{123e4567-e89b-12d3-a456-426614174000}", "123e4567-e89b-12d3-a456-42661417400", "x" * 36],
)
def test_only_exact_uuid_shapes_count(value: str) -> None:
    assert not protected.is_uuid_shaped(value)


def test_redact_name_protects_a_value_whatever_it_looks_like() -> None:
    secrets = {"GREETING": "hello world", "PORT": "8080", "A": "x"}
    plain = set(secrets)
    assert select_protected(secrets, plain=plain) == ([], [])
    chosen = select_protected(secrets, plain=plain, redact={"GREETING", "A"})
    assert chosen == (["hello world", "x"], [])
    assert select_protected(secrets, redact={"A"}) == (["hello world", "8080", "x"], [])


def test_redact_all_protects_every_value_of_4_characters_or_more() -> None:
    secrets = {"LONG": "development", "FOUR": "8080", "THREE": "abc", "EMPTY": "", "E": "éééé"}
    chosen = select_protected(secrets, plain=set(secrets), redact_all=True)
    assert chosen == (["development", "éééé", "8080"], [])  # short plain values: not named


def test_values_are_listed_longest_first_by_utf8_length_without_repeats() -> None:
    secrets = {"A": HEX, "B": "€" * 11, "C": TOKEN, "D": HEX}
    assert select_protected(secrets, redact={"B"}).values == [TOKEN, "€" * 11, HEX]


def test_protect_gives_the_forms_of_every_protected_value_and_the_short_names() -> None:
    secrets = {"TOKEN": TOKEN, "ENV": "development", "DB": "h://u:pass@h", "PIN": "42"}
    forms, short = protect(secrets, plain={"ENV", "DB"})
    assert short == ["PIN"]
    assert set(forms) == set(protected_forms(TOKEN)) | set(protected_forms("pass"))
    assert [len(form) for form in forms] == sorted(map(len, forms), reverse=True)


# ---------------------------------------------------------------- multi-line values

LINES = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MdQd3Xp7M4GkXbR2mQ0vWc1eN5sH8aT6yLfJ9uK3iO2pZ4lB7nD1gE0hF5jC8qA",
]
PEM = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(LINES) + "\n-----END PRIVATE KEY-----\n"


def test_a_multi_line_value_and_each_of_its_protected_lines_are_protected() -> None:
    # the value, the value without its final line feed (printed stripped), each key line
    assert select_protected({"KEY": PEM}).values == [PEM, PEM.strip(), *LINES]
    assert select_protected({"KEY": PEM.replace("\n", "\r\n")}).values[2:] == LINES


def test_multi_line_values_are_masked_line_by_line() -> None:
    forms = protect({"KEY": PEM})[0]
    printed = "".join(f"> {line}\n" for line in PEM.splitlines()).encode()
    assert redact(printed, forms) == (
        b"> -----BEGIN PRIVATE KEY-----\n> ********\n> ********\n> -----END PRIVATE KEY-----\n"
    )
    assert redact(PEM.encode(), forms) == MASK  # whole, the value wins over its lines


def test_a_protected_line_of_a_secret_is_protected_besides_the_whole_value() -> None:
    value = "name: api\n123e4567-e89b-12d3-a456-426614174000\r\nregion: eu\n"
    uuid = "123e4567-e89b-12d3-a456-426614174000"
    assert select_protected({"CONF": value}) == ([value, value.strip(), uuid], [])
    assert select_protected({"CONF": value}, plain={"CONF"}) == ([], [])  # plain: lines shown


# ---------------------------------------------------------------- forms


def _base64_hidden(encoded: bytes, output: bytes, before: int, size: int) -> bool:
    """`output` is `encoded` with one mask over (at least) every character whose six bits
    all come from the value (at byte `before`, `size` bytes): only edge characters, which
    mix in bits of a neighbour, can survive."""
    first, stable_end = -(-8 * before // 6), 8 * (before + size) // 6
    head, mask, rest = output.partition(MASK)
    end = len(encoded) - len(rest)
    return (
        mask == MASK
        and MASK not in rest
        and encoded.startswith(head)
        and encoded.endswith(rest)
        and len(head) <= first
        and end >= stable_end
    )


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_base64_at_every_alignment_with_and_without_padding(
    value: str, encode: Callable[[bytes], bytes]
) -> None:
    raw = value.encode()
    forms = protected_forms(value)
    for before in range(6):
        for after in range(4):  # 0: the value ends the buffer, so the padding follows it
            buffer = bytes(range(200, 200 + before)) + raw + bytes(range(100, 100 + after))
            for encoded in (encode(buffer), encode(buffer).rstrip(b"=")):
                output = redact(b"data=" + encoded + b";", forms)
                assert output.startswith(b"data=")
                assert output.endswith(b";")
                assert _base64_hidden(encoded, output[5:-1], before, len(raw)), (before, after)


@pytest.mark.parametrize("value", VALUES)
def test_hex_lower_and_upper(value: str) -> None:
    forms = protected_forms(value)
    for before, after in [(b"", b""), (b"\x00", b"\xff\x01"), (b"ab", b"c")]:
        data = before + value.encode() + after
        assert (
            redact(data.hex().encode(), forms)
            == before.hex().encode() + MASK + after.hex().encode()
        )
        upper = data.hex().upper().encode()
        assert (
            redact(upper, forms)
            == before.hex().upper().encode() + MASK + after.hex().upper().encode()
        )


@pytest.mark.parametrize("value", VALUES)
def test_percent_encoding_with_upper_and_lower_case_digits(value: str) -> None:
    forms = protected_forms(value)
    before, after = "next=/a b?x=", "&y=ü"
    for lower in (False, True):
        encoded = _percent(before + value + after, lower)
        expected = _percent(before, lower) + MASK.decode() + _percent(after, lower)
        assert redact(encoded.encode(), forms) == expected.encode()


def _percent(text: str, lower: bool) -> str:
    encoded = quote(text, safe="")
    return re.sub("%..", lambda m: m.group().lower(), encoded) if lower else encoded


@pytest.mark.parametrize("value", VALUES)
def test_json_escaped_with_and_without_ensure_ascii(value: str) -> None:
    forms = protected_forms(value)
    for ascii_only in (True, False):
        encoded = json.dumps('é"' + value + "\t", ensure_ascii=ascii_only)
        expected = json.dumps('é"', ensure_ascii=ascii_only)[:-1] + MASK.decode() + '\\t"'
        assert redact(encoded.encode(), forms) == expected.encode()


def test_the_forms_of_a_value() -> None:
    forms = protected_forms(ODD)
    raw = ODD.encode()
    assert forms == sorted(forms, key=len, reverse=True)
    assert len(set(forms)) == len(forms)
    expected = {
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        quote(ODD, safe="").encode(),
        _percent(ODD, lower=True).encode(),
        json.dumps(ODD)[1:-1].encode(),
        json.dumps(ODD, ensure_ascii=False)[1:-1].encode(),
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw),
    }
    assert expected <= set(forms)


def test_encoded_forms_are_kept_only_when_different_and_at_least_8_bytes() -> None:
    assert protected_forms("abc") == [b"abc"]
    assert protected_forms("") == []
    for value in ["abcdef", SIXTEEN, TOKEN, ODD]:
        raw = value.encode()
        derived = [form for form in protected_forms(value) if form != raw]
        assert all(len(form) >= protected.MIN_DERIVED_FORM for form in derived)
    assert quote(TOKEN, safe="").encode() == TOKEN.encode()  # so not a form of its own
    assert b"YWJjZGVm" in protected_forms("abcdef")  # base64 at offset 0: 8 characters
    assert b"FiY2Rl" not in protected_forms("abcdef")  # offset 1: 6 characters, too short


# ---------------------------------------------------------------- what is not covered (pinned)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (TOKEN, base64.b32encode(TOKEN.encode())),
        (TOKEN, base64.b64encode(base64.b64encode(TOKEN.encode()))),  # encoded twice
        (TOKEN, base64.b85encode(TOKEN.encode())),
        (TOKEN, TOKEN[:20].encode() + b"\n" + TOKEN[20:].encode()),  # wrapped
        (TOKEN, TOKEN[::-1].encode()),
        (TOKEN, TOKEN.upper().encode()),
        (TOKEN, TOKEN.encode().hex()[:30].encode() + TOKEN.encode().hex()[30:].upper().encode()),
    ],
)
def test_encodings_outside_the_documented_set_are_not_masked(value: str, encoded: bytes) -> None:
    assert redact(encoded, protected_forms(value)) == encoded


def test_base64_broken_into_lines_is_not_masked_across_the_breaks() -> None:
    value = "".join(random.Random(7).choices(string.ascii_letters, k=120))
    wrapped = base64.encodebytes(value.encode())
    output = redact(wrapped, protected_forms(value))
    assert output == wrapped  # no line holds a whole stable part


# ---------------------------------------------------------------- the mask and overlaps


def test_the_mask_is_fixed_and_does_not_tell_the_length() -> None:
    assert MASK == b"********"
    short, long = "x" * 4, TOKEN * 3
    assert redact(f"<{short}><{long}>".encode(), [short.encode(), long.encode()]) == (
        b"<********><********>"
    )


def test_another_mask_can_be_given() -> None:
    redactor = Redactor([HEX.encode()], mask=b"[redacted]")
    assert redactor.feed(f"a {HEX} b".encode()) == b"a [redacted] b"


def test_overlapping_secrets_longest_wins() -> None:
    forms = [b"abcd1234wxyz9876", b"1234wxyz"]
    data = b"value=abcd1234wxyz9876 1234wxyz abcd1234wxyz"
    assert redact(data, forms) == b"value=******** ******** abcd********"
    for cut in range(len(data) + 1):
        assert streamed(Redactor(forms), splits(data, [cut])) == redact(data, forms)


def test_a_form_that_is_a_suffix_or_prefix_of_another_never_shows_part_of_it() -> None:
    forms = [b"xyzABCDEFGH12345", b"ABCDEFGH12345", b"xyzABCDE"]
    for data in (b"[xyzABCDEFGH12345]", b"[xyzABCDEFGH1234]", b"[ABCDEFGH12345]"):
        expected = reference(data, forms)
        for cut in range(len(data) + 1):
            assert streamed(Redactor(forms), splits(data, [cut])) == expected
    assert redact(b"[xyzABCDEFGH12345]", forms) == b"[********]"
    assert redact(b"[xyzABCDEFGH1234]", forms) == b"[********FGH1234]"


def test_repeated_and_adjacent_occurrences_are_all_masked() -> None:
    data = (TOKEN * 3 + " " + HEX + HEX).encode()
    assert redact(data, protect({"T": TOKEN, "H": HEX})[0]) == MASK * 3 + b" " + MASK * 2


def test_forms_are_literals_whatever_bytes_they_hold() -> None:
    """The matcher compiles forms as literals: regex syntax in a value means nothing, and a
    value holding NUL (JSON allows \\u0000) is matched whole, not cut at the NUL."""
    special = b"a.b*c+d?(e)[f]{2}|g\\h^$/%+="
    redactor = Redactor([special])
    assert redactor.feed(b"xa.b*c+d?(e)[f]{2}|g\\h^$/%+=y aXbbbcd") + redactor.flush() == (
        b"x" + MASK + b"y aXbbbcd"
    )
    with_nul = Redactor([b"ab\x00cdefgh", special])
    data = b"ab\x00cdefgh ab\x00cd ab " + special
    assert redact(data, [b"ab\x00cdefgh", special]) == MASK + b" ab\x00cd ab " + MASK
    assert with_nul.feed(data) + with_nul.flush() == MASK + b" ab\x00cd ab " + MASK


def test_nothing_to_redact_passes_everything_through() -> None:
    redactor = Redactor([b""])
    assert redactor.feed(b"anything \x00\xff") == b"anything \x00\xff"
    assert (redactor.held, redactor.release_short_tail(), redactor.flush()) == (0, b"", b"")


# ---------------------------------------------------------------- streaming


def test_the_chunk_boundary_example_of_12_6() -> None:
    redactor = Redactor(protected_forms("sk_live_abcdefghijklmnop"))
    assert (redactor.feed(b"prefix sk_live_ab"), redactor.held) == (b"prefix ", 10)
    assert (redactor.feed(b"cdefghijklmnop suffix"), redactor.held) == (b"******** suffix", 0)


def test_output_that_cannot_start_a_form_is_written_at_once() -> None:
    redactor = Redactor(protect({"T": TOKEN, "H": HEX})[0])
    assert (redactor.feed(b"chunk-1\n"), redactor.held) == (b"chunk-1\n", 0)
    assert (redactor.feed(b"Password: "), redactor.held) == (b"Password: ", 0)
    assert (redactor.feed(b"Continue? [y/N] "), redactor.held) == (b"Continue? [y/N] ", 0)


def _split_point_leaks(values: list[str], *, pause: bool = False) -> list[tuple[bytes, int]]:
    """Every form of every value with noise around it, fed in two pieces at every boundary
    and byte by byte: where the output differs from the whole redaction, or shows a form."""
    forms = [form for value in values for form in protected_forms(value)]
    redactor = Redactor(forms)  # flush() ends each stream; the redactor is then as new
    found = []
    for form in forms:
        data = BEFORE + form + AFTER
        expected = reference(data, forms)
        for cut in range(len(data) + 1):
            output = streamed(redactor, splits(data, [cut]), pause=pause)
            if leaks(output, forms) or (not pause and output != expected):
                found.append((form, cut))
        bytewise = streamed(redactor, splits(data, range(len(data))), pause=pause)
        if leaks(bytewise, forms) or (not pause and bytewise != expected):
            found.append((form, -1))
    return found


def test_every_split_point_of_every_form_with_noise_before_and_after() -> None:
    assert _split_point_leaks(VALUES) == []


def test_pauses_at_every_split_point_never_show_a_form_whole() -> None:
    assert _split_point_leaks(VALUES, pause=True) == []


def test_the_split_point_check_catches_a_redactor_that_holds_nothing_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Matcher, "_candidates", lambda self, data, hits: [])
    assert _split_point_leaks([TOKEN])


def test_the_pause_check_catches_a_redactor_that_forgets_what_it_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = Matcher.release

    def forgetful(self: Matcher, short_tail: int) -> bytes:
        out = release(self, short_tail)
        self._written = b""
        return out

    monkeypatch.setattr(Matcher, "release", forgetful)
    assert _split_point_leaks([TOKEN], pause=True)


def _shown_before_mask(output: bytes, form: bytes) -> int:
    """The longest beginning of `form` written just before a mask."""
    return max((n for n in range(1, len(form)) if form[:n] + MASK in output), default=0)


def test_a_short_ambiguous_tail_is_released_after_a_silence_and_the_rest_masked() -> None:
    redactor = Redactor(protected_forms(TOKEN))
    assert (redactor.feed(b"Password: sk"), redactor.held) == (b"Password: ", 2)
    assert (redactor.release_short_tail(), redactor.held) == (b"sk", 0)
    assert redactor.feed(TOKEN[2:].encode() + b"\n") == MASK + b"\n"


def test_at_most_3_bytes_of_a_form_are_ever_released_early() -> None:
    form = TOKEN.encode()
    redactor = Redactor([form])
    out = b""
    for byte in form:
        out += redactor.feed(bytes([byte])) + redactor.release_short_tail()
    assert out == form[: SHORT_TAIL - 1] + MASK
    assert redactor.held == 0
    assert redactor.flush() == b""


def test_a_tail_of_4_bytes_or_more_is_held_until_resolved() -> None:
    redactor = Redactor(protected_forms(TOKEN))
    assert redactor.feed(b"x sk_l") == b"x "
    assert (redactor.held, redactor.release_short_tail(), redactor.held) == (4, b"", 4)
    assert redactor.feed(b"ive?") == b"sk_live?"
    redactor.feed(b"sk_live_51Q")
    assert redactor.flush() == b"sk_live_51Q"  # end of stream: never became a secret


def test_held_counts_the_bytes_already_released_of_the_candidate() -> None:
    redactor = Redactor([TOKEN.encode()])
    redactor.feed(b"sk_")
    assert redactor.release_short_tail() == b"sk_"
    assert redactor.held == 0  # nothing is held: nothing to release
    redactor.feed(b"l")
    assert (redactor.held, redactor.release_short_tail()) == (4, b"")


def test_the_pause_bound_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redaction, "SHORT_TAIL", 100)
    redactor = Redactor([TOKEN.encode()])
    out = b"".join(
        redactor.feed(bytes([byte])) + redactor.release_short_tail() for byte in TOKEN.encode()
    )
    assert _shown_before_mask(out, TOKEN.encode()) > SHORT_TAIL - 1  # what the bound prevents


def test_a_complete_short_form_in_a_released_tail_is_masked() -> None:
    redactor = Redactor([b"ab", b"abXYZ12345"])
    assert redactor.feed(b"-ab") == b"-"
    assert redactor.release_short_tail() == MASK
    assert redactor.feed(b"XYZ12345.") == MASK + b"."  # the longer form is still followed


def test_forms_longer_than_the_matcher_head_are_verified_and_held() -> None:
    long_value = "".join(random.Random(3).choices(string.ascii_letters, k=3 * HEAD))
    twin = long_value[:HEAD] + "!" + long_value[HEAD + 1 :]  # same head, different body
    forms = [long_value.encode(), long_value[: HEAD + 10].encode()]
    data = f"a {long_value} b {twin} c {long_value[: HEAD + 20]} d".encode()
    expected = reference(data, forms)
    assert (
        expected == f"a ******** b {twin} c ********{long_value[HEAD + 10 : HEAD + 20]} d".encode()
    )
    for cut in range(len(data) + 1):
        assert streamed(Redactor(forms), splits(data, [cut])) == expected
    redactor = Redactor(forms)
    redactor.feed(b"a " + long_value[: 2 * HEAD].encode())
    assert redactor.held == 2 * HEAD


def test_ten_thousand_occurrences_in_a_10_mb_stream_are_all_masked() -> None:
    rng = random.Random(10)
    values = ["".join(rng.sample(string.ascii_letters + string.digits, 24)) for _ in range(100)]
    forms = sorted({form for value in values for form in protected_forms(value)})
    words = [b"GET", b"/api/v1/items", b"status=200", b"user=alice", b"ms=12.5", b"INFO", b"\n"]
    parts: list[bytes] = []
    expected: list[bytes] = []
    for _ in range(10_000):
        noise = b" ".join(rng.choices(words, k=140)) + b" "
        parts += [noise, rng.choice(forms), b" "]
        expected += [noise, MASK, b" "]
    data = b"".join(parts)
    assert len(data) > 10_000_000
    chunks = splits(data, range(65536, len(data), 65536))
    output = streamed(Redactor(forms), chunks)
    assert output == b"".join(expected)
    assert output.count(MASK) == 10_000


def test_20_mb_of_x_pass_unchanged_and_25_mb_after_a_secret_follow_the_mask() -> None:
    redactor = Redactor(protect({"T": TOKEN, "H": HEX})[0])
    twenty = splits(b"x" * 20_000_000, range(65536, 20_000_000, 65536))
    assert streamed(redactor, twenty) == b"x" * 20_000_000
    assert redactor.feed(TOKEN.encode()) == MASK  # no longer form starts with it
    out = [
        redactor.feed(chunk) for chunk in splits(b"x" * 25_000_000, range(8192, 25_000_000, 8192))
    ]
    assert all(len(piece) <= 8192 for piece in out)
    assert b"".join(out) + redactor.flush() == b"x" * 25_000_000


def test_random_binary_without_forms_passes_byte_exact() -> None:
    rng = random.Random(5)
    data = rng.randbytes(1_000_000)
    forms = protect({"T": TOKEN, "H": HEX, "O": ODD})[0]
    assert not leaks(data, forms)
    cuts = sorted(rng.sample(range(len(data)), 300))
    assert streamed(Redactor(forms), splits(data, cuts)) == data


def test_binary_and_invalid_utf8_around_forms_is_byte_exact_apart_from_masks() -> None:
    rng = random.Random(6)
    forms = protect({"T": TOKEN, "H": HEX, "O": ODD})[0]
    data = b"".join(rng.randbytes(rng.randrange(50)) + rng.choice(forms) for _ in range(300))
    expected = reference(data, forms)
    assert expected.count(MASK) >= 300
    for _ in range(20):
        cuts = sorted(rng.sample(range(len(data)), 40))
        assert streamed(Redactor(forms), splits(data, cuts)) == expected


def test_the_redactor_can_be_reused_after_flush() -> None:
    redactor = Redactor([HEX.encode()])
    assert redactor.feed(HEX[:5].encode()) == b""
    assert redactor.flush() == HEX[:5].encode()
    assert redactor.feed(HEX.encode()) + redactor.flush() == MASK


# ---------------------------------------------------------------- failing closed


def test_an_impossible_state_raises_and_the_redactor_stays_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redactor = Redactor([HEX.encode()])
    # a matcher gone wrong: it calls the whole buffer the start of a form
    monkeypatch.setattr(redactor._text, "_candidates", lambda data, hits: [0])
    assert redactor.feed(b"x" * 31) == b""
    with pytest.raises(RedactionError, match="more than a proper prefix"):
        redactor.feed(b"x")  # 32 bytes held: as long as the form, so not a proper prefix
    monkeypatch.undo()
    for call in (redactor.flush, redactor.release_short_tail, lambda: redactor.feed(b"")):
        with pytest.raises(RedactionError, match="failed earlier"):
            call()


def test_a_failing_matcher_raises_redaction_error(monkeypatch: pytest.MonkeyPatch) -> None:
    redactor = Redactor([HEX.encode()])

    class Broken:
        def scan(self, *args: object, **kwargs: object) -> None:
            raise MemoryError

    monkeypatch.setattr(redactor._text, "_database", Broken())
    with pytest.raises(RedactionError) as raised:
        redactor.feed(b"data")
    assert isinstance(raised.value.__cause__, MemoryError)
    assert HEX not in str(raised.value)


def test_a_matcher_that_cannot_be_built_raises_redaction_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(heads: list[bytes]) -> None:
        raise OSError("no SSSE3")

    monkeypatch.setattr(matcher, "_compile", broken)
    with pytest.raises(RedactionError, match="matcher"):
        Redactor([HEX.encode()])


# ---------------------------------------------------------------- architecture


@pytest.mark.parametrize("module", [redaction, protected])
def test_the_redaction_modules_import_only_the_standard_library_and_hyperscan(
    module: object,
) -> None:
    source = Path(str(getattr(module, "__file__", ""))).read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module if node.module and node.level == 0 else "<relative>")
    allowed = set(sys.stdlib_module_names) | {"hyperscan"}
    others = {name for name in imported if name.partition(".")[0] not in allowed}
    assert others <= {f"sigillo.cli.run.{name}" for name in ("protected", "escapes", "matcher")}
    assert module is redaction or "hyperscan" not in imported  # protected.py: stdlib only


def test_twins_share_the_matcher_and_keep_their_own_stream() -> None:
    secret = b"sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890"
    first = Redactor([secret])
    one, two = first.twin(), first.twin()
    assert one.feed(b"a " + secret[:10]) == b"a "  # `one` holds a prefix now
    assert two.feed(b"b " + secret + b" c") == b"b " + MASK + b" c"
    assert two.held == 0
    assert one.feed(secret[10:] + b" d") == MASK + b" d"
    assert first.feed(b"plain") == b"plain"


@pytest.mark.parametrize("format", ["env", "docker"])
def test_a_multi_line_value_is_masked_as_the_mount_formats_write_it(format: str) -> None:
    """A `--mount` file in env or docker format holds a multi-line value with each line
    feed written as the two characters `\\n` (env: a carriage return as `\\r`): a child that
    prints the file must not print the value."""
    from sigillo.domain.formats import render

    value = "first line\tof a key\r\nsecond-line-0a9f3c\nthird"
    written = render(format, [("KEY", value)]).body
    shown = redact(written, protected_forms(value))
    assert b"first line" not in shown
    assert b"second-line-0a9f3c" not in shown
