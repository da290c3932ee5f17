from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T10:20:59:736061"
VERSION = "1.38.0"
DESCRIPTION = "setup_tokens: one-time first-run setup tokens (hashes)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sigillo", description=DESCRIPTION)

    manager.add_table(
        class_name="SetupTokens",
        tablename="setup_tokens",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="SetupTokens",
        tablename="setup_tokens",
        column_name="token_hash",
        db_column_name="token_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="SetupTokens",
        tablename="setup_tokens",
        column_name="created_at",
        db_column_name="created_at",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
