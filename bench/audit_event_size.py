"""B8: what one download costs the audit log, in bytes: the stored read event before and
after whole-environment reads were recorded by their scope (issue 15, item 11).

A fresh database of each kind, made through the services as the server makes it: an org,
a project, its `dev` environment holding 30 secrets with realistic names, and an API
token's actor. Then, on the same database:

- before: N reads as they were recorded before, `SecretsRead(env, <the 30 names>,
  "download")`, each appended alone to the environment's `reads:` stream;
- after: N downloads through `SecretsService.values()` (what the download route calls),
  which now records `SecretsRead(env, [], "download", version=V, count=30)`.

Reported per event, the median of each form: the payload (the `data` column's UTF-8
bytes), the stored row (every column of the events table as stored: text in UTF-8,
integers 8 bytes), the database's own figure for a row (PostgreSQL `pg_column_size` of
the row; SQLite none), and how much the database grows per event, indexes included
(SQLite: page_count * page_size; PostgreSQL: pg_total_relation_size('events')). Target:
a stored download event under 300 bytes.

    python bench/audit_event_size.py [--databases sqlite,postgresql] [--downloads 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import time
from typing import Any

from _support import (
    DATABASES,
    bench_database,
    environment,
    new_event,
    server_version,
    table,
    write_results,
)
from sigillo.crypto.keyring import Keyring
from sigillo.domain.events import Actor, SecretsRead
from sigillo.domain.streams import reads_stream
from sigillo.services.catalog import CatalogService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.secrets import SecretsService
from sigillo.services.writing import Writer
from sigillo.store.database import Database, sqlite_path
from sigillo.store.event_store import EVENT_COLUMNS, SqlEventStore

TARGET = 300
NAMES = [
    "DATABASE_URL", "DATABASE_POOL_SIZE", "REDIS_URL", "REDIS_TLS_URL", "SECRET_KEY_BASE",
    "SESSION_SECRET", "JWT_SIGNING_KEY", "JWT_ISSUER", "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET", "STRIPE_PUBLISHABLE_KEY", "SENDGRID_API_KEY", "SMTP_HOST",
    "SMTP_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
    "S3_BUCKET_NAME", "SENTRY_DSN", "DATADOG_API_KEY", "GITHUB_APP_PRIVATE_KEY",
    "GITHUB_WEBHOOK_SECRET", "OPENAI_API_KEY", "TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN",
    "GOOGLE_CLIENT_SECRET", "OAUTH_CLIENT_ID", "NODE_ENV", "PORT", "LOG_LEVEL",
]  # fmt: skip
INTS = {"position", "version", "occurred_at"}


def row_bytes(record: Any) -> int:
    """A stored row's bytes: UTF-8 text, 8-byte integers, nothing for NULL."""
    total = 0
    for column, value in zip(EVENT_COLUMNS.split(", "), record, strict=True):
        if value is None:
            continue
        total += 8 if column in INTS else len(str(value).encode("utf-8"))
    return total


async def database_size(url: str, database: Database) -> int:
    path = sqlite_path(url)
    if path is not None:
        connection = sqlite3.connect(path)
        try:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            size = connection.execute("PRAGMA page_size").fetchone()[0]
        finally:
            connection.close()
        return int(pages * size)
    [[size]] = await database.fetch("SELECT pg_total_relation_size('events')")
    return int(size)


