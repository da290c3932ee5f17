"""Secrets of an environment: set (one or many, all or nothing), delete, list, read, history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from sigillo.domain import secrets as aggregate
from sigillo.domain.errors import NotFound
from sigillo.domain.events import Actor, RecordedEvent, SecretsRead
from sigillo.domain.projections.history import HistoryEntry, history
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.domain.values import secret_name, secret_value
from sigillo.services.group_commit import GroupCommit
from sigillo.services.ports import Cipher, EventStore
from sigillo.services.recent_rows import RecentRows
from sigillo.services.writing import Writer

__all__ = ["ReadHow", "SecretsService"]

ReadHow = Literal["get", "download", "reveal", "run"]

# How long the ciphertext of the empty plaintext is, per storage format of SealedValue.
# Format 1 is AES-256-GCM with the 16-byte tag appended: a ciphertext is exactly as long as
# its plaintext plus 16 bytes, so the empty value is the one ciphertext of 16 bytes. This
# lets a listing say whether a value is empty without decrypting it, so without a read.
_EMPTY_CIPHERTEXT_BYTES = {1: 16}


class SecretsService:
    def __init__(self, store: EventStore, cipher: Cipher, writer: Writer) -> None:
        self._store, self._cipher, self._writer = store, cipher, writer
        self._reads = GroupCommit(writer)
        self._recent = RecentRows(store)

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
        return await self._recent.current(environment_id)

    async def all_names(self, project_id: str) -> list[str]:
        """The sorted union of the names live in any environment of the project
        (behaviour.md 3.5 `allNames`): code-point order, no values, no read recorded."""
        names: set[str] = set()
        for environment in await self._store.select(EnvironmentRow, "project_id", project_id):
            names.update(row.name for row in await self.current(environment.id))
        return sorted(names)

    def is_empty(self, row: CurrentSecretRow) -> bool:
        """Whether a live value is the empty string, told from its ciphertext's length alone:
        nothing is decrypted, so a listing records no read [D16]. A storage format this
        service does not know is opened instead (a server fault if no key can open it)."""
        empty = _EMPTY_CIPHERTEXT_BYTES.get(row.format)
        if empty is None:
            return self.open(row) == ""
        return len(row.ciphertext) == empty

    async def reveal(
        self, environment_id: str, names: Sequence[str] | None, actor: Actor, how: ReadHow
    ) -> list[tuple[CurrentSecretRow, str]]:
        """Live secrets with their plaintext (all of them when `names` is None), in replay
        order. The read is recorded before any value is decrypted: audit fails closed.
        Reads arriving together are recorded in one transaction (services.group_commit)."""
        rows = await self.current(environment_id)
        if names is not None:
            wanted = {secret_name(name) for name in names}
            rows = [row for row in rows if row.name in wanted]
            if len(rows) < len(wanted):
                raise NotFound("secret")
        read = SecretsRead(environment_id, [row.name for row in rows], how)
        await self._reads.append(reads_stream(environment_id), [read], actor)
        return [(row, self.open(row)) for row in rows]

    async def value(
        self, environment_id: str, name: str, actor: Actor, how: ReadHow = "get"
    ) -> str:
        """One live value, its read recorded; NotFound when the name is not live."""
        [(_, plaintext)] = await self.reveal(environment_id, [name], actor, how)
        return plaintext

    async def values(
        self, environment_id: str, actor: Actor, how: ReadHow = "download"
    ) -> dict[str, str]:
        """Every live value in replay order, the read recorded."""
        return {
            row.name: plaintext
            for row, plaintext in await self.reveal(environment_id, None, actor, how)
        }

    async def history(self, environment_id: str, name: str) -> list[HistoryEntry]:
        return history(await self._store.secret_history(environment_id, secret_name(name)), name)

    def open(self, row: CurrentSecretRow) -> str:
        return self._cipher.open(row.sealed(), environment_id=row.environment_id, name=row.name)
