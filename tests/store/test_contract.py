"""The EventStore contract (services/ports.py), on the in-memory fake, SQLite and PostgreSQL.

Every test runs on all three stores: the fake must behave exactly like the real ones.
"""

from __future__ import annotations

import pytest

from sigillo.domain.errors import ConcurrencyError, Conflict, NotFound
from sigillo.domain.events import (
    Actor,
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentRenamed,
    NewEvent,
    OrgCreated,
    ProjectCreated,
    ProjectDeleted,
    ProjectRenamed,
    RecordedEvent,
    SealedValue,
    SecretDeleted,
    SecretSet,
)
from sigillo.domain.projections.rows import (
    CurrentSecretRow,
    EnvironmentRow,
    KeyUsageRow,
    OrgRow,
    ProjectRow,
)
from sigillo.domain.streams import environment_stream, org_stream, project_stream
from sigillo.services.ports import Append, EventStore
from tests.store.helpers import (
    ALICE,
    BOB,
    ROBOT,
    SYSTEM,
    delete,
    everything,
    make_org,
    make_place,
    make_project,
    new,
    new_id,
    news,
    sealed,
    set_,
)

pytestmark = pytest.mark.asyncio


def _orgs(n: int) -> list[NewEvent]:
    return [new(OrgCreated(new_id(), f"Org {i}")) for i in range(n)]


def _expected(first_position: int, stream: str, first_version: int, events: list[NewEvent]):
    return [
        RecordedEvent(
            first_position + i,
            stream,
            first_version + i,
            e.event_id,
            e.occurred_at,
            e.actor,
            e.event,
        )
        for i, e in enumerate(events)
    ]


# The log: numbering, reading, optimistic concurrency.


async def test_versions_count_per_stream_and_positions_across_streams(store: EventStore) -> None:
    a1, b1, a2, c1, b2 = _orgs(2), _orgs(1), _orgs(3), _orgs(1), _orgs(2)
    assert await store.append("a", 0, a1) == _expected(1, "a", 1, a1)
    assert await store.append("b", 0, b1) == _expected(3, "b", 1, b1)
    assert await store.append("a", 2, a2) == _expected(4, "a", 3, a2)
    assert await store.append("c", None, c1) == _expected(7, "c", 1, c1)
    assert await store.append("b", None, b2) == _expected(8, "b", 2, b2)

    log = await store.read_all()
    assert [(e.position, e.stream, e.version) for e in log] == [
        (1, "a", 1),
        (2, "a", 2),
        (3, "b", 1),
        (4, "a", 3),
        (5, "a", 4),
        (6, "a", 5),
        (7, "c", 1),
        (8, "b", 2),
        (9, "b", 3),
    ]
    assert [e.event_id for e in log] == [e.event_id for e in a1 + b1 + a2 + c1 + b2]
    assert [await store.stream_version(s) for s in ("a", "b", "c", "nope")] == [5, 3, 1, 0]


async def test_read_stream_from_a_version(store: EventStore) -> None:
    first, second = _orgs(3), _orgs(2)
    await store.append("s", 0, first)
    await store.append("other", 0, _orgs(2))
    await store.append("s", 3, second)

    assert await store.read_stream("s") == [
        *_expected(1, "s", 1, first),
        *_expected(6, "s", 4, second),
    ]
    assert [e.version for e in await store.read_stream("s", after_version=2)] == [3, 4, 5]
    assert [e.position for e in await store.read_stream("s", after_version=3)] == [6, 7]
    assert await store.read_stream("s", after_version=5) == []
    assert await store.read_stream("missing") == []


async def test_read_all_pages_by_position(store: EventStore) -> None:
    for stream in ("x", "y", "x", "z", "y"):
        await store.append(stream, None, _orgs(2))
    full = await store.read_all()
    assert [e.position for e in full] == list(range(1, 11))

    assert await store.read_all(after_position=4, limit=3) == full[4:7]
    assert await store.read_all(after_position=8) == full[8:]
    assert await store.read_all(after_position=10) == []
    assert await store.read_all(limit=1) == full[:1]
    assert await everything(store) == full


