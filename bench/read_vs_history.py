"""B1: reading current secrets must not depend on how long the history is.

One environment with 50 live secrets, in two databases of the same kind: one whose
environment has 100 events of history, one whose environment has 100,000 (re-sets of the
same 50 names, and sets and deletes of other names). Both are seeded through
SqlEventStore.append in batches, the path every write takes, so the read model is the one
appends build. The read is what services do:
SqlEventStore.select(CurrentSecretRow, "environment_id", env).

Reads of the two databases are interleaved (alternating which goes first), so load on the
machine weighs on both alike. Target: median(100,000) / median(100) <= 1.2.

    python bench/read_vs_history.py [--databases sqlite,postgresql] [--reads 500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import asyncpg

from _support import (
    ALICE,
    DATABASES,
    KEY_IDS,
    bench_database,
    catalog_events,
    environment,
    median_ms,
    new_event,
    percentile_ms,
    sealed,
    server_version,
    table,
    write_results,
)
from sigillo.domain.events import EnvironmentCreated, Event, NewEvent, SecretDeleted, SecretSet
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.store.database import Database
from sigillo.store.event_store import SqlEventStore

LIVE = 50
SMALL, LARGE = 100, 100_000
OTHER_NAMES = 500
TARGET = 1.2


def history(env_id: str, count: int) -> Iterator[Event]:
    """`count` events of one environment that leave exactly LIVE names live: LIVE first
    sets, then re-sets of those names and set/delete pairs of other names."""
    live = [f"LIVE_SECRET_{i:02d}" for i in range(LIVE)]
    for name in live:
        yield SecretSet(env_id, name, sealed(KEY_IDS[0]))
    remaining, k = count - LIVE, 0
    while remaining >= 3:
        other = f"OTHER_SECRET_{k % OTHER_NAMES:03d}"
        yield SecretSet(env_id, live[k % LIVE], sealed(KEY_IDS[k % 2]))
        yield SecretSet(env_id, other, sealed(KEY_IDS[0]))
        yield SecretDeleted(env_id, other)
        remaining, k = remaining - 3, k + 1
    for i in range(remaining):
        yield SecretSet(env_id, live[(k + i) % LIVE], sealed(KEY_IDS[0]))


async def seed(database: Database, events: int, batch: int) -> tuple[str, float]:
    """An org, a project, its environment, and `events` events in it: answers the
    environment's id and how long seeding its history took."""
    store = SqlEventStore(database)
    catalog = catalog_events(projects=1, environments_per_project=1)
    for stream, event in catalog:
        await store.append(stream, None, [new_event(event)])
    env_id = next(e.environment_id for _, e in catalog if isinstance(e, EnvironmentCreated))
    stream = f"env:{env_id}"
    started = time.perf_counter()
    pending: list[NewEvent] = []
    for event in history(env_id, events):
        pending.append(new_event(event, ALICE))
        if len(pending) == batch:
            await store.append(stream, None, pending)
            pending = []
    if pending:
        await store.append(stream, None, pending)
    seconds = time.perf_counter() - started
    assert await store.stream_version(stream) == events
    rows = await store.select(CurrentSecretRow, "environment_id", env_id)
    assert len(rows) == LIVE, len(rows)
    return env_id, seconds


async def interleaved(
    stores: dict[str, tuple[SqlEventStore, str]], reads: int, warmup: int
) -> dict[str, list[int]]:
    """Read both environments alternately; answers the timed reads' durations in ns."""
    samples: dict[str, list[int]] = {which: [] for which in stores}
    for i in range(warmup + reads):
        order = ("small", "large") if i % 2 == 0 else ("large", "small")
        for which in order:
            store, env_id = stores[which]
            started = time.perf_counter_ns()
            rows = await store.select(CurrentSecretRow, "environment_id", env_id)
            elapsed = time.perf_counter_ns() - started
            if i >= warmup:
                samples[which].append(elapsed)
            assert len(rows) == LIVE
    return samples


async def postgres_table_state(url: str, *, vacuum: bool = False) -> str:
    """The read model's physical state: dead rows from history are what could slow reads."""
    connection = await asyncpg.connect(url)
    try:
        if vacuum:
            await connection.execute("VACUUM (ANALYZE) current_secrets")
        with contextlib.suppress(asyncpg.UndefinedFunctionError):  # PostgreSQL 15+
            await connection.execute("SELECT pg_stat_force_next_flush()")
        row = await connection.fetchrow(
            "SELECT n_live_tup, n_dead_tup, last_autovacuum IS NOT NULL AS autovacuumed, "
            "last_vacuum IS NOT NULL AS vacuumed, "
            "pg_relation_size('current_secrets') AS heap, "
            "pg_relation_size('current_secrets_environment_name') AS idx "
            "FROM pg_stat_user_tables WHERE relname = 'current_secrets'"
        )
        autovacuum = await connection.fetchval("SHOW autovacuum")
    finally:
        await connection.close()
    assert row is not None
    return (
        f"{row['n_live_tup']} live / {row['n_dead_tup']:,} dead rows, heap "
        f"{row['heap'] / 1024:,.0f} KiB, index {row['idx'] / 1024:,.0f} KiB"
        f"; server setting autovacuum = {autovacuum}"
        f"{', autovacuumed' if row['autovacuumed'] else ', autovacuum has not run on it'}"
        f"{', VACUUMed by the benchmark' if row['vacuumed'] else ''}"
    )


