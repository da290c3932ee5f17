"""`sigillo admin rotate-key`: rotate the master key while servers keep serving, or say
(`--status`) which master keys the database still needs. The rotation itself is
services.data_keys.rotate; this opens the database and the configured keys for it."""

from __future__ import annotations

import time

from sigillo.crypto.envelope import Envelope
from sigillo.crypto.keys import KeySources
from sigillo.domain.errors import StartupError
from sigillo.services.data_keys import (
    KeyRotationRefused,
    MasterKeyStatus,
    key_status,
    open_data_keys,
    rotate,
)
from sigillo.services.keys import verify_keys
from sigillo.settings import Settings
from sigillo.store.data_keys import SqlDataKeys
from sigillo.store.database import open_database
from sigillo.store.key_registry import SqlKeyRegistry
from sigillo.store.migrate import migrate

__all__ = ["rotate_key"]


async def rotate_key(settings: Settings, *, status_only: bool, activate_after: float) -> list[str]:
    """Answers the lines to print. Raises StartupError when the keys do not fit."""
    keyring = KeySources(settings).load()
    if keyring is None:
        raise StartupError(KeySources(settings).missing())
    database = await open_database(settings.database_url)
    try:
        await migrate(settings.database_url)
        now = int(time.time() * 1000)
        registry, store = SqlKeyRegistry(database), SqlDataKeys(database)
        cipher = Envelope(keyring)
        if status_only:  # reads only
            return _describe(await key_status(store, registry, cipher))
        # the configured keys must fit the database; the new one gets its known value
        await verify_keys(registry, cipher, now)
        await open_data_keys(store, registry, cipher, now, resume=False)
        try:
            statuses = await rotate(store, registry, cipher, now, int(activate_after * 1000))
        except KeyRotationRefused as error:
            raise StartupError(str(error)) from None
    finally:
        await database.close()
    return [
        f"rotated to encryption key {cipher.primary_key_id}: every data key is wrapped by it; "
        f"new values are sealed with a new data key from {_when(now + activate_after * 1000)}",
        *_describe(statuses),
    ]


def _describe(statuses: list[MasterKeyStatus]) -> list[str]:
    lines = []
    for status in statuses:
        where = "configured" if status.configured else "not configured"
        role = "primary, " if status.primary else ""
        wraps = f"wraps {status.wraps} data key{'s' if status.wraps != 1 else ''}"
        line = f"key {status.key_id}: {role}{where}; {wraps}"
        if status.retired_at is not None:
            line += f"; retired {_when(status.retired_at)}"
        if not status.needed:
            line += "; no longer needed: remove it from the configuration"
        elif status.retired_at is not None:
            line += "; still needed: run `sigillo admin rotate-key` to finish the rotation"
        elif not status.primary:
            line += "; still needed: configure the new key first and run `sigillo admin rotate-key`"
        lines.append(line)
    return lines


def _when(ms: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))
