"""The tamper-evident log's seals: keyed hashes (HMAC-SHA-256) over the events.

The chain key is derived (HKDF-SHA-256) from the material of the database's first data key
(the one with the smallest (created_at, key_id) among those that seal: not a former
master key kept as a data key). Data key material never changes, so the chain survives
master key rotation; only whoever can unwrap the data keys (a configured master key) can
seal, so a database writer without the key cannot forge a link.

Three seals, each domain-separated and over length-prefixed fields:
- stream hash: HMAC(k, "stream", previous stream hash of the same stream (or empty), the
  event row's canonical encoding: position, stream, version, event id, type, subject,
  data, actor kind, actor id, time);
- log hash: HMAC(k, "log", the previous position's log hash (or empty), the stream hash);
- head: HMAC(k, "head", where the chain starts, the head position, its log hash), kept in
  `log_chain`, so removing the newest events is caught too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sigillo.domain.data_keys import WrappedKey
from sigillo.domain.errors import StartupError

__all__ = ["CHAIN_INFO", "ChainKey", "chain_of", "derive_chain_key", "first_data_key"]

CHAIN_INFO = b"sigillo log chain v1"
_NONE = b"\xff\xff\xff\xff"  # the length prefix of an absent field (a NULL subject)


def derive_chain_key(material: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CHAIN_INFO).derive(material)


def first_data_key(keys: Iterable[WrappedKey]) -> str | None:
    """The id of the data key the chain key comes from: the first that seals values."""
    sealing = [key for key in keys if key.active_from >= 0]
    return min(sealing, key=lambda key: (key.created_at, key.key_id)).key_id if sealing else None


def _field(value: Any) -> bytes:
    if value is None:
        return _NONE
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def _encode(*fields: Any) -> bytes:
    return b"".join(_field(value) for value in fields)


class ChainKey:
    """Implements services.log_chain.Seals with one chain key. Hashes are lower-case hex."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "ChainKey(…)"

    def _mac(self, message: bytes) -> str:
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def stream_hash(self, previous: str | None, row: Sequence[Any]) -> str:
        """`row`: the event's ten columns in EVENT_COLUMNS order."""
        return self._mac(_encode("stream", previous or "", *row[:10]))

    def log_hash(self, previous: str | None, stream_hash: str) -> str:
        return self._mac(_encode("log", previous or "", stream_hash))

    def head_mac(self, starts_at: int, position: int, log_hash: str | None) -> str:
        return self._mac(_encode("head", starts_at, position, log_hash or ""))

    @staticmethod
    def same(a: str | None, b: str) -> bool:
        return a is not None and hmac.compare_digest(a, b)


def chain_of(keys: Iterable[WrappedKey], chain_key: Callable[[str], bytes]) -> ChainKey:
    """The database's chain key: `keys` its data keys, `chain_key` Envelope.chain_key (the
    data keys must be loaded)."""
    first = first_data_key(keys)
    if first is None:
        raise StartupError("the database has no data key yet: the log chain has no key")
    return ChainKey(chain_key(first))
