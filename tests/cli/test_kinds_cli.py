"""Secret kinds in the CLI [D18]: `secrets set --plain/--secret`, `secrets mark`, the kind
in `secrets` (list), `secrets upload --plain`, and the agent-shell guard letting plain
values through.

The real `sigillo` executable against a real `sigillo server`, once on SQLite and once on
PostgreSQL (this module's `cli_server` replaces the session-wide SQLite one of
conftest.py). Every kind change is checked where it is recorded: the environment's audit
log (`GET …/events`) shows `secret.kind_changed` with the kind and the kind it replaced,
and the values are untouched.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sigillo.cli.agents import guard_message
from tests.cli.conftest import EMAIL, PASSWORD, Project, Server, Sigillo, sigillo_command
from tests.cli.test_secrets_cli import (
    api_token,
    assert_one_line_error,
    names_in,
    plain,
    put_secrets,
    secrets_path,
    terminal,
    value_in,
)
from tests.databases import Databases, skip_without_postgres
from tests.live_server import create_user_and_sign_in, server

AGENT = {"CODEX_THREAD_ID": "thread_1", "NO_COLOR": "1"}


@dataclass
class DatabaseServer(Server):
    database_url: str = ""

    def new_account(self, prefix: str = "user") -> tuple[str, str]:
        """As Server.new_account, on this server's database."""
        email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
        session = create_user_and_sign_in(
            self.url,
            self.data_dir,
            email,
            PASSWORD,
            database_url=self.database_url,
            command=sigillo_command(),
        )
        return email, session


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cli_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    databases: Databases,
) -> Iterator[Server]:
    """A server of this module on each database, with the session's account and org."""
    skip_without_postgres(request.param)
    database_url = databases.fresh(request.param)
    root = tmp_path_factory.mktemp(f"kinds-{request.param}")
    data_dir = root / "data"
    with server(data_dir, root / "server.log", database_url=database_url) as port:
        url = f"http://127.0.0.1:{port}"
        session = create_user_and_sign_in(
            url,
            data_dir,
            EMAIL,
            PASSWORD,
            name="Ada Lovelace",
            database_url=database_url,
            command=sigillo_command(),
        )
        headers = {"Authorization": f"Bearer {session}"}
        org = httpx.post(f"{url}/api/v0/orgs", json={"name": "Acme"}, headers=headers).json()
        yield DatabaseServer(url, session, org["id"], data_dir, database_url)


# --- helpers -------------------------------------------------------------------------------


def kinds_in(server: Server, project_id: str, environment: str) -> dict[str, str]:
    """Every live name and its kind, through the API's listing."""
    with server.api() as api:
        done = api.get(secrets_path(project_id, environment))
    assert done.status_code == 200, done.text
    return {item["name"]: item["kind"] for item in done.json()["secrets"]}


def events(server: Server, project_id: str, environment: str, kind: str) -> list[dict[str, Any]]:
    """The environment's audit entries of one type, oldest first."""
    with server.api() as api:
        done = api.get(
            f"/api/v0/projects/{project_id}/environments/{environment}/events",
            params={"limit": 200},
        )
    assert done.status_code == 200, done.text
    return [event for event in reversed(done.json()["events"]) if event["type"] == kind]


def kind_changes(server: Server, project_id: str, environment: str) -> list[tuple[str, str, str]]:
    """(name, previousKind, kind) of each `secret.kind_changed`, oldest first."""
    return [
        (event["names"][0], event["previousKind"], event["kind"])
        for event in events(server, project_id, environment, "secret.kind_changed")
    ]


# --- set and list ----------------------------------------------------------------------------


def test_set_plain_then_the_list_shows_it(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    assert signed_in("secrets", "set", "PORT", "3000", "--plain").returncode == 0
    assert signed_in("secrets", "set", "DB_PASSWORD", "Summer2024!").returncode == 0
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "plain", "DB_PASSWORD": "secret"}
    # piped: still one name per line, nothing else
    listed = signed_in("secrets")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "PORT\nDB_PASSWORD\n"
    assert listed.stderr == ""
    # --json: the server's answer, with each item's kind
    document = json.loads(signed_in("secrets", "--json").stdout)
    assert [(i["name"], i["kind"]) for i in document["secrets"]] == [
        ("PORT", "plain"),
        ("DB_PASSWORD", "secret"),
    ]
    # terminal: the kind of every name in a table sorted by name, plain ones noted (cyan)
    code, output = terminal(signed_in, "secrets")
    assert code == 0, output
    assert "\x1b[36mshown, not masked\x1b[0m" in output
    assert plain(output).splitlines()[1:] == [
        "NAME         KIND    NOTE",
        "DB_PASSWORD  secret",
        "PORT         plain   shown, not masked",
    ]
    assert "3000" not in output + listed.stdout
    assert "Summer2024!" not in output + listed.stdout


