"""Fill org_projects from the log: every project an org ever had, deleted ones included.

The previous migration creates the table empty, but a database written by an older version
already has projects, some of them deleted, that no fold ever put there; without them the
org audit log would silently miss those projects' events. This writes one row per
`project.created` in the log, as sigillo.domain.projections.org_projects folds it (the
project's id, its org's, the event's time and position; a later event for the same id
wins, as an upsert would), so `sigillo admin rebuild-projections --check` finds no
difference afterwards. On a new database the log is empty and nothing is written.

It holds the writer slot while it reads the log and writes the rows, as a rebuild does, so
no append lands between the two: on PostgreSQL the writers' advisory lock (a frozen copy of
sigillo.store.postgres.WRITER_LOCK), on SQLite the database's write lock, which the first
statement (a write) takes. Payloads are read with a frozen copy of the event's shape as of
this migration. It reads every event's type once: about as long as a rebuild per event.
"""

import msgspec
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-30T12:17:46:000000"
VERSION = "1.38.0"
DESCRIPTION = "fill org_projects from the log's project.created events"

WRITER_LOCK = 0x51611_0
ROWS_PER_INSERT = 100
INSERT = 'INSERT INTO "org_projects" ("project_id", "org_id", "created_at", "position")'


class ProjectCreated(msgspec.Struct):
    """The fields of a `project.created` payload this migration needs."""

    project_id: str
    org_id: str


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sigillo", description=DESCRIPTION)

    async def fill_org_projects():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            await engine.run_ddl(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")
        await engine.run_ddl('DELETE FROM "org_projects"')
        created = await engine.run_querystring(
            QueryString(
                'SELECT "position", "data", "occurred_at" FROM "events" '
                'WHERE "event_type" = {} ORDER BY "position"',
                "project.created",
            )
        )
        rows = {}
        for record in created:
            event = msgspec.json.decode(record["data"], type=ProjectCreated)
            rows[event.project_id] = (
                event.project_id,
                event.org_id,
                record["occurred_at"],
                record["position"],
            )
        ordered = list(rows.values())
        for start in range(0, len(ordered), ROWS_PER_INSERT):
            chunk = ordered[start : start + ROWS_PER_INSERT]
            values = ", ".join("({}, {}, {}, {})" for _ in chunk)  # placeholders only
            insert = f"{INSERT} VALUES {values}"  # noqa: S608
            await engine.run_querystring(
                QueryString(insert, *(value for row in chunk for value in row))
            )

    manager.add_raw(fill_org_projects)
    return manager
