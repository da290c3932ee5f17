"""Password hashing: the Argon2id primitive, our PHC wrapper, rehash detection, the password
policy and equal-cost sign-in for unknown accounts (behaviour.md 5.1; security.md promise 8)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2i, Argon2id

from sigillo.crypto import passwords
from sigillo.crypto.passwords import (
    CURRENT,
    DUMMY_HASH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_against_dummy,
    verify_password,
)
from sigillo.domain.errors import InvalidInput

PASSWORD = "correct horse battery staple"
OTHER = "correct horse battery stapler"

PHC = re.compile(
    r"\$argon2id\$v=19\$m=47104,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}",
)


@pytest.fixture(scope="module")
def encoded() -> str:
    return hash_password(PASSWORD)


def _phc(params: str, salt: str = "c29tZXNhbHRzb21lc2FsdA", tag: str = "A" * 43) -> str:
    return f"$argon2id$v=19${params}${salt}${tag}"


def _other_parameters(password: str, *, memory: int, iterations: int, lanes: int = 1) -> str:
    kdf = Argon2id(
        salt=b"\x05" * 16, length=32, iterations=iterations, lanes=lanes, memory_cost=memory
    )
    return kdf.derive_phc_encoded(password.encode())


# The primitive -------------------------------------------------------------------------------


def test_rfc_9106_argon2id_test_vector() -> None:
    """RFC 9106 section 5.3, through cryptography's Argon2id directly."""
    kdf = Argon2id(
        salt=b"\x02" * 16,
        length=32,
        iterations=3,
        lanes=4,
        memory_cost=32,
        ad=b"\x04" * 12,
        secret=b"\x03" * 8,
    )
    tag = kdf.derive(b"\x01" * 32)
    assert tag.hex() == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"


# Hash and verify -----------------------------------------------------------------------------


def test_hash_is_an_argon2id_phc_string_with_current_parameters(encoded: str) -> None:
    assert PHC.fullmatch(encoded), encoded
    assert PASSWORD not in encoded
    assert CURRENT.memory_kib == 47104
    assert CURRENT.iterations == 2
    assert CURRENT.lanes == 1


def test_round_trip(encoded: str) -> None:
    assert verify_password(PASSWORD, encoded) is True


def test_wrong_password(encoded: str) -> None:
    assert verify_password(OTHER, encoded) is False
    assert verify_password(PASSWORD.upper(), encoded) is False
    assert verify_password(PASSWORD + " ", encoded) is False
    assert verify_password("", encoded) is False


def test_salts_differ(encoded: str) -> None:
    again = hash_password(PASSWORD)
    assert again != encoded
    assert again.split("$")[4] != encoded.split("$")[4]
    assert verify_password(PASSWORD, again)


@pytest.mark.parametrize(
    "password",
    [
        "🔐 Ключ шифрования 密钥",
        "x" * MAX_PASSWORD_LENGTH,
        "with\x00nul and\nnewline",
        "lone surrogate \ud800 here",
    ],
    ids=["unicode", "max-length", "control", "surrogate"],
)
def test_round_trip_of_unusual_passwords(password: str) -> None:
    encoded = hash_password(password)
    assert verify_password(password, encoded)
    assert not verify_password(password[:-1], encoded)


def test_hashes_with_older_parameters_still_verify_and_need_a_rehash() -> None:
    old = _other_parameters(PASSWORD, memory=19456, iterations=2)
    assert verify_password(PASSWORD, old)
    assert not verify_password(OTHER, old)
    assert needs_rehash(old)


