"""Reads of the past over the API (issue 17): `at=` on the list, a get and a download (v0
and seed routes), as an RFC 3339 time or an event id. The answer is what a read then
would have answered; before the environment existed it is 404 with that reason; bad
input is 422 naming `at`; access is the current read's; a read of values is audited with
the moment. And the snapshot store (store/snapshots.py) on both databases.

Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import msgspec
import pytest

from sigillo.crypto.keyring import Keyring
from sigillo.domain.events import (
    Actor,
    NewEvent,
    RecordedEvent,
    SealedValue,
    SecretSet,
    SecretsRead,
)
from sigillo.domain.moments import Moment
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.services.catalog import CatalogService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.secrets import SecretsService
from sigillo.services.time_travel import TimeTravel
from sigillo.services.writing import Writer
from sigillo.store.database import Database
from sigillo.store.event_store import SqlEventStore
from sigillo.store.snapshots import SqlSnapshots
from tests.api.conftest import Api
from tests.api.helpers import Project, add_member, bearer, create_token, project

pytestmark = pytest.mark.asyncio

ALICE = Actor("user", "alice")
RULE = "must be an RFC 3339 time (2026-12-07T09:30:00Z) or an event id"
LONG = "must be at most 64 long"


def time_of(event: RecordedEvent) -> str:
    return str(Moment(time=event.occurred_at))


async def history(api: Api, made: Project) -> list[RecordedEvent]:
    """In dev: A=1 B=2, then A=3, B deleted, C=4 with B marked plain before its delete;
    a few ms apart, so that each write has a time of its own. Answers the first event of
    each write."""
    dev, actor = made.environments["dev"], made.admin_actor
    secrets = api.services.secrets
    written = []
    for write in (
        lambda: secrets.set(dev, {"A": "1", "B": "2"}, actor),
        lambda: secrets.change_kinds(dev, {"B": "plain"}, actor),
        lambda: secrets.set(dev, {"A": "3"}, actor),
        lambda: secrets.delete(dev, ["B"], actor),
        lambda: secrets.set(dev, {"C": "4"}, actor),
    ):
        await asyncio.sleep(0.003)
        written.append((await write())[-1])
        await asyncio.sleep(0.003)
    return written


async def download(api: Api, headers: dict[str, str], path: str, **query: str) -> Any:
    response = await api.client.get(path, headers=headers, params=query)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def test_list_get_and_download_answer_what_a_read_then_answered(api: Api) -> None:
    made = await project(api)
    both, marked, again, deleted, _added = await history(api, made)
    admin, dev = made.admin, made.path("dev", "/download")
    at = {
        "both": both.event_id,
        "marked": time_of(marked),
        "again": again.event_id.lower(),  # ids are read in any case
        "deleted": time_of(deleted),
    }
    assert await download(api, admin, dev, at=at["both"]) == {"A": "1", "B": "2"}
    assert await download(api, admin, dev, at=at["again"]) == {"A": "3", "B": "2"}
    assert await download(api, admin, dev, at=at["deleted"]) == {"A": "3"}
    assert await download(api, admin, dev) == {"A": "3", "C": "4"}
    # The kinds of then: B was plain before it was deleted.
    kinds = await download(api, admin, dev, at=at["marked"], format="json-kinds")
    assert kinds == {
        "A": {"value": "1", "kind": "secret"},
        "B": {"value": "2", "kind": "plain"},
    }
    # A time in the other offset's words is the same moment.
    with_offset = time_of(again).replace("Z", "+00:00")
    assert await download(api, admin, dev, at=with_offset) == {"A": "3", "B": "2"}

    listed = await api.client.get(made.path("dev"), headers=admin, params={"at": at["marked"]})
    assert listed.status_code == 200, listed.text
    items = listed.json()["secrets"]
    assert [(i["name"], i["kind"]) for i in items] == [("A", "secret"), ("B", "plain")]
    first = (await api.services.store.read_stream(environment_stream(made.environments["dev"])))[0]
    assert (items[0]["id"], items[1]["id"]) == (first.event_id, both.event_id)
    assert listed.json()["allNames"] == ["A", "B"]
    now = (await api.client.get(made.path("dev"), headers=admin)).json()
    assert now["allNames"] == ["A", "C"]

    got = await api.client.get(made.path("dev", "/A"), headers=admin, params={"at": at["both"]})
    assert (got.status_code, got.json()["value"], got.json()["name"]) == (200, "1", "A")
    assert got.headers["cache-control"] == "no-store"
    for name, moment in (("C", at["again"]), ("B", at["deleted"])):  # not live then
        missing = await api.client.get(
            made.path("dev", f"/{name}"), headers=admin, params={"at": moment}
        )
        assert (missing.status_code, missing.json()) == (404, {"error": "not found"})

    # The seed README's routes take `at` too.
    seed = f"/api/environments/{made.environments['dev']}/secrets"
    assert await download(api, admin, seed + "/download", at=at["both"]) == {"A": "1", "B": "2"}
    seed_list = await api.client.get(seed, headers=admin, params={"at": at["deleted"]})
    assert [i["name"] for i in seed_list.json()["secrets"]] == ["A"]


async def test_a_moment_before_the_environment_existed_is_404_with_that_reason(api: Api) -> None:
    made = await project(api)
    await history(api, made)
    [first] = await api.services.store.read_all(0, 1)  # the log's first event
    early = await api.services.store.get(EnvironmentRow, (made.environments["dev"],))
    assert early is not None
    assert first.position < early.position
    cases = {
        "2001-02-03T04:05:06Z": "2001-02-03T04:05:06.000Z",
        first.event_id: first.event_id,
        str(Moment(time=early.created_at - 1)): str(Moment(time=early.created_at - 1)),
    }
    for given, said in cases.items():
        for path in (made.path("dev"), made.path("dev", "/A"), made.path("dev", "/download")):
            response = await api.call("GET", path, headers=made.admin, params={"at": given})
            expected = {"error": f"environment: it did not exist yet at {said}"}
            assert (response.status_code, response.json()) == (404, expected), path
    # At its creation it exists, empty.
    exactly = str(Moment(time=early.created_at))
    empty = await download(api, made.admin, made.path("dev", "/download"), at=exactly)
    assert empty == {}
    assert await reads_of(api, made.environments["dev"]) == [(made.admin_actor, exactly, [], 0)]


async def test_bad_moments_are_422_naming_at_and_unknown_event_ids_404(api: Api) -> None:
    made = await project(api)
    await history(api, made)
    bad = [
        "yesterday",
        "2026-12-07T09:30:00",  # no offset
        "2026-12-07",  # no time
        "2026-13-07T09:30:00Z",
        "2026-12-07T09:30:00Z" + " " * 30 + "x" * 20,  # too long
        "",
        "01JE000000000000000000F0U1",  # U is not in an id's alphabet
    ]
    for given in bad:
        for path in (made.path("dev"), made.path("dev", "/A"), made.path("dev", "/download")):
            response = await api.call("GET", path, headers=made.admin, params={"at": given})
            assert response.status_code == 422, (given, path, response.text)
            [detail] = response.json()["detail"]
            assert detail["field"] == "at", response.text
            # A fixed text (the schema's length rule, or the rule of a moment): never the input
            assert detail["message"] in (RULE, "must be at least 1 long", LONG), detail
    unknown = "01JE0000000000000000000000"
    response = await api.call(
        "GET", made.path("dev", "/download"), headers=made.admin, params={"at": unknown}
    )
    assert (response.status_code, response.json()) == (404, {"error": f"event {unknown} not found"})
    assert await reads_of(api, made.environments["dev"]) == []  # nothing was read


async def test_the_past_is_reached_as_the_present_is(api: Api) -> None:
    made = await project(api)
    both, *_ = await history(api, made)
    prod = made.environments["prod"]
    await api.services.secrets.set(prod, {"P": "prod-secret"}, made.admin_actor)
    moment = {"at": str(Moment(time=2**41))}  # in 2039: every event so far
    scoped = bearer((await create_token(api, made, environmentId="dev"))["key"])
    assert await download(api, scoped, made.path("dev", "/download"), **moment) == {
        "A": "3",
        "C": "4",
    }
    for path in (made.path("prod"), made.path("prod", "/P"), made.path("prod", "/download")):
        for query in (moment, {"at": both.event_id}, {}):
            response = await api.call("GET", path, headers=scoped, params=query)
            assert (response.status_code, response.json()) == (
                403,
                {"error": "token is scoped to a different environment"},
            ), (path, query)
    # Another org's member and another project's token are refused as for a current read.
    other = await project(api, name="Other")
    stranger = other.admin
    other_token = bearer((await create_token(api, other))["key"])
    dev_id = made.environments["dev"]  # by id: a token reads a slug in its own project
    for headers in (stranger, other_token):
        for path in (made.path(dev_id, "/download"), made.path(dev_id, "/A")):
            now = await api.call("GET", path, headers=headers)
            then = await api.call("GET", path, headers=headers, params=moment)
            assert then.status_code == now.status_code in (403, 404), then.text
            assert then.json() == now.json()
    # A member of the org reads the past as the present.
    member = await api.user("Member")
    await add_member(api, made, member)
    assert await download(api, member, made.path("prod", "/download"), **moment) == {
        "P": "prod-secret"
    }
    [(who, *read)] = await reads_of(api, made.environments["dev"])
    assert (who.kind, read) == ("token", [moment["at"], [], 6])


async def reads_of(api: Api, environment_id: str) -> list[tuple[Actor, str | None, list[str], int]]:
    """(who, at, names, version) of each audited read of the environment."""
    found = []
    for recorded in await api.services.store.read_stream(reads_stream(environment_id)):
        read = recorded.event
        assert isinstance(read, SecretsRead)
        found.append((recorded.actor, read.at, read.names, read.version or 0))
    return found


async def test_a_read_of_the_past_is_audited_with_its_moment_first(api: Api) -> None:
    made = await project(api)
    both, marked, *_ = await history(api, made)
    dev = made.environments["dev"]
    await download(api, made.admin, made.path("dev", "/download"), at=both.event_id.lower())
    got = await api.client.get(
        made.path("dev", "/B"), headers=made.admin, params={"at": time_of(marked)}
    )
    assert got.json()["value"] == "2"
    future = {"at": "2100-01-01T00:00:00+02:00"}
    listed = await api.client.get(made.path("dev"), headers=made.admin, params=future)
    assert listed.status_code == 200  # a listing reads no value: nothing is recorded
    actor = made.admin_actor
    assert await reads_of(api, dev) == [
        (actor, both.event_id, [], 2),  # a whole read: the version read (its names: replay)
        (actor, time_of(marked), ["B"], 0),
    ]
    [whole, _] = await api.services.store.read_stream(reads_stream(dev))
    assert isinstance(whole.event, SecretsRead)
    assert whole.event.count == 2
    assert whole.event.how == "download"
    # The audit log says which moment was read.
    log = await api.client.get(
        f"/api/v0/projects/{made.id}/environments/dev/events", headers=made.admin
    )
    assert log.status_code == 200, log.text
    read_entries = [e for e in log.json()["events"] if e["type"] == "secrets.read"]
    assert [e.get("asOf") for e in read_entries] == [time_of(marked), both.event_id]
    assert read_entries[1]["secretsVersion"] == 2
    # An old read, without `at`, still decodes and encodes as it always did.
    old = SecretsRead(dev, ["A"], "get")
    assert b'"at"' not in msgspec.json.encode(old)


async def test_openapi_documents_at_on_every_read_of_values_and_listing(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    operations = {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for name in (
        "listSecrets",
        "getSecret",
        "downloadSecrets",
        "listEnvironmentSecrets",
        "downloadEnvironmentSecrets",
    ):
        [at] = [p for p in operations[name].get("parameters", []) if p["name"] == "at"]
        assert (at["in"], at.get("required", False)) == ("query", False), name
        assert "RFC 3339" in at["description"]
        assert "event id" in at["description"]


# -- the snapshot store, on both databases ---------------------------------------------


async def test_snapshots_on_the_database_are_the_full_replay(database: Database) -> None:
    store = SqlEventStore(database)
    writer = Writer(store, Clock(), UlidFactory())
    catalog = CatalogService(store, writer)
    org = await catalog.create_org("Acme", ALICE)
    created = await catalog.create_project(org.id, "App", ALICE)
    environment = (await catalog.environments(created.id))[0]
    ids = UlidFactory()
    stream, events = environment_stream(environment.id), []
    for i in range(300):
        value = SealedValue("k1", os.urandom(12), f"value {i}".encode() * 3)
        event = SecretSet(environment.id, f"N{i % 23}", value)
        events.append(NewEvent(ids(), environment.created_at + i, ALICE, event))
    for start in range(0, 300, 100):
        await store.append(stream, None, events[start : start + 100])
    snapshots = SqlSnapshots(database)
    travel = TimeTravel(store, snapshots, spacing=32, batch=50)
    plain = TimeTravel(store)
    moments = [Moment(time=environment.created_at + 150), Moment(time=2**42)]
    recorded = await store.read_stream(stream)
    moments.append(Moment(event_id=recorded[200].event_id))
    for moment, version in zip(moments, (151, 300, 201), strict=True):
        cold = await travel.at(environment, moment)
        warm = await travel.at(environment, moment)
        assert travel.replayed < 32
        full = await plain.at(environment, moment)
        assert cold == warm
        assert (cold.version, cold.position, cold.rows) == (full.version, full.position, full.rows)
        assert cold.version == version
    rows = await database.fetch("SELECT version FROM environment_snapshots ORDER BY version")
    assert [row[0] for row in rows] == list(range(32, 301, 32))
    now = await travel.at(environment, moments[1])
    live = await store.select(CurrentSecretRow, "environment_id", environment.id)
    assert list(now.rows) == sorted(live, key=lambda r: r.live_since)
    # The table is a cache: emptied under a running server, its snapshots known in memory
    # are found gone, the list is read again, and the read folds from the start.
    forgetful = TimeTravel(store, SqlSnapshots(database, states=1), spacing=32, batch=50)
    await forgetful.at(environment, moments[1])
    async with database.writing() as tx:
        await tx.execute("DELETE FROM environment_snapshots")
    again = await forgetful.at(environment, moments[0])
    assert (again.version, again.rows) == (151, (await plain.at(environment, moments[0])).rows)
    assert forgetful.replayed == 151
    # Through the service too: the values then.
    keyring = Keyring([os.urandom(32)])
    service = SecretsService(store, keyring, writer, travel)
    past = await service.at(environment, moments[0])
    assert len(past.rows) == 23
    await snapshots.keep([])  # nothing to keep is nothing to do
