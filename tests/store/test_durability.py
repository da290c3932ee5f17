"""kill -9 during writes loses nothing acknowledged and leaves nothing half-written.

A writer process (tests/store/durability_writer.py) appends in a loop to one database and
logs each batch's event ids before appending ("intent") and after the append returned
("ack"). The test SIGKILLs it at a random moment, then checks the database against that
log; fifty times per database, the same database throughout, so every check also covers
everything earlier iterations wrote.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sigillo.store.database import open_database
from sigillo.store.event_store import SqlEventStore
from tests.store.helpers import (
    REPO,
    assert_log_is_contiguous,
    everything,
    make_place,
    read_acks,
    stored_events,
    writer_command,
)

ITERATIONS = 50
KILL_AFTER_S = (0.05, 0.4)

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]


@dataclass
class Ledger:
    """What every writer so far said it was about to append, and what it was told went in."""

    setup: set[str] = field(default_factory=set)
    intents: list[tuple[str, list[str]]] = field(default_factory=list)
    acked: list[list[str]] = field(default_factory=list)
    in_flight: int = 0  # batches a kill interrupted between intent and ack
    in_flight_committed: int = 0


async def test_kill_9_loses_no_acknowledged_write(database_url: str, tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    database = await open_database(database_url)
    try:
        await make_place(SqlEventStore(database), slugs=("dev", "preview", "prod"))
        ledger = Ledger(setup={e.event_id for e in await stored_events(database)})
    finally:
        await database.close()

    for iteration in range(ITERATIONS):
        where = f"seed {seed}, iteration {iteration}"
        acks = tmp_path / f"acks-{iteration}.jsonl"
        errors = tmp_path / f"writer-{iteration}.err"
        with errors.open("wb") as err:
            writer = await asyncio.create_subprocess_exec(
                *writer_command(database_url, acks, "--seed", str(rng.getrandbits(32))),
                cwd=REPO,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )
        try:
            async with asyncio.timeout(30):
                while read_acks(acks).ready is None:
                    assert writer.returncode is None, (where, errors.read_text())
                    await asyncio.sleep(0.005)
            await asyncio.sleep(rng.uniform(*KILL_AFTER_S))
            assert writer.returncode is None, (where, errors.read_text())
        finally:
            if writer.returncode is None:
                writer.send_signal(signal.SIGKILL)
            code = await writer.wait()
        assert code == -signal.SIGKILL, (where, code, errors.read_text())

        written = read_acks(acks)
        unacknowledged = written.unacknowledged
        assert len(unacknowledged) <= 1, (where, "a writer has one append in flight at most")
        ledger.intents.extend(written.intents)
        ledger.acked.extend(written.acked)
        await _check(database_url, ledger, unacknowledged, where)

    print(
        f"{len(ledger.acked)} appends acknowledged in {ITERATIONS} kills; "
        f"{ledger.in_flight} kills interrupted an append, "
        f"{ledger.in_flight_committed} of those had committed"
    )
    assert len(ledger.acked) >= ITERATIONS, "the writers hardly wrote: nothing was tested"
    assert ledger.in_flight >= 1, "no kill ever landed during an append"


async def _check(url: str, ledger: Ledger, unacknowledged: list[list[str]], where: str) -> None:
    database = await open_database(url)  # a new connection, as after a restart
    try:
        # The writer is dead, but PostgreSQL may still be finishing its last statement (a
        # COMMIT sent just before the kill still commits). Taking the writer slot waits for
        # that, so everything below reads one settled state.
        async with database.writing():
            pass
        events = await stored_events(database)  # decodes every event's stored payload
        store = SqlEventStore(database)
        read = await everything(store)  # and the store can read all of them back
        checkpoint = await store.checkpoint()
        report = await store.rebuild_projections(check_only=True)
    finally:
        await database.close()

    assert_log_is_contiguous(events)
    assert [(e.position, e.event_id) for e in read] == [(e.position, e.event_id) for e in events]
    assert checkpoint == len(events), (where, "the read models' checkpoint is not the log's end")
    assert report.identical, (where, report)

    present = {e.event_id: e for e in events}
    for ids in ledger.acked:
        missing = [i for i in ids if i not in present]
        assert not missing, (where, "an acknowledged event is gone", missing)
    intended: set[str] = set()
    for stream, ids in ledger.intents:
        found = [present[i] for i in ids if i in present]
        assert len(found) in (0, len(ids)), (where, "a batch is partly in the log", ids)
        if found:  # one append: adjacent positions, adjacent versions, its own stream
            first = found[0]
            assert [(e.stream, e.position, e.version) for e in found] == [
                (stream, first.position + k, first.version + k) for k in range(len(found))
            ], where
        intended.update(ids)
    strangers = set(present) - intended - ledger.setup
    assert not strangers, (where, "events no writer meant to append", strangers)
    for ids in unacknowledged:
        ledger.in_flight += 1
        ledger.in_flight_committed += ids[0] in present
