"""The keys a database has seen, each with a known value it sealed (implements KeyRegistry)."""

from __future__ import annotations

from sigillo.domain.events import SealedValue
from sigillo.store.database import Database

__all__ = ["SqlKeyRegistry"]


class SqlKeyRegistry:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def registered(self) -> dict[str, SealedValue]:
        rows = await self._db.fetch(
            "SELECT key_id, check_nonce, check_ciphertext, check_format FROM encryption_keys"
        )
        return {key_id: SealedValue(key_id, bytes(n), bytes(c), f) for key_id, n, c, f in rows}

    async def register(self, key_id: str, check: SealedValue, at: int) -> None:
        async with self._db.writing() as tx:
            await tx.execute(
                "INSERT INTO encryption_keys "
                "(key_id, check_nonce, check_ciphertext, check_format, created_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id) DO NOTHING",
                key_id,
                check.nonce,
                check.ciphertext,
                check.format,
                at,
            )
