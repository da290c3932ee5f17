"""Bearer credentials: formats, entropy, hashing and display (behaviour.md 3.2, 5.1, 5.2, 8 and
17 item 7; security.md promises 6, 8 and 10)."""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable

import pytest

from sigillo.crypto.tokens import (
    USER_CODE_ALPHABET,
    IssuedApiToken,
    constant_time_equal,
    display_prefix,
    format_user_code,
    hash_api_token,
    hash_session_token,
    issue_api_token,
    issue_device_code,
    issue_invite_token,
    issue_session_token,
    issue_user_code,
    looks_like_api_token,
    normalize_user_code,
)

DRAWS = 10_000

# behaviour.md 5.2, worked example.
EXAMPLE_KEY = "sig_4f1c9a07e2b83d56a1b2c3d4e5f60718293a4b5c6d7e8f900f1e2d3c4b5a6978"
EXAMPLE_PREFIX = "4f1c9a07e2b8"
EXAMPLE_HASH = "25071b2ddd29f6181af55ad673919816ff9a8282ed3cefb603bc0602b95c22c2"
EXAMPLE_DISPLAY = "sig_4f1c9a07e2b8\u2022\u2022\u2022\u2022"

API_KEY = re.compile(r"sig_[0-9a-f]{64}")
HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
SESSION_TOKEN = re.compile(r"[A-Za-z0-9]{32}")
DEVICE_CODE = re.compile(r"[A-Za-z0-9]{40}")
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{8}")
INVITE_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def _draw(issue: Callable[[], str], n: int = DRAWS) -> list[str]:
    return [issue() for _ in range(n)]


def _chi_square(counts: Counter[str], categories: Iterable[str]) -> float:
    cats = list(categories)
    expected = sum(counts.values()) / len(cats)
    return sum((counts[c] - expected) ** 2 / expected for c in cats)


# 19 degrees of freedom (20 letters): mean 19, standard deviation about 6.2. P(chi2 > 80) is
# about 3e-9, so a fair generator never fails this, while a byte-modulo-20 generator (the first
# 16 letters 13/256 likely, the last 4 only 12/256) scores about 160 over 20k codes.
CHI_SQUARE_BOUND = 80.0
USER_CODE_DRAWS = 20_000


# API tokens --------------------------------------------------------------------------------


def test_worked_example_from_behaviour_5_2() -> None:
    assert len(EXAMPLE_KEY) == 68
    assert hash_api_token(EXAMPLE_KEY) == EXAMPLE_HASH
    assert display_prefix(EXAMPLE_PREFIX) == EXAMPLE_DISPLAY
    assert display_prefix(EXAMPLE_PREFIX).endswith("••••")
    assert looks_like_api_token(EXAMPLE_KEY)


def test_hash_covers_the_whole_key_including_sig_() -> None:
    assert hash_api_token(EXAMPLE_KEY) != hashlib.sha256(EXAMPLE_KEY[4:].encode()).hexdigest()
    assert hash_api_token(EXAMPLE_KEY) == hashlib.sha256(EXAMPLE_KEY.encode("utf-8")).hexdigest()


def test_issued_api_token_is_consistent() -> None:
    token = issue_api_token()
    assert API_KEY.fullmatch(token.key)
    assert token.prefix == token.key[4:16]
    assert re.fullmatch(r"[0-9a-f]{12}", token.prefix)
    assert token.hash == hash_api_token(token.key)
    assert HEX_SHA256.fullmatch(token.hash)
    assert looks_like_api_token(token.key)


def test_api_tokens_are_unique() -> None:
    tokens = [issue_api_token() for _ in range(DRAWS)]
    assert len({t.key for t in tokens}) == DRAWS
    assert len({t.hash for t in tokens}) == DRAWS
    assert all(API_KEY.fullmatch(t.key) for t in tokens)


def test_api_token_keys_use_every_hex_digit_evenly() -> None:
    counts = Counter("".join(issue_api_token().key[4:] for _ in range(2_000)))
    assert set(counts) == set("0123456789abcdef")
    # 128 000 digits, 8000 expected each; 15 degrees of freedom.
    assert _chi_square(counts, "0123456789abcdef") < 70