async def test_wrong_expected_version_raises_and_appends_nothing(store: EventStore) -> None:
    await store.append("s", 0, _orgs(2))
    await store.append("t", 0, _orgs(1))
    before = await store.read_all()

    for expected in (0, 1, 3, 17):
        with pytest.raises(ConcurrencyError) as raised:
            await store.append("s", expected, _orgs(2))
        assert (raised.value.stream, raised.value.expected, raised.value.actual) == (
            "s",
            expected,
            2,
        )
    with pytest.raises(ConcurrencyError):
        await store.append("new-stream", 1, _orgs(1))

    assert await store.read_all() == before
    assert await store.stream_version("s") == 2
    assert await store.stream_version("new-stream") == 0

    # The failed attempts left no hole: the next append takes the next position.
    [recorded] = await store.append("s", 2, _orgs(1))
    assert (recorded.position, recorded.version) == (4, 3)


async def test_expected_version_none_appends_at_the_end(store: EventStore) -> None:
    first = await store.append("s", None, _orgs(2))
    assert [e.version for e in first] == [1, 2]
    await store.append("other", None, _orgs(1))
    then = await store.append("s", None, _orgs(3))
    assert [(e.position, e.version) for e in then] == [(4, 3), (5, 4), (6, 5)]


async def test_append_many_numbers_several_streams_in_one_transaction(store: EventStore) -> None:
    await store.append("a", 0, _orgs(1))
    a, b, a_again = _orgs(2), _orgs(1), _orgs(1)
    recorded = await store.append_many(
        [Append("a", 1, a), Append("b", None, b), Append("a", 3, a_again)]
    )
    assert recorded == [
        _expected(2, "a", 2, a),
        _expected(4, "b", 1, b),
        _expected(5, "a", 4, a_again),
    ]
    assert await store.read_all() == [
        *(await store.read_stream("a"))[:1],
        *recorded[0],
        *recorded[1],
        *recorded[2],
    ]
    assert await store.append_many([]) == []
    assert await store.append_many([Append("c", None, [])]) == [[]]


async def test_append_many_is_all_or_nothing(store: EventStore) -> None:
    await store.append("a", 0, _orgs(2))
    before = await store.read_all()
    # The second part expects a version the stream has no longer once the first landed.
    with pytest.raises(ConcurrencyError):
        await store.append_many(
            [Append("b", None, _orgs(1)), Append("a", 2, _orgs(1)), Append("a", 2, _orgs(1))]
        )
    [twice] = _orgs(1)
    with pytest.raises(Conflict, match="duplicate id"):
        await store.append_many([Append("b", None, [twice]), Append("c", None, [twice])])
    assert await store.read_all() == before
    assert await store.stream_version("b") == 0
    # Nothing was half-done: no row, no hole in the numbering.
    assert await store.get(OrgRow, (twice.event.org_id,)) is None
    [next_one] = await store.append("b", 0, _orgs(1))
    assert (next_one.position, next_one.version) == (3, 1)


async def test_empty_append_is_a_no_op(store: EventStore) -> None:
    assert await store.append("s", None, []) == []
    assert await store.append("s", 0, []) == []
    assert await store.read_all() == []
    assert await store.stream_version("s") == 0

    await store.append("s", 0, _orgs(1))
    assert await store.append("s", 1, []) == []
    assert await store.append("s", None, []) == []
    assert [e.position for e in await store.read_all()] == [1]
    assert await store.stream_version("s") == 1


