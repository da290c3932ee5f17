"""An index on the log by (stream, position), for reading streams newest first.

The audit log reads the events of a set of streams below a position, newest first, a
page at a time. The unique (stream, version) index orders a stream the same way but cannot
start at a position; this one lets each stream's page be a short backward index range, so
a page never scans the log. A frozen copy of sigillo.store.tables.INDEXES as of this
migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index events (stream_id, position)"

INDEXES = (("events_stream_position", "events", ("stream_id", "position")),)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sigillo", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for name, table, columns in INDEXES:
            column_list = ", ".join(f'"{c}"' for c in columns)
            await engine.run_ddl(f'CREATE INDEX "{name}" ON "{table}" ({column_list})')

    manager.add_raw(create_indexes)
    return manager