async def measure(
    kind: str, reads: int, warmup: int, batch: int, large: int
) -> list[dict[str, Any]]:
    async with (
        bench_database(kind, "small") as (small_url, small_db),
        bench_database(kind, "large") as (large_url, large_db),
    ):
        small_env, small_seed = await seed(small_db, SMALL, batch)
        print(f"  {kind}: seeded {SMALL} events in {small_seed:.1f}s", flush=True)
        large_env, large_seed = await seed(large_db, large, batch)
        print(f"  {kind}: seeded {large:,} events in {large_seed:.1f}s", flush=True)
        stores = {
            "small": (SqlEventStore(small_db), small_env),
            "large": (SqlEventStore(large_db), large_env),
        }
        version = await server_version(kind)
        passes = []
        state = await postgres_table_state(large_url) if kind == "postgresql" else ""
        samples = await interleaved(stores, reads, warmup)
        passes.append({"kind": kind, "samples": samples, "state": state})
        if kind == "postgresql":
            # Every set upserts a current_secrets row: PostgreSQL leaves the old versions
            # behind until (auto)vacuum. Measure again once they are gone.
            await postgres_table_state(small_url, vacuum=True)
            state = await postgres_table_state(large_url, vacuum=True)
            samples = await interleaved(stores, reads, warmup)
            passes.append(
                {"kind": f"{kind}, after VACUUM (ANALYZE)", "samples": samples, "state": state}
            )
        for p in passes:
            p.update(version=version, large_seed=large_seed, large=large)
        return passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--reads", type=int, default=500, help="timed reads per database (>=200)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1000, help="events per append when seeding")
    parser.add_argument("--large", type=int, default=LARGE, help="events of the long history")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    for kind in kinds:
        print(f"{kind}:", flush=True)
        results.extend(asyncio.run(measure(kind, args.reads, args.warmup, args.batch, args.large)))
    elapsed = time.perf_counter() - started

    headers = [
        "database",
        f"median ms, {SMALL} events",
        f"p90 ms, {SMALL}",
        f"median ms, {args.large:,} events",
        f"p90 ms, {args.large:,}",
        "ratio",
        f"target <= {TARGET}",
    ]
    rows = []
    for r in results:
        small, large = r["samples"]["small"], r["samples"]["large"]
        ratio = median_ms(large) / median_ms(small)
        rows.append(
            [
                r["kind"],
                f"{median_ms(small):.3f}",
                f"{percentile_ms(small, 0.9):.3f}",
                f"{median_ms(large):.3f}",
                f"{percentile_ms(large, 0.9):.3f}",
                f"{ratio:.2f}",
                "pass" if ratio <= TARGET else "FAIL",
            ]
        )
    reads_table = table(headers, rows)
    seeded = {r["version"]: r for r in results}.values()
    seed_table = table(
        ["database", "events appended", "seconds", "events/s"],
        [
            [
                r["version"],
                f"{r['large']:,}",
                f"{r['large_seed']:.1f}",
                f"{r['large'] / r['large_seed']:,.0f}",
            ]
            for r in seeded
        ],
    )
    states = [f"- {r['kind']}: {r['state']}" for r in results if r["state"]]
    print(f"\n{reads_table}\n\n{seed_table}\n")
    print("\n".join(["PostgreSQL current_secrets of the long-history database:", *states]))
    print(f"\ntotal run time {elapsed:.0f}s")
    sections = [
        "Time to read the current secrets of one environment with 50 live secrets "
        "(`SqlEventStore.select(CurrentSecretRow, 'environment_id', env)`, what services "
        f"call), with {SMALL} and with {args.large:,} events of history in that environment. "
        f"{args.reads} timed reads of each after {args.warmup} warm-up reads; the two "
        "databases are read alternately so machine load weighs on both alike.",
        reads_table,
        "PostgreSQL's `current_secrets` in the long-history database when it was read:",
        "\n".join(states) if states else "(PostgreSQL not measured)",
        f"Seeding the long history through `SqlEventStore.append`, {args.batch} events per "
        "append (each append folds its events into the read models in its transaction):",
        seed_table,
        "\n".join(
            [
                *environment(sorted({r["version"] for r in results})),
                f"- total run time: {elapsed:.0f}s",
            ]
        ),
    ]
    path = write_results(
        "read_vs_history", "B1: reading current secrets vs history length", sections
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