def test_set_without_a_flag_keeps_the_kind(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    assert signed_in("secrets", "set", "LOG_LEVEL", "info", "--plain").returncode == 0
    assert signed_in("secrets", "set", "LOG_LEVEL", "debug").returncode == 0
    assert kinds_in(cli_server, project.id, "dev") == {"LOG_LEVEL": "plain"}
    assert value_in(cli_server, project.id, "dev", "LOG_LEVEL") == "debug"
    assert signed_in("secrets", "set", "LOG_LEVEL", "warn", "--secret").returncode == 0
    assert kinds_in(cli_server, project.id, "dev") == {"LOG_LEVEL": "secret"}
    assert signed_in("secrets", "set", "LOG_LEVEL", "error").returncode == 0
    assert kinds_in(cli_server, project.id, "dev") == {"LOG_LEVEL": "secret"}
    assert kind_changes(cli_server, project.id, "dev") == [
        ("LOG_LEVEL", "secret", "plain"),
        ("LOG_LEVEL", "plain", "secret"),
    ]
    # a new name without a flag is a secret
    assert signed_in("secrets", "set", "NEW_ONE", "x").returncode == 0
    assert kinds_in(cli_server, project.id, "dev")["NEW_ONE"] == "secret"


def test_set_on_a_terminal_shows_the_kind_given(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    code, output = terminal(
        signed_in, "secrets", "set", "NODE_ENV", "production", "--plain", "-c", "dev", "-c",
        "prod", env={"NO_COLOR": "1"},
    )  # fmt: skip
    assert code == 0, output
    blocks = output.split("ok: true\n")[1:]
    assert len(blocks) == 2
    for block in blocks:
        assert block.endswith('name: "NODE_ENV"\nkind: "plain"\n')
    assert kinds_in(cli_server, project.id, "prod") == {"NODE_ENV": "plain"}
    code, output = terminal(signed_in, "secrets", "set", "NODE_ENV", "test")
    assert code == 0, output
    assert "kind:" not in output  # none given: the name kept its kind, not said
    piped = signed_in("secrets", "set", "OTHER", "v", "--plain")
    assert len(piped.stdout.split()) == 1  # piped: the event id alone, as without a kind


# --- mark ------------------------------------------------------------------------------------


def test_mark_plain_and_back_is_recorded_and_keeps_the_values(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    values = {"PORT": "3000", "LOG_LEVEL": "info", "API_KEY": "k-123456"}
    put_secrets(cli_server, project.id, "dev", values)
    done = signed_in("secrets", "mark", "PORT", "LOG_LEVEL", "--plain")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "dev\tPORT\tsecret\tplain\ndev\tLOG_LEVEL\tsecret\tplain\n"
    assert kinds_in(cli_server, project.id, "dev") == {
        "PORT": "plain",
        "LOG_LEVEL": "plain",
        "API_KEY": "secret",
    }
    # again: nothing to change, nothing recorded
    again = signed_in("secrets", "mark", "PORT", "--plain")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "dev\tPORT\tplain\tplain\n"
    # on a terminal: what changed, and what already had the kind
    code, output = terminal(
        signed_in, "secrets", "mark", "PORT", "API_KEY", "--secret", env={"NO_COLOR": "1"}
    )
    assert code == 0, output
    assert output.endswith(
        'ok: true\nenvironment: "dev"\nkinds:\n  PORT: plain → secret\n'
        "  API_KEY: secret (unchanged)\n"
    )
    assert yaml.safe_load(output[output.index("ok: true") :])["kinds"] == {
        "PORT": "plain → secret",
        "API_KEY": "secret (unchanged)",
    }
    assert kind_changes(cli_server, project.id, "dev") == [
        ("PORT", "secret", "plain"),
        ("LOG_LEVEL", "secret", "plain"),
        ("PORT", "plain", "secret"),
    ]
    recorded = events(cli_server, project.id, "dev", "secret.kind_changed")
    assert {event["actor"]["name"] for event in recorded} == {"Ada Lovelace"}
    for name, value in values.items():
        assert value_in(cli_server, project.id, "dev", name) == value
    for text in (done.stdout, done.stderr, output):
        assert all(value not in text for value in values.values())


def test_mark_json_and_several_environments(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "1"})
    put_secrets(cli_server, project.id, "prod", {"PORT": "2"})
    done = signed_in("secrets", "mark", "PORT", "--plain", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "ok": True,
        "environmentId": project.environments["dev"],
        "changed": [{"name": "PORT", "kind": "plain", "previous": "secret"}],
    }
    done = signed_in("secrets", "mark", "PORT", "--plain", "--env", "prod", "-c", "dev", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {
            "ok": True,
            "environmentId": project.environments["prod"],
            "changed": [{"name": "PORT", "kind": "plain", "previous": "secret"}],
        },
        {"ok": True, "environmentId": project.environments["dev"], "changed": []},
    ]
    assert kinds_in(cli_server, project.id, "prod") == {"PORT": "plain"}


def test_mark_a_name_that_is_not_live_changes_nothing(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000"})
    put_secrets(cli_server, project.id, "prod", {"PORT": "80", "NOPE": "x"})
    done = signed_in("secrets", "mark", "PORT", "NOPE", "--plain")
    assert_one_line_error(done, "failed to mark 2 secrets plain in dev (404): ")
    assert done.stderr == (
        "error: failed to mark 2 secrets plain in dev (404): no secret named NOPE in dev; "
        "nothing was changed in dev\n"
        "  the names in dev: sigillo secrets -c dev\n"
    )
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "secret"}
    # the fan-out goes on after the failing environment, and exits 1
    done = signed_in("secrets", "mark", "PORT", "NOPE", "--plain", "-c", "dev", "-c", "prod")
    assert done.returncode == 1
    assert "no secret named NOPE in dev" in done.stderr
    assert done.stdout == "prod\tPORT\tsecret\tplain\nprod\tNOPE\tsecret\tplain\n"
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "secret"}
    assert kinds_in(cli_server, project.id, "prod") == {"PORT": "plain", "NOPE": "plain"}
    assert kind_changes(cli_server, project.id, "dev") == []
    assert "Traceback" not in done.stderr


def test_mark_in_an_unknown_environment_lists_the_available(
    signed_in: Sigillo, project: Project
) -> None:
    done = signed_in("secrets", "mark", "PORT", "--plain", "-c", "staging")
    assert done.stderr == (
        f"error: env staging was not found in project {project.id}; did you mean preview?\n"
        "available envs:\n  - Dev (dev)\n  - Preview (preview)\n  - Prod (prod)\n"
    )
    assert done.returncode == 1


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (("1PORT", "--plain"), "invalid secret name "),
        (("PORT", "A-B", "--secret"), "invalid secret name "),
        (("X" * 257, "--plain"), "invalid secret name "),
    ],
)
def test_mark_refuses_bad_names_before_sending(
    signed_in: Sigillo, cli_server: Server, project: Project, argv: tuple[str, ...], start: str
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000"})
    done = signed_in("secrets", "mark", *argv)
    assert_one_line_error(done, start)
    assert "^[A-Za-z_][A-Za-z0-9_]*$" in done.stderr
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "secret"}