async def test_events_round_trip_every_field(store: EventStore) -> None:
    every_byte = bytes(range(256))
    org_id, project_id, env_id = new_id(), new_id(), new_id()
    events = [
        NewEvent(new_id(), 0, SYSTEM, OrgCreated(org_id, "Ünïcode ☃ Org")),
        NewEvent(new_id(), 1, ALICE, ProjectCreated(project_id, org_id, "Prøject")),
        NewEvent(new_id(), 2, ALICE, ProjectRenamed(project_id, "Renamed — ok")),
        NewEvent(new_id(), 3, ALICE, EnvironmentCreated(env_id, project_id, "Dev", "dev")),
        NewEvent(new_id(), 4, ALICE, EnvironmentRenamed(env_id, "Develop", "develop")),
        NewEvent(
            new_id(),
            2**53 + 1,
            ROBOT,
            SecretSet(env_id, "API_KEY", SealedValue("key-ä", every_byte[:12], every_byte, 7)),
        ),
        NewEvent(new_id(), 2**62, BOB, SecretSet(env_id, "EMPTY", SealedValue("k", b"", b"", 1))),
        NewEvent(new_id(), 7, BOB, SecretDeleted(env_id, "API_KEY")),
        NewEvent(new_id(), 8, SYSTEM, EnvironmentDeleted(env_id)),
        NewEvent(new_id(), 9, SYSTEM, ProjectDeleted(project_id)),
    ]
    stream = environment_stream(env_id)
    recorded = await store.append(stream, 0, events[:5])
    recorded += await store.append(stream, 5, events[5:])
    expected = _expected(1, stream, 1, events)
    assert recorded == expected
    assert await store.read_stream(stream) == expected
    assert await store.read_all() == expected
    history = await store.secret_history(env_id, "API_KEY")
    assert history == [expected[5], expected[7]]
    sealed_value = history[0].event.value  # type: ignore[union-attr]
    assert sealed_value.ciphertext == every_byte
    assert isinstance(sealed_value.ciphertext, bytes)


# secret_history


async def test_secret_history_is_one_name_in_one_environment(store: EventStore) -> None:
    place = await make_place(store)
    dev, prod = place.environment_ids
    await store.append(place.stream, 0, news(set_(dev, "X"), set_(dev, "Y")))
    await store.append(environment_stream(prod), 0, news(set_(prod, "X")))
    await store.append(place.stream, 2, news(delete(dev, "X"), set_(dev, "x")))
    await store.append(place.stream, 4, news(set_(dev, "X"), delete(dev, "Y")))
    await store.append(place.stream, 6, news(delete(dev, "NEVER_SET")))

    dev_log = await store.read_stream(place.stream)
    assert await store.secret_history(dev, "X") == [dev_log[0], dev_log[2], dev_log[4]]
    assert await store.secret_history(dev, "x") == [dev_log[3]]
    assert await store.secret_history(dev, "Y") == [dev_log[1], dev_log[5]]
    assert await store.secret_history(dev, "NEVER_SET") == [dev_log[6]]
    assert await store.secret_history(prod, "X") == await store.read_stream(
        environment_stream(prod)
    )
    assert await store.secret_history(dev, "MISSING") == []
    assert await store.secret_history(new_id(), "X") == []


# Appends are all or nothing, projections included.


async def test_an_append_that_fails_in_projection_commits_nothing(store: EventStore) -> None:
    place = await make_place(store)
    await store.append(place.stream, 0, news(set_(place.env, "KEEP", key_id="k-old")))
    before = await store.read_all()
    rows_before = await store.select(CurrentSecretRow, "environment_id", place.env)
    missing_env = new_id()

    batch = news(
        set_(place.env, "NEW", key_id="k-new"),
        delete(place.env, "KEEP"),
        set_(missing_env, "B", key_id="k-new"),
    )
    with pytest.raises(NotFound):
        await store.append(place.stream, 1, batch)
    with pytest.raises(NotFound):
        await store.append(place.stream, None, news(delete(missing_env, "B")))

    assert await store.read_all() == before
    assert await store.stream_version(place.stream) == 1
    assert await store.select(CurrentSecretRow, "environment_id", place.env) == rows_before
    assert await store.get(CurrentSecretRow, (place.env, "NEW")) is None
    assert await store.get(KeyUsageRow, ("k-new",)) is None
    assert await store.get(KeyUsageRow, ("k-old",)) == KeyUsageRow("k-old", 1)
    assert await store.secret_history(place.env, "NEW") == []
    assert (await store.rebuild_projections(check_only=True)).identical

    # No gap where the failed append was: positions and versions carry on.
    [after] = await store.append(place.stream, 1, news(set_(place.env, "NEW")))
    assert (after.position, after.version) == (before[-1].position + 1, 2)


