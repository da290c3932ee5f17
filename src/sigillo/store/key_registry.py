"""The master keys a database requires, each with a known value it sealed (implements
KeyRegistry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sigillo.domain.events import SealedValue
from sigillo.store.database import Database

__all__ = ["SqlKeyRegistry"]


class SqlKeyRegistry:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def registered(self) -> dict[str, SealedValue]:
        return _sealed(await self._db.fetch(_SELECT))

    async def register_checked(
        self, decide: Callable[[dict[str, SealedValue]], SealedValue | None], at: int
    ) -> None:
        # Under the writer lock: two servers starting at once with different keys cannot
        # both see an empty registry and both register.
        async with self._db.writing() as tx:
            check = decide(_sealed(await tx.fetch(_SELECT)))
            if check is not None:
                await tx.execute(
                    "INSERT INTO encryption_keys "
                    "(key_id, check_nonce, check_ciphertext, check_format, created_at) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id) DO UPDATE SET "
                    "check_nonce = excluded.check_nonce, check_ciphertext = "
                    "excluded.check_ciphertext, check_format = excluded.check_format, "
                    "retired_at = 0",
                    check.key_id,
                    check.nonce,
                    check.ciphertext,
                    check.format,
                    at,
                )


# A retired key (a rotation replaced it) is no longer required; configuring it again as
# the primary key registers it afresh.
_SELECT = (
    "SELECT key_id, check_nonce, check_ciphertext, check_format FROM encryption_keys "
    "WHERE retired_at = 0"
)


def _sealed(rows: list[tuple[Any, ...]]) -> dict[str, SealedValue]:
    return {key_id: SealedValue(key_id, bytes(n), bytes(c), f) for key_id, n, c, f in rows}
