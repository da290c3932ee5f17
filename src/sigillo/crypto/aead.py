"""AES-256-GCM: the only primitive Sigillo seals values with.

`encrypt`/`decrypt` are the thin wrapper the NIST known-answer tests drive. The associated
data binds a ciphertext to its environment and secret name and to the format version,
length-prefixed so that no two places can ever share one encoding.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sigillo.domain.errors import DecryptionError

__all__ = ["FORMAT", "KEY_BYTES", "NONCE_BYTES", "associated_data", "decrypt", "encrypt"]

FORMAT = 1
KEY_BYTES = 32
NONCE_BYTES = 12


def associated_data(purpose: str, *parts: str, format: int = FORMAT) -> bytes:
    fields = [f"sigillo:{purpose}:v{format}".encode(), *(p.encode("utf-8") for p in parts)]
    return b"".join(len(f).to_bytes(4, "big") + f for f in fields)


def encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Ciphertext with the 16-byte tag appended."""
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise DecryptionError("a stored value failed authentication") from None
