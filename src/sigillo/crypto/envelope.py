"""Envelope encryption: values are sealed with data keys, data keys with master keys.

A data key is 32 random bytes, stored only wrapped (sealed by a master key, bound to its
own id) in the `data_keys` table; a value names the data key that sealed it. Rotating the
master key re-wraps the few data keys and never touches the event log. Values written
before data keys existed name the master key itself: this keyring opens them with that
master key while it is configured, and rotation keeps its material as one more data key
(wrapped by the new master key), so they stay readable once the old key is gone.

New values are sealed with the newest data key that is active. A rotation's new data key
becomes active a while after it is written (`active_from`), so every server has loaded it
(services.keys polls) before any server seals with it: replicas never write a value
another replica cannot open.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sigillo.crypto.aead import KEY_BYTES, associated_data, decrypt, secret_associated_data
from sigillo.crypto.chain import derive_chain_key
from sigillo.crypto.keyring import Keyring, key_id_of
from sigillo.domain.data_keys import NEVER_SEALS, WrappedKey
from sigillo.domain.errors import DecryptionError
from sigillo.domain.events import SealedValue

__all__ = ["Envelope"]


class Envelope:
    """Implements services.ports.Cipher over a Keyring of master keys."""

    def __init__(self, master: Keyring) -> None:
        self.master = master
        self.primary_key_id = master.primary_key_id
        self.key_ids = master.key_ids
        self._data: dict[str, AESGCM] = {}
        self._chain_keys: dict[str, bytes] = {}  # data key id -> its log chain key
        self._active: list[tuple[int, str]] = []  # (active_from, data key id), oldest first

    def __repr__(self) -> str:
        return f"Envelope(master={self.master!r}, data_keys={len(self._data)})"

    # -- values -------------------------------------------------------------------------

    def seal(self, plaintext: str, *, environment_id: str, name: str) -> SealedValue:
        key_id = self._sealing_key()
        aad = secret_associated_data(environment_id, name)
        return self.master.seal_with(self._data[key_id], key_id, plaintext.encode(), aad)

    def open(self, sealed: SealedValue, *, environment_id: str, name: str) -> str:
        key = self._data.get(sealed.key_id)
        if key is None:  # written before data keys existed: sealed by a master key
            return self.master.open(sealed, environment_id=environment_id, name=name)
        aad = secret_associated_data(environment_id, name, sealed.format)
        return decrypt(key, sealed.nonce, sealed.ciphertext, aad).decode("utf-8")

    def seal_check(self) -> SealedValue:
        return self.master.seal_check()

    def verify_check(self, sealed: SealedValue) -> bool:
        return self.master.verify_check(sealed)

    def _sealing_key(self) -> str:
        now = int(time.time() * 1000)
        for active_from, key_id in reversed(self._active):
            if NEVER_SEALS < active_from <= now:
                return key_id
        raise DecryptionError("no data key is active yet; the server cannot seal values")

    # -- data keys ----------------------------------------------------------------------

    @property
    def data_key_ids(self) -> frozenset[str]:
        return frozenset(self._data)

    def learn(self, keys: Iterable[WrappedKey]) -> list[WrappedKey]:
        """Unwrap the data keys not known yet; answers those no configured master key opens."""
        unopened = []
        for key in keys:
            if key.key_id in self._data:
                continue
            if key.wrapped.key_id not in self.master.key_ids:
                unopened.append(key)
                continue
            material = self.master.unwrap(key.wrapped, _purpose(key.key_id))
            if key_id_of(material) != key.key_id:
                raise DecryptionError(f"data key {key.key_id} does not match its id")
            self._data[key.key_id] = AESGCM(material)
            self._chain_keys[key.key_id] = derive_chain_key(material)
            self._active.append((key.active_from, key.key_id))
        self._active.sort()
        return unopened

    def chain_key(self, data_key_id: str) -> bytes:
        """The tamper-evident log's key, derived from a data key's material (crypto.chain)."""
        key = self._chain_keys.get(data_key_id)
        if key is None:
            raise DecryptionError(f"data key {data_key_id} is not loaded: no log chain key")
        return key

    def new_data_key(self, now: int, active_from: int) -> WrappedKey:
        """A new random data key, wrapped by the primary master key (not yet learned)."""
        material = os.urandom(KEY_BYTES)
        key_id = key_id_of(material)
        return WrappedKey(key_id, self.master.wrap(material, _purpose(key_id)), now, active_from)

    def rewrapped(self, key: WrappedKey) -> WrappedKey:
        """The same data key, wrapped by the primary master key instead."""
        material = self.master.unwrap(key.wrapped, _purpose(key.key_id))
        return WrappedKey(
            key.key_id,
            self.master.wrap(material, _purpose(key.key_id)),
            key.created_at,
            key.active_from,
        )

    def demoted(self, master_key_id: str, now: int) -> WrappedKey:
        """A master key that sealed values directly, kept as a data key wrapped by the
        primary master key (active since always: it never seals anything again)."""
        material = self.master.material(master_key_id)
        key_id = key_id_of(material)
        return WrappedKey(key_id, self.master.wrap(material, _purpose(key_id)), now, NEVER_SEALS)


def _purpose(key_id: str) -> bytes:
    return associated_data("data-key", key_id)
