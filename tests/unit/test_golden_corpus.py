"""Replays the golden corpus in projections/: old logs must decode and fold the same forever.

Each case is a frozen event log in its stored wire form and the read model it must give
(see projections/README.md). Cases are never edited; SHA256SUMS pins their bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sigillo.domain.codec import decode_event, encode_event, subject_of
from sigillo.domain.errors import NotFound
from sigillo.domain.events import Actor, NewEvent, RecordedEvent
from sigillo.domain.moments import parse_moment
from sigillo.domain.projections import TABLES
from sigillo.domain.projections.history import history
from sigillo.domain.projections.memory import MemoryTables
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow, Row
from sigillo.services.time_travel import SPACING, TimeTravel
from sigillo.store.memory import MemoryEventStore
from sigillo.store.snapshots import MemorySnapshots

CORPUS = Path(__file__).resolve().parents[2] / "projections"
READ_MODELS = (
    *("access", "catalog", "current_secrets", "history", "key_usage", "org_projects"),
    "past_secrets",
)
FOLDS = ("history", "past_secrets")  # cases of a fold, not of the read models' tables
COLUMNS = [
    "position",
    "stream_id",
    "version",
    "event_id",
    "event_type",
    "subject",
    "data",
    "actor_kind",
    "actor_id",
    "occurred_at",
]
CASES = sorted(path.parent for path in CORPUS.glob("*/*/events.jsonl"))


def _case_id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


def _rows(case: Path) -> list[dict[str, Any]]:
    lines = (case / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _recorded(row: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        position=row["position"],
        stream=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        occurred_at=row["occurred_at"],
        actor=Actor(row["actor_kind"], row["actor_id"]),
        event=decode_event(row["data"]),
    )


def _events(case: Path) -> list[RecordedEvent]:
    return [_recorded(row) for row in _rows(case)]


def _expected(case: Path) -> Any:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))


def test_the_corpus_has_cases_for_every_read_model() -> None:
    found = {case.parent.name for case in CASES}
    assert found == set(READ_MODELS), found
    for case in CASES:
        assert (case / "expected.json").is_file(), case


def test_no_case_was_edited_or_left_out_of_the_checksums() -> None:
    """Every case file is listed in SHA256SUMS with the bytes it was committed with."""
    listed = {}
    for line in (CORPUS / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    on_disk = {
        str(path.relative_to(CORPUS)) for case in CASES for path in case.iterdir() if path.is_file()
    }
    assert on_disk == set(listed), "add new case files to SHA256SUMS; never remove lines"
    for name, digest in listed.items():
        actual = hashlib.sha256((CORPUS / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} changed: corpus cases are never edited"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_the_wire_form_is_stable(case: Path) -> None:
    """Each line is a stored row; decoding and re-encoding gives back the same bytes."""
    rows = _rows(case)
    assert [row["position"] for row in rows] == list(range(1, len(rows) + 1))
    versions: dict[str, int] = {}
    for row in rows:
        assert list(row) == COLUMNS
        versions[row["stream_id"]] = versions.get(row["stream_id"], 0) + 1
        assert row["version"] == versions[row["stream_id"]], row
        event = decode_event(row["data"])
        assert encode_event(event) == row["data"]
        assert type(event).__struct_config__.tag == row["event_type"]
        assert subject_of(event) == row["subject"]
        assert row["actor_kind"] in ("user", "token", "system")


def _with_later_columns(table: type[Row], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as a case wrote them, plus the columns added to the table after the case was
    frozen: a column added later has a default, and older logs must fold to it."""
    later = {
        field.encode_name: msgspec.to_builtins(field.default)
        for field in msgspec.structs.fields(table)
        if field.default is not msgspec.NODEFAULT
    }
    return [{**later, **row} for row in rows]


@pytest.mark.parametrize("case", [c for c in CASES if c.parent.name not in FOLDS], ids=_case_id)
def test_replaying_gives_the_expected_read_models(case: Path) -> None:
    tables = MemoryTables.replay(_events(case))
    expected = _expected(case)
    by_name = {table.table: table for table in TABLES}
    assert expected, "a case expects at least one table"
    for name, rows in expected.items():
        table = by_name[name]
        replayed = sorted(tables.rows(table), key=lambda row: getattr(row, table.order))
        assert msgspec.to_builtins(replayed) == _with_later_columns(table, rows), name


def test_a_column_added_later_is_compared_too() -> None:
    """Filling in later columns never hides a difference in them: a case that names the
    column is compared on it, and one that does not must fold to its default."""
    [kind] = [f for f in msgspec.structs.fields(CurrentSecretRow) if f.name == "kind"]
    assert kind.default == "secret"
    filled = _with_later_columns(CurrentSecretRow, [{"name": "A"}, {"name": "B", "kind": "plain"}])
    assert filled == [{"kind": "secret", "name": "A"}, {"kind": "plain", "name": "B"}]


@pytest.mark.parametrize("case", [c for c in CASES if c.parent.name == "history"], ids=_case_id)
def test_history_gives_the_expected_entries(case: Path) -> None:
    expected = _expected(case)
    assert set(expected) == {"name", "entries"}
    entries = history(_events(case), expected["name"])
    assert msgspec.to_builtins(entries) == expected["entries"]


async def _time_travel_through(case: Path, spacing: int) -> list[dict[str, Any]]:
    """Every moment of a past_secrets case read through services.time_travel over the
    in-memory store holding the case's log (snapshots every `spacing` versions, or none),
    each as the case writes it: version and live rows (value: the placeholder's text), or
    the error."""
    store = MemoryEventStore()
    for event in _events(case):  # one append each: the same positions and versions
        new = NewEvent(event.event_id, event.occurred_at, event.actor, event.event)
        [recorded] = await store.append(event.stream, event.version - 1, [new])
        assert recorded == event
    snapshots = MemorySnapshots() if spacing else None
    travel = TimeTravel(store, snapshots, spacing=spacing or SPACING, batch=3)
    answers: list[dict[str, Any]] = []
    for moment in _expected(case)["moments"]:
        environment = await store.get(EnvironmentRow, (moment["environment"],))
        assert environment is not None
        answer: dict[str, Any] = {"environment": moment["environment"], "at": moment["at"]}
        answer["why"] = moment["why"]
        try:
            past = await travel.at(environment, parse_moment(moment["at"]))
        except NotFound as error:
            answer["error"] = str(error)
        else:
            answer["version"] = past.version
            answer["live"] = [
                {
                    "name": row.name,
                    "value": row.ciphertext.decode().removeprefix("placeholder-ciphertext:"),
                    "secret_id": row.secret_id,
                    "created_at": row.created_at,
                    "updated_at": row.updated_at,
                    "live_since": row.live_since,
                    "kind": row.kind,
                }
                for row in past.live()
            ]
        answers.append(answer)
    return answers


PAST_CASES = [case for case in CASES if case.parent.name == "past_secrets"]


@pytest.mark.parametrize("spacing", [0, 1, 2, 5])
@pytest.mark.parametrize("case", PAST_CASES, ids=_case_id)
def test_reads_of_the_past_give_the_expected_rows_at_each_moment(case: Path, spacing: int) -> None:
    """past_secrets cases: `{"moments": [...]}`, each an environment, a moment as `at=`
    takes it, and the `version` of the environment's stream and the `live` rows then, or
    the `error` (projections/README.md). Without snapshots and with several spacings."""
    expected = _expected(case)["moments"]
    assert asyncio.run(_time_travel_through(case, spacing)) == expected