async def test_secrets_of_a_missing_environment_are_refused(store: EventStore) -> None:
    missing = new_id()
    with pytest.raises(NotFound):
        await store.append(environment_stream(missing), 0, news(set_(missing, "A")))
    assert await store.read_all() == []
    assert await store.stream_version(environment_stream(missing)) == 0


# The current-secrets read model (behaviour.md 3.5).


async def test_current_secrets_follow_the_worked_example(store: EventStore) -> None:
    place = await make_place(store)
    env = place.env
    v = {name: sealed(name.encode(), key_id="k1") for name in ("A1", "Bx", "A2", "Cz", "By")}
    events = [
        new(SecretSet(env, "A", v["A1"]), at=100, event_id="E1", actor=ALICE),
        new(SecretSet(env, "B", v["Bx"]), at=200, event_id="E2", actor=ALICE),
        new(SecretSet(env, "A", v["A2"]), at=300, event_id="E3", actor=ROBOT),
        new(SecretDeleted(env, "B"), at=400, event_id="E4", actor=ALICE),
        new(SecretSet(env, "C", v["Cz"]), at=500, event_id="E5", actor=BOB),
        new(SecretSet(env, "B", v["By"]), at=600, event_id="E6", actor=ALICE),
    ]
    positions = {}
    for version, event in enumerate(events):  # one append per event, as in the example
        [recorded] = await store.append(place.stream, version, [event])
        positions[event.event_id] = recorded.position

    rows = await store.select(CurrentSecretRow, "environment_id", env)
    assert [(r.name, r.secret_id, r.created_at, r.updated_at) for r in rows] == [  # type: ignore[attr-defined]
        ("A", "E3", 100, 300),
        ("C", "E5", 500, 500),
        ("B", "E6", 600, 600),
    ]
    assert rows == [
        _current(env, "A", "E3", v["A2"], 100, 300, positions["E1"], ROBOT),
        _current(env, "C", "E5", v["Cz"], 500, 500, positions["E5"], BOB),
        _current(env, "B", "E6", v["By"], 600, 600, positions["E6"], ALICE),
    ]
    assert await store.get(CurrentSecretRow, (env, "A")) == rows[0]
    assert await store.get(CurrentSecretRow, (env, "B")) == rows[2]
    assert await store.get(CurrentSecretRow, (env, "a")) is None  # names are case-sensitive
    assert await store.select(CurrentSecretRow, "environment_id", place.environment_ids[1]) == []


async def test_the_worked_example_in_one_bulk_append(store: EventStore) -> None:
    place = await make_place(store)
    env = place.env
    events = [
        new(set_(env, "A"), at=100, event_id="E1"),
        new(set_(env, "B"), at=200, event_id="E2"),
        new(set_(env, "A"), at=300, event_id="E3"),
        new(delete(env, "B"), at=400, event_id="E4"),
        new(set_(env, "C"), at=500, event_id="E5"),
        new(set_(env, "B"), at=600, event_id="E6"),
    ]
    await store.append(place.stream, 0, events)
    rows = await store.select(CurrentSecretRow, "environment_id", env)
    assert [(r.name, r.secret_id, r.created_at, r.updated_at) for r in rows] == [  # type: ignore[attr-defined]
        ("A", "E3", 100, 300),
        ("C", "E5", 500, 500),
        ("B", "E6", 600, 600),
    ]
    assert rows[0].ciphertext == events[2].event.value.ciphertext  # type: ignore[attr-defined,union-attr]


