"""Is the server able to serve: the database answers."""

from __future__ import annotations

from sigillo.domain.errors import StorageUnavailable
from sigillo.services.ports import Database

__all__ = ["HealthService"]


class HealthService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def database_ok(self) -> bool:
        try:
            await self._db.ping()
        except StorageUnavailable:
            return False
        return True