def _malformed(valid: str) -> dict[str, str]:
    _, _, version, params, salt, tag = valid.split("$")
    changed_tag = ("B" if tag[0] != "B" else "C") + tag[1:]
    other_variant = Argon2i(salt=b"\x05" * 16, length=32, iterations=2, lanes=1, memory_cost=47104)
    return {
        "empty": "",
        "random text": "this is not a password hash",
        "whitespace": "   ",
        "plain sha256": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        "bcrypt": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "argon2i": other_variant.derive_phc_encoded(PASSWORD.encode()),
        "argon2i relabelled": valid.replace("$argon2id$", "$argon2i$"),
        "argon2d relabelled": valid.replace("$argon2id$", "$argon2d$"),
        "truncated by 1": valid[:-1],
        "truncated by 5": valid[:-5],
        "truncated to half": valid[: len(valid) // 2],
        "no tag": valid[: valid.rindex("$")],
        "empty tag": valid[: valid.rindex("$") + 1],
        "tag changed": f"$argon2id${version}${params}${salt}${changed_tag}",
        "salt changed": f"$argon2id${version}${params}${'A' * len(salt)}${tag}",
        "parameters changed": f"$argon2id${version}$m=47104,t=3,p=1${salt}${tag}",
        "version 16": f"$argon2id$v=16${params}${salt}${tag}",
        "no version": f"$argon2id${params}${salt}${tag}",
        "parameters reordered": f"$argon2id${version}$t=2,m=47104,p=1${salt}${tag}",
        "padded base64": f"$argon2id${version}${params}${salt}==${tag}",
        "trailing newline": valid + "\n",
        "leading space": " " + valid,
        "upper case": valid.upper(),
        "non-ASCII": valid + "é",
        "NUL": valid.replace("$", "\x00", 1),
        "lone surrogate": valid[:-1] + "\ud800",
        "m=0": _phc("m=0,t=2,p=1"),
        "t=0": _phc("m=47104,t=0,p=1"),
        "p=0": _phc("m=47104,t=2,p=0"),
        "m below 8p": _phc("m=8,t=1,p=4"),
        "short salt": _phc("m=47104,t=2,p=1", salt="AAAA"),
        "short tag": _phc("m=47104,t=2,p=1", tag="AAA"),
        "huge number": _phc("m=99999999999999999999,t=2,p=1"),
        "unicode digits": _phc("m=\u0664\u0667\u0661\u0660\u0664,t=2,p=1"),
        "very long": valid + "A" * 100_000,
    }


# Well-formed strings with the current parameters but the wrong bytes: no rehash is called for.
OUR_SHAPE = {"tag changed", "salt changed"}


def test_malformed_and_foreign_hashes_are_false_never_an_error(encoded: str) -> None:
    for name, bad in _malformed(encoded).items():
        assert verify_password(PASSWORD, bad) is False, name
        assert needs_rehash(bad) is (name not in OUR_SHAPE), name


@pytest.mark.parametrize(
    "params",
    ["m=4194304,t=2,p=1", "m=47104,t=1000,p=1", "m=47104,t=2,p=255"],
    ids=["4 GiB", "1000 passes", "255 lanes"],
)
def test_absurd_costs_are_refused_without_hashing(
    params: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Untouchable:
        @staticmethod
        def verify_phc_encoded(*args: object) -> None:
            raise AssertionError("hashed with parameters beyond the limits")

    monkeypatch.setattr(passwords, "Argon2id", Untouchable)
    assert verify_password(PASSWORD, _phc(params)) is False


# Rehash ------------------------------------------------------------------------------------


def test_current_hashes_need_no_rehash(encoded: str) -> None:
    assert needs_rehash(encoded) is False
    assert needs_rehash(DUMMY_HASH) is False


@pytest.mark.parametrize(
    ("memory", "iterations", "lanes"),
    [(19456, 2, 1), (65536, 2, 1), (47104, 1, 1), (47104, 3, 1), (47104, 2, 2)],
)
def test_other_parameters_need_a_rehash(memory: int, iterations: int, lanes: int) -> None:
    # Only the string is inspected: build it without paying for the hash.
    assert needs_rehash(_phc(f"m={memory},t={iterations},p={lanes}"))


def test_other_salt_or_tag_lengths_need_a_rehash(encoded: str) -> None:
    _, _, version, params, salt, tag = encoded.split("$")
    assert needs_rehash(f"$argon2id${version}${params}${salt}AAAAAAAAAAA${tag}")
    assert needs_rehash(f"$argon2id${version}${params}${salt}${tag[:-11]}")
    assert not needs_rehash(f"$argon2id${version}${params}${salt}${tag}")


# The dummy hash: unknown accounts cost the same ----------------------------------------------


def test_dummy_hash_uses_the_current_parameters() -> None:
    assert PHC.fullmatch(DUMMY_HASH)
    assert not needs_rehash(DUMMY_HASH)


def test_verify_against_dummy_is_always_false() -> None:
    for guess in ("", PASSWORD, "password1234", "\ud800"):
        assert verify_against_dummy(guess) is False


def _best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def test_hash_verify_and_dummy_cost_about_the_same(encoded: str) -> None:
    """A sanity check, not a benchmark: the best of three of each, within 3x and under 2 s."""
    timings = {
        "hash": _best_of(3, lambda: hash_password(PASSWORD)),
        "verify": _best_of(3, lambda: verify_password(OTHER, encoded)),
        "dummy": _best_of(3, lambda: verify_against_dummy(OTHER)),
    }
    assert max(timings.values()) < 2.0, timings
    assert max(timings.values()) < 3 * min(timings.values()), timings


# Policy --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["x" * MIN_PASSWORD_LENGTH, "x" * MAX_PASSWORD_LENGTH, PASSWORD, "密" * MIN_PASSWORD_LENGTH],
)
def test_policy_accepts(password: str) -> None:
    check_password_policy(password)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("", "at least 12"),
        ("short-pw-11", "at least 12"),
        ("s3cret-" * 146 + "abc", "at most 1024"),  # 1025 characters
        ("s3cret-" * 10_000, "at most 1024"),
    ],
)
def test_policy_refuses_without_echoing_the_password(password: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_password_policy(password)
    error = raised.value
    assert error.field == "password"
    assert rule in error.message
    for shown in (str(error), repr(error), error.message):
        assert password not in shown or not password
        assert "s3cret" not in shown
        assert "short-pw" not in shown


def test_policy_bounds() -> None:
    assert MIN_PASSWORD_LENGTH == 12
    assert MAX_PASSWORD_LENGTH == 1024
    with pytest.raises(InvalidInput):
        check_password_policy("x" * (MIN_PASSWORD_LENGTH - 1))
    with pytest.raises(InvalidInput):
        check_password_policy("x" * (MAX_PASSWORD_LENGTH + 1))
