"""The pure folds, replayed through MemoryTables exactly as the stores and rebuilds do."""

from __future__ import annotations

import pytest

from sigillo.domain import secrets
from sigillo.domain.codec import decode_event, encode_event
from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.events import (
    Actor,
    EnvironmentCreated,
    EnvironmentDeleted,
    Event,
    OrgCreated,
    OrgDeleted,
    ProjectCreated,
    ProjectDeleted,
    ProjectRenamed,
    RecordedEvent,
    SealedValue,
    SecretDeleted,
    SecretSet,
)
from sigillo.domain.projections import org_projects
from sigillo.domain.projections.history import history
from sigillo.domain.projections.memory import MemoryTables
from sigillo.domain.projections.rows import (
    CurrentSecretRow,
    EnvironmentRow,
    KeyUsageRow,
    OrgProjectRow,
    ProjectRow,
    Put,
)

ALICE, BOT = Actor("user", "alice"), Actor("token", "tok1")


def sealed(text: str, key_id: str = "k1") -> SealedValue:
    return SealedValue(key_id, b"n" * 12, text.encode())


def log(*entries: tuple[int, str, Event, Actor]) -> list[RecordedEvent]:
    setup: list[Event] = [
        ProjectCreated("P", "O", "App"),
        EnvironmentCreated("dev", "P", "Dev", "dev"),
    ]
    recorded = [
        RecordedEvent(i, "project:P", i, f"S{i}", 1, ALICE, e) for i, e in enumerate(setup, 1)
    ]
    for version, (at, event_id, event, actor) in enumerate(entries, 1):
        recorded.append(
            RecordedEvent(len(recorded) + 1, "env:dev", version, event_id, at, actor, event)
        )
    return recorded


def current(tables: MemoryTables, env: str = "dev") -> list[tuple[str, str, bytes, int, int]]:
    rows = tables.select(CurrentSecretRow, "environment_id", env)
    return [(r.name, r.secret_id, r.ciphertext, r.created_at, r.updated_at) for r in rows]  # type: ignore[attr-defined]


def test_behaviour_3_5_worked_example() -> None:
    tables = MemoryTables.replay(
        log(
            (100, "E1", SecretSet("dev", "A", sealed("1")), ALICE),
            (200, "E2", SecretSet("dev", "B", sealed("x")), ALICE),
            (300, "E3", SecretSet("dev", "A", sealed("2")), BOT),
            (400, "E4", SecretDeleted("dev", "B"), ALICE),
            (500, "E5", SecretSet("dev", "C", sealed("z")), ALICE),
            (600, "E6", SecretSet("dev", "B", sealed("y")), ALICE),
        )
    )
    assert current(tables) == [
        ("A", "E3", b"2", 100, 300),
        ("C", "E5", b"z", 500, 500),
        ("B", "E6", b"y", 600, 600),
    ]
    [a] = [r for r in tables.select(CurrentSecretRow, "environment_id", "dev") if r.name == "A"]  # type: ignore[attr-defined]
    assert (a.actor_kind, a.actor_id) == ("token", "tok1")  # type: ignore[attr-defined]


def test_names_are_case_sensitive_and_deleting_a_missing_name_is_harmless() -> None:
    tables = MemoryTables.replay(
        log(
            (1, "E1", SecretSet("dev", "api_key", sealed("a")), ALICE),
            (2, "E2", SecretSet("dev", "API_KEY", sealed("b")), ALICE),
            (3, "E3", SecretDeleted("dev", "NEVER_SET"), ALICE),
        )
    )
    assert [row[0] for row in current(tables)] == ["api_key", "API_KEY"]


def test_deleting_an_environment_removes_its_secrets_and_later_writes_fail() -> None:
    events = log((1, "E1", SecretSet("dev", "A", sealed("a")), ALICE))
    events.append(
        RecordedEvent(len(events) + 1, "project:P", 3, "D", 2, ALICE, EnvironmentDeleted("dev"))
    )
    tables = MemoryTables.replay(events)
    assert current(tables) == []
    assert tables.get(EnvironmentRow, ("dev",)) is None
    with pytest.raises(NotFound):
        tables.project(
            RecordedEvent(99, "env:dev", 2, "L", 3, ALICE, SecretSet("dev", "A", sealed("b")))
        )


def test_key_usage_counts_every_seal_per_key() -> None:
    tables = MemoryTables.replay(
        log(
            (1, "E1", SecretSet("dev", "A", sealed("a", "k1")), ALICE),
            (2, "E2", SecretSet("dev", "A", sealed("a", "k1")), ALICE),
            (3, "E3", SecretSet("dev", "B", sealed("b", "k2")), ALICE),
        )
    )
    assert tables.rows(KeyUsageRow) == [KeyUsageRow("k1", 2), KeyUsageRow("k2", 1)]


