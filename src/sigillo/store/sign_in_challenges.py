"""Sign-ins half done (implements services.sign_ins.ChallengeStore): the challenge a second
step answers. Only the SHA-256 of the challenge token is stored; a challenge is deleted
when it is answered, when it has had too many wrong answers, and when it expires."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sigillo.services.sign_ins import Challenge
from sigillo.store.database import Database

__all__ = ["SqlChallengeStore"]

_COLUMNS = (
    "id, purpose, user_id, sso_provider, sso_subject, sso_email, redirect, ip_address, "
    "user_agent, attempts, created_at, expires_at"
)


class SqlChallengeStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def open_challenge(self, challenge: Challenge, token_hash: str) -> None:
        async with self._db.writing() as tx:
            await tx.execute(
                "DELETE FROM sign_in_challenges WHERE expires_at < $1", challenge.created_at
            )
            await tx.execute(
                f"INSERT INTO sign_in_challenges ({_COLUMNS}, token_hash) "  # noqa: S608
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                challenge.id,
                challenge.purpose,
                challenge.user_id,
                challenge.sso_provider[:64],
                challenge.sso_subject[:255],
                challenge.sso_email[:254],
                challenge.redirect[:2048],
                challenge.ip_address[:64],
                challenge.user_agent[:512],
                challenge.attempts,
                challenge.created_at,
                challenge.expires_at,
                token_hash,
            )

    async def challenge(self, token_hash: str) -> Challenge | None:
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM sign_in_challenges WHERE token_hash = $1",  # noqa: S608
            token_hash,
        )
        return _challenge(rows[0]) if rows else None

    async def fail_challenge(self, challenge_id: str, max_attempts: int) -> int:
        async with self._db.writing() as tx:
            rows = await tx.fetch(
                "UPDATE sign_in_challenges SET attempts = attempts + 1 WHERE id = $1 "
                "RETURNING attempts",
                challenge_id,
            )
            attempts = int(rows[0][0]) if rows else max_attempts
            if attempts >= max_attempts:
                await tx.execute("DELETE FROM sign_in_challenges WHERE id = $1", challenge_id)
        return attempts

    async def close_challenge(self, challenge_id: str) -> bool:
        async with self._db.writing() as tx:
            rows = await tx.fetch(
                "DELETE FROM sign_in_challenges WHERE id = $1 RETURNING id", challenge_id
            )
        return bool(rows)

    async def close_user_challenges(self, user_id: str) -> None:
        async with self._db.writing() as tx:
            await tx.execute("DELETE FROM sign_in_challenges WHERE user_id = $1", user_id)


def _challenge(row: Sequence[Any]) -> Challenge:
    return Challenge(*row)
