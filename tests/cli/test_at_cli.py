"""`--at TIME|EVENT_ID` (issue 17): `sigillo secrets`, `secrets get`, `secrets download` and
`sigillo run` as the environment was then; a moment before the environment existed and a
bad `--at` are one clear line each. The real `sigillo` against the session's server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_secrets_cli import assert_one_line_error, secrets_path


def set_one(server: Server, project: Project, name: str, value: str) -> str:
    """POST one secret in dev: its event id."""
    with server.api() as api:
        done = api.post(secrets_path(project.id, "dev"), json={"name": name, "value": value})
    assert done.status_code == 200, done.text
    event_id: str = done.json()["id"]
    return event_id


@pytest.fixture
def timeline(signed_in: Sigillo, cli_server: Server, project: Project) -> dict[str, str]:
    """dev: A=first-value, then (a moment `between` later) A=second-value and B=other-value."""
    first = set_one(cli_server, project, "A", "first-value")
    time.sleep(0.05)
    between = datetime.now(UTC).isoformat(timespec="milliseconds")
    time.sleep(0.05)
    set_one(cli_server, project, "A", "second-value")
    last = set_one(cli_server, project, "B", "other-value")
    return {"first": first, "between": between, "last": last}


def test_download_get_and_list_read_the_past(signed_in: Sigillo, timeline: dict[str, str]) -> None:
    for at in (timeline["first"], timeline["between"], timeline["first"].lower()):
        done = signed_in("secrets", "download", "--format", "json", "--at", at)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"A": "first-value"}
    now = signed_in("secrets", "download", "--format", "json", "--at", timeline["last"])
    assert json.loads(now.stdout) == {"A": "second-value", "B": "other-value"}

    got = signed_in("secrets", "get", "A", "--raw", "--at", timeline["between"])
    assert (got.returncode, got.stdout) == (0, "first-value")
    # `--at` given to `secrets` is kept by its action, as -c is.
    before = signed_in("secrets", "--at", timeline["first"], "get", "A", "--raw")
    assert (before.returncode, before.stdout) == (0, "first-value")
    missing = signed_in("secrets", "get", "B", "--at", timeline["between"])
    assert_one_line_error(missing, "failed to get secret (404): not found")

    # A write is always now: `--at` given to `secrets` is not carried into one.
    write = signed_in("secrets", "--at", timeline["first"], "set", "A", "x")
    assert_one_line_error(write, "--at reads the past; a write always changes the present")
    listed = signed_in("secrets", "--at", timeline["between"])
    assert (listed.returncode, listed.stdout) == (0, "A\n")
    assert signed_in("secrets").stdout == "A\nB\n"


def test_run_gets_the_secrets_of_then(signed_in: Sigillo, timeline: dict[str, str]) -> None:
    check = 'test "$A" = first-value && test -z "${B+set}" && echo then'
    done = signed_in("run", "--at", timeline["between"], "--", "sh", "-c", check)
    assert (done.returncode, done.stdout) == (0, "then\n"), done.stderr
    now = signed_in("run", "--", "sh", "-c", 'test "$B" = other-value && echo now')
    assert (now.returncode, now.stdout) == (0, "now\n"), now.stderr


def test_before_the_environment_existed_and_bad_moments(
    signed_in: Sigillo, timeline: dict[str, str]
) -> None:
    early = "2001-02-03T04:05:06Z"
    said = "environment: it did not exist yet at 2001-02-03T04:05:06.000Z"
    for args in (
        ("secrets", "--at", early),
        ("secrets", "get", "A", "--at", early),
        ("secrets", "download", "--at", early),
    ):
        done = signed_in(*args)
        assert_one_line_error(done, f"failed to {_action(args)}: {said}")
    ran = signed_in("run", "--at", early, "--", "true")
    assert_one_line_error(ran, f"failed to fetch secrets: {said}")
    unknown = signed_in("secrets", "download", "--at", "01JE0000000000000000000000")
    assert_one_line_error(unknown, "failed to download secrets: event 01JE0000000000000000000000")

    # Refused before anything is sent: not a moment at all, or a time without its offset.
    for bad in ("yesterday", "2026-12-07T09:30:00", "", "x" * 80):
        for args in (
            ("secrets", "download", "--at", bad),
            ("secrets", "get", "A", "--at", bad),
            ("run", "--at", bad, "--", "true"),
        ):
            done = signed_in(*args)
            assert_one_line_error(done, "invalid --at")
            assert "RFC 3339" in done.stderr
    # Looks like one, but is not a date: the server's word, said the same way.
    server_says = signed_in("secrets", "download", "--at", "2026-13-07T09:30:00Z")
    assert_one_line_error(server_says, 'invalid --at "2026-13-07T09:30:00Z": must be an RFC 3339')


def _action(args: tuple[str, ...]) -> str:
    if "get" in args:
        return "get secret"
    return "download secrets" if "download" in args else "list secrets"
