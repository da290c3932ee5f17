"""Composite unique keys as unique indexes (SQLite cannot ALTER TABLE ... ADD CONSTRAINT).

A frozen copy of sigillo.store.tables.UNIQUE_INDEXES as of this migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T14:44:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique (stream, version), (project, slug) and (environment, name)"

INDEXES = (
    ("events_stream_version", "events", ("stream_id", "version")),
    ("environments_project_slug", "environments", ("project_id", "slug")),
    ("current_secrets_environment_name", "current_secrets", ("environment_id", "name")),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sigillo", description=DESCRIPTION)

    async def create_unique_indexes():
        engine = engine_finder()
        for name, table, columns in INDEXES:
            column_list = ", ".join(f'"{c}"' for c in columns)
            await engine.run_ddl(f'CREATE UNIQUE INDEX "{name}" ON "{table}" ({column_list})')

    manager.add_raw(create_unique_indexes)
    return manager