@pytest.mark.parametrize(
    "argv", [("PORT",), ("PORT", "--plain", "--secret"), ("--plain",), ("PORT", "--kind=plain")]
)
def test_mark_needs_names_and_exactly_one_kind(signed_in: Sigillo, argv: tuple[str, ...]) -> None:
    done = signed_in("secrets", "mark", *argv)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert done.stderr.endswith("\n  see: sigillo secrets mark --help\n")
    assert "Traceback" not in done.stderr


def test_a_read_only_token_cannot_mark(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000"})
    key = api_token(cli_server, project.id)["key"]
    done = signed_in("secrets", "mark", "PORT", "--plain", env={"SIGILLO_TOKEN": key})
    assert_one_line_error(done, "failed to mark PORT plain in dev (403): token is read-only")
    assert done.stderr == "error: failed to mark PORT plain in dev (403): token is read-only\n"
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "secret"}
    # the same token may still read the kinds
    assert (
        json.loads(signed_in("secrets", "--json", env={"SIGILLO_TOKEN": key}).stdout)["secrets"][0][
            "kind"
        ]
        == "secret"
    )


def test_a_read_write_token_marks_and_is_the_recorded_actor(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000"})
    created = api_token(cli_server, project.id, access="read-write", name="deployer")
    done = signed_in("secrets", "mark", "PORT", "--plain", env={"SIGILLO_TOKEN": created["key"]})
    assert done.returncode == 0, done.stderr
    [event] = events(cli_server, project.id, "dev", "secret.kind_changed")
    assert event["actor"] == {"kind": "token", "id": created["id"], "name": "deployer"}
    assert (event["kind"], event["previousKind"]) == ("plain", "secret")


def test_a_revoked_token_cannot_mark(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000"})
    created = api_token(cli_server, project.id, access="read-write")
    with cli_server.api() as api:
        revoked = api.delete(f"/api/v0/projects/{project.id}/tokens/{created['id']}")
    assert revoked.status_code == 200
    env = {"SIGILLO_TOKEN": created["key"]}
    done = signed_in("secrets", "mark", "PORT", "--plain", "-c", "dev", "-c", "prod", env=env)
    assert done.returncode == 1
    # one line for the first environment: the credential is refused, so it stops there
    assert done.stderr == (
        "error: failed to mark PORT plain in dev (401): unauthorized\n  sigillo login\n"
    )
    assert created["key"] not in done.stderr
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "secret"}


def test_another_org_and_another_project_are_refused(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000"})
    assert isinstance(cli_server, DatabaseServer)
    # a signed-in user of another org, aiming at this project
    _, outsider = cli_server.new_account("outsider")
    done = signed_in("secrets", "mark", "PORT", "--plain", env={"SIGILLO_TOKEN": outsider})
    assert_one_line_error(done, "failed to mark PORT plain in dev (403): forbidden")
    # a read-write token of another project, aiming at this project's environment by id
    with cli_server.api() as api:
        other = api.post(
            "/api/v0/projects",
            json={"name": f"other-{uuid.uuid4().hex[:6]}", "orgId": cli_server.org_id},
        ).json()["id"]
    key = api_token(cli_server, other, access="read-write")["key"]
    dev_id = project.environments["dev"]
    done = signed_in("secrets", "mark", "PORT", "--plain", "-c", dev_id, env={"SIGILLO_TOKEN": key})
    assert_one_line_error(
        done, f"failed to mark PORT plain in {dev_id} (403): token does not have access"
    )
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "secret"}
    assert kind_changes(cli_server, project.id, "dev") == []


def test_mark_needs_a_login(sigillo: Sigillo) -> None:
    env = {"SIGILLO_PROJECT": "p", "SIGILLO_ENVIRONMENT": "dev"}
    done = sigillo("secrets", "mark", "PORT", "--plain", env=env)
    assert done.stderr == "error: not logged in\n  sigillo login\n"
    assert done.returncode == 1


def test_mark_on_a_terminal_says_who_and_where(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000"})
    code, output = terminal(signed_in, "secrets", "mark", "PORT", "--plain", env={"NO_COLOR": "1"})
    assert code == 0, output
    assert output.splitlines()[0] == (
        f"Writing to Acme / {project.name} (dev) as Ada Lovelace <ada@example.com>"
    )
    assert output.endswith("kinds:\n  PORT: secret → plain\n")


# --- upload --plain --------------------------------------------------------------------------


def test_upload_plain_names_are_written_plain(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    put_secrets(cli_server, project.id, "dev", {"LOG_LEVEL": "warn", "API_KEY": "old-key"})
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=3000\nLOG_LEVEL=info\nAPI_KEY=new-key-123\nDB_PASSWORD=hunter22\n")
    done = signed_in("secrets", "upload", str(dotenv), "--plain", "PORT", "LOG_LEVEL", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["PORT", "LOG_LEVEL", "API_KEY", "DB_PASSWORD"]
    assert done.stderr.splitlines() == [
        f"Upload {dotenv} to dev: 2 new, 2 to be replaced; 2 marked plain",
        "  + PORT  plain",
        "  ~ LOG_LEVEL  will be replaced, secret → plain",
        "  ~ API_KEY  will be replaced",
        "  + DB_PASSWORD",
    ]
    assert kinds_in(cli_server, project.id, "dev") == {
        "LOG_LEVEL": "plain",
        "API_KEY": "secret",
        "PORT": "plain",
        "DB_PASSWORD": "secret",
    }
    assert value_in(cli_server, project.id, "dev", "PORT") == "3000"
    assert ("LOG_LEVEL", "secret", "plain") in kind_changes(cli_server, project.id, "dev")
    for value in ("3000", "info", "new-key-123", "hunter22", "old-key"):
        assert value not in done.stdout + done.stderr
    # without --plain a name keeps its kind, and the plan says it is plain
    dotenv.write_text("LOG_LEVEL=debug\n")
    done = signed_in("secrets", "upload", str(dotenv), "--yes")
    assert done.returncode == 0, done.stderr
    assert "  ~ LOG_LEVEL  will be replaced, plain\n" in done.stderr
    assert kinds_in(cli_server, project.id, "dev")["LOG_LEVEL"] == "plain"


def test_upload_plain_must_name_what_the_file_sets(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=3000\nAPI_KEY=k\n")
    done = signed_in(
        "secrets", "upload", str(dotenv), "--plain", "PORT", "NOT_THERE", "1BAD", "--yes"
    )
    assert_one_line_error(done, f'--plain names secrets {dotenv} does not set: "NOT_THERE", "1BAD"')
    assert "nothing was written" in done.stderr
    assert "Upload" not in done.stderr  # refused before the plan, before anything is asked
    assert names_in(cli_server, project.id, "dev") == []


def test_upload_plain_on_a_terminal_shows_the_plan(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=3000\nAPI_KEY=k-abcdef\n")
    code, output = terminal(
        signed_in, "secrets", "upload", str(dotenv), "--plain", "PORT",
        keys=(b"y\r",), wait_for=b"[y/N]", env={"NO_COLOR": "1"},
    )  # fmt: skip
    assert code == 0, output
    assert "  + PORT  plain\n  + API_KEY\n" in output
    assert output.endswith("✔ Wrote 2 secrets to dev\n")
    assert kinds_in(cli_server, project.id, "dev") == {"PORT": "plain", "API_KEY": "secret"}


# --- the agent-shell guard lets plain values through ------------------------------------------


def test_the_guard_lets_a_plain_get_through_and_refuses_a_secret_one(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000", "DB_PASSWORD": "Summer2024!"})
    assert signed_in("secrets", "mark", "PORT", "--plain").returncode == 0
    code, output = terminal(signed_in, "secrets", "get", "PORT", env=AGENT)
    assert code == 0, output
    assert (
        output == f'environment_id: "{project.environments["dev"]}"\nname: "PORT"\nvalue: "3000"\n'
    )
    code, output = terminal(signed_in, "secrets", "get", "PORT", "--raw", env=AGENT)
    assert (code, output) == (0, "3000\n")
    code, output = terminal(signed_in, "secrets", "get", "DB_PASSWORD", env=AGENT)
    assert code == 1
    assert output == f"error: {guard_message('codex')}\n"
    # a name that is not live is refused by the guard, as today, not by a 404
    code, output = terminal(signed_in, "secrets", "get", "NOPE", env=AGENT)
    assert (code, output) == (1, f"error: {guard_message('codex')}\n")
    # refused without fetching: the only read recorded is the plain one's (twice)
    reads = events(cli_server, project.id, "dev", "secrets.read")
    assert [(event["names"], event["how"]) for event in reads] == [(["PORT"], "get")] * 2
    # --force still prints a secret one
    code, output = terminal(signed_in, "secrets", "get", "DB_PASSWORD", "--force", env=AGENT)
    assert code == 0, output
    assert "Summer2024!" in output


def test_the_guard_lets_a_download_through_only_when_every_value_is_plain(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"PORT": "3000", "NODE_ENV": "development"})
    assert signed_in("secrets", "mark", "PORT", "NODE_ENV", "--plain").returncode == 0
    code, output = terminal(signed_in, "secrets", "download", "--format", "env", env=AGENT)
    assert code == 0, output
    assert sorted(output.splitlines()) == ['NODE_ENV="development"', 'PORT="3000"']
    put_secrets(cli_server, project.id, "dev", {"API_KEY": "k-abcdef-123"})  # a secret
    code, output = terminal(signed_in, "secrets", "download", "--format", "env", env=AGENT)
    assert (code, output) == (1, f"error: {guard_message('codex')}\n")
    reads = events(cli_server, project.id, "dev", "secrets.read")
    assert [event["how"] for event in reads] == ["download"]  # the refused one read nothing
    # an empty environment has nothing to hide
    code, output = terminal(
        signed_in, "secrets", "download", "--format", "json", "-c", "prod", env=AGENT
    )
    assert (code, output) == (0, "{}\n")


def test_the_guard_still_comes_first_without_a_login(sigillo: Sigillo) -> None:
    """Nothing to ask the kinds of: the refusal of 11.6, unchanged."""
    code, output = terminal(sigillo, "secrets", "get", "PORT", env=AGENT)
    assert (code, output) == (1, f"error: {guard_message('codex')}\n")
