"""Wrapped data keys, master key rotations and retirements (implements DataKeyStore)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sigillo.domain.data_keys import KeyRotation, WrappedKey
from sigillo.domain.events import SealedValue
from sigillo.store.database import Database

__all__ = ["SqlDataKeys"]

_SELECT = (
    "SELECT key_id, wrapped_by, nonce, ciphertext, format, created_at, active_from "
    "FROM data_keys ORDER BY active_from, key_id"
)
_INSERT = (
    "INSERT INTO data_keys "
    "(key_id, wrapped_by, nonce, ciphertext, format, created_at, active_from) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_id) DO NOTHING"
)


class SqlDataKeys:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def wrapped_keys(self) -> list[WrappedKey]:
        return [_key(row) for row in await self._db.fetch(_SELECT)]

    async def add_first(self, make: Callable[[], WrappedKey]) -> None:
        # Under the writer lock: servers starting together make one first key, not several.
        async with self._db.writing() as tx:
            if not await tx.fetch("SELECT 1 FROM data_keys LIMIT 1"):
                await tx.execute(_INSERT, *_row(make()))

    async def add(self, key: WrappedKey) -> None:
        async with self._db.writing() as tx:
            await tx.execute(_INSERT, *_row(key))

    async def rewrap(self, key: WrappedKey, previous_wrapper: str) -> None:
        """Store `key`'s new wrapping, unless another process re-wrapped it meanwhile."""
        async with self._db.writing() as tx:
            await tx.execute(
                "UPDATE data_keys SET wrapped_by = $1, nonce = $2, ciphertext = $3, "
                "format = $4 WHERE key_id = $5 AND wrapped_by = $6",
                key.wrapped.key_id,
                key.wrapped.nonce,
                key.wrapped.ciphertext,
                key.wrapped.format,
                key.key_id,
                previous_wrapper,
            )

    async def rotations(self) -> list[KeyRotation]:
        rows = await self._db.fetch(
            "SELECT target, started_at, finished_at FROM key_rotations ORDER BY started_at"
        )
        return [
            KeyRotation(target, started, finished or None) for target, started, finished in rows
        ]

    async def begin_rotation(self, target: str, at: int, key: WrappedKey) -> None:
        """Record the rotation and its new data key together: both or neither."""
        async with self._db.writing() as tx:
            await tx.execute(
                "INSERT INTO key_rotations (target, started_at, finished_at) VALUES ($1, $2, 0) "
                "ON CONFLICT (target) DO UPDATE SET started_at = excluded.started_at, "
                "finished_at = 0",
                target,
                at,
            )
            await tx.execute(_INSERT, *_row(key))

    async def finish_rotation(self, target: str, retired: Sequence[str], at: int) -> None:
        async with self._db.writing() as tx:
            for key_id in retired:
                await tx.execute(
                    "UPDATE encryption_keys SET retired_at = $1 WHERE key_id = $2 "
                    "AND retired_at = 0",
                    at,
                    key_id,
                )
            await tx.execute(
                "UPDATE key_rotations SET finished_at = $1 WHERE target = $2", at, target
            )

    async def retired(self) -> dict[str, int]:
        rows = await self._db.fetch(
            "SELECT key_id, retired_at FROM encryption_keys WHERE retired_at > 0"
        )
        return {key_id: int(at) for key_id, at in rows}

    async def sealed_counts(self) -> dict[str, int]:
        """How many live and past values each key id sealed (the key_usage read model)."""
        rows = await self._db.fetch("SELECT key_id, sealed_count FROM key_usage")
        return {key_id: int(count) for key_id, count in rows}


def _row(key: WrappedKey) -> tuple[Any, ...]:
    wrapped = key.wrapped
    return (
        key.key_id,
        wrapped.key_id,
        wrapped.nonce,
        wrapped.ciphertext,
        wrapped.format,
        key.created_at,
        key.active_from,
    )


def _key(row: tuple[Any, ...]) -> WrappedKey:
    key_id, wrapped_by, nonce, ciphertext, format, created_at, active_from = row
    sealed = SealedValue(wrapped_by, bytes(nonce), bytes(ciphertext), int(format))
    return WrappedKey(key_id, sealed, int(created_at), int(active_from))