def _current(env, name, secret_id, value, created, updated, live_since, actor):
    return CurrentSecretRow(
        environment_id=env,
        name=name,
        secret_id=secret_id,
        key_id=value.key_id,
        nonce=value.nonce,
        ciphertext=value.ciphertext,
        format=value.format,
        created_at=created,
        updated_at=updated,
        live_since=live_since,
        actor_kind=actor.kind,
        actor_id=actor.id,
    )


async def test_deleting_a_name_that_is_not_live_still_appends(store: EventStore) -> None:
    place = await make_place(store)
    await store.append(place.stream, 0, news(set_(place.env, "LIVE")))
    rows = await store.select(CurrentSecretRow, "environment_id", place.env)

    [recorded] = await store.append(place.stream, 1, news(delete(place.env, "GHOST")))
    assert (recorded.version, recorded.event) == (2, SecretDeleted(place.env, "GHOST"))
    await store.append(place.stream, 2, news(delete(place.env, "GHOST")))
    assert await store.stream_version(place.stream) == 3
    assert len(await store.secret_history(place.env, "GHOST")) == 2
    assert await store.select(CurrentSecretRow, "environment_id", place.env) == rows


async def test_setting_an_identical_value_appends_and_keeps_created_at(store: EventStore) -> None:
    place = await make_place(store)
    value = sealed(b"same")
    first = new(SecretSet(place.env, "A", value), at=10)
    again = new(SecretSet(place.env, "A", value), at=20)
    await store.append(place.stream, 0, [first])
    await store.append(place.stream, 1, [again])
    row = await store.get(CurrentSecretRow, (place.env, "A"))
    assert isinstance(row, CurrentSecretRow)
    assert (row.secret_id, row.created_at, row.updated_at) == (again.event_id, 10, 20)
    assert await store.stream_version(place.stream) == 2


async def test_key_usage_counts_seals_per_key(store: EventStore) -> None:
    place = await make_place(store)
    dev, prod = place.environment_ids
    await store.append(place.stream, None, news(set_(dev, "A", "k1"), set_(dev, "B", "k2")))
    await store.append(place.stream, None, news(set_(dev, "A", "k1"), delete(dev, "A")))
    await store.append(environment_stream(prod), None, news(set_(prod, "A", "k1")))
    await store.append(place.stream, None, news(delete(dev, "B")))
    assert await store.get(KeyUsageRow, ("k1",)) == KeyUsageRow("k1", 3)
    assert await store.get(KeyUsageRow, ("k2",)) == KeyUsageRow("k2", 1)
    assert await store.get(KeyUsageRow, ("k3",)) is None
    assert await store.select(KeyUsageRow, "key_id", "k2") == [KeyUsageRow("k2", 1)]

    # Deleting the environment forgets its secrets, not how often a key was used.
    await store.append(project_stream(place.project_id), None, news(EnvironmentDeleted(prod)))
    assert await store.get(KeyUsageRow, ("k1",)) == KeyUsageRow("k1", 3)


# The catalog read models.