def streams(*entries: tuple[str, int, Event]) -> list[RecordedEvent]:
    """Events at positions 1..n, each stream versioned 1..n: (stream, time, event)."""
    versions: dict[str, int] = {}
    recorded = []
    for position, (stream, at, event) in enumerate(entries, 1):
        versions[stream] = versions.get(stream, 0) + 1
        recorded.append(
            RecordedEvent(position, stream, versions[stream], f"E{position}", at, ALICE, event)
        )
    return recorded


def test_an_org_keeps_every_project_it_ever_had() -> None:
    """Deleting a project, or its org, removes its ProjectRow but never its OrgProjectRow:
    the org audit log finds a deleted project's streams through it."""
    events = streams(
        ("org:O", 10, OrgCreated("O", "Acme")),
        ("project:P1", 20, ProjectCreated("P1", "O", "App")),
        ("project:P1", 21, EnvironmentCreated("dev", "P1", "Dev", "dev")),
        ("org:O2", 30, OrgCreated("O2", "Globex")),
        ("project:P2", 40, ProjectCreated("P2", "O", "Api")),
        ("project:P3", 50, ProjectCreated("P3", "O2", "Site")),
        ("project:P1", 60, ProjectRenamed("P1", "App v2")),
        ("project:P1", 70, ProjectDeleted("P1")),
        ("org:O2", 80, OrgDeleted("O2")),
    )
    tables = MemoryTables.replay(events)
    assert tables.select(OrgProjectRow, "org_id", "O") == [
        OrgProjectRow("P1", "O", 20, 2),
        OrgProjectRow("P2", "O", 40, 5),
    ]
    assert tables.select(OrgProjectRow, "org_id", "O2") == [OrgProjectRow("P3", "O2", 50, 6)]
    # The live catalog forgets both the deleted project and the deleted org's.
    assert [row.id for row in tables.select(ProjectRow, "org_id", "O")] == ["P2"]
    assert tables.select(ProjectRow, "org_id", "O2") == []
    assert len(tables.rows(OrgProjectRow)) == 3

    # The fold itself: a row for a creation, nothing for anything else.
    view = MemoryTables.replay(events[:1])
    assert org_projects.apply(view, events[1]) == [Put(OrgProjectRow("P1", "O", 20, 2))]
    others = [e for e in events if not isinstance(e.event, ProjectCreated)]
    assert [org_projects.apply(tables, e) for e in others] == [[]] * len(others)


def test_history_of_one_secret_oldest_first() -> None:
    events = log(
        (1, "E1", SecretSet("dev", "A", sealed("1")), ALICE),
        (2, "E2", SecretSet("dev", "B", sealed("x")), ALICE),
        (3, "E3", SecretDeleted("dev", "A"), BOT),
        (4, "E4", SecretSet("dev", "A", sealed("3")), ALICE),
    )
    entries = history(events, "A")
    assert [(e.event_id, e.version, e.operation, e.actor) for e in entries] == [
        ("E1", 1, "set", ALICE),
        ("E3", 3, "delete", BOT),
        ("E4", 4, "set", ALICE),
    ]
    assert entries[1].value is None
    assert entries[2].value == sealed("3")


def test_decide_validates_every_name_before_any_event() -> None:
    with pytest.raises(InvalidInput):
        secrets.decide(secrets.SetSecrets("dev", {"GOOD": sealed("a"), "1BAD": sealed("b")}))
    assert secrets.decide(secrets.SetSecrets("dev", {})) == []
    assert secrets.decide(secrets.DeleteSecrets("dev", ["A"])) == [SecretDeleted("dev", "A")]


def test_wire_form_is_stable_and_round_trips() -> None:
    event = SecretSet("dev", "A", SealedValue("k1", b"\x00" * 12, b"\xff\x01"))
    data = encode_event(event)
    assert data == (
        '{"type":"secret.set","environment_id":"dev","name":"A",'
        '"value":{"key_id":"k1","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"/wE=","format":1}}'
    )
    assert decode_event(data) == event


def test_reprs_hide_ciphertext() -> None:
    value = SealedValue("k1", b"n" * 12, b"ciphertext-bytes")
    assert "ciphertext-bytes" not in repr(value)
    assert "ciphertext-bytes" not in repr(SecretSet("dev", "A", value))