async def measure(kind: str, downloads: int) -> dict[str, Any]:
    async with bench_database(kind) as (url, database):
        store = SqlEventStore(database)
        writer = Writer(store, Clock(), UlidFactory())
        ids = UlidFactory()
        user, token = Actor("user", ids()), Actor("token", ids())
        catalog = CatalogService(store, writer)
        org = await catalog.create_org("Acme", user)
        project = await catalog.create_project(org.id, "Billing API", user)
        dev = next(e for e in await catalog.environments(project.id) if e.slug == "dev")
        secrets = SecretsService(store, Keyring([os.urandom(32)]), writer)
        values = {name: os.urandom(20).hex() for name in NAMES}
        await secrets.set(dev.id, values, user)
        stream = reads_stream(dev.id)
        live = [row.name for row in await secrets.current(dev.id)]
        sizes = {"start": await database_size(url, database)}
        started = time.perf_counter()
        for _ in range(downloads):  # before: every name listed
            await store.append(
                stream, None, [new_event(SecretsRead(dev.id, live, "download"), token)]
            )
        sizes["before"] = await database_size(url, database)
        for _ in range(downloads):  # after: the real download path
            assert await secrets.values(dev.id, token) == values
        sizes["after"] = await database_size(url, database)
        elapsed = time.perf_counter() - started
        records = await database.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY position", stream
        )
        pg_sizes: list[int] = []
        if kind == "postgresql":
            pg_sizes = [
                int(r[0])
                for r in await database.fetch(
                    "SELECT pg_column_size(e.*) FROM events e WHERE stream_id = $1 "
                    "ORDER BY position",
                    stream,
                )
            ]
        forms: dict[str, dict[str, Any]] = {}
        for name, part in (("before", slice(0, downloads)), ("after", slice(downloads, None))):
            chosen = records[part]
            forms[name] = {
                "payload": statistics.median(len(r[6].encode("utf-8")) for r in chosen),
                "row": statistics.median(row_bytes(r) for r in chosen),
                "db_row": statistics.median(pg_sizes[part]) if pg_sizes else None,
                "disk": (sizes[name] - sizes["start" if name == "before" else "before"])
                / downloads,
                "example": chosen[-1],
            }
        return {
            "kind": kind,
            "version": await server_version(kind),
            "forms": forms,
            "seconds": elapsed,
            "names": len(live),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--downloads", type=int, default=2000, help="reads of each form")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    results = []
    for kind in kinds:
        print(f"{kind}:", flush=True)
        results.append(asyncio.run(measure(kind, args.downloads)))

    rows = []
    for r in results:
        for name in ("before", "after"):
            form = r["forms"][name]
            db_row = "n/a" if form["db_row"] is None else f"{form['db_row']:.0f}"
            verdict = "pass" if form["row"] < TARGET else "FAIL"
            rows.append(
                [
                    r["kind"],
                    f"{name} ({'30 names listed' if name == 'before' else 'version + count'})",
                    f"{form['payload']:.0f}",
                    f"{form['row']:.0f}",
                    db_row,
                    f"{form['disk']:.0f}",
                    verdict if name == "after" else "",
                ]
            )
    headers = [
        "database",
        "download event",
        "payload bytes",
        "row bytes",
        "row bytes (database's figure)",
        "disk bytes / event, indexes included",
        f"row < {TARGET}",
    ]
    sizes = table(headers, rows)
    example = results[0]["forms"]
    payloads = "\n".join(
        [
            "```",
            f"before: {example['before']['example'][6]}",
            f"after:  {example['after']['example'][6]}",
            "```",
        ]
    )
    columns = table(
        ["column", "after: bytes"],
        [
            [column, "NULL" if value is None else (8 if column in INTS else len(str(value)))]
            for column, value in zip(
                EVENT_COLUMNS.split(", "), example["after"]["example"], strict=True
            )
        ],
    )
    print(f"\n{sizes}\n\n{payloads}\n\n{columns}\n")
    sections = [
        f"One download of an environment of {results[0]['names']} secrets (realistic names, "
        "by an API token), as the events table stores its audit record. `before`: the read "
        "listing every name, as every download was recorded before; `after`: the read "
        "recorded by its scope (the version of the environment's secrets it read, and how "
        f"many), through `SecretsService.values()`. {args.downloads} of each, medians. Row "
        "bytes: every column as stored (text in UTF-8, integers 8 bytes). Disk bytes: the "
        "database's growth per event, its indexes on the events table included.",
        sizes,
        "The payloads (the `data` column):",
        payloads,
        "Where the bytes of an `after` row go:",
        columns,
        "\n".join(environment(sorted({r["version"] for r in results}))),
    ]
    path = write_results(
        "audit_event_size", "B8: bytes per download event in the audit log", sections
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
