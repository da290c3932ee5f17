"""`sigillo secrets history`, `diff` and `rollback` (issue 17): the real executable against
a real server. Values print only with `--show-values`; a rollback shows its plan (names
only) and asks on a terminal, and needs `--yes` without one."""

from __future__ import annotations

import json

import httpx

from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_secrets_cli import (
    ULID,
    assert_one_line_error,
    names_in,
    plain,
    put_secrets,
    secrets_path,
    terminal,
    value_in,
)


def last_event(server: Server, project: Project, environment: str, name: str) -> str:
    with server.api() as api:
        done = api.get(secrets_path(project.id, environment, name, "history"))
    assert done.status_code == 200, done.text
    event: str = done.json()["entries"][-1]["eventId"]
    return event


def delete(server: Server, project: Project, name: str) -> None:
    with server.api() as api:
        done = api.delete(secrets_path(project.id, "dev", name))
    assert done.status_code == 200, done.text


def test_history_lists_changes_without_values(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"API_KEY": "first-value"})
    put_secrets(cli_server, project.id, "dev", {"API_KEY": "second-value"})
    with cli_server.api() as api:
        kinds = f"/api/v0/projects/{project.id}/environments/dev/secret-kinds"
        api.patch(kinds, json={"kinds": {"API_KEY": "plain"}}).raise_for_status()
    delete(cli_server, project, "API_KEY")
    done = signed_in("secrets", "history", "API_KEY")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["EVENT", "VERSION", "TIME", "CHANGE", "BY"]
    assert [line.split()[1] for line in lines[1:]] == ["1", "2", "3", "4"]
    assert "marked plain (was secret)" in lines[3]
    assert "deleted" in lines[4]
    assert "ada@example.com" in lines[1]
    assert ULID.fullmatch(lines[1].split()[0])
    assert "first-value" not in done.stdout


def test_history_shows_values_when_asked_and_json(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"TOKEN": "one"})
    put_secrets(cli_server, project.id, "dev", {"TOKEN": "two"})
    shown = signed_in("secrets", "history", "TOKEN", "--show-values")
    assert shown.returncode == 0, shown.stderr
    assert '"one"' in shown.stdout
    assert '"two"' in shown.stdout
    document = json.loads(signed_in("secrets", "history", "TOKEN", "--json").stdout)
    assert [e["operation"] for e in document["entries"]] == ["set", "set"]
    missing = signed_in("secrets", "history", "NEVER_SET")
    assert_one_line_error(missing, "failed to read history (404)")


def test_diff_of_two_environments_and_of_two_moments(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"A": "1", "SAME": "s", "ONLY_DEV": "d"})
    put_secrets(cli_server, project.id, "prod", {"A": "2", "SAME": "s", "ONLY_PROD": "p"})
    done = signed_in("secrets", "diff", "-c", "dev", "-c", "prod")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[1:]}
    assert rows == {
        "A": "changed",
        "ONLY_DEV": "removed",
        "ONLY_PROD": "added",
        "SAME": "unchanged",
    }
    assert "dev now → prod now" in done.stderr
    assert '"1"' not in done.stdout
    moment = last_event(cli_server, project, "dev", "ONLY_DEV")
    put_secrets(cli_server, project.id, "dev", {"A": "changed", "LATER": "x"})
    then = signed_in("secrets", "diff", "--at", moment, "--json")
    assert then.returncode == 0, then.stderr
    statuses = {e["name"]: e["status"] for e in json.loads(then.stdout)["entries"]}
    assert statuses == {
        "A": "changed",
        "LATER": "added",
        "ONLY_DEV": "unchanged",
        "SAME": "unchanged",
    }
    shown = signed_in("secrets", "diff", "-c", "dev", "-c", "prod", "--show-values")
    assert '"changed"' in shown.stdout


def test_diff_needs_two_sides_and_good_moments(signed_in: Sigillo) -> None:
    assert_one_line_error(signed_in("secrets", "diff"), "nothing to compare")
    bad = signed_in("secrets", "diff", "--at", "yesterday")
    assert_one_line_error(bad, 'invalid --at "yesterday": must be an RFC 3339 time')
    assert bad.returncode == 1
    before = signed_in("secrets", "diff", "--at", "2001-01-01T00:00:00Z")
    assert_one_line_error(before, "failed to diff secrets: environment: it did not exist yet")


def test_rollback_needs_yes_without_a_terminal(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"A": "1"})
    moment = last_event(cli_server, project, "dev", "A")
    put_secrets(cli_server, project.id, "dev", {"A": "2"})
    refused = signed_in("secrets", "rollback", "--to", moment)
    assert_one_line_error(refused, "not rolling back without confirmation")
    assert value_in(cli_server, project.id, "dev", "A") == "2"
    bad = signed_in("secrets", "rollback", "--to", "last tuesday", "--yes")
    assert_one_line_error(bad, "invalid --to")


def test_rollback_of_names_with_yes_prints_the_plan_and_event_ids(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"A": "a-then", "B": "b-then"})
    moment = last_event(cli_server, project, "dev", "B")
    put_secrets(cli_server, project.id, "dev", {"A": "a-now", "B": "b-now"})
    delete(cli_server, project, "A")
    done = signed_in("secrets", "rollback", "--to", moment, "A", "--yes")
    assert done.returncode == 0, done.stderr
    assert [ULID.fullmatch(line) is not None for line in done.stdout.splitlines()] == [True]
    assert "1 set back, 0 deleted" in done.stderr
    assert "A  set back" in done.stderr
    assert "then" not in done.stderr  # names only, never a value
    assert value_in(cli_server, project.id, "dev", "A") == "a-then"
    assert value_in(cli_server, project.id, "dev", "B") == "b-now"
    again = signed_in("secrets", "rollback", "--to", moment, "A", "--yes")
    assert again.returncode == 0
    assert "nothing to roll back" in again.stderr


def test_rollback_asks_on_a_terminal(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"KEEP": "k"})
    moment = last_event(cli_server, project, "dev", "KEEP")
    put_secrets(cli_server, project.id, "dev", {"NEW": "n"})
    code, output = terminal(
        signed_in, "secrets", "rollback", "--to", moment, keys=(b"n\r",), wait_for=b"[y/N]",
        env={"NO_COLOR": "1"},
    )  # fmt: skip
    assert code == 1
    assert "- NEW  deleted" in plain(output)
    assert plain(output).endswith("error: cancelled; nothing was written\n")
    assert sorted(names_in(cli_server, project.id, "dev")) == ["KEEP", "NEW"]
    code, output = terminal(
        signed_in, "secrets", "rollback", "--to", moment, keys=(b"y\r",), wait_for=b"[y/N]",
        env={"NO_COLOR": "1"},
    )  # fmt: skip
    assert code == 0, output
    assert "rolled back dev" in plain(output)
    assert names_in(cli_server, project.id, "dev") == ["KEEP"]


def test_a_read_only_token_cannot_roll_back(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"A": "1"})
    moment = last_event(cli_server, project, "dev", "A")
    put_secrets(cli_server, project.id, "dev", {"A": "2"})
    with httpx.Client(
        base_url=cli_server.url, headers={"Authorization": f"Bearer {cli_server.session}"}
    ) as api:
        created = api.post(f"/api/v0/projects/{project.id}/tokens", json={"name": "ro"})
    key = created.json()["key"]
    done = signed_in("secrets", "rollback", "--to", moment, "--yes", env={"SIGILLO_TOKEN": key})
    assert_one_line_error(done, "failed to roll back (403): token is read-only")
    assert value_in(cli_server, project.id, "dev", "A") == "2"
