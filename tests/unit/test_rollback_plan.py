"""The rollback plan (domain.rollback_plan): decided by name on the rows then and now,
without a value opened; and the history fold's kind changes (domain.projections.history)."""

from __future__ import annotations

import msgspec

from sigillo.domain.events import (
    Actor,
    RecordedEvent,
    SealedValue,
    SecretDeleted,
    SecretKind,
    SecretKindChanged,
    SecretSet,
)
from sigillo.domain.projections.history import history
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.domain.rollback_plan import RollbackPlan, plan

ALICE = Actor("user", "alice")


def row(name: str, set_by: str, kind: SecretKind = "secret") -> CurrentSecretRow:
    return CurrentSecretRow(
        environment_id="dev",
        name=name,
        secret_id=set_by,
        key_id="k",
        nonce=b"n" * 12,
        ciphertext=b"c" * 17,
        format=1,
        created_at=1,
        updated_at=1,
        live_since=1,
        actor_kind="user",
        actor_id="alice",
        kind=kind,
    )


def test_nothing_changed_is_an_empty_plan() -> None:
    rows = [row("A", "E1"), row("B", "E2", "plain")]
    decided = plan(rows, rows)
    assert decided == RollbackPlan()
    assert decided.empty


def test_changed_deleted_and_new_names() -> None:
    then = [row("CHANGED", "E1"), row("DELETED", "E2"), row("SAME", "E3")]
    now = [row("CHANGED", "E9"), row("SAME", "E3"), row("NEW", "E10")]
    decided = plan(then, now)
    assert decided.restore == ["CHANGED", "DELETED"]
    assert decided.delete == ["NEW"]
    assert decided.kinds == {}
    assert not decided.empty


def test_a_name_set_again_is_set_back_unless_its_value_is_the_same() -> None:
    """The plan opens nothing: the caller says which values it found equal."""
    assert plan([row("A", "E1")], [row("A", "E2")]).restore == ["A"]
    assert plan([row("A", "E1")], [row("A", "E2")], same=["A"]).empty
    marked = plan([row("A", "E1", "plain")], [row("A", "E2")], same=["A"])
    assert (marked.restore, marked.kinds) == ([], {"A": "plain"})


def test_kinds_come_back_with_the_value_or_alone() -> None:
    then = [row("PLAIN_DELETED", "E1", "plain"), row("MARKED", "E2", "plain")]
    then += [row("BOTH", "E3", "secret"), row("SECRET_DELETED", "E4")]
    now = [row("MARKED", "E2", "secret"), row("BOTH", "E9", "plain")]
    decided = plan(then, now)
    assert decided.restore == ["BOTH", "PLAIN_DELETED", "SECRET_DELETED"]
    # a name live again starts as `secret`: only the plain one needs its kind back
    assert decided.kinds == {"BOTH": "secret", "MARKED": "plain", "PLAIN_DELETED": "plain"}


def test_names_limit_the_plan_and_unknown_ones_are_named() -> None:
    then = [row("A", "E1"), row("B", "E2")]
    now = [row("A", "E3"), row("B", "E4"), row("C", "E5")]
    decided = plan(then, now, ["B", "C", "NEVER"])
    assert decided.restore == ["B"]
    assert decided.delete == ["C"]
    assert decided.unknown == ["NEVER"]


def test_history_has_kind_changes_and_keeps_its_old_encoding() -> None:
    value = SealedValue("k", b"n" * 12, b"c")
    log = [
        SecretSet("dev", "A", value),
        SecretKindChanged("dev", "A", "plain", "secret"),
        SecretSet("dev", "B", value),
        SecretDeleted("dev", "A"),
    ]
    events = [
        RecordedEvent(n, "env:dev", n, f"E{n}", n * 10, ALICE, event)
        for n, event in enumerate(log, start=1)
    ]
    entries = history(events, "A")
    assert [(e.operation, e.kind, e.previous) for e in entries] == [
        ("set", None, None),
        ("kind", "plain", "secret"),
        ("delete", None, None),
    ]
    encoded = msgspec.to_builtins(entries[0])
    assert set(encoded) == {"event_id", "version", "operation", "value", "occurred_at", "actor"}
