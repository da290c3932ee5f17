"""Single sign-on's tables (implements services.sso.SsoStore): the identities linked to
accounts, and the sign-ins in flight. A sign-in is keyed by the SHA-256 of its `state`
and deleted by the one callback that reads it (`DELETE … RETURNING`, atomic on SQLite and
PostgreSQL alike), so a state is never used twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sigillo.services.sso import SsoIdentity, SsoLogin
from sigillo.store.database import Database

__all__ = ["SqlSsoStore"]

_LOGIN = "provider, nonce, code_verifier, redirect, created_at, expires_at"
_IDENTITY = "id, provider, subject, user_id, email, created_at, last_used_at"


class SqlSsoStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add_login(self, state_hash: str, login: SsoLogin) -> None:
        async with self._db.writing() as tx:
            await tx.execute("DELETE FROM sso_logins WHERE expires_at < $1", login.created_at)
            await tx.execute(
                f"INSERT INTO sso_logins (state_hash, {_LOGIN}) "  # noqa: S608
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                state_hash,
                login.provider[:64],
                login.nonce[:128],
                login.code_verifier[:128],
                login.redirect[:2048],
                login.created_at,
                login.expires_at,
            )

    async def take_login(self, state_hash: str) -> SsoLogin | None:
        async with self._db.writing() as tx:
            rows = await tx.fetch(
                f"DELETE FROM sso_logins WHERE state_hash = $1 RETURNING {_LOGIN}",  # noqa: S608
                state_hash,
            )
        return SsoLogin(*rows[0]) if rows else None

    async def identity(self, provider: str, subject: str) -> SsoIdentity | None:
        rows = await self._db.fetch(
            f"SELECT {_IDENTITY} FROM sso_identities "  # noqa: S608
            "WHERE provider = $1 AND subject = $2",
            provider,
            subject,
        )
        return _identity(rows[0]) if rows else None

    async def identities(self, user_id: str) -> list[SsoIdentity]:
        rows = await self._db.fetch(
            f"SELECT {_IDENTITY} FROM sso_identities WHERE user_id = $1 "  # noqa: S608
            "ORDER BY created_at, id",
            user_id,
        )
        return [_identity(row) for row in rows]

    async def link(self, identity: SsoIdentity) -> bool:
        async with self._db.writing() as tx:
            rows = await tx.fetch(
                f"INSERT INTO sso_identities ({_IDENTITY}) "  # noqa: S608
                "VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (provider, subject) DO NOTHING RETURNING id",
                identity.id,
                identity.provider[:64],
                identity.subject[:255],
                identity.user_id,
                identity.email[:254],
                identity.created_at,
                identity.last_used_at,
            )
        return bool(rows)

    async def touch(self, identity_id: str, address: str, at: int) -> None:
        async with self._db.writing() as tx:
            await tx.execute(
                "UPDATE sso_identities SET last_used_at = $1, email = $2 WHERE id = $3",
                at,
                address[:254],
                identity_id,
            )


def _identity(row: Sequence[Any]) -> SsoIdentity:
    return SsoIdentity(*row)
