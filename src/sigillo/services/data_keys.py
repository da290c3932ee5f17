"""Data keys (envelope encryption, crypto.envelope): made at first start, loaded at every
start and refreshed while serving, and re-wrapped when the master key is rotated.

Rotating to a new master key NEW (configured first, the old key after it, on every
server): `rotate` records the rotation together with a new data key wrapped by NEW that
becomes active `activate_after` ms later, when every server has loaded it (servers poll
every REFRESH_EVERY s); keeps each old master key that sealed values itself (before data
keys existed) as a data key wrapped by NEW; re-wraps every other data key under NEW, one
row at a time; then retires the old master keys. Servers keep serving throughout: every
row is always wrapped by a key they have. An interrupted rotation is finished by running
`rotate` again, or by a server starting with NEW first. `key_status` tells when an old
master key is no longer needed.
"""

from __future__ import annotations

import logging

import msgspec

from sigillo.domain.data_keys import KeyRotation, WrappedKey
from sigillo.domain.errors import StartupError
from sigillo.services.ports import DataKeyCipher, DataKeyStore, KeyRegistry

__all__ = [
    "ACTIVATE_AFTER_MS",
    "REFRESH_EVERY",
    "KeyRotationRefused",
    "MasterKeyStatus",
    "key_status",
    "open_data_keys",
    "refresh_data_keys",
    "rotate",
]

log = logging.getLogger("sigillo.keys")

REFRESH_EVERY = 10.0  # seconds between a server's looks for data keys made elsewhere
ACTIVATE_AFTER_MS = 30_000  # a rotation's new data key seals values from then on


class KeyRotationRefused(Exception):
    """A rotation that cannot start as configured; the message says what to change."""


class MasterKeyStatus(msgspec.Struct, frozen=True):
    key_id: str
    configured: bool
    primary: bool
    retired_at: int | None  # ms; None while the database requires it
    wraps: int  # data keys wrapped by it

    @property
    def needed(self) -> bool:
        return self.wraps > 0 or self.retired_at is None


async def open_data_keys(
    store: DataKeyStore, registry: KeyRegistry, cipher: DataKeyCipher, now: int, *, resume: bool
) -> None:
    """Start-up: make the first data key of a database that has none, load every data key
    (refusing to start if one is wrapped by a master key this server lacks), and with
    `resume`, finish a rotation to this server's primary key that was interrupted."""
    await store.add_first(lambda: cipher.new_data_key(now, now))
    rotations = await store.rotations()
    unopened = cipher.learn(await store.wrapped_keys())
    if unopened:
        raise StartupError(_unopened(unopened, _unfinished(rotations)))
    unfinished = _unfinished(rotations)
    if unfinished is None or not resume:
        return
    if unfinished.target != cipher.primary_key_id:
        log.warning(
            "a rotation to encryption key %s is unfinished; run `sigillo admin rotate-key` "
            "with that key configured first",
            unfinished.target,
        )
        return
    log.warning("finishing the interrupted rotation to encryption key %s", unfinished.target)
    await _finish(store, registry, cipher, unfinished.target, now)


async def refresh_data_keys(store: DataKeyStore, cipher: DataKeyCipher) -> None:
    """While serving: load the data keys another process made (a rotation's new key)."""
    unopened = cipher.learn(await store.wrapped_keys())
    if unopened:
        log.error("%s", _unopened(unopened, _unfinished(await store.rotations())))


async def rotate(
    store: DataKeyStore,
    registry: KeyRegistry,
    cipher: DataKeyCipher,
    now: int,
    activate_after: int = ACTIVATE_AFTER_MS,
) -> list[MasterKeyStatus]:
    """Rotate to the primary master key (or finish the interrupted rotation to it)."""
    target = cipher.primary_key_id
    unfinished = _unfinished(await store.rotations())
    if unfinished is not None and unfinished.target != target:
        raise KeyRotationRefused(
            f"a rotation to encryption key {unfinished.target} is unfinished: configure that "
            "key first (and the older keys after it), then run this again"
        )
    if unfinished is None:
        key = cipher.new_data_key(now, now + activate_after)
        await store.begin_rotation(target, now, key)
        cipher.learn([key])
    await _finish(store, registry, cipher, target, now)
    return await key_status(store, registry, cipher)


async def key_status(
    store: DataKeyStore, registry: KeyRegistry, cipher: DataKeyCipher
) -> list[MasterKeyStatus]:
    """Every master key the database or this configuration knows, and whether it is needed."""
    required = set(await registry.registered())
    retired = await store.retired()
    wraps: dict[str, int] = {}
    for key in await store.wrapped_keys():
        wraps[key.wrapped.key_id] = wraps.get(key.wrapped.key_id, 0) + 1
    known = required | set(retired) | set(wraps) | set(cipher.key_ids)
    return [
        MasterKeyStatus(
            key_id=key_id,
            configured=key_id in cipher.key_ids,
            primary=key_id == cipher.primary_key_id,
            retired_at=None if key_id in required else retired.get(key_id),
            wraps=wraps.get(key_id, 0),
        )
        for key_id in sorted(known, key=lambda k: (k != cipher.primary_key_id, k))
    ]


async def _finish(
    store: DataKeyStore, registry: KeyRegistry, cipher: DataKeyCipher, target: str, now: int
) -> None:
    """Keep the old master keys that sealed values as data keys, re-wrap every data key
    under `target`, retire the old master keys. Each step may be repeated safely."""
    stored = {key.key_id for key in await store.wrapped_keys()}
    counts = await store.sealed_counts()
    replaced = sorted(set(await registry.registered()) - {target})
    for master_id in replaced:
        if counts.get(master_id, 0) and master_id not in stored:
            demoted = cipher.demoted(master_id, now)
            await store.add(demoted)
            cipher.learn([demoted])
    for key in await store.wrapped_keys():
        if key.wrapped.key_id != target:
            await store.rewrap(cipher.rewrapped(key), key.wrapped.key_id)
    await store.finish_rotation(target, replaced, now)
    log.warning(
        "rotated to encryption key %s: every data key is wrapped by it; retired: %s",
        target,
        ", ".join(replaced) or "none",
    )


def _unfinished(rotations: list[KeyRotation]) -> KeyRotation | None:
    pending = [rotation for rotation in rotations if rotation.finished_at is None]
    return pending[-1] if pending else None


def _unopened(keys: list[WrappedKey], unfinished: KeyRotation | None) -> str:
    needed = ", ".join(sorted({key.wrapped.key_id for key in keys}))
    text = (
        f"{len(keys)} data key(s) of this database are wrapped by encryption key {needed}, "
        "which this server does not have"
    )
    if unfinished is not None:
        text += (
            f"; a rotation to key {unfinished.target} is unfinished: start with both keys "
            f"(key {unfinished.target} first) so that it can finish"
        )
    return text
