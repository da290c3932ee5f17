"""The tamper-evident log (issue 17), on SQLite and PostgreSQL: every kind of tampering a
database writer can do in raw SQL is caught by verify and named in words; an untouched log
verifies, also after master key rotation and after kill -9 during appends; a process
without the key cannot append to a chained log; `sigillo admin verify` exits 0, 1 or 2."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sigillo.crypto.chain import ChainKey
from sigillo.domain.errors import StartupError
from sigillo.domain.events import Actor, SealedValue
from sigillo.key_rotation import rotate_key
from sigillo.log_check import verify
from sigillo.server import open_services
from sigillo.settings import Settings
from sigillo.store.database import Database, open_database
from sigillo.store.event_store import SqlEventStore
from sigillo.store.log_chain import begin_chain
from sigillo.store.log_verify import verify_log
from sigillo.store.stream_verify import verify_streams
from tests.store.helpers import REPO, Place, make_place, news, read_acks, set_, writer_command

pytestmark = pytest.mark.asyncio

KEY_BYTES = os.urandom(32)
KEY = ChainKey(KEY_BYTES)
ALICE = Actor("user", "alice")
FIRST = SealedValue("k1", b"n" * 12, b"the first value, sealed")  # its ciphertext


@dataclass
class Chained:
    database: Database
    store: SqlEventStore
    place: Place
    first_set: int  # the position of DB_PASSWORD's first set (value FIRST)
    last_set: int  # the position of its last set
    early: tuple[int, str]  # log_chain's head before the last two appends
    end: int


@pytest_asyncio.fixture
async def chained(database_url: str) -> AsyncIterator[Chained]:
    database = await open_database(database_url)
    await begin_chain(database, KEY)
    store = SqlEventStore(database, KEY)
    place = await make_place(store)
    [first] = await store.append(
        place.stream, None, news(set_(place.env, "DB_PASSWORD", value=FIRST.ciphertext))
    )
    prod = place.environment_ids[1]
    for i in range(4):
        await store.append(place.env_stream(1), None, news(set_(prod, f"P{i}")))
        await store.append(
            place.stream, None, news(set_(place.env, f"N{i}"), set_(place.env, "DB_PASSWORD"))
        )
    [(head, mac)] = await database.fetch("SELECT head_position, head_mac FROM log_chain")
    await store.append(place.env_stream(1), None, news(set_(prod, "LATE")))
    last = await store.append(place.stream, None, news(set_(place.env, "DB_PASSWORD")))
    yield Chained(
        database, store, place, first.position, last[0].position, (head, mac), last[0].position
    )
    await database.close()


async def _sql(database: Database, *statements: tuple[Any, ...]) -> None:
    async with database.writing() as tx:
        for statement, *args in statements:
            await tx.execute(statement, *args)


async def test_an_untouched_log_verifies(chained: Chained) -> None:
    report = await verify_log(chained.database, KEY)
    assert report.intact, report.problem
    assert (report.checked, report.through, report.starts_at) == (chained.end, chained.end, 1)
    assert report.head_position == chained.end
    assert (await verify_log(chained.database, KEY, recorded_head=chained.early)).intact
    assert (await verify_streams(chained.database, KEY, [chained.place.stream])).intact


async def test_the_wrong_key_breaks_the_first_link(chained: Chained) -> None:
    report = await verify_log(chained.database, ChainKey(os.urandom(32)))
    assert report.problem is not None
    assert "event 1 of org:" in report.problem
    assert "was edited" in report.problem


Tamper = Callable[[Chained], Awaitable[None]]


async def _edit_data(c: Chained) -> None:
    await _sql(
        c.database, ("UPDATE events SET data = replace(data, 'N1', 'N7') WHERE subject = 'N1'",)
    )


async def _edit_actor(c: Chained) -> None:
    await _sql(c.database, ("UPDATE events SET actor_id = 'mallory' WHERE position = 4",))


async def _older_value_into_latest_event(c: Chained) -> None:
    await _sql(
        c.database,
        (
            "UPDATE events SET data = (SELECT data FROM events WHERE position = $1) "
            "WHERE position = $2",
            c.first_set,
            c.last_set,
        ),
    )


async def _delete_one(c: Chained) -> None:
    await _sql(c.database, ("DELETE FROM events WHERE position = 6",))


async def _truncate_newest(c: Chained) -> None:
    await _sql(c.database, ("DELETE FROM events WHERE position > $1", c.early[0]))


async def _truncate_all(c: Chained) -> None:
    await _sql(c.database, ("DELETE FROM events",))


async def _truncate_and_roll_head_back(c: Chained) -> None:
    await _sql(
        c.database,
        ("DELETE FROM events WHERE position > $1", c.early[0]),
        ("UPDATE log_chain SET head_position = $1, head_mac = $2", *c.early),
    )


async def _swap(c: Chained, a: int, b: int) -> None:
    await _sql(
        c.database,
        ("UPDATE events SET position = -1 WHERE position = $1", a),
        ("UPDATE events SET position = $1 WHERE position = $2", a, b),
        ("UPDATE events SET position = $1 WHERE position = -1", b),
    )


async def _reorder_across_streams(c: Chained) -> None:
    await _swap(c, 5, 6)  # a prod set, then a dev batch


async def _reorder_within_a_stream(c: Chained) -> None:
    await _swap(c, 6, 7)  # one dev batch: N0 then DB_PASSWORD


async def _older_ciphertext_into_current_secrets(c: Chained) -> None:
    await _sql(
        c.database,
        ("UPDATE current_secrets SET ciphertext = $1 WHERE name = 'DB_PASSWORD'", FIRST.ciphertext),
    )


async def _unseal(c: Chained) -> None:
    await _sql(
        c.database, ("UPDATE events SET stream_hash = NULL, log_hash = NULL WHERE position = 8",)
    )


async def _copy_seals(c: Chained) -> None:
    await _sql(
        c.database,
        (
            "UPDATE events SET data = (SELECT data FROM events WHERE position = $1), "
            "stream_hash = (SELECT stream_hash FROM events WHERE position = $1) "
            "WHERE position = $2",
            c.first_set,
            c.last_set,
        ),
    )


async def _delete_chain_record(c: Chained) -> None:
    await _sql(c.database, ("DELETE FROM log_chain",))


async def _edit_head(c: Chained) -> None:
    await _sql(c.database, ("UPDATE log_chain SET head_mac = $1", "0" * 64))


TAMPERING: dict[str, tuple[Tamper, str]] = {
    "edit data": (_edit_data, "(secret.set N1, version 4) was edited"),
    "edit actor": (_edit_actor, "event 4 of project:"),
    "older value put back into the latest event": (
        _older_value_into_latest_event,
        "(secret.set DB_PASSWORD, version 10) was edited",
    ),
    "delete an event": (_delete_one, "event 6 is missing (positions jump from 5 to 7)"),
    "delete the newest events": (_truncate_newest, "the newest events were removed: the head says"),
    "truncate": (_truncate_all, "the log ends at 0"),
    "delete the newest and roll the head back": (
        _truncate_and_roll_head_back,
        "the read models were brought up to event",
    ),
    "reorder across streams": (_reorder_across_streams, "events reordered"),
    "reorder within a stream": (_reorder_within_a_stream, "events reordered"),
    "older ciphertext into current_secrets": (
        _older_ciphertext_into_current_secrets,
        "current_secrets differs from the log: DB_PASSWORD in environment",
    ),
    "remove seals": (_unseal, "carries no seal"),
    "copy an older event with its seal": (_copy_seals, "event 19 of env:"),
    "delete the chain record": (_delete_chain_record, "log_chain) was deleted"),
    "edit the head": (_edit_head, "the head record (table log_chain) was edited"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
async def test_verify_names_each_kind_of_tampering(chained: Chained, kind: str) -> None:
    tamper, words = TAMPERING[kind]
    await tamper(chained)
    report = await verify_log(chained.database, KEY)
    assert not report.intact
    assert words in (report.problem or ""), report.problem


async def test_a_recorded_head_catches_a_rollback_with_rebuilt_read_models(
    chained: Chained,
) -> None:
    head = (
        chained.end,
        KEY.head_mac(
            1,
            chained.end,
            (
                await chained.database.fetch(
                    "SELECT log_hash FROM events WHERE position = $1", chained.end
                )
            )[0][0],
        ),
    )
    await _truncate_and_roll_head_back(chained)
    await chained.store.rebuild_projections()  # the read models fit the shortened log
    assert (await verify_log(chained.database, KEY)).intact  # indistinguishable without...
    report = await verify_log(chained.database, KEY, recorded_head=head)  # ...the head
    assert "the head you recorded is event" in (report.problem or "")


async def test_the_dashboard_check_sees_its_streams_edits(chained: Chained) -> None:
    await _edit_data(chained)
    report = await verify_streams(chained.database, KEY, [chained.place.stream])
    assert "was edited" in (report.problem or "")
    other = await verify_streams(chained.database, KEY, [chained.place.env_stream(1)])
    assert other.intact
    await _older_ciphertext_into_current_secrets(chained)
    report = await verify_streams(chained.database, KEY, [chained.place.env_stream(1)])
    assert report.intact  # DB_PASSWORD lives in dev
    report = await verify_streams(chained.database, KEY, [chained.place.stream])
    assert "was edited" in (report.problem or "")


async def test_the_dashboard_check_sees_an_older_value_in_current_secrets(
    chained: Chained,
) -> None:
    await _older_ciphertext_into_current_secrets(chained)
    report = await verify_streams(chained.database, KEY, [chained.place.stream])
    assert "DB_PASSWORD in environment" in (report.problem or ""), report.problem


async def test_a_process_without_the_key_cannot_append_to_a_chained_log(
    chained: Chained,
) -> None:
    with pytest.raises(StartupError, match="chained"):
        await SqlEventStore(chained.database).append(
            chained.place.stream, None, news(set_(chained.place.env, "X"))
        )


async def test_an_existing_log_is_chained_from_where_the_chain_starts(database: Database) -> None:
    unkeyed = SqlEventStore(database)
    place = await make_place(unkeyed)
    await unkeyed.append(place.stream, None, news(set_(place.env, "OLD")))
    assert await begin_chain(database, KEY) == 6
    store = SqlEventStore(database, KEY)
    await store.append(place.stream, None, news(set_(place.env, "OLD"), set_(place.env, "NEW")))
    report = await verify_log(database, KEY)
    assert report.intact, report.problem
    assert (report.starts_at, report.checked, report.through) == (6, 2, 7)
    assert await begin_chain(database, KEY) == 6  # once


# -- with the keys: rotation, and the admin command ---------------------------------------


def _settings(url: str, data_dir: Path, *keys: bytes) -> Settings:
    text = ",".join(base64.b64encode(key).decode("ascii") for key in keys)
    return Settings(data_dir=data_dir, database_url=url, encryption_key=text)


async def _write(settings: Settings, names: list[str], org_name: str = "Acme") -> None:
    services = await open_services(settings)
    try:
        org = await services.catalog.create_org(org_name, ALICE)
        project = await services.catalog.create_project(org.id, "Shop", ALICE)
        [env, *_] = await services.catalog.environments(project.id)
        for name in names:
            await services.secrets.set(env.id, {name: "value"}, ALICE)
    finally:
        await services.close()


async def test_the_chain_survives_master_key_rotation(database_url: str, tmp_path: Path) -> None:
    old, new = os.urandom(32), os.urandom(32)
    await _write(_settings(database_url, tmp_path, old), ["A", "B"])
    await rotate_key(
        _settings(database_url, tmp_path, new, old), status_only=False, activate_after=0
    )
    await _write(_settings(database_url, tmp_path, new), ["C"], "Beta")  # the new key only
    report = await verify(_settings(database_url, tmp_path, new))
    assert report.intact, report.problem
    assert report.checked == report.through > 0


async def test_sigillo_admin_verify(database_url: str, tmp_path: Path) -> None:
    key = os.urandom(32)
    await _write(_settings(database_url, tmp_path, key), ["DB_PASSWORD"])
    env = {**os.environ, "SIGILLO_ENCRYPTION_KEY": base64.b64encode(key).decode("ascii")}

    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "sigillo", "admin", "verify", *args]
        command += ["--database-url", database_url, "--data-dir", str(tmp_path)]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    intact = await asyncio.to_thread(admin)
    assert intact.returncode == 0, intact.stderr
    assert "the log is intact" in intact.stdout
    head = intact.stdout.split("head: ")[1].split()[0]
    assert (await asyncio.to_thread(admin, "--head", head)).returncode == 0
    assert (await asyncio.to_thread(admin, "--org", "Acme")).returncode == 0
    unknown = await asyncio.to_thread(admin, "--org", "Nobody")
    assert unknown.returncode == 2
    assert "no org has the id or the name 'Nobody'" in unknown.stderr
    bad = await asyncio.to_thread(admin, "--head", "12")
    assert bad.returncode == 2
    assert "--head must be POSITION:MAC" in bad.stderr

    database = await open_database(database_url)
    try:
        await _sql(database, ("UPDATE events SET actor_id = 'mallory' WHERE position = 2",))
    finally:
        await database.close()
    broken = await asyncio.to_thread(admin)
    assert broken.returncode == 1
    assert "error: the log does not verify: event 2 of " in broken.stderr
    assert "was edited" in broken.stderr


# -- kill -9 ---------------------------------------------------------------------------------


KILLS = 4


async def test_the_chain_holds_after_kill_9_during_appends(
    database_url: str, tmp_path: Path
) -> None:
    database = await open_database(database_url)
    try:
        await begin_chain(database, KEY)
        await make_place(SqlEventStore(database, KEY), slugs=("dev", "prod"))
    finally:
        await database.close()
    key = KEY_BYTES.hex()  # the writer process seals with the same key
    for kill in range(KILLS):
        acks = tmp_path / f"acks-{kill}.jsonl"
        writer = await asyncio.create_subprocess_exec(
            *writer_command(database_url, acks, "--chain-key", key),
            cwd=REPO,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(30):
            while read_acks(acks).ready is None:
                assert writer.returncode is None
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.05 + 0.05 * kill)
        writer.send_signal(signal.SIGKILL)
        await writer.wait()
        database = await open_database(database_url)
        try:
            report = await verify_log(database, KEY)
        finally:
            await database.close()
        assert report.intact, (kill, report.problem)
        assert report.checked == report.through > 3


async def test_the_dashboard_check_of_a_long_stream_covers_its_newest_events(
    chained: Chained,
) -> None:
    report = await verify_streams(chained.database, KEY, [chained.place.stream], newest=3)
    assert report.intact, report.problem
    assert (report.partial, report.checked, report.through) == (True, 3, chained.end)
    await _edit_data(chained)  # version 4: not among dev's newest three; `verify` finds it
    assert (await verify_streams(chained.database, KEY, [chained.place.stream], newest=3)).intact
    await _older_value_into_latest_event(chained)
    report = await verify_streams(chained.database, KEY, [chained.place.stream], newest=3)
    assert "(secret.set DB_PASSWORD, version 10) was edited" in (report.problem or "")


async def test_concurrent_writers_keep_one_chain(database_url: str) -> None:
    """Two connections (as two replicas) appending at once, to shared and own streams."""
    first, second = await open_database(database_url), await open_database(database_url)
    try:
        await begin_chain(first, KEY)
        place = await make_place(SqlEventStore(first, KEY))

        async def write(database: Database, name: str) -> None:
            store = SqlEventStore(database, KEY)
            for i in range(25):
                env = place.environment_ids[i % 2]
                await store.append(place.env_stream(i % 2), None, news(set_(env, f"{name}{i}")))

        await asyncio.gather(write(first, "A"), write(second, "B"))
        report = await verify_log(first, KEY)
        assert report.intact, report.problem
        assert report.checked == report.through == 54
    finally:
        await first.close()
        await second.close()
