"""Two-factor secrets and recovery codes (implements services.two_factor.TwoFactorStore).

The secret is stored sealed (its key id, nonce and ciphertext; the seal's format is the
first one, the only one there is). Every change that must happen once (taking a time
step, spending a recovery code, confirming an enrolment) is a single conditional
UPDATE … RETURNING: of two racing requests, on any replica, exactly one sees its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sigillo.domain.events import SealedValue
from sigillo.services.two_factor import TwoFactorRecord
from sigillo.store.database import Database, Transaction

__all__ = ["SqlTwoFactorStore"]


class SqlTwoFactorStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(self, user_id: str) -> TwoFactorRecord | None:
        rows = await self._db.fetch(
            "SELECT user_id, key_id, nonce, secret, created_at, enabled_at, last_step "
            "FROM two_factor WHERE user_id = $1",
            user_id,
        )
        return _record(rows[0]) if rows else None

    async def begin(self, record: TwoFactorRecord) -> bool:
        sealed = record.sealed
        async with self._db.writing() as tx:
            on = await tx.fetch(
                "SELECT 1 FROM two_factor WHERE user_id = $1 AND enabled_at > 0", record.user_id
            )
            if on:
                return False
            await tx.execute("DELETE FROM two_factor WHERE user_id = $1", record.user_id)
            await tx.execute(
                "INSERT INTO two_factor "
                "(user_id, secret, key_id, nonce, created_at, enabled_at, last_step) "
                "VALUES ($1, $2, $3, $4, $5, 0, 0)",
                record.user_id,
                sealed.ciphertext,
                sealed.key_id,
                sealed.nonce,
                record.created_at,
            )
        return True

    async def enable(
        self, user_id: str, at: int, step: int, recovery: list[tuple[str, str]]
    ) -> bool:
        async with self._db.writing() as tx:
            enabled = await tx.fetch(
                "UPDATE two_factor SET enabled_at = $1, last_step = $2 "
                "WHERE user_id = $3 AND enabled_at = 0 RETURNING user_id",
                at,
                step,
                user_id,
            )
            if enabled:
                await _replace_codes(tx, user_id, recovery)
        return bool(enabled)

    async def take_step(self, user_id: str, step: int) -> bool:
        async with self._db.writing() as tx:
            taken = await tx.fetch(
                "UPDATE two_factor SET last_step = $1 "
                "WHERE user_id = $2 AND enabled_at > 0 AND last_step < $1 RETURNING user_id",
                step,
                user_id,
            )
        return bool(taken)

    async def use_recovery_code(self, user_id: str, code_hash: str, at: int) -> bool:
        async with self._db.writing() as tx:
            spent = await tx.fetch(
                "UPDATE recovery_codes SET used_at = $1 "
                "WHERE code_hash = $2 AND user_id = $3 AND used_at = 0 RETURNING id",
                at,
                code_hash,
                user_id,
            )
        return bool(spent)

    async def replace_recovery_codes(self, user_id: str, recovery: list[tuple[str, str]]) -> None:
        async with self._db.writing() as tx:
            await _replace_codes(tx, user_id, recovery)

    async def recovery_codes_left(self, user_id: str) -> int:
        rows = await self._db.fetch(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at = 0", user_id
        )
        return int(rows[0][0])

    async def remove(self, user_id: str) -> bool:
        async with self._db.writing() as tx:
            await tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
            removed = await tx.fetch(
                "DELETE FROM two_factor WHERE user_id = $1 RETURNING enabled_at", user_id
            )
        return bool(removed) and int(removed[0][0]) > 0


async def _replace_codes(tx: Transaction, user_id: str, recovery: list[tuple[str, str]]) -> None:
    await tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
    await tx.executemany(
        "INSERT INTO recovery_codes (id, user_id, code_hash, used_at) VALUES ($1, $2, $3, 0)",
        [(code_id, user_id, code_hash) for code_id, code_hash in recovery],
    )


def _record(row: Sequence[Any]) -> TwoFactorRecord:
    user_id, key_id, nonce, ciphertext, created_at, enabled_at, last_step = row
    sealed = SealedValue(key_id, bytes(nonce), bytes(ciphertext))
    return TwoFactorRecord(user_id, sealed, created_at, enabled_at, last_step)
