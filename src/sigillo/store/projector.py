"""Runs the domain's pure projections inside an append's transaction.

The domain asks a synchronous View for rows; SQL is asynchronous. The projector answers
from a cache, and when a row is not cached yet it aborts the (pure, side-effect free)
fold with a Miss, loads the row, and runs the fold again. Each event costs the reads it
really needs, and the domain stays free of I/O.
"""

from __future__ import annotations

from sigillo.domain.events import RecordedEvent
from sigillo.domain.projections import apply
from sigillo.domain.projections.rows import Put, Remove, Row
from sigillo.store import rows_sql
from sigillo.store.database import Transaction

__all__ = ["Projector"]


class _Miss(Exception):
    def __init__(self, table: type[Row], fields: tuple[str, ...], key: tuple[str, ...]) -> None:
        self.table, self.fields, self.key = table, fields, key


class Projector:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._cache: dict[tuple[type[Row], tuple[str, ...], tuple[str, ...]], list[Row]] = {}

    def get(self, table: type[Row], key: tuple[str, ...]) -> Row | None:
        rows = self._cached(table, table.key, key)
        return rows[0] if rows else None

    def select(self, table: type[Row], field: str, value: str) -> list[Row]:
        return list(self._cached(table, (field,), (value,)))

    def _cached(self, table: type[Row], fields: tuple[str, ...], key: tuple[str, ...]) -> list[Row]:
        try:
            return self._cache[(table, fields, key)]
        except KeyError:
            raise _Miss(table, fields, key) from None

    async def project(self, recorded: RecordedEvent) -> None:
        while True:
            try:
                ops = apply(self, recorded)
                break
            except _Miss as miss:
                records = await self._tx.fetch(
                    rows_sql.select_sql(miss.table, *miss.fields), *miss.key
                )
                rows = [rows_sql.row_from(miss.table, record) for record in records]
                self._cache[(miss.table, miss.fields, miss.key)] = rows
        for op in ops:
            await rows_sql.execute(self._tx, op)
            if isinstance(op, Put):
                table = type(op.row)
                self._forget(table, keep_keys=True)
                self._cache[(table, table.key, op.row.key_values())] = [op.row]
            elif isinstance(op, Remove):
                self._forget(op.table, keep_keys=True)
                self._cache[(op.table, op.table.key, op.key)] = []
            else:
                self._forget(op.table, keep_keys=False)

    def _forget(self, table: type[Row], *, keep_keys: bool) -> None:
        """Drop what a write to `table` may have made stale: every cached selection, and,
        unless the write touched a single known key, the cached rows by key too."""
        stale = [
            cached
            for cached in self._cache
            if cached[0] is table and not (keep_keys and cached[1] == table.key)
        ]
        for cached in stale:
            del self._cache[cached]
