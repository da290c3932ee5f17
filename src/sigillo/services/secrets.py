"""Secrets of an environment: set (one or many, all or nothing), delete, list, read, history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sigillo.domain import secrets as aggregate
from sigillo.domain.errors import NotFound
from sigillo.domain.events import Actor, RecordedEvent
from sigillo.domain.projections.history import HistoryEntry, history
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.streams import environment_stream
from sigillo.domain.values import secret_name, secret_value
from sigillo.services.ports import Cipher, EventStore
from sigillo.services.writing import Writer

__all__ = ["SecretsService"]


class SecretsService:
    def __init__(self, store: EventStore, cipher: Cipher, writer: Writer) -> None:
        self._store, self._cipher, self._writer = store, cipher, writer

    async def set(
        self, environment_id: str, values: Mapping[str, str], actor: Actor
    ) -> list[RecordedEvent]:
        """Validate every name and value first, then seal and append them in one transaction."""
        checked = {secret_name(name): secret_value(value) for name, value in values.items()}
        # The append itself refuses a missing environment, atomically; asking first only
        # spares the key encryptions for a write that cannot land.
        if await self._store.get(EnvironmentRow, (environment_id,)) is None:
            raise NotFound("environment")
        sealed = {
            name: self._cipher.seal(value, environment_id=environment_id, name=name)
            for name, value in checked.items()
        }
        events = aggregate.decide(aggregate.SetSecrets(environment_id, sealed))
        return await self._writer.append(environment_stream(environment_id), events, actor)

    async def delete(
        self, environment_id: str, names: Sequence[str], actor: Actor
    ) -> list[RecordedEvent]:
        events = aggregate.decide(aggregate.DeleteSecrets(environment_id, list(names)))
        return await self._writer.append(environment_stream(environment_id), events, actor)

    async def current(self, environment_id: str) -> list[CurrentSecretRow]:
        """Live secrets in the order they became live; values stay sealed."""
        return await self._store.select(CurrentSecretRow, "environment_id", environment_id)

    async def reveal(self, environment_id: str, name: str) -> str:
        row = await self._store.get(CurrentSecretRow, (environment_id, secret_name(name)))
        if row is None:
            raise NotFound("secret")
        return self.open(row)

    async def reveal_all(self, environment_id: str) -> dict[str, str]:
        return {row.name: self.open(row) for row in await self.current(environment_id)}

    async def history(self, environment_id: str, name: str) -> list[HistoryEntry]:
        return history(await self._store.secret_history(environment_id, secret_name(name)), name)

    def open(self, row: CurrentSecretRow) -> str:
        return self._cipher.open(row.sealed(), environment_id=row.environment_id, name=row.name)
