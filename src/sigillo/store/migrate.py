"""Bring a database's schema up to date with Piccolo's migrations.

Runs at every server start and through `sigillo admin migrate`. On PostgreSQL a session
advisory lock makes replicas that start together migrate one after another.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from sigillo.domain.errors import StartupError
from sigillo.store import piccolo_conf
from sigillo.store.database import sqlite_path
from sigillo.store.postgres import connect
from sigillo.store.sqlite import create_private
from sigillo.store.tables import TABLES

__all__ = ["migrate"]

MIGRATION_LOCK = 0x51611_1


async def migrate(url: str) -> None:
    path = sqlite_path(url)
    if path is not None:
        create_private(Path(path))
        await _run(SQLiteEngine(path=path, timeout=30))
        return
    connection = await connect(url)  # a failure says which host and what failed
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        await _run(PostgresEngine(config={"dsn": url}, extensions=()))
    finally:
        await connection.close()  # releases the session lock


async def _run(engine: Engine[Any]) -> None:
    os.environ["PICCOLO_CONF"] = piccolo_conf.__name__
    piccolo_conf.DB = engine
    tables: list[type[Table]] = [Migration, *TABLES]
    for table in tables:
        table._meta.db = engine  # Piccolo caches the first engine it finds per table
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = await run_forwards("sigillo")
    if not result.success:
        raise StartupError(f"database migration failed: {result.message}")
