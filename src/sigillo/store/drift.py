"""Check that the migrations describe the tables exactly, or write the migration that would.

python -m sigillo.store.drift          exit 1 and list the changes if tables and migrations drift
python -m sigillo.store.drift --new    write a new auto migration for the changes
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from itertools import chain

from piccolo.apps.migrations.commands.new import AutoMigrationManager, _create_new_migration
from piccolo.engine.sqlite import SQLiteEngine

from sigillo.store import piccolo_conf
from sigillo.store.piccolo_app import APP_CONFIG


async def pending_statements() -> list[str]:
    statements = await AutoMigrationManager(auto_input="y").get_alter_statements(APP_CONFIG)
    return list(chain.from_iterable(s.statements for s in statements))


def main(argv: list[str]) -> int:
    os.environ["PICCOLO_CONF"] = "sigillo.store.piccolo_conf"
    with tempfile.TemporaryDirectory() as scratch:
        piccolo_conf.DB = SQLiteEngine(path=os.path.join(scratch, "drift.sqlite"))
        changes = asyncio.run(pending_statements())
        if "--new" in argv and changes:
            meta = asyncio.run(_create_new_migration(APP_CONFIG, auto=True, auto_input="y"))
            print(f"wrote {meta.migration_path}")
            return 0
    if changes:
        print(
            "tables and migrations differ; run: python -m sigillo.store.drift --new",
            file=sys.stderr,
        )
        for statement in changes:
            print(f"  {statement}", file=sys.stderr)
        return 1
    print("migrations match the tables")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
