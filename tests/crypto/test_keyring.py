"""The keyring: sealing values to their place, opening them only there (security.md promise 1,
behaviour.md section 4)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sigillo.crypto.keyring import CHECK_PLAINTEXT, Keyring, key_id_of
from sigillo.domain.errors import DecryptionError
from sigillo.domain.events import SealedValue

ENV = "01JENVIRONMENT0000000000AA"
OTHER_ENV = "01JENVIRONMENT0000000000BB"
NAME = "API_KEY"

ROUND_TRIPS = {
    "ascii": "hello-world",
    "empty": "",
    "unicode": "🔐 Ключ шифрования 密钥",
    "64KiB": secrets.token_hex(32 * 1024),
}


def _key() -> bytes:
    return os.urandom(32)


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def _encodings(data: bytes) -> list[str]:
    """Ways a key or value could leak into text."""
    return [
        data.hex(),
        data.hex().upper(),
        base64.b64encode(data).decode(),
        base64.urlsafe_b64encode(data).decode(),
        repr(data),
        str(list(data[:8]))[1:-1],
    ]


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([_key()])


@pytest.mark.parametrize("value", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_values_round_trip_exactly(keyring: Keyring, value: str) -> None:
    sealed = keyring.seal(value, environment_id=ENV, name=NAME)
    assert keyring.open(sealed, environment_id=ENV, name=NAME) == value
    assert len(sealed.nonce) == 12
    assert sealed.key_id == keyring.primary_key_id
    assert sealed.format == 1
    assert len(sealed.ciphertext) == len(value.encode("utf-8")) + 16
    if value:
        assert value.encode("utf-8") not in sealed.ciphertext


def test_a_64_kib_value_is_64_kib_of_utf8() -> None:
    assert len(ROUND_TRIPS["64KiB"].encode("utf-8")) == 64 * 1024


def test_two_seals_of_the_same_value_differ_in_nonce_and_ciphertext(keyring: Keyring) -> None:
    first = keyring.seal("same-value", environment_id=ENV, name=NAME)
    second = keyring.seal("same-value", environment_id=ENV, name=NAME)
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext
    assert keyring.open(first, environment_id=ENV, name=NAME) == "same-value"
    assert keyring.open(second, environment_id=ENV, name=NAME) == "same-value"


def test_nonces_do_not_repeat(keyring: Keyring) -> None:
    nonces = {keyring.seal("v", environment_id=ENV, name=NAME).nonce for _ in range(2000)}
    assert len(nonces) == 2000


def test_a_value_opens_only_for_its_environment_and_name(keyring: Keyring) -> None:
    sealed = keyring.seal("hello-world", environment_id=ENV, name=NAME)
    for env, name in [
        (OTHER_ENV, NAME),
        (ENV, "OTHER_KEY"),
        (ENV, "api_key"),
        (ENV, NAME + "_"),
        (OTHER_ENV, "OTHER_KEY"),
        ("", NAME),
        (ENV, ""),
    ]:
        with pytest.raises(DecryptionError):
            keyring.open(sealed, environment_id=env, name=name)


def test_field_boundaries_cannot_be_shifted(keyring: Keyring) -> None:
    sealed = keyring.seal("v", environment_id="ENV_A", name="B_NAME")
    with pytest.raises(DecryptionError):
        keyring.open(sealed, environment_id="ENV_", name="AB_NAME")
    with pytest.raises(DecryptionError):
        keyring.open(sealed, environment_id="ENV_AB", name="_NAME")


@pytest.mark.parametrize("value", ["hello-world", ""], ids=["short", "empty"])
def test_no_single_bit_flip_of_nonce_or_ciphertext_yields_plaintext(
    keyring: Keyring, value: str
) -> None:
    sealed = keyring.seal(value, environment_id=ENV, name=NAME)
    wire = sealed.nonce + sealed.ciphertext
    flips = 0
    for bit in range(len(wire) * 8):
        broken = _flip(wire, bit)
        candidate = SealedValue(sealed.key_id, broken[:12], broken[12:], sealed.format)
        with pytest.raises(DecryptionError):
            keyring.open(candidate, environment_id=ENV, name=NAME)
        flips += 1
    assert flips == (12 + len(value.encode()) + 16) * 8
    assert keyring.open(sealed, environment_id=ENV, name=NAME) == value  # the original still opens


def test_no_single_bit_flip_of_key_id_or_format_yields_plaintext(keyring: Keyring) -> None:
    sealed = keyring.seal("hello-world", environment_id=ENV, name=NAME)
    key_id = sealed.key_id.encode("ascii")
    for bit in range(len(key_id) * 8):
        broken = _flip(key_id, bit).decode("latin-1")
        with pytest.raises(DecryptionError):
            keyring.open(
                SealedValue(broken, sealed.nonce, sealed.ciphertext, sealed.format),
                environment_id=ENV,
                name=NAME,
            )
    for bit in range(32):
        with pytest.raises(DecryptionError):
            keyring.open(
                SealedValue(
                    sealed.key_id, sealed.nonce, sealed.ciphertext, sealed.format ^ (1 << bit)
                ),
                environment_id=ENV,
                name=NAME,
            )


def test_truncated_or_extended_values_are_rejected(keyring: Keyring) -> None:
    sealed = keyring.seal("hello-world", environment_id=ENV, name=NAME)
    variants = [
        (sealed.nonce[:-1], sealed.ciphertext),
        (sealed.nonce + b"\x00", sealed.ciphertext),
        (b"", sealed.ciphertext),
        (sealed.nonce, sealed.ciphertext[:-1]),
        (sealed.nonce, sealed.ciphertext + b"\x00"),
        (sealed.nonce, sealed.ciphertext[:15]),
        (sealed.nonce, b""),
    ]
    for nonce, ciphertext in variants:
        with pytest.raises(DecryptionError):
            keyring.open(
                SealedValue(sealed.key_id, nonce, ciphertext, sealed.format),
                environment_id=ENV,
                name=NAME,
            )


def test_two_keys_open_both_and_seal_with_the_first() -> None:
    old, new = _key(), _key()
    by_old = Keyring([old]).seal("from-old", environment_id=ENV, name=NAME)
    rotated = Keyring([new, old])
    assert rotated.primary_key_id == key_id_of(new)
    assert rotated.key_ids == {key_id_of(new), key_id_of(old)}
    by_new = rotated.seal("from-new", environment_id=ENV, name=NAME)
    assert by_new.key_id == key_id_of(new)
    assert by_old.key_id == key_id_of(old)
    assert rotated.open(by_old, environment_id=ENV, name=NAME) == "from-old"
    assert rotated.open(by_new, environment_id=ENV, name=NAME) == "from-new"
    with pytest.raises(DecryptionError):
        Keyring([old]).open(by_new, environment_id=ENV, name=NAME)


def test_an_unknown_key_id_is_a_decryption_error(keyring: Keyring) -> None:
    other = Keyring([_key()])
    sealed = other.seal("hello-world", environment_id=ENV, name=NAME)
    with pytest.raises(DecryptionError):
        keyring.open(sealed, environment_id=ENV, name=NAME)


def test_a_key_id_pointing_at_the_wrong_key_is_a_decryption_error() -> None:
    mine, theirs = _key(), _key()
    sealed = Keyring([theirs]).seal("hello-world", environment_id=ENV, name=NAME)
    relabelled = SealedValue(key_id_of(mine), sealed.nonce, sealed.ciphertext, sealed.format)
    with pytest.raises(DecryptionError):
        Keyring([mine]).open(relabelled, environment_id=ENV, name=NAME)


def test_the_stored_format_is_aes_gcm_with_the_documented_associated_data() -> None:
    """Independent of the wrapper: raw AES-GCM with the documented AAD layout opens what the
    keyring seals, and the keyring opens what raw AES-GCM sealed that way."""
    key = _key()
    keyring = Keyring([key])

    def aad(env: str, name: str) -> bytes:
        fields = [b"sigillo:secret:v1", env.encode(), name.encode()]
        return b"".join(len(f).to_bytes(4, "big") + f for f in fields)

    sealed = keyring.seal("hello-world", environment_id=ENV, name=NAME)
    assert AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, aad(ENV, NAME)) == b"hello-world"

    nonce = os.urandom(12)
    outside = AESGCM(key).encrypt(nonce, "🔐 Ключ".encode(), aad(ENV, NAME))
    value = SealedValue(key_id_of(key), nonce, outside, 1)
    assert keyring.open(value, environment_id=ENV, name=NAME) == "🔐 Ключ"


def test_reprs_never_show_keys_or_plaintext() -> None:
    keys = [_key(), _key()]
    keyring = Keyring(keys)
    plaintext = "plaintext-" + secrets.token_hex(8)
    sealed = keyring.seal(plaintext, environment_id=ENV, name=NAME)
    texts = [repr(keyring), str(keyring), repr(sealed), str(sealed), f"{sealed!r} {keyring}"]
    leaks = [plaintext, *(e for k in keys for e in _encodings(k))]
    leaks += _encodings(sealed.nonce) + _encodings(sealed.ciphertext)
    for text in texts:
        for leak in leaks:
            assert leak not in text
    assert keyring.primary_key_id in repr(keyring)
    assert sealed.key_id in repr(sealed)


def test_keyring_rejects_bad_key_lists_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Keyring([])
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring([b""])
    for bad in (b"\x01" * 16, b"\x02" * 31, b"\x03" * 33):
        with pytest.raises(ValueError, match="32 bytes") as caught:
            Keyring([_key(), bad])
        assert bad.hex() not in str(caught.value)
        assert repr(bad) not in str(caught.value)


def test_seal_check_and_verify_check() -> None:
    key = _key()
    keyring = Keyring([key])
    check = keyring.seal_check()
    assert check.key_id == key_id_of(key)
    assert len(check.nonce) == 12
    assert CHECK_PLAINTEXT not in check.ciphertext
    assert keyring.verify_check(check)
    assert Keyring([key]).verify_check(check)  # same key, another instance
    assert keyring.seal_check().nonce != check.nonce

    assert not Keyring([_key()]).verify_check(check)  # another key: unknown id
    relabelled = SealedValue(
        key_id_of(other := _key()), check.nonce, check.ciphertext, check.format
    )
    assert not Keyring([other]).verify_check(relabelled)  # right id, wrong key
    assert not keyring.verify_check(
        SealedValue(check.key_id, check.nonce, _flip(check.ciphertext, 3), check.format)
    )
    assert not keyring.verify_check(
        SealedValue(check.key_id, check.nonce, check.ciphertext, check.format + 1)
    )


def test_the_check_value_and_secrets_are_domain_separated() -> None:
    keyring = Keyring([_key()])
    as_secret = keyring.seal(CHECK_PLAINTEXT.decode(), environment_id="", name="")
    assert not keyring.verify_check(as_secret)
    with pytest.raises(DecryptionError):
        keyring.open(keyring.seal_check(), environment_id="", name="")


def test_key_id_is_deterministic_and_distinct_per_key() -> None:
    key = _key()
    assert key_id_of(key) == key_id_of(bytes(key))
    assert Keyring([key]).primary_key_id == key_id_of(key)
    assert len(key_id_of(key)) == 16
    assert all(c in "0123456789abcdef" for c in key_id_of(key))
    ids = {key_id_of(_key()) for _ in range(500)}
    assert len(ids) == 500
    assert key_id_of(key) != key_id_of(_flip(key, 0))
    assert key_id_of(key) not in (key.hex(), hashlib.sha256(key).hexdigest()[:16])


def test_key_id_is_pinned() -> None:
    """Stored values carry key ids: the derivation may never change."""
    assert (
        key_id_of(bytes(32)) == hashlib.sha256(b"sigillo key id\x00" + bytes(32)).hexdigest()[:16]
    )
    assert (
        key_id_of(bytes(range(32)))
        == (hashlib.sha256(b"sigillo key id\x00" + bytes(range(32))).hexdigest()[:16])
    )
