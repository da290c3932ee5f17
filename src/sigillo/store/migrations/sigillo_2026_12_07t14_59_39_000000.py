"""One SSO identity per (provider, subject): a unique index, as the first migration makes
composite unique keys (SQLite cannot ALTER TABLE ... ADD CONSTRAINT). A frozen copy of
that entry of sigillo.store.tables.UNIQUE_INDEXES.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T14:59:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique sso_identities (provider, subject)"

INDEXES = (("sso_identities_provider_subject", "sso_identities", ("provider", "subject")),)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sigillo", description=DESCRIPTION)

    async def create_unique_indexes():
        engine = engine_finder()
        for name, table, columns in INDEXES:
            column_list = ", ".join(f'"{c}"' for c in columns)
            await engine.run_ddl(f'CREATE UNIQUE INDEX "{name}" ON "{table}" ({column_list})')

    manager.add_raw(create_unique_indexes)
    return manager