def test_repr_and_str_never_show_the_key() -> None:
    token = issue_api_token()
    for shown in (repr(token), str(token), f"{token}", f"{token!r}"):
        assert token.key not in shown
        assert token.key[4:] not in shown
        assert token.prefix in shown  # the harmless parts remain useful in logs
    assert "key" not in repr(token)


def test_issued_api_token_is_frozen() -> None:
    token = issue_api_token()
    with pytest.raises(AttributeError):
        token.key = EXAMPLE_KEY  # type: ignore[misc]


def test_equality_still_compares_the_key() -> None:
    same = IssuedApiToken(key=EXAMPLE_KEY, prefix=EXAMPLE_PREFIX, hash=EXAMPLE_HASH)
    assert same == IssuedApiToken(key=EXAMPLE_KEY, prefix=EXAMPLE_PREFIX, hash=EXAMPLE_HASH)


@pytest.mark.parametrize(
    ("bearer", "expected"),
    [
        (EXAMPLE_KEY, True),
        ("sig_", True),
        ("sig_anything", True),
        ("SIG_" + EXAMPLE_KEY[4:], False),
        ("Sig_" + EXAMPLE_KEY[4:], False),
        (" sig_" + EXAMPLE_KEY[4:], False),
        ("sig" + EXAMPLE_KEY[4:], False),
        ("", False),
        ("abcDEF0123456789abcDEF0123456789", False),
    ],
)
def test_looks_like_api_token(bearer: str, expected: bool) -> None:
    assert looks_like_api_token(bearer) is expected


# Sessions ----------------------------------------------------------------------------------


def test_session_tokens_format_and_uniqueness() -> None:
    tokens = _draw(issue_session_token)
    assert all(SESSION_TOKEN.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == DRAWS


def test_session_tokens_never_look_like_api_tokens() -> None:
    for token in _draw(issue_session_token):
        assert not token.startswith("sig_")
        assert not looks_like_api_token(token)


def test_session_token_alphabet_is_fully_used() -> None:
    used = set("".join(_draw(issue_session_token, 2_000)))
    assert used == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def test_session_hash_is_sha256_hex() -> None:
    token = issue_session_token()
    assert hash_session_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert HEX_SHA256.fullmatch(hash_session_token(token))
    assert hash_session_token(token) != hash_session_token(issue_session_token())


def test_hashes_never_raise_on_odd_input() -> None:
    for text in ("", "\x00", "é" * 1000, "\ud800", "🔐"):
        assert HEX_SHA256.fullmatch(hash_session_token(text))
        assert HEX_SHA256.fullmatch(hash_api_token(text))


# Device flow -------------------------------------------------------------------------------


def test_device_codes_format_and_uniqueness() -> None:
    codes = _draw(issue_device_code)
    assert all(DEVICE_CODE.fullmatch(c) for c in codes)
    assert len(set(codes)) == DRAWS


def test_device_codes_carry_at_least_128_bits() -> None:
    assert len(issue_device_code()) * math.log2(62) >= 128


def test_user_code_alphabet_is_the_decided_one() -> None:
    assert USER_CODE_ALPHABET == "BCDFGHJKLMNPQRSTVWXZ"
    assert len(set(USER_CODE_ALPHABET)) == 20
    assert not set(USER_CODE_ALPHABET) & set("AEIOUY0123456789")


def test_user_codes_format_and_few_collisions() -> None:
    codes = _draw(issue_user_code)
    assert all(USER_CODE.fullmatch(c) for c in codes)
    # 20^8 = 2.56e10 codes: about 0.002 expected collisions among 10^4; four or more has
    # probability around 1e-12. (Uniqueness among live codes is the store's job.)
    assert DRAWS - len(set(codes)) <= 3


def test_user_codes_are_uniform() -> None:
    codes = _draw(issue_user_code, USER_CODE_DRAWS)
    overall = Counter("".join(codes))
    assert set(overall) == set(USER_CODE_ALPHABET)
    assert _chi_square(overall, USER_CODE_ALPHABET) < CHI_SQUARE_BOUND
    for position in range(8):
        at_position = Counter(code[position] for code in codes)
        assert _chi_square(at_position, USER_CODE_ALPHABET) < CHI_SQUARE_BOUND, position


def test_the_uniformity_check_catches_modulo_bias() -> None:
    """The bound above is not vacuous: `byte % 20` fails it (seeded, so deterministic)."""
    biased = Counter(
        USER_CODE_ALPHABET[b % 20] for b in random.Random(0).randbytes(USER_CODE_DRAWS * 8)
    )
    assert _chi_square(biased, USER_CODE_ALPHABET) > CHI_SQUARE_BOUND


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("WDJBMQXK", "WDJBMQXK"),
        ("BCDF-GHJK", "BCDFGHJK"),
        ("BCDFGHJK", "BCDFGHJK"),
        ("bcdf-ghjk", "BCDFGHJK"),
        ("bcdfghjk", "BCDFGHJK"),
        ("BcDf-gHjK", "BCDFGHJK"),
        ("  BCDF-GHJK  ", "BCDFGHJK"),
        ("\tbcdf-ghjk\n", "BCDFGHJK"),
        ("BCDF GHJK", "BCDFGHJK"),
        ("BC-DF-GH-JK", "BCDFGHJK"),
        ("B C D F G H J K", "BCDFGHJK"),
        ("--BCDFGHJK--", "BCDFGHJK"),
        ("ZXWV-TSRQ", "ZXWVTSRQ"),
        # wrong letters, digits, lengths and look-alikes
        ("ABCD-EFGH", None),  # vowels: A, E
        ("BCDF-GHJU", None),  # U
        ("BCDF-GHJY", None),  # Y
        ("BCDF-GHJ2", None),  # digit
        ("BCDF-GHJ0", None),
        ("WDJB7Q2K", None),  # the reference's alphabet, not ours
        ("BCDF-GHJ", None),  # 7 letters
        ("BCDF-GHJKL", None),  # 9 letters
        ("", None),
        ("   ", None),
        ("--------", None),
        ("BCDF_GHJK", None),
        ("BCDF\u2013GHJK", None),  # en dash is not a dash we strip
        ("BCDFGHJ\u00df", None),  # 'ß' upper-cases to 'SS'; must not become valid
        ("BCDFGH\ufb06", None),  # 'ﬆ' ligature upper-cases to 'ST'
        ("\uff22\uff23\uff24\uff26\uff27\uff28\uff2a\uff2b", None),  # full-width BCDFGHJK
        ("BCDFGHJK\x00", None),
    ],
)
def test_normalize_user_code(typed: str, expected: str | None) -> None:
    assert normalize_user_code(typed) == expected