async def test_org_project_and_environment_rows(store: EventStore) -> None:
    org_id, project_id = new_id(), new_id()
    env_ids = [new_id() for _ in range(3)]
    [org] = await store.append(org_stream(org_id), 0, [new(OrgCreated(org_id, "Acme"), at=1000)])
    recorded = await store.append(
        project_stream(project_id),
        0,
        [
            new(ProjectCreated(project_id, org_id, "My App"), at=2000),
            *(
                new(EnvironmentCreated(env_id, project_id, name, slug), at=2000)
                for env_id, (name, slug) in zip(
                    env_ids, [("Dev", "dev"), ("Preview", "preview"), ("Prod", "prod")], strict=True
                )
            ),
        ],
    )
    other = await make_project(store, org_id, "Other")

    assert await store.get(OrgRow, (org_id,)) == OrgRow(org_id, "Acme", 1000, 1000, org.position)
    project = ProjectRow(project_id, org_id, "My App", 2000, 2000, recorded[0].position)
    assert await store.get(ProjectRow, (project_id,)) == project
    assert await store.select(ProjectRow, "org_id", org_id) == [
        project,
        await store.get(ProjectRow, (other.project_id,)),
    ]
    envs = await store.select(EnvironmentRow, "project_id", project_id)
    assert envs == [
        EnvironmentRow(env_id, project_id, name, slug, 2000, 2000, r.position)
        for env_id, (name, slug), r in zip(
            env_ids,
            [("Dev", "dev"), ("Preview", "preview"), ("Prod", "prod")],
            recorded[1:],
            strict=True,
        )
    ]
    assert await store.get(EnvironmentRow, (env_ids[1],)) == envs[1]
    assert await store.select(EnvironmentRow, "slug", "preview") == [envs[1]]
    assert await store.get(OrgRow, (new_id(),)) is None
    assert await store.get(ProjectRow, (org_id,)) is None
    assert await store.select(ProjectRow, "org_id", new_id()) == []


async def test_renaming_a_project_keeps_its_creation(store: EventStore) -> None:
    org_id = await make_org(store)
    place = await make_project(store, org_id, "Before")
    created = await store.get(ProjectRow, (place.project_id,))
    assert isinstance(created, ProjectRow)
    await store.append(
        project_stream(place.project_id),
        None,
        [new(ProjectRenamed(place.project_id, "After"), at=created.created_at + 5000)],
    )
    assert await store.get(ProjectRow, (place.project_id,)) == ProjectRow(
        place.project_id,
        org_id,
        "After",
        created.created_at,
        created.created_at + 5000,
        created.position,
    )


async def test_renaming_an_environment(store: EventStore) -> None:
    place = await make_place(store)
    await store.append(place.stream, 0, news(set_(place.env, "A")))
    before = await store.get(EnvironmentRow, (place.env,))
    secrets = await store.select(CurrentSecretRow, "environment_id", place.env)
    assert isinstance(before, EnvironmentRow)
    await store.append(
        project_stream(place.project_id),
        None,
        [new(EnvironmentRenamed(place.env, "Staging", "staging"), at=before.created_at + 7)],
    )
    assert await store.get(EnvironmentRow, (place.env,)) == EnvironmentRow(
        place.env,
        place.project_id,
        "Staging",
        "staging",
        before.created_at,
        before.created_at + 7,
        before.position,
    )
    assert await store.select(CurrentSecretRow, "environment_id", place.env) == secrets


async def test_deleting_an_environment_removes_it_and_its_secrets(store: EventStore) -> None:
    place = await make_place(store)
    dev, prod = place.environment_ids
    await store.append(environment_stream(dev), 0, news(set_(dev, "A"), set_(dev, "B")))
    await store.append(environment_stream(prod), 0, news(set_(prod, "A")))
    prod_env = await store.get(EnvironmentRow, (prod,))
    prod_secrets = await store.select(CurrentSecretRow, "environment_id", prod)

    await store.append(project_stream(place.project_id), None, news(EnvironmentDeleted(dev)))

    assert await store.get(EnvironmentRow, (dev,)) is None
    assert await store.select(EnvironmentRow, "project_id", place.project_id) == [prod_env]
    assert await store.select(CurrentSecretRow, "environment_id", dev) == []
    assert await store.get(CurrentSecretRow, (dev, "A")) is None
    assert await store.select(CurrentSecretRow, "environment_id", prod) == prod_secrets
    assert len(await store.secret_history(dev, "A")) == 1  # the log keeps it
    with pytest.raises(NotFound):
        await store.append(environment_stream(dev), None, news(set_(dev, "C")))
    assert await store.stream_version(environment_stream(dev)) == 2


