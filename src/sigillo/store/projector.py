"""Runs the domain's pure projections inside an append's transaction.

The domain asks a synchronous View for rows; SQL is asynchronous. The projector answers
from a cache, and when a row is not cached yet it aborts the (pure, side-effect free)
fold with a Miss, loads the row, and runs the fold again. Each event costs the reads it
really needs, and the domain stays free of I/O.
"""

from __future__ import annotations

from collections import defaultdict

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
        # Per table: rows by their key, and selections by (column, value). A write to a table
        # keeps its rows by key exact and drops only what it may have made stale.
        self._rows: dict[type[Row], dict[tuple[str, ...], Row | None]] = defaultdict(dict)
        self._selections: dict[type[Row], dict[tuple[str, str], list[Row]]] = defaultdict(dict)

    def get(self, table: type[Row], key: tuple[str, ...]) -> Row | None:
        try:
            return self._rows[table][key]
        except KeyError:
            raise _Miss(table, table.key, key) from None

    def select(self, table: type[Row], field: str, value: str) -> list[Row]:
        try:
            return list(self._selections[table][(field, value)])
        except KeyError:
            raise _Miss(table, (field,), (value,)) from None

    async def project(self, recorded: RecordedEvent) -> None:
        while True:
            try:
                ops = apply(self, recorded)
                break
            except _Miss as miss:
                await self._load(miss)
        for op in ops:
            await rows_sql.execute(self._tx, op)
            if isinstance(op, Put):
                table = type(op.row)
                self._selections.pop(table, None)
                self._rows[table][op.row.key_values()] = op.row
            elif isinstance(op, Remove):
                self._selections.pop(op.table, None)
                self._rows[op.table][op.key] = None
            else:
                self._selections.pop(op.table, None)
                self._rows.pop(op.table, None)

    async def _load(self, miss: _Miss) -> None:
        records = await self._tx.fetch(rows_sql.select_sql(miss.table, *miss.fields), *miss.key)
        rows = [rows_sql.row_from(miss.table, record) for record in records]
        if miss.fields == miss.table.key:
            self._rows[miss.table][miss.key] = rows[0] if rows else None
        else:
            self._selections[miss.table][(miss.fields[0], miss.key[0])] = rows
