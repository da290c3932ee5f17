"""B2: projection rebuild throughput, next to the floor of just reading the log.

For each size (events in the log) and database: SqlEventStore.rebuild_projections() in
events/s, and the floor: the same batched read the rebuild does
(SELECT <all event columns> FROM events WHERE position > $1 ORDER BY position LIMIT 10000,
REBUILD_BATCH rows a batch, in a writing() transaction, through the same Database adapter)
reading every row and doing nothing with it. rebuild/floor is the share of the floor's speed
the rebuild keeps; the rest is decoding and folding in Python and writing the read models.

The log is seeded by bulk-inserting rows in their stored wire form (encode_event for the
payload) with executemany in writing() transactions: appending 10^6 events through
SqlEventStore.append would take minutes per database (see bench/README.md). One database
per kind grows through the sizes; each size is rebuilt from whatever the previous size left.

    python bench/rebuild_throughput.py [--sizes 10000,100000,1000000]
                                       [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from typing import Any

from _support import (
    DATABASES,
    KEY_IDS,
    bench_database,
    catalog_events,
    environment,
    server_version,
    table,
    wire_row,
    write_results,
)
from sigillo.domain.events import (
    Actor,
    EnvironmentCreated,
    SealedValue,
    SecretDeleted,
    SecretSet,
)
from sigillo.store.database import Database
from sigillo.store.event_store import INSERT_EVENT, REBUILD_BATCH, SELECT_EVENTS, SqlEventStore

PROJECTS, ENVIRONMENTS_PER_PROJECT = 2, 5  # 10 environments
NAMES_PER_ENVIRONMENT = 100  # 1000 names in all
DELETE_SHARE = 0.10
CIPHERTEXT_BYTES = 40
INSERT_CHUNK = 10_000
ACTORS = (
    *(Actor("user", f"01JE00000000000000000USER{i}") for i in range(3)),
    *(Actor("token", f"01JE0000000000000000TOKEN{i}") for i in range(2)),
)
FLOOR_SQL = f"{SELECT_EVENTS} WHERE position > $1 ORDER BY position LIMIT $2"  # the rebuild's read


class Log:
    """Grows the events table of one database with a realistic mix of events."""

    def __init__(self, database: Database, seed: int = 42) -> None:
        self._db = database
        self._rng = random.Random(seed)
        self._versions: dict[str, int] = {}
        self._environments: list[str] = []
        self.size = 0

    def _row(self, stream: str, event: Any, actor: Actor) -> tuple[Any, ...]:
        self.size += 1
        version = self._versions[stream] = self._versions.get(stream, 0) + 1
        return wire_row(self.size, stream, version, event, actor, 1_764_400_000_000 + self.size)

    def _rows(self, count: int) -> list[tuple[Any, ...]]:
        rng, rows = self._rng, []
        if not self._environments:
            for stream, event in catalog_events(PROJECTS, ENVIRONMENTS_PER_PROJECT):
                rows.append(self._row(stream, event, ACTORS[0]))
                if isinstance(event, EnvironmentCreated):
                    self._environments.append(event.environment_id)
        while len(rows) < count:
            env = rng.choice(self._environments)
            name = f"SECRET_{rng.randrange(NAMES_PER_ENVIRONMENT):03d}"
            event: SecretSet | SecretDeleted
            if rng.random() < DELETE_SHARE:
                event = SecretDeleted(env, name)
            else:
                key_id = KEY_IDS[0] if rng.random() < 0.9 else KEY_IDS[1]
                value = SealedValue(key_id, rng.randbytes(12), rng.randbytes(CIPHERTEXT_BYTES))
                event = SecretSet(env, name, value)
            rows.append(self._row(f"env:{env}", event, rng.choice(ACTORS)))
        return rows

    async def grow_to(self, size: int) -> float:
        started = time.perf_counter()
        async with self._db.writing() as tx:
            while self.size < size:
                rows = self._rows(min(INSERT_CHUNK, size - self.size))
                await tx.executemany(INSERT_EVENT, rows)
        return time.perf_counter() - started


async def floor(database: Database) -> tuple[int, float]:
    """Read every event the way the rebuild does, and nothing else."""
    started = time.perf_counter()
    events, last = 0, 0
    async with database.writing() as tx:
        while batch := await tx.fetch(FLOOR_SQL, last, REBUILD_BATCH):
            events += len(batch)
            last = batch[-1][0]
    return events, time.perf_counter() - started


async def rebuild(store: SqlEventStore) -> tuple[int, float, dict[str, int]]:
    started = time.perf_counter()
    report = await store.rebuild_projections()
    return report.events, time.perf_counter() - started, report.rows


def repeats_for(size: int) -> int:
    return 5 if size <= 10_000 else 3


async def measure(kind: str, sizes: list[int]) -> list[dict[str, Any]]:
    results = []
    async with bench_database(kind) as (_, database):
        log, store = Log(database), SqlEventStore(database)
        version = await server_version(kind)
        for size in sizes:
            seeded = await log.grow_to(size)
            print(f"  {kind}: {size:,} events in the log (+{seeded:.1f}s seeding)", flush=True)
            await floor(database)  # warm-up: caches, and PostgreSQL's hint bits after the load
            floors, rebuilds, rows = [], [], {}
            for _ in range(repeats_for(size)):
                read, seconds = await floor(database)
                assert read == size, (read, size)
                floors.append(seconds)
                rebuilt, seconds, rows = await rebuild(store)
                assert rebuilt == size, (rebuilt, size)
                rebuilds.append(seconds)
            result = {
                "kind": kind,
                "version": version,
                "size": size,
                "seed": seeded,
                "floor": statistics.median(floors),
                "rebuild": statistics.median(rebuilds),
                "repeats": len(floors),
                "rows": rows,
            }
            print(
                f"  {kind}: {size:,}: rebuild {result['rebuild']:.2f}s, "
                f"floor {result['floor']:.2f}s",
                flush=True,
            )
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--databases", default=",".join(DATABASES))
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    timings = []
    for kind in kinds:
        print(f"{kind}:", flush=True)
        began = time.perf_counter()
        results.extend(asyncio.run(measure(kind, sizes)))
        timings.append(f"{kind} {time.perf_counter() - began:.0f}s")
    elapsed = time.perf_counter() - started

    headers = [
        "database",
        "events",
        "rebuild s",
        "rebuild events/s",
        "floor s",
        "floor events/s",
        "rebuild/floor",
        "runs",
    ]
    rows = [
        [
            r["kind"],
            f"{r['size']:,}",
            f"{r['rebuild']:.2f}",
            f"{r['size'] / r['rebuild']:,.0f}",
            f"{r['floor']:.2f}",
            f"{r['size'] / r['floor']:,.0f}",
            f"{r['floor'] / r['rebuild']:.2f}",
            r["repeats"],
        ]
        for r in results
    ]
    seed_rows = [
        [r["kind"], f"{r['size']:,}", f"{r['seed']:.1f}", f"{r['rows']['current_secrets']:,}"]
        for r in results
    ]
    main_table = table(headers, rows)
    seed_table = table(
        ["database", "log size", "seconds to bulk-insert up to it", "live secrets after"],
        seed_rows,
    )
    print(f"\n{main_table}\n\n{seed_table}\n\ntotal run time {elapsed:.0f}s ({', '.join(timings)})")
    sections = [
        "`SqlEventStore.rebuild_projections()` over the whole log, in events/s, next to the "
        "floor: the rebuild's own batched read (`SELECT <all event columns> FROM events WHERE "
        f"position > $1 ORDER BY position LIMIT {REBUILD_BATCH}`, in a `writing()` "
        "transaction, through the same Database adapter) doing nothing with the rows. "
        "rebuild/floor = floor time / rebuild time. Times are medians of the runs shown; "
        "each size is preceded by one untimed floor read as warm-up.",
        main_table,
        f"The log: an org, {PROJECTS} projects, {PROJECTS * ENVIRONMENTS_PER_PROJECT} "
        f"environments, then secret events over {NAMES_PER_ENVIRONMENT} names per environment, "
        f"{100 - DELETE_SHARE * 100:.0f}% sets ({CIPHERTEXT_BYTES}-byte ciphertexts) and "
        f"{DELETE_SHARE * 100:.0f}% deletes, bulk-inserted in the stored wire form. "
        "One database per kind grows through the sizes.",
        seed_table,
        "\n".join(
            [
                *environment(sorted({r["version"] for r in results})),
                f"- total run time: {elapsed:.0f}s ({', '.join(timings)})",
            ]
        ),
    ]
    path = write_results("rebuild_throughput", "B2: projection rebuild throughput", sections)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
