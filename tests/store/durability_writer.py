"""A separate process that appends to a Sigillo database until it is killed (or has done N).

    python -m tests.store.durability_writer URL ACKFILE [--count N] [--go PATH] [--seed S]
                                            [--pause-ms MS] [--chain-key HEX]

The database must hold a project with environments already (created in its first 100
events); the writer appends secret sets and deletes to those environments' streams, single
events and batches of several, now and then an org on a stream of its own. Half of the
appends name the version they expect (and retry on a conflict), half append at the end.

ACKFILE gets one JSON line per fact, flushed as it is written, so a SIGKILL loses none:

    {"ready": PID}                               the database is open; appends start
    {"intent": [EVENT_ID, ...], "stream": S}     written BEFORE a batch is appended
    {"ack": [EVENT_ID, ...], "positions": [...]} written AFTER its append returned
    {"done": N, "conflicts": C}                  --count mode: all N batches acknowledged,
                                                 after C ConcurrencyErrors (each retried)

With --go PATH the writer waits for that file to exist before its first append, so two
writers can start appending at the same moment. With --pause-ms it rests up to that long
between appends, as a server does between requests (SQLite's busy handler is not fair: a
writer that never pauses can keep the lock for its whole run). With --chain-key it seals
its appends into the tamper-evident chain with that key, as a server does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import IO

from sigillo.crypto.chain import ChainKey
from sigillo.domain.errors import ConcurrencyError
from sigillo.domain.events import (
    Actor,
    EnvironmentCreated,
    Event,
    NewEvent,
    OrgCreated,
    SealedValue,
    SecretDeleted,
    SecretSet,
)
from sigillo.domain.streams import environment_stream, org_stream
from sigillo.services.ids import Clock, UlidFactory
from sigillo.store.database import open_database
from sigillo.store.event_store import SqlEventStore

NAMES = [f"SECRET_{i}" for i in range(8)]
KEYS = ["durability-k1", "durability-k2"]
ACTOR = Actor("system", "durability-writer")


def _line(out: IO[str], **fact: object) -> None:
    out.write(json.dumps(fact) + "\n")
    out.flush()


def _wait_for(path: Path) -> None:
    while not path.exists():
        time.sleep(0.002)


def _batch(
    rng: random.Random, ids: UlidFactory, environments: list[str]
) -> tuple[str, list[Event]]:
    roll = rng.random()
    if roll < 0.05:
        org_id = ids()
        return org_stream(org_id), [OrgCreated(org_id, f"Org {org_id[-6:]}")]
    env = rng.choice(environments)
    size = 1 if roll < 0.6 else rng.randint(2, 6)
    events: list[Event] = []
    for _ in range(size):
        name = rng.choice(NAMES)
        if rng.random() < 0.25:
            events.append(SecretDeleted(env, name))
        else:
            sealed = SealedValue(rng.choice(KEYS), os.urandom(12), os.urandom(rng.randint(17, 80)))
            events.append(SecretSet(env, name, sealed))
    return environment_stream(env), events


async def run(
    url: str,
    ackfile: Path,
    count: int | None,
    go: Path | None,
    seed: int,
    pause_ms: float,
    chain_key: str | None = None,
) -> None:
    rng = random.Random(seed)
    clock, ids = Clock(), UlidFactory()
    database = await open_database(url)
    store = SqlEventStore(
        database, None if chain_key is None else ChainKey(bytes.fromhex(chain_key))
    )
    environments = [
        e.event.environment_id
        for e in await store.read_all(0, 100)
        if isinstance(e.event, EnvironmentCreated)
    ]
    if not environments:
        raise SystemExit("the database holds no environment to write into")
    with ackfile.open("a", encoding="utf-8") as out:
        _line(out, ready=os.getpid())
        if go is not None:
            await asyncio.to_thread(_wait_for, go)
        done = conflicts = 0
        while count is None or done < count:
            stream, events = _batch(rng, ids, environments)
            batch = [NewEvent(ids(), clock.now(), ACTOR, event) for event in events]
            event_ids = [e.event_id for e in batch]
            _line(out, intent=event_ids, stream=stream)
            while True:
                expected = await store.stream_version(stream) if rng.random() < 0.5 else None
                try:
                    recorded = await store.append(stream, expected, batch)
                    break
                except ConcurrencyError:
                    conflicts += 1
            _line(out, ack=event_ids, positions=[e.position for e in recorded])
            done += 1
            if pause_ms:
                await asyncio.sleep(rng.uniform(0, pause_ms) / 1000)
        _line(out, done=done, conflicts=conflicts)
    await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="durability_writer")
    parser.add_argument("url")
    parser.add_argument("ackfile", type=Path)
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--go", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pause-ms", type=float, default=0)
    parser.add_argument("--chain-key", default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    asyncio.run(
        run(args.url, args.ackfile, args.count, args.go, seed, args.pause_ms, args.chain_key)
    )


if __name__ == "__main__":
    sys.exit(main())
