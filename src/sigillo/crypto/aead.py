"""AES-256-GCM: the only primitive Sigillo seals values with.

`encrypt`/`decrypt` are the thin wrapper the NIST known-answer tests drive. The associated
data binds a ciphertext to its environment and secret name and to the format version,
length-prefixed so that no two places can ever share one encoding.
"""

from __future__ import annotations

import functools

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sigillo.domain.errors import DecryptionError

__all__ = [
    "FORMAT",
    "KEY_BYTES",
    "NONCE_BYTES",
    "associated_data",
    "decrypt",
    "encrypt",
    "secret_associated_data",
]

FORMAT = 1
KEY_BYTES = 32
NONCE_BYTES = 12


def associated_data(purpose: str, *parts: str, format: int = FORMAT) -> bytes:
    fields = [_label(purpose, format)]
    for part in parts:
        encoded = part.encode("utf-8")
        fields += (len(encoded).to_bytes(4, "big"), encoded)
    return b"".join(fields)


@functools.lru_cache(maxsize=16_384)
def secret_associated_data(environment_id: str, name: str, format: int = FORMAT) -> bytes:
    """A secret's associated data; remembered, since every download rebuilds the same ones
    (they hold only ids and names, no value)."""
    return associated_data("secret", environment_id, name, format=format)


@functools.cache
def _label(purpose: str, format: int) -> bytes:
    label = f"sigillo:{purpose}:v{format}".encode()
    return len(label).to_bytes(4, "big") + label


def encrypt(key: bytes | AESGCM, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Ciphertext with the 16-byte tag appended. A key used often is best passed as its
    AESGCM object, which holds the expanded key schedule."""
    return _aes(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes | AESGCM, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return _aes(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise DecryptionError("a stored value failed authentication") from None


def _aes(key: bytes | AESGCM) -> AESGCM:
    return key if isinstance(key, AESGCM) else AESGCM(key)
