"""Published AES-256-GCM known-answer vectors through Sigillo's own wrapper (security.md, Crypto).

The vectors live in vectors/aes_256_gcm.json with their sources: McGrew & Viega's GCM
specification (test cases 13-16) and NIST CAVP's gcmEncryptExtIV256.rsp / gcmDecrypt256.rsp
(96-bit IVs, 128-bit tags), including NIST's own FAIL entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from sigillo.crypto import aead
from sigillo.domain.errors import DecryptionError

VECTORS_FILE = Path(__file__).parent / "vectors" / "aes_256_gcm.json"


@dataclass(frozen=True)
class Vector:
    name: str
    source: str
    key: bytes
    iv: bytes
    pt: bytes
    aad: bytes
    ct: bytes
    tag: bytes
    result: str

    @property
    def sealed(self) -> bytes:
        return self.ct + self.tag


def _load() -> list[Vector]:
    raw = json.loads(VECTORS_FILE.read_text())
    return [
        Vector(
            name=v["name"],
            source=v["source"],
            result=v["result"],
            **{f: bytes.fromhex(v[f]) for f in ("key", "iv", "pt", "aad", "ct", "tag")},
        )
        for v in raw["vectors"]
    ]


VECTORS = _load()
PASSING = [v for v in VECTORS if v.result == "pass"]
FAILING = [v for v in VECTORS if v.result == "fail"]


def _ids(vectors: list[Vector]) -> list[str]:
    return [v.name for v in vectors]


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def test_the_vector_file_covers_what_the_family_asks_for() -> None:
    assert len(PASSING) >= 6
    assert len(FAILING) >= 1
    for v in VECTORS:
        assert len(v.key) == aead.KEY_BYTES == 32, v.name
        assert len(v.iv) == aead.NONCE_BYTES == 12, v.name
        assert len(v.tag) == 16, v.name
        assert v.result in {"pass", "fail"}, v.name
    assert any(not v.pt for v in PASSING), "an empty plaintext"
    assert any(v.aad and v.pt for v in PASSING), "a plaintext with associated data"
    assert any(len(v.pt) % 16 for v in PASSING), "a plaintext that is not whole blocks"
    assert {"gcm-spec", "gcmEncryptExtIV256", "gcmDecrypt256"} <= {v.source for v in VECTORS}


@pytest.mark.parametrize("v", PASSING, ids=_ids(PASSING))
def test_encrypt_gives_the_published_ciphertext_and_tag(v: Vector) -> None:
    out = aead.encrypt(v.key, v.iv, v.pt, v.aad)
    assert out[: len(v.pt)].hex() == v.ct.hex()
    assert out[len(v.pt) :].hex() == v.tag.hex()  # the 16-byte tag is appended
    assert len(out) == len(v.pt) + 16


@pytest.mark.parametrize("v", PASSING, ids=_ids(PASSING))
def test_decrypt_gives_the_published_plaintext(v: Vector) -> None:
    assert aead.decrypt(v.key, v.iv, v.sealed, v.aad) == v.pt


@pytest.mark.parametrize("v", FAILING, ids=_ids(FAILING))
def test_nist_fail_vectors_raise_decryption_error(v: Vector) -> None:
    with pytest.raises(DecryptionError):
        aead.decrypt(v.key, v.iv, v.sealed, v.aad)


@pytest.mark.parametrize("v", PASSING, ids=_ids(PASSING))
def test_every_bit_of_the_tag_is_checked(v: Vector) -> None:
    tag_start = len(v.ct) * 8
    for bit in range(tag_start, tag_start + 128):
        with pytest.raises(DecryptionError):
            aead.decrypt(v.key, v.iv, _flip(v.sealed, bit), v.aad)


@pytest.mark.parametrize("v", [v for v in PASSING if v.ct], ids=_ids([v for v in PASSING if v.ct]))
def test_a_flipped_ciphertext_bit_is_detected(v: Vector) -> None:
    for bit in (0, 7, len(v.ct) * 8 - 1):
        with pytest.raises(DecryptionError):
            aead.decrypt(v.key, v.iv, _flip(v.sealed, bit), v.aad)


@pytest.mark.parametrize("v", PASSING, ids=_ids(PASSING))
def test_wrong_nonce_key_or_associated_data_is_detected(v: Vector) -> None:
    with pytest.raises(DecryptionError):
        aead.decrypt(v.key, _flip(v.iv, 0), v.sealed, v.aad)
    with pytest.raises(DecryptionError):
        aead.decrypt(_flip(v.key, 255), v.iv, v.sealed, v.aad)
    with pytest.raises(DecryptionError):
        aead.decrypt(v.key, v.iv, v.sealed, v.aad + b"\x00")
    if v.aad:
        with pytest.raises(DecryptionError):
            aead.decrypt(v.key, v.iv, v.sealed, b"")
        with pytest.raises(DecryptionError):
            aead.decrypt(v.key, v.iv, v.sealed, _flip(v.aad, len(v.aad) * 8 - 1))


@pytest.mark.parametrize("v", PASSING, ids=_ids(PASSING))
def test_truncated_or_extended_ciphertexts_are_detected(v: Vector) -> None:
    for broken in (v.sealed[:-1], v.sealed[:-16], v.sealed[1:], v.sealed + b"\x00", b""):
        with pytest.raises(DecryptionError):
            aead.decrypt(v.key, v.iv, broken, v.aad)


def test_malformed_keys_and_nonces_are_decryption_errors_not_crashes() -> None:
    v = PASSING[0]
    for key in (b"", v.key[:16], v.key[:31], v.key + b"\x00"):
        with pytest.raises(DecryptionError):
            aead.decrypt(key, v.iv, v.sealed, v.aad)
    with pytest.raises(DecryptionError):
        aead.decrypt(v.key, b"", v.sealed, v.aad)


def test_decryption_error_message_carries_no_data() -> None:
    v = next(v for v in PASSING if v.pt and v.aad)
    with pytest.raises(DecryptionError) as caught:
        aead.decrypt(v.key, v.iv, _flip(v.sealed, 0), v.aad)
    text = str(caught.value)
    for secret in (v.key, v.pt, v.ct, v.aad):
        assert secret.hex() not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_associated_data_encoding_is_pinned() -> None:
    """The AAD layout is part of the storage format: every stored value depends on it."""

    def field(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data

    assert aead.associated_data("secret", "01ENV", "API_KEY") == (
        field(b"sigillo:secret:v1") + field(b"01ENV") + field(b"API_KEY")
    )
    assert aead.associated_data("key-check") == field(b"sigillo:key-check:v1")
    assert aead.associated_data("secret", "é", format=7) == field(b"sigillo:secret:v7") + field(
        "é".encode()
    )


def test_associated_data_is_unambiguous() -> None:
    ad = aead.associated_data
    assert ad("secret", "ab", "c") != ad("secret", "a", "bc")
    assert ad("secret", "a:b") != ad("secret", "a", "b")
    assert ad("secret", "a", "") != ad("secret", "a")
    assert ad("secret", "", "a") != ad("secret", "a", "")
    assert ad("secret", "e", "n") != ad("secret", "e", "n", format=2)
    assert ad("secret", "e", "n") != ad("key-check", "e", "n")
    assert ad("secret:v1", "x") != ad("secret", "v1:x")