def test_issued_user_codes_normalize_to_themselves() -> None:
    for code in _draw(issue_user_code, 1_000):
        assert normalize_user_code(code) == code
        assert normalize_user_code(code.lower()) == code
        assert normalize_user_code(format_user_code(code)) == code


@pytest.mark.parametrize(
    ("code", "shown"),
    [("BCDFGHJK", "BCDF-GHJK"), ("bcdf-ghjk", "BCDF-GHJK"), ("ZZZZ XXXX", "ZZZZ-XXXX")],
)
def test_format_user_code(code: str, shown: str) -> None:
    assert format_user_code(code) == shown


def test_format_user_code_refuses_bad_codes_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="not a user code") as raised:
        format_user_code("AEIOU-SECRET")
    assert "AEIOU" not in str(raised.value)


# Invitations and comparison ----------------------------------------------------------------


def test_invite_tokens_format_and_uniqueness() -> None:
    tokens = _draw(issue_invite_token)
    assert all(INVITE_TOKEN.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == DRAWS


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("", "", True),
        (EXAMPLE_HASH, EXAMPLE_HASH, True),
        (EXAMPLE_HASH, EXAMPLE_HASH[:-1] + "3", False),
        (EXAMPLE_HASH, EXAMPLE_HASH[:-1], False),
        ("abc", "ABC", False),
        ("ключ", "ключ", True),  # non-ASCII: hmac.compare_digest on str would raise
        ("ключ", "ключи", False),
        ("\ud800", "\ud800", True),
        ("\ud800", "", False),
    ],
)
def test_constant_time_equal(a: str, b: str, expected: bool) -> None:
    assert constant_time_equal(a, b) is expected