async def test_deleting_a_project_removes_its_environments_and_secrets(store: EventStore) -> None:
    org_id = await make_org(store)
    doomed = await make_project(store, org_id, "Doomed", slugs=("dev", "preview", "prod"))
    kept = await make_project(store, org_id, "Kept")
    for place in (doomed, kept):
        for env in place.environment_ids:
            await store.append(environment_stream(env), 0, news(set_(env, "A"), set_(env, "B")))
    kept_project = await store.get(ProjectRow, (kept.project_id,))
    kept_envs = await store.select(EnvironmentRow, "project_id", kept.project_id)
    kept_secrets = [
        await store.select(CurrentSecretRow, "environment_id", env) for env in kept.environment_ids
    ]

    await store.append(
        project_stream(doomed.project_id), None, news(ProjectDeleted(doomed.project_id))
    )

    assert await store.get(ProjectRow, (doomed.project_id,)) is None
    assert await store.select(ProjectRow, "org_id", org_id) == [kept_project]
    assert await store.select(EnvironmentRow, "project_id", doomed.project_id) == []
    for env in doomed.environment_ids:
        assert await store.get(EnvironmentRow, (env,)) is None
        assert await store.select(CurrentSecretRow, "environment_id", env) == []
    assert await store.select(EnvironmentRow, "project_id", kept.project_id) == kept_envs
    assert [
        await store.select(CurrentSecretRow, "environment_id", env) for env in kept.environment_ids
    ] == kept_secrets
    assert await store.get(OrgRow, (org_id,)) is not None
    assert (await store.rebuild_projections(check_only=True)).identical


async def test_environment_created_and_used_in_one_append(store: EventStore) -> None:
    """A batch sees its own earlier events: rows projected by event 1 exist for event 2."""
    org_id = await make_org(store)
    place = await make_project(store, org_id)
    env = new_id()
    await store.append(
        project_stream(place.project_id),
        None,
        news(
            EnvironmentCreated(env, place.project_id, "QA", "qa"),
            set_(env, "A", "k9"),
            set_(env, "A", "k9"),
            delete(env, "A"),
            set_(env, "A", "k9"),
            EnvironmentRenamed(env, "QA2", "qa2"),
        ),
    )
    row = await store.get(CurrentSecretRow, (env, "A"))
    assert isinstance(row, CurrentSecretRow)
    log = await store.read_stream(project_stream(place.project_id))
    assert row.live_since == log[-2].position
    assert await store.get(KeyUsageRow, ("k9",)) == KeyUsageRow("k9", 3)
    env_row = await store.get(EnvironmentRow, (env,))
    assert isinstance(env_row, EnvironmentRow)
    assert (env_row.name, env_row.slug) == ("QA2", "qa2")
    assert (await store.rebuild_projections(check_only=True)).identical


async def test_actor_of_a_secret_is_its_latest_setter(store: EventStore) -> None:
    place = await make_place(store)
    await store.append(place.stream, None, news(set_(place.env, "A"), actor=ALICE))
    await store.append(place.stream, None, news(set_(place.env, "A"), actor=ROBOT))
    await store.append(place.stream, None, news(delete(place.env, "B"), actor=BOB))
    row = await store.get(CurrentSecretRow, (place.env, "A"))
    assert isinstance(row, CurrentSecretRow)
    assert Actor(row.actor_kind, row.actor_id) == ROBOT  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_duplicate_event_id_is_a_conflict_and_appends_nothing(store: EventStore) -> None:
    place = await make_place(store)
    [first] = await store.append(place.stream, None, news(set_(place.env, "A")))
    before = await everything(store)
    again = NewEvent(first.event_id, 1, first.actor, set_(place.env, "B"))
    twice = news(set_(place.env, "C"))
    for batch in ([again], [*twice, twice[0]]):
        with pytest.raises(Conflict, match="duplicate id"):
            await store.append(place.stream, None, batch)
    assert await everything(store) == before
