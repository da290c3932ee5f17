"""The keyring: keys by id, the newest sealing new values, all of them opening old ones.

A key's id is derived from the key (a truncated, domain-separated SHA-256), so the same
key always has the same id and a wrong key is recognised by its id alone; the sealed
known value in the database is the second, independent check.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sigillo.crypto.aead import (
    FORMAT,
    KEY_BYTES,
    NONCE_BYTES,
    associated_data,
    decrypt,
    encrypt,
    secret_associated_data,
)
from sigillo.domain.errors import DecryptionError
from sigillo.domain.events import SealedValue

__all__ = ["CHECK_PLAINTEXT", "Keyring", "key_id_of"]

CHECK_PLAINTEXT = b"sigillo known-value check"


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(b"sigillo key id\x00" + key).hexdigest()[:16]


class Keyring:
    """Implements services.ports.Cipher."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        for key in keys:
            if len(key) != KEY_BYTES:
                raise ValueError("AES-256-GCM keys are 32 bytes")
        self._keys = {key_id_of(key): AESGCM(key) for key in keys}
        self._material = {key_id_of(key): bytes(key) for key in keys}
        self.primary_key_id = key_id_of(keys[0])
        self.key_ids = frozenset(self._keys)

    def __repr__(self) -> str:
        return f"Keyring(primary={self.primary_key_id!r}, keys={len(self._keys)})"

    def seal(self, plaintext: str, *, environment_id: str, name: str) -> SealedValue:
        return self._seal(plaintext.encode("utf-8"), secret_associated_data(environment_id, name))

    def open(self, sealed: SealedValue, *, environment_id: str, name: str) -> str:
        aad = secret_associated_data(environment_id, name, sealed.format)
        return self._open(sealed, aad).decode("utf-8")

    def seal_check(self) -> SealedValue:
        return self._seal(CHECK_PLAINTEXT, associated_data("key-check"))

    def verify_check(self, sealed: SealedValue) -> bool:
        try:
            return self._open(sealed, associated_data("key-check")) == CHECK_PLAINTEXT
        except DecryptionError:
            return False

    def wrap(self, material: bytes, aad: bytes) -> SealedValue:
        """A data key's material, sealed by the primary key (crypto.envelope)."""
        return self._seal(material, aad)

    def unwrap(self, sealed: SealedValue, aad: bytes) -> bytes:
        return self._open(sealed, aad)

    def material(self, key_id: str) -> bytes:
        """A configured key's bytes, to keep as a data key when it is rotated away."""
        return self._material[key_id]

    @staticmethod
    def seal_with(key: AESGCM, key_id: str, plaintext: bytes, aad: bytes) -> SealedValue:
        nonce = os.urandom(NONCE_BYTES)
        return SealedValue(key_id, nonce, encrypt(key, nonce, plaintext, aad), FORMAT)

    def _seal(self, plaintext: bytes, aad: bytes) -> SealedValue:
        nonce = os.urandom(NONCE_BYTES)
        key = self._keys[self.primary_key_id]
        return SealedValue(self.primary_key_id, nonce, encrypt(key, nonce, plaintext, aad), FORMAT)

    def _open(self, sealed: SealedValue, aad: bytes) -> bytes:
        key = self._keys.get(sealed.key_id)
        if key is None or sealed.format != FORMAT:
            raise DecryptionError("a stored value was sealed with a key this server does not have")
        return decrypt(key, sealed.nonce, sealed.ciphertext, aad)
