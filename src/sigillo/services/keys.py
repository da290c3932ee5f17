"""The start-up key check: refuse to run with a key that does not match the database, and
never make a new key for a database that already has one."""

from __future__ import annotations

from typing import Protocol, TypeVar

from sigillo.domain.errors import StartupError
from sigillo.domain.events import SealedValue
from sigillo.services.ports import Cipher, KeyRegistry

__all__ = ["KeySource", "open_keys", "verify_keys"]

_WHERE_KEYS_COME_FROM = (
    "SIGILLO_ENCRYPTION_KEY, SIGILLO_ENCRYPTION_KEY_FILE, SIGILLO_SECRET_KEY, or encryption.key "
    "in its data directory"
)


C = TypeVar("C", bound=Cipher, covariant=True)


class KeySource(Protocol[C]):
    """Where the server's key comes from (crypto.keys.KeySources)."""

    def load(self) -> C | None:
        """The configured key; None when none is configured. Writes nothing."""
        ...

    def create(self) -> C:
        """A new key, kept where load() finds it next time: only for a database with none."""
        ...

    def missing(self) -> str:
        """Where load() looked and found nothing (never a key)."""
        ...


async def open_keys(registry: KeyRegistry, source: KeySource[C], now: int) -> C:
    """The key to run with, checked as verify_keys checks it. A new key is created only when
    the database has no registered key at all; a database that has one and a server without
    a key is refused, naming the key id the database expects, and nothing is written. The
    decision is taken under the registry's writer lock, so a server that starts beside
    another one creating the first key sees that key."""
    chosen: list[C] = []

    def decide(registered: dict[str, SealedValue]) -> SealedValue | None:
        cipher = source.load()
        if cipher is None:
            if registered:
                expected = ", ".join(sorted(registered))
                raise StartupError(
                    f"this database was written with encryption key {expected}, but "
                    f"{source.missing()}. No new key was made: it could not read this "
                    f"database. Start the server with key {expected}: it comes from "
                    f"{_WHERE_KEYS_COME_FROM} (restore that file from your backup)."
                )
            cipher = source.create()
        chosen[:] = [cipher]
        return _check(registered, cipher)

    await registry.register_checked(decide, now)
    return chosen[0]


async def verify_keys(registry: KeyRegistry, cipher: Cipher, now: int) -> None:
    """Every key the database knows must be configured and open its known value; a new
    primary key is registered with a fresh known value. Check and registration are one
    transaction, so replicas starting together with different keys cannot both pass."""
    await registry.register_checked(lambda registered: _check(registered, cipher), now)


def _check(registered: dict[str, SealedValue], cipher: Cipher) -> SealedValue | None:
    for key_id in sorted(cipher.key_ids & registered.keys()):
        if not cipher.verify_check(registered[key_id]):
            raise StartupError(
                f"the encryption key {key_id} failed its known-value check against this database"
            )
    missing = sorted(registered.keys() - cipher.key_ids)
    if missing:
        raise StartupError(
            f"this database was written with encryption key {', '.join(missing)}, which this "
            "server does not have. Start it with the key the database was created with "
            f"({_WHERE_KEYS_COME_FROM})."
        )
    return None if cipher.primary_key_id in registered else cipher.seal_check()
