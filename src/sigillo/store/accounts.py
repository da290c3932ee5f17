"""Password hashes, sessions, first-run setup tokens and sign-in attempts (implements
services.ports.AccountStore, services.ports.SignInLog and services.accounts.SetupTokenStore)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from sigillo.services.ports import SessionRecord, SignInAttempt
from sigillo.store.database import Database

__all__ = ["SqlAccountStore"]

_SESSION_COLUMNS = (
    "id, user_id, created_at, last_seen_at, expires_at, ip_address, user_agent, client_name, "
    "sso_provider, two_factor"
)


class SqlAccountStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def any_user(self) -> bool:
        return bool(await self._db.fetch("SELECT 1 FROM users LIMIT 1"))

    async def set_password(self, user_id: str, password_hash: str, at: int) -> None:
        async with self._db.writing() as tx:
            await tx.execute(
                "INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, "
                "updated_at = excluded.updated_at",
                user_id,
                password_hash,
                at,
            )

    async def password_hash(self, user_id: str) -> str | None:
        rows = await self._db.fetch("SELECT hash FROM passwords WHERE user_id = $1", user_id)
        return rows[0][0] if rows else None

    async def create_session(self, session: SessionRecord, token_hash: str) -> None:
        async with self._db.writing() as tx:
            await tx.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}, token_hash) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                session.id,
                session.user_id,
                session.created_at,
                session.last_seen_at,
                session.expires_at,
                session.ip_address,
                session.user_agent,
                session.client_name[:128],
                session.sso_provider[:64],
                session.two_factor,
                token_hash,
            )

    async def session(self, token_hash: str) -> SessionRecord | None:
        rows = await self._db.fetch(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE token_hash = $1", token_hash
        )
        return _session(rows[0]) if rows else None

    async def touch_session(self, session_id: str, at: int) -> None:
        async with self._db.writing() as tx:
            await tx.execute("UPDATE sessions SET last_seen_at = $1 WHERE id = $2", at, session_id)

    async def end_session(self, session_id: str) -> None:
        async with self._db.writing() as tx:
            await tx.execute("DELETE FROM sessions WHERE id = $1", session_id)

    async def user_sessions(self, user_id: str, now: int, idle_ms: int) -> list[SessionRecord]:
        rows = await self._db.fetch(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE user_id = $1 "
            "AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at DESC, id DESC",
            user_id,
            now,
            now - idle_ms,
        )
        return [_session(row) for row in rows]

    async def end_user_session(self, user_id: str, session_id: str) -> bool:
        async with self._db.writing() as tx:
            ended = await tx.fetch(
                "DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING id",
                session_id,
                user_id,
            )
        return bool(ended)

    async def end_user_sessions(self, user_id: str, *, keep: str | None) -> int:
        async with self._db.writing() as tx:
            ended = await tx.fetch(
                "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING id",
                user_id,
                keep or "",
            )
        return len(ended)

    async def mark_two_factor(self, session_id: str, two_factor: bool) -> None:
        async with self._db.writing() as tx:
            await tx.execute(
                "UPDATE sessions SET two_factor = $1 WHERE id = $2", two_factor, session_id
            )

    async def add_setup_token(self, token_hash: str, at: int) -> None:
        async with self._db.writing() as tx:
            await tx.execute(
                "INSERT INTO setup_tokens (token_hash, created_at) VALUES ($1, $2) "
                "ON CONFLICT (token_hash) DO NOTHING",
                token_hash,
                at,
            )

    async def has_setup_token(self, token_hash: str) -> bool:
        rows = await self._db.fetch("SELECT 1 FROM setup_tokens WHERE token_hash = $1", token_hash)
        return bool(rows)

    async def claim_setup_token(self, token_hash: str) -> bool:
        """Remove every setup token if `token_hash` is one of them, in one transaction: of
        two racing claims, one finds the row and the other finds none."""
        async with self._db.writing() as tx:
            claimed = await tx.fetch(
                "DELETE FROM setup_tokens WHERE token_hash = $1 RETURNING token_hash", token_hash
            )
            if claimed:
                await tx.execute("DELETE FROM setup_tokens")
        return bool(claimed)

    # -- sign-in attempts (services.ports.SignInLog) ---------------------------------------

    async def begin_sign_in(
        self,
        attempt: SignInAttempt,
        decide: Callable[[list[int]], int | None],
        *,
        since: int,
        purge_before: int,
    ) -> int | None:
        """Read, decide and store in the writer slot: of two racing attempts for one email,
        the second sees the first (across replicas too, on one database)."""
        async with self._db.writing() as tx:
            rows = await tx.fetch(
                "SELECT attempted_at FROM sign_in_failures "
                "WHERE email_hash = $1 AND attempted_at >= $2",
                attempt.email_hash,
                since,
            )
            wait = decide([row[0] for row in rows])
            if wait is None:
                await tx.execute(
                    "DELETE FROM sign_in_failures WHERE attempted_at < $1", purge_before
                )
                await tx.execute(
                    "INSERT INTO sign_in_failures (id, email_hash, ip_address, attempted_at) "
                    "VALUES ($1, $2, $3, $4)",
                    attempt.id,
                    attempt.email_hash,
                    attempt.ip_address[:64],
                    attempt.at,
                )
        return wait

    async def forget_sign_in(self, attempt_id: str) -> None:
        async with self._db.writing() as tx:
            await tx.execute("DELETE FROM sign_in_failures WHERE id = $1", attempt_id)

    async def failed_sign_ins(
        self, *, email_hash: str | None = None, limit: int = 100
    ) -> list[SignInAttempt]:
        columns = "id, email_hash, ip_address, attempted_at"
        if email_hash is None:
            rows = await self._db.fetch(
                f"SELECT {columns} FROM sign_in_failures "
                "ORDER BY attempted_at DESC, id DESC LIMIT $1",
                limit,
            )
        else:
            rows = await self._db.fetch(
                f"SELECT {columns} FROM sign_in_failures WHERE email_hash = $1 "
                "ORDER BY attempted_at DESC, id DESC LIMIT $2",
                email_hash,
                limit,
            )
        return [SignInAttempt(*row) for row in rows]


def _session(row: Sequence[Any]) -> SessionRecord:
    session = SessionRecord(*row)
    return msgspec.structs.replace(session, two_factor=bool(session.two_factor))  # SQLite: 0/1
