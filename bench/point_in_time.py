"""B9: a read of the past costs at most twice a current read (issue 17).

One environment with 100,000 events of history over 50 names (re-sets, deletes and sets
again, kind changes), written through SqlEventStore.append in batches, the real write path;
each event is stamped 1 ms after the previous one. Timed through SecretsService, as the API
calls it, with a real cipher (every value is opened):

- current: `values(env)`, the download path: the stream's version, the live rows (kept
  while the stream has not moved), the audit append, opening the values;
- past: `at(env, moment)` then `reveal_past(...)` (the same audit append, naming the
  moment, and the same opening), at a time near the end, a time in the middle and an
  event id in the middle. Warm: snapshots kept (services.time_travel keeps one every
  SPACING versions as a read crosses them). Cold: the first read after every snapshot was
  deleted (it folds the stream from its start and keeps the snapshots it crosses).

Current and warm past reads are interleaved so machine load weighs on all alike.
Target: median warm past read <= 2 x median current read.

    python bench/point_in_time.py [--databases sqlite,postgresql] [--reads 200] [--events 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from _support import (
    ALICE,
    DATABASES,
    bench_database,
    catalog_events,
    environment,
    median_ms,
    new_event,
    percentile_ms,
    server_version,
    table,
    write_results,
)
from sigillo.crypto.keyring import Keyring
from sigillo.domain.events import (
    EnvironmentCreated,
    Event,
    NewEvent,
    SecretDeleted,
    SecretKindChanged,
    SecretSet,
)
from sigillo.domain.moments import Moment
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.secrets import SecretsService
from sigillo.services.time_travel import SPACING, TimeTravel
from sigillo.services.writing import Writer
from sigillo.store.database import Database
from sigillo.store.event_store import SqlEventStore
from sigillo.store.snapshots import SqlSnapshots

NAMES = 50
EVENTS = 100_000
TARGET = 2.0


def history(env_id: str, count: int, keyring: Keyring) -> Iterator[Event]:
    """`count` events over NAMES names: every name set first, then a cycle of re-sets,
    a delete and a set again, and kind changes of live names."""
    names = [f"SECRET_{i:02d}" for i in range(NAMES)]
    kinds = dict.fromkeys(names, "secret")
    live = set()

    def set_(name: str, i: int) -> Event:
        value = keyring.seal(f"value {i} of {name}", environment_id=env_id, name=name)
        if name not in live:
            live.add(name)
            kinds[name] = "secret"
        return SecretSet(env_id, name, value)

    for i, name in enumerate(names):
        yield set_(name, i)
    for i in range(NAMES, count):
        name = names[(i * 7) % NAMES]
        step = i % 10
        if step == 3 and name in live:
            live.discard(name)
            yield SecretDeleted(env_id, name)
        elif step == 6 and name in live:
            kind = "plain" if kinds[name] == "secret" else "secret"
            yield SecretKindChanged(env_id, name, kind, kinds[name])  # type: ignore[arg-type]
            kinds[name] = kind
        else:
            yield set_(name, i)


async def seed(
    database: Database, count: int, batch: int, keyring: Keyring
) -> tuple[EnvironmentRow, int, float]:
    """The catalog, then `count` events in one environment, 1 ms apart: answers the
    environment, the time of its first event and how long seeding took."""
    store = SqlEventStore(database)
    catalog = catalog_events(projects=1, environments_per_project=1)
    for stream, event in catalog:
        await store.append(stream, None, [new_event(event)])
    env_id = next(e.environment_id for _, e in catalog if isinstance(e, EnvironmentCreated))
    row = await store.get(EnvironmentRow, (env_id,))
    assert row is not None
    stream, ids = f"env:{env_id}", UlidFactory()
    first = row.created_at + 1000
    started = time.perf_counter()
    pending: list[NewEvent] = []
    for i, event in enumerate(history(env_id, count, keyring)):
        pending.append(NewEvent(ids(), first + i, ALICE, event))
        if len(pending) == batch:
            await store.append(stream, None, pending)
            pending = []
    if pending:
        await store.append(stream, None, pending)
    assert await store.stream_version(stream) == count
    return row, first, time.perf_counter() - started


async def timed(read: Callable[[], Awaitable[Any]]) -> int:
    started = time.perf_counter_ns()
    await read()
    return time.perf_counter_ns() - started


async def measure(kind: str, reads: int, warmup: int, count: int, batch: int) -> dict[str, Any]:
    keyring = Keyring([os.urandom(32)])
    async with bench_database(kind) as (_url, database):
        environment_row, first, seeded = await seed(database, count, batch, keyring)
        print(f"  {kind}: seeded {count:,} events in {seeded:.1f}s", flush=True)
        store = SqlEventStore(database)
        writer = Writer(store, Clock(), UlidFactory())

        def fresh() -> tuple[TimeTravel, SecretsService]:
            """A server's services as they start: no snapshot known in memory yet."""
            travel = TimeTravel(store, SqlSnapshots(database))
            return travel, SecretsService(store, keyring, writer, travel)

        travel, service = fresh()
        env = environment_row.id
        stream = await store.read_stream_between(f"env:{env}", 0, None, None)
        moments = {
            "time near the end": Moment(time=first + count - 37),
            "time in the middle": Moment(time=first + count // 2 + 11),
            "event id in the middle": Moment(event_id=stream[count // 2 - 29].event_id),
        }
        live = len(await store.select(CurrentSecretRow, "environment_id", env))

        async def current() -> None:
            assert len(await service.values(env, ALICE)) == live

        def past(
            moment: Moment, reader: SecretsService | None = None
        ) -> Callable[[], Awaitable[None]]:
            async def read() -> None:
                then = await (reader or service).at(environment_row, moment)
                await (reader or service).reveal_past(then, moment, None, ALICE, "download")

            return read

        async def forget_snapshots() -> None:
            async with database.writing() as tx:
                await tx.execute("DELETE FROM environment_snapshots")

        # Cold: the first read of each moment with no snapshot at all, by a server that
        # just started (three times each).
        cold: dict[str, list[int]] = {name: [] for name in moments}
        replayed: dict[str, int] = {}
        for _ in range(3):
            for name, moment in moments.items():
                await forget_snapshots()
                cold_travel, cold_service = fresh()
                cold[name].append(await timed(past(moment, cold_service)))
                replayed[name] = cold_travel.replayed
        await forget_snapshots()
        # Without any snapshot store: a full replay every time (for reference).
        plain = SecretsService(store, keyring, writer, TimeTravel(store))
        full = [
            await timed(lambda: plain.at(environment_row, moments["time near the end"]))
            for _ in range(3)
        ]
        # Warm: the snapshots the first reads keep (one read of each moment), interleaved.
        travel, service = fresh()
        for moment in moments.values():
            await past(moment)()
        kept = (await database.fetch("SELECT COUNT(*) FROM environment_snapshots"))[0][0]
        samples: dict[str, list[int]] = {"current": [], **{name: [] for name in moments}}
        reads_of = {"current": current, **{name: past(m) for name, m in moments.items()}}
        for i in range(warmup + reads):
            order = list(reads_of) if i % 2 == 0 else list(reversed(reads_of))
            for name in order:
                elapsed = await timed(reads_of[name])
                if i >= warmup:
                    samples[name].append(elapsed)
        warm_replayed = {}
        for name, moment in moments.items():
            await travel.at(environment_row, moment)
            warm_replayed[name] = travel.replayed
        return {
            "kind": kind,
            "version": await server_version(kind),
            "seeded": seeded,
            "count": count,
            "live": live,
            "samples": samples,
            "cold": cold,
            "replayed": replayed,
            "warm_replayed": warm_replayed,
            "full": full,
            "kept": kept,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--reads", type=int, default=200, help="timed reads of each kind")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--events", type=int, default=EVENTS, help="events of the history")
    parser.add_argument("--batch", type=int, default=1000, help="events per append when seeding")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    started = time.perf_counter()
    results = []
    for kind in kinds:
        print(f"{kind}:", flush=True)
        results.append(asyncio.run(measure(kind, args.reads, args.warmup, args.events, args.batch)))
    elapsed = time.perf_counter() - started

    warm_rows, cold_rows = [], []
    for r in results:
        current = median_ms(r["samples"]["current"])
        warm_rows.append([r["kind"], "current read", f"{current:.3f}", "", "", "1.00", ""])
        for name in r["cold"]:
            warm = r["samples"][name]
            ratio = median_ms(warm) / current
            warm_rows.append(
                [
                    r["kind"],
                    f"past, {name}",
                    f"{median_ms(warm):.3f}",
                    f"{percentile_ms(warm, 0.9):.3f}",
                    f"{r['warm_replayed'][name]}",
                    f"{ratio:.2f}",
                    "pass" if ratio <= TARGET else "FAIL",
                ]
            )
            cold_rows.append(
                [
                    r["kind"],
                    name,
                    f"{median_ms(r['cold'][name]):.1f}",
                    f"{r['replayed'][name]:,}",
                    f"{median_ms(r['cold'][name]) / current:.0f}",
                ]
            )
        cold_rows.append(
            [
                r["kind"],
                "full replay to near the end, no snapshots",
                f"{median_ms(r['full']):.1f}",
                f"{r['count']:,}",
                f"{median_ms(r['full']) / current:.0f}",
            ]
        )
    warm_table = table(
        [
            "database",
            "read",
            "median ms",
            "p90 ms",
            "events replayed",
            "x current",
            f"target <= {TARGET}",
        ],
        warm_rows,
    )
    cold_table = table(
        ["database", "first read, no snapshots", "median ms", "events replayed", "x current"],
        cold_rows,
    )
    kept = "; ".join(f"{r['kind']}: {r['kept']} snapshots kept" for r in results)
    print(f"\n{warm_table}\n\n{cold_table}\n\n{kept}\ntotal run time {elapsed:.0f}s")
    first = results[0] if results else {"count": args.events, "live": NAMES}
    sections = [
        f"One environment with {first['count']:,} events of history over {NAMES} names "
        f"({first['live']} live at the end), seeded through `SqlEventStore.append`. Every read "
        "goes through `SecretsService` with a real cipher: the current read is `values` "
        "(the download path); a read of the past is `at` + `reveal_past` (the same audit "
        f"append, naming the moment, and the same opening). {args.reads} timed reads of each "
        f"after {args.warmup} warm-up rounds, interleaved. Snapshots every {SPACING} versions.",
        "Warm (snapshots kept):",
        warm_table,
        "Cold: the first read of a moment after every snapshot was deleted (median of 3); it "
        "folds the stream from its start and keeps a snapshot at every grid version it "
        "crosses, so it is paid once per stretch of history, not per read:",
        cold_table,
        kept,
        "\n".join(
            [
                *environment(sorted({r["version"] for r in results})),
                f"- total run time: {elapsed:.0f}s",
            ]
        ),
    ]
    path = write_results("point_in_time", "B9: a read of the past vs a current read", sections)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
