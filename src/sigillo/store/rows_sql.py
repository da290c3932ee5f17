"""SQL for the domain's read-model rows, generated from the row types themselves.

Column names are the rows' field names, so one writer serves every read model.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec

from sigillo.domain.projections.rows import Op, Put, Remove, Row
from sigillo.store.database import Transaction

R = TypeVar("R", bound=Row)

__all__ = ["columns", "delete_all_sql", "execute", "insert_sql", "row_from", "select_sql", "values"]


def _quote(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _where(names: Sequence[str]) -> str:
    return " AND ".join(f'"{name}" = ${i}' for i, name in enumerate(names, 1))


@functools.cache
def columns(table: type[Row]) -> tuple[str, ...]:
    return table.__struct_fields__


@functools.cache
def select_sql(table: type[Row], *where: str) -> str:
    condition = f" WHERE {_where(where)}" if where else ""
    return (
        f'SELECT {_quote(columns(table))} FROM "{table.table}"{condition} ORDER BY "{table.order}"'
    )


@functools.cache
def insert_sql(table: type[Row]) -> str:
    names = columns(table)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    return f'INSERT INTO "{table.table}" ({_quote(names)}) VALUES ({placeholders})'


@functools.cache
def _upsert_sql(table: type[Row]) -> str:
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns(table) if c not in table.key)
    return f"{insert_sql(table)} ON CONFLICT ({_quote(table.key)}) DO UPDATE SET {updates}"


@functools.cache
def _delete_sql(table: type[Row], *where: str) -> str:
    return f'DELETE FROM "{table.table}" WHERE {_where(where)}'


def delete_all_sql(table: type[Row]) -> str:
    return f'DELETE FROM "{table.table}"'


def values(row: Row) -> tuple[Any, ...]:
    return msgspec.structs.astuple(row)


def row_from(table: type[R], record: Sequence[Any]) -> R:
    return table(*record)  # sqlite3 and asyncpg both give BLOB/bytea columns as bytes


async def execute(tx: Transaction, op: Op) -> None:
    if isinstance(op, Put):
        await tx.execute(_upsert_sql(type(op.row)), *values(op.row))
    elif isinstance(op, Remove):
        await tx.execute(_delete_sql(op.table, *op.table.key), *op.key)
    else:
        await tx.execute(_delete_sql(op.table, op.field), op.value)
