"""B10: what the tamper-evident chain costs an append (issue 17).

For each database kind, two fresh databases made alike (an org, a project, one environment,
appended through `SqlEventStore`): one whose store has no chain key and whose log was never
chained, one whose log was chained (`store.log_chain.begin_chain`) and whose store seals
every append (`SqlEventStore(database, seals)`, as the server wires it). The timed operation
is one `SqlEventStore.append` of a single `SecretSet` (a 40-byte ciphertext) to the
environment's stream at its expected version: the real write path, one transaction with the
writer lock, the projections and, when chained, the two seals and the head record. Appends
alternate between the two databases (`--appends` each, after `--warmup`), so machine load
weighs on both alike. The table gives medians, 90th percentiles and the difference of the
medians (chained - plain) in milliseconds and as a share of the plain append.

    python bench/append_chain.py [--databases sqlite,postgresql] [--appends 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from contextlib import AsyncExitStack
from typing import Any

from _support import (
    DATABASES,
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
from sigillo.crypto.chain import ChainKey
from sigillo.domain.events import EnvironmentCreated, SecretSet
from sigillo.store.event_store import SqlEventStore
from sigillo.store.log_chain import begin_chain

NAMES = 50  # the appends cycle over this many secret names


class Target:
    """One database's store and the environment whose stream it appends to."""

    def __init__(self, store: SqlEventStore, environment_id: str, version: int) -> None:
        self.store, self.environment_id, self.version = store, environment_id, version
        self.samples: list[int] = []

    async def append(self, index: int) -> int:
        event = SecretSet(self.environment_id, f"SECRET_{index % NAMES}", sealed())
        stream = f"env:{self.environment_id}"
        started = time.perf_counter_ns()
        await self.store.append(stream, self.version, [new_event(event)])
        elapsed = time.perf_counter_ns() - started
        self.version += 1
        return elapsed


async def _target(store: SqlEventStore) -> Target:
    """An org, a project and one environment, appended as the services append them."""
    environment_id = ""
    for stream, event in catalog_events(1, 1):
        [recorded] = await store.append(stream, None, [new_event(event)])
        if isinstance(event, EnvironmentCreated):
            environment_id = event.environment_id
    assert recorded.version >= 1
    return Target(store, environment_id, 0)


async def measure(kind: str, appends: int, warmup: int) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        _, plain_db = await stack.enter_async_context(bench_database(kind, "plain"))
        _, chained_db = await stack.enter_async_context(bench_database(kind, "chained"))
        seals = ChainKey(os.urandom(32))
        await begin_chain(chained_db, seals)
        plain = await _target(SqlEventStore(plain_db))
        chained = await _target(SqlEventStore(chained_db, seals))
        started = time.perf_counter()
        for index in range(warmup + appends):
            pair = (plain, chained) if index % 2 == 0 else (chained, plain)
            for target in pair:
                elapsed = await target.append(index)
                if index >= warmup:
                    target.samples.append(elapsed)
        [(sealed_count,)] = await chained_db.fetch(
            "SELECT COUNT(*) FROM events WHERE stream_hash IS NOT NULL"
        )
        [(unsealed,)] = await plain_db.fetch(
            "SELECT COUNT(*) FROM events WHERE stream_hash IS NOT NULL"
        )
        assert int(sealed_count) == warmup + appends + 3, sealed_count  # every append sealed
        assert int(unsealed) == 0, unsealed
        plain_ms, chained_ms = median_ms(plain.samples), median_ms(chained.samples)
        return {
            "kind": kind,
            "version": await server_version(kind),
            "plain": (plain_ms, percentile_ms(plain.samples, 0.9)),
            "chained": (chained_ms, percentile_ms(chained.samples, 0.9)),
            "difference": chained_ms - plain_ms,
            "seconds": time.perf_counter() - started,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--appends", type=int, default=1000, help="timed appends of each")
    parser.add_argument("--warmup", type=int, default=50, help="untimed appends of each first")
    args = parser.parse_args()
    results = [
        asyncio.run(measure(kind, args.appends, args.warmup)) for kind in args.databases.split(",")
    ]
    rows = []
    for r in results:
        for label in ("plain", "chained"):
            median, p90 = r[label]
            rows.append([r["kind"], label, f"{median:.3f}", f"{p90:.3f}", "", ""])
        plain_median = r["plain"][0]
        rows[-1][4] = f"{r['difference']:+.3f}"
        rows[-1][5] = f"{100 * r['difference'] / plain_median:+.1f}%"
    figures = table(
        ["database", "store", "median ms", "p90 ms", "chained - plain ms", "share of plain"], rows
    )
    print(f"\n{figures}\n")
    sections = [
        "One `SqlEventStore.append` of a single `SecretSet` (40-byte ciphertext) to an "
        "environment's stream, on a store without the chain key over a log never chained "
        "(`plain`) and on a store that seals every append over a chained log (`chained`, as "
        f"the server runs). {args.appends} timed appends of each after {args.warmup} "
        "untimed, alternating between the two databases; medians and 90th percentiles of "
        "wall time. `chained - plain`: the difference of the medians, the chain's cost per "
        "append (two HMAC-SHA-256 seals, the stream's and the log's previous hash read, "
        "the head record updated, in the same transaction).",
        figures,
        "\n".join(
            [
                *environment(sorted({r["version"] for r in results})),
                "- run time: " + ", ".join(f"{r['kind']} {r['seconds']:.0f}s" for r in results),
            ]
        ),
    ]
    path = write_results("append_chain", "B10: the chain's cost per append", sections)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
