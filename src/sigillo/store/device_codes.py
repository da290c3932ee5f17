"""Device authorizations in progress (implements services.ports.DeviceCodeStore).

Every change runs inside the deployment-wide writer slot (store/database.py): a poll reads
the row and deletes or updates it with no other writer in between, so two polls racing for
one approved code cannot both see it approved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from sigillo.domain.device import DeviceCode, Transition
from sigillo.store.database import Database, Transaction

# SQL here is assembled from the column and key names below, never from input; every value
# travels as a bind parameter.

__all__ = ["SqlDeviceCodeStore"]

_COLUMNS = (
    "id, client_id, scope, ip_address, status, user_id, created_at, expires_at, interval_ms, "
    "last_polled_at, sso_provider, two_factor"
)
_BY = {"device_code": "device_code_hash", "user_code": "user_code_hash"}


class SqlDeviceCodeStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self, code: DeviceCode, device_code_hash: str, user_code_hash: str, *, purge_before: int
    ) -> bool:
        async with self._db.writing() as tx:
            await tx.execute("DELETE FROM device_codes WHERE expires_at < $1", purge_before)
            taken = await tx.fetch(
                "SELECT 1 FROM device_codes WHERE user_code_hash = $1", user_code_hash
            )
            if taken:
                return False
            await tx.execute(
                f"INSERT INTO device_codes ({_COLUMNS}, device_code_hash, user_code_hash) "  # noqa: S608
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                code.id,
                code.client_id,
                code.scope,
                code.ip_address,
                code.status,
                code.user_id,
                code.created_at,
                code.expires_at,
                code.interval_ms,
                code.last_polled_at,
                code.sso_provider,
                code.two_factor,
                device_code_hash,
                user_code_hash,
            )
        return True

    async def find(self, user_code_hash: str) -> DeviceCode | None:
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM device_codes WHERE user_code_hash = $1",  # noqa: S608
            user_code_hash,
        )
        return _code(rows[0]) if rows else None

    async def transition(
        self,
        by: Literal["device_code", "user_code"],
        code_hash: str,
        decide: Callable[[DeviceCode | None], Transition],
    ) -> Transition:
        async with self._db.writing() as tx:
            rows = await tx.fetch(
                f"SELECT {_COLUMNS} FROM device_codes WHERE {_BY[by]} = $1",  # noqa: S608
                code_hash,
            )
            transition = decide(_code(rows[0]) if rows else None)
            await _store(tx, transition)
        return transition


async def _store(tx: Transaction, transition: Transition) -> None:
    before, after = transition.before, transition.after
    if before is None or after == before:
        return
    if after is None:
        await tx.execute("DELETE FROM device_codes WHERE id = $1", before.id)
        return
    await tx.execute(
        "UPDATE device_codes SET status = $1, user_id = $2, interval_ms = $3, "
        "last_polled_at = $4, sso_provider = $5, two_factor = $6 WHERE id = $7",
        after.status,
        after.user_id,
        after.interval_ms,
        after.last_polled_at,
        after.sso_provider,
        after.two_factor,
        before.id,
    )


def _code(row: tuple[Any, ...]) -> DeviceCode:
    code = DeviceCode(*row)
    return replace(code, two_factor=bool(code.two_factor))  # SQLite answers 0 or 1
