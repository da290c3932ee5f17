"""Read-model tables held in dicts: the fake store's tables and the scratch space of a rebuild."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sigillo.domain.events import RecordedEvent
from sigillo.domain.projections import TABLES, apply
from sigillo.domain.projections.rows import Op, Put, Remove, RemoveWhere, Row

__all__ = ["MemoryTables"]

R = TypeVar("R", bound=Row)


class MemoryTables:
    def __init__(self) -> None:
        self._tables: dict[type[Row], dict[tuple[str, ...], Row]] = {t: {} for t in TABLES}

    def get(self, table: type[R], key: tuple[str, ...]) -> R | None:
        row = self._tables[table].get(key)
        return row if isinstance(row, table) else None

    def select(self, table: type[R], field: str, value: str) -> list[R]:
        rows = [
            row
            for row in self._tables[table].values()
            if isinstance(row, table) and getattr(row, field) == value
        ]
        return sorted(rows, key=lambda row: getattr(row, table.order))

    def rows(self, table: type[Row]) -> list[Row]:
        """Every row of a table, in key order (a stable order to compare rebuilds by)."""
        return [row for _, row in sorted(self._tables[table].items())]

    def execute(self, ops: Iterable[Op]) -> None:
        for op in ops:
            if isinstance(op, Put):
                self._tables[type(op.row)][op.row.key_values()] = op.row
            elif isinstance(op, Remove):
                self._tables[op.table].pop(op.key, None)
            else:
                self._remove_where(op)

    def _remove_where(self, op: RemoveWhere) -> None:
        table = self._tables[op.table]
        for key in [k for k, row in table.items() if getattr(row, op.field) == op.value]:
            del table[key]

    def project(self, recorded: RecordedEvent) -> None:
        self.execute(apply(self, recorded))

    @classmethod
    def replay(cls, events: Iterable[RecordedEvent]) -> MemoryTables:
        tables = cls()
        for recorded in events:
            tables.project(recorded)
        return tables
