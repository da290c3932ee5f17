"""`sigillo secrets` list, get, set, delete and download (behaviour.md 11.5-11.9, 10.8, 15.2
items 1, 2, 4-8), run as the real executable against a live server.

Piped output is parsed (names, raw values, event ids), `--json` is parsed, terminal
behaviour is checked in a pseudo-terminal (YAML blocks, the agent-shell guard, the masked
prompt, the "who and where" line before a write), and bad input gives the errors of 10.4.
Both a session and a `sig_` API token are used. `upload` is in test_upload_cli.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from sigillo.cli.agents import guard_message
from sigillo.domain.dotenv import parse as parse_dotenv
from tests.cli.conftest import Project, Server, Sigillo, sigillo_command
from tests.cli.terminal import in_terminal

ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FORMATS = ("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json", "json-kinds")


# --- helpers (test_upload_cli.py uses them too) ----------------------------------------


def terminal(
    sigillo: Sigillo,
    *args: str,
    keys: tuple[bytes, ...] = (),
    wait_for: bytes | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """The CLI in a pseudo-terminal: exit code and output, CR LF turned back into LF."""
    code, output = in_terminal(
        [*sigillo_command(), *args],
        {**sigillo.env, **(env or {})},
        sigillo.cwd,
        keys=keys,
        wait_for=wait_for,
    )
    return code, output.replace(b"\r\n", b"\n").decode("utf-8", "replace")


def plain(output: str) -> str:
    """Terminal output without its colour codes."""
    return ANSI.sub("", output)


def assert_one_line_error(done: subprocess.CompletedProcess[str], start: str) -> None:
    """Exit 1, nothing on stdout, `error: …` first on stderr and no traceback."""
    assert done.returncode == 1, done
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {start}"), done.stderr
    assert "Traceback" not in done.stderr


def secrets_path(project_id: str, environment: str, *rest: str) -> str:
    return "/".join(["/api/v0/projects", project_id, "environments", environment, "secrets", *rest])


def put_secrets(server: Server, project_id: str, environment: str, secrets: dict[str, str]) -> None:
    with server.api() as api:
        done = api.put(secrets_path(project_id, environment), json={"secrets": secrets})
    assert done.status_code == 200, done.text


def value_in(server: Server, project_id: str, environment: str, name: str) -> str | None:
    """The live value through the API, or None when there is none."""
    with server.api() as api:
        done = api.get(secrets_path(project_id, environment, name))
    if done.status_code == 404:
        return None
    assert done.status_code == 200, done.text
    value: str = done.json()["value"]
    return value


def names_in(server: Server, project_id: str, environment: str) -> list[str]:
    with server.api() as api:
        done = api.get(secrets_path(project_id, environment))
    assert done.status_code == 200, done.text
    return [item["name"] for item in done.json()["secrets"]]


def api_token(server: Server, project_id: str, **body: Any) -> dict[str, Any]:
    """POST /api/v0/projects/{id}/tokens (behaviour.md 6.8): the answer, with the key."""
    with server.api() as api:
        created = api.post(f"/api/v0/projects/{project_id}/tokens", json={"name": "ci", **body})
    assert created.status_code == 200, created.text
    document: dict[str, Any] = created.json()
    return document


def create_environment(server: Server, project_id: str, name: str, slug: str) -> str:
    with server.api() as api:
        created = api.post(
            f"/api/v0/projects/{project_id}/environments", json={"name": name, "slug": slug}
        )
    assert created.status_code == 200, created.text
    environment_id: str = created.json()["id"]
    return environment_id


# --- the 15.2 setup --------------------------------------------------------------------


@dataclass
class E2E:
    cli: Sigillo
    project: Project
    env: str  # slug
    extra: str  # slug
    secret: str  # E2E_SECRET's value


OVERLAP_SHORT = "1234wxyzABCD9876"
OVERLAP_LONG = "abcd1234wxyzABCD9876wxyz"


@pytest.fixture
def e2e(signed_in: Sigillo, cli_server: Server, project: Project) -> E2E:
    """15.2: environments `e2e-<run>` and `extra-e2e-<run>`, the three seeded secrets, and
    the CLI configured only through SIGILLO_* variables."""
    run = uuid.uuid4().hex[:8]
    env, extra = f"e2e-{run}", f"extra-e2e-{run}"
    project.environments[env] = create_environment(cli_server, project.id, "E2E", env)
    project.environments[extra] = create_environment(cli_server, project.id, "Extra E2E", extra)
    secret = f"sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890{run}"
    put_secrets(
        cli_server,
        project.id,
        env,
        {
            "E2E_SECRET": secret,
            "E2E_OVERLAP_SHORT": OVERLAP_SHORT,
            "E2E_OVERLAP_LONG": OVERLAP_LONG,
        },
    )
    signed_in.env["SIGILLO_ENVIRONMENT"] = env
    return E2E(signed_in, project, env, extra, secret)


def test_item_1_list_get_and_download(e2e: E2E) -> None:
    listed = e2e.cli("secrets")
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.splitlines()
    assert {"E2E_SECRET", "E2E_OVERLAP_LONG", "E2E_OVERLAP_SHORT"} == set(names)
    for value in (e2e.secret, OVERLAP_SHORT, OVERLAP_LONG):
        assert value not in listed.stdout + listed.stderr
    got = e2e.cli.raw("secrets", "get", "E2E_SECRET")
    assert got.returncode == 0, got.stderr
    assert got.stdout == e2e.secret.encode()  # exactly: no trailing newline
    downloaded = e2e.cli("secrets", "download", "--format", "json")
    assert downloaded.returncode == 0, downloaded.stderr
    assert json.loads(downloaded.stdout) == {
        "E2E_SECRET": e2e.secret,
        "E2E_OVERLAP_SHORT": OVERLAP_SHORT,
        "E2E_OVERLAP_LONG": OVERLAP_LONG,
    }


def test_item_2_the_guard_is_off_when_piped(e2e: E2E) -> None:
    agent = {"CODEX_THREAD_ID": "thread_1"}
    got = e2e.cli.raw("secrets", "get", "E2E_SECRET", env=agent)
    assert got.returncode == 0, got.stderr
    assert got.stdout == e2e.secret.encode()
    downloaded = e2e.cli("secrets", "download", "--format", "json", env=agent)
    assert downloaded.returncode == 0, downloaded.stderr
    assert json.loads(downloaded.stdout)["E2E_SECRET"] == e2e.secret


def test_item_4_values_from_piped_stdin(e2e: E2E) -> None:
    done = e2e.cli("secrets", "set", "E2E_STDIN_PLAIN", input="plain-secret-no-newline\n")
    assert done.returncode == 0, done.stderr
    assert "trailing newline stripped" in done.stderr
    assert done.stderr == "note: trailing newline stripped from piped stdin\n"
    got = e2e.cli.raw("secrets", "get", "E2E_STDIN_PLAIN")
    assert got.stdout == b"plain-secret-no-newline"
    done = e2e.cli("secrets", "set", "E2E_STDIN_MULTILINE", input="line1\nline2\n")
    assert done.returncode == 0, done.stderr
    assert "trailing newline" not in done.stderr
    got = e2e.cli.raw("secrets", "get", "E2E_STDIN_MULTILINE")
    assert got.stdout == b"line1\nline2\n"


def test_stdin_keeps_everything_but_a_single_final_line_feed(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    for data, stored, noted in [
        (b"a\r\n", "a\r", True),
        (b"a\n\n", "a\n\n", False),
        (b"\n", "", True),
        (b"  spaced  ", "  spaced  ", False),
        ("héllo 🔐\n".encode(), "héllo 🔐", True),
    ]:
        done = signed_in.raw("secrets", "set", "PIPED", input=data)
        assert done.returncode == 0, done.stderr
        assert (b"trailing newline stripped" in done.stderr) is noted
        assert value_in(cli_server, project.id, "dev", "PIPED") == stored


def test_item_5_set_in_two_environments_prints_two_event_ids(e2e: E2E) -> None:
    done = e2e.cli("secrets", "set", "E2E_MULTI_SET", "multi-value", "-c", e2e.env, "-c", e2e.extra)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert done.stdout.endswith("\n")
    assert all(ULID.fullmatch(line) for line in lines)
    assert lines[0] != lines[1]
    for environment in (e2e.env, e2e.extra):
        got = e2e.cli.raw("secrets", "get", "E2E_MULTI_SET", "-c", environment)
        assert got.stdout == b"multi-value"


def test_item_6_delete_from_two_environments(e2e: E2E, cli_server: Server) -> None:
    for environment in (e2e.env, e2e.extra):
        put_secrets(cli_server, e2e.project.id, environment, {"E2E_MULTI_DELETE": "x"})
    done = e2e.cli("secrets", "delete", "E2E_MULTI_DELETE", "-c", e2e.env, "-c", e2e.extra)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f'ok: true\nenvironment_id: "{e2e.env}"\nname: "E2E_MULTI_DELETE"\n'
        f'ok: true\nenvironment_id: "{e2e.extra}"\nname: "E2E_MULTI_DELETE"\n'
    )
    for environment in (e2e.env, e2e.extra):
        got = e2e.cli("secrets", "get", "E2E_MULTI_DELETE", "-c", environment)
        assert_one_line_error(got, "failed to get secret (404): not found")


def test_item_7_a_partial_write_reports_the_bogus_environment(e2e: E2E, cli_server: Server) -> None:
    bogus = f"does-not-exist-{uuid.uuid4().hex[:8]}"
    done = e2e.cli(
        "secrets", "set", "E2E_MULTI_PARTIAL", "partial-write", "-c", e2e.env, "-c", bogus
    )
    assert done.returncode != 0
    assert bogus in done.stderr
    assert done.stderr.startswith(f"error: env {bogus} was not found in project {e2e.project.id}\n")
    assert "available envs:\n  - Dev (dev)\n" in done.stderr
    assert f"  - E2E ({e2e.env})" in done.stderr.splitlines()
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert ULID.fullmatch(lines[0])
    assert value_in(cli_server, e2e.project.id, e2e.env, "E2E_MULTI_PARTIAL") == "partial-write"


def test_a_failed_first_environment_does_not_stop_the_others(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("secrets", "set", "FANOUT", "v", "-c", "nope", "--env", "prod", "-c", "dev")
    assert done.returncode == 1
    # --env values first, then -c values (11.7): prod, nope, dev
    assert len(done.stdout.splitlines()) == 2
    assert value_in(cli_server, project.id, "prod", "FANOUT") == "v"
    assert value_in(cli_server, project.id, "dev", "FANOUT") == "v"


def test_item_8_empty_stdin_stores_an_empty_value(e2e: E2E, cli_server: Server) -> None:
    done = e2e.cli("secrets", "set", "E2E_EMPTY_PIPE", "-c", e2e.env, input=b"")
    assert done.returncode == 0, done.stderr
    assert ULID.fullmatch(done.stdout.strip())
    assert value_in(cli_server, e2e.project.id, e2e.env, "E2E_EMPTY_PIPE") == ""


# --- list -------------------------------------------------------------------------------


def test_list_on_a_terminal_shows_empty_and_missing(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"HAS_VALUE": "v", "EMPTY_SECRET": ""})
    put_secrets(cli_server, project.id, "prod", {"PROD_ONLY": "p"})
    code, output = terminal(signed_in, "secrets")
    assert code == 0, output
    assert "\x1b[33mempty value\x1b[0m" in output  # yellow on a terminal
    assert "\x1b[31mnot in this environment\x1b[0m" in output  # red
    # Issue 16: the project's and environment's names, then a table sorted by name, no ids.
    assert plain(output).splitlines() == [
        f"environment Acme / {project.name}, Dev (dev)",
        "NAME          KIND    NOTE",
        "EMPTY_SECRET  secret  empty value",
        "HAS_VALUE     secret",
        "PROD_ONLY     -       not in this environment",
    ]
    assert project.environments["dev"] not in output


def test_list_on_a_terminal_without_secrets(signed_in: Sigillo, project: Project) -> None:
    code, output = terminal(signed_in, "secrets", env={"NO_COLOR": "1"})
    assert code == 0
    assert output == f"environment Acme / {project.name}, Dev (dev)\nno secrets\n"


def test_list_piped_prints_live_names_only(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"B_NAME": "1", "A_NAME": ""})
    put_secrets(cli_server, project.id, "prod", {"ELSEWHERE": "2"})
    done = signed_in("secrets")
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout == "B_NAME\nA_NAME\n"  # replay order; missing names not printed
    assert signed_in("secrets", "-c", "prod").stdout == "ELSEWHERE\n"
    assert signed_in("secrets", "--env", "prod").stdout == "ELSEWHERE\n"


def test_list_json_is_the_servers(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    put_secrets(cli_server, project.id, "dev", {"ONE": "1"})
    done = signed_in("secrets", "--json")
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        assert json.loads(done.stdout) == api.get(secrets_path(project.id, "dev")).json()


def test_list_of_an_unknown_environment_lists_the_available(
    signed_in: Sigillo, project: Project
) -> None:
    done = signed_in("secrets", "-c", "staging")
    assert_one_line_error(done, "env staging was not found in project")
    assert done.stderr == (
        f"error: env staging was not found in project {project.id}; did you mean preview?\n"
        "available envs:\n  - Dev (dev)\n  - Preview (preview)\n  - Prod (prod)\n"
    )


def test_list_of_an_unknown_project(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("secrets", "-p", "no-such-project")
    # issue 16: the project is what is unknown (this said "env dev was not found")
    lines = done.stderr.splitlines()
    assert lines[0] == "error: project no-such-project not found or you do not have access to it"
    assert f"  - Acme / {project.name} ({project.id})" in lines
    assert done.returncode == 1


# --- get --------------------------------------------------------------------------------


def test_get_on_a_terminal_is_a_block(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"DATABASE_URL": 'postgres://x "q"\n'})
    code, output = terminal(signed_in, "secrets", "get", "DATABASE_URL")
    assert code == 0
    assert output == (
        f'environment_id: "{project.environments["dev"]}"\n'
        'name: "DATABASE_URL"\n'
        'value: "postgres://x \\"q\\"\\n"\n'
    )
    assert yaml.safe_load(output)["value"] == 'postgres://x "q"\n'
    code, output = terminal(signed_in, "secrets", "get", "DATABASE_URL", "--raw")
    assert code == 0
    assert output == 'postgres://x "q"\n\n'  # the value's bytes, then one line feed


def test_get_raw_piped_has_no_trailing_newline(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    value = "line1\nline2\r\n\ttab é 🔐 $HOME \\n"
    put_secrets(cli_server, project.id, "dev", {"RAW": value})
    for extra in ((), ("--raw",)):
        done = signed_in.raw("secrets", "get", "RAW", *extra)
        assert done.returncode == 0
        assert done.stdout == value.encode()


def test_get_json_is_the_servers(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    put_secrets(cli_server, project.id, "dev", {"J": "jv"})
    done = signed_in("secrets", "get", "J", "--json")
    document = json.loads(done.stdout)
    assert document["value"] == "jv"
    assert document["name"] == "J"
    assert document["environmentId"] == project.environments["dev"]


def test_get_of_a_missing_secret(signed_in: Sigillo) -> None:
    done = signed_in("secrets", "get", "NOPE")
    assert done.stderr == "error: failed to get secret (404): not found\n"
    assert done.returncode == 1


def test_get_a_secret_named_download_is_explained(signed_in: Sigillo) -> None:
    done = signed_in("secrets", "get", "download")
    assert_one_line_error(done, "a secret named download cannot be read on its own")


def test_invalid_names_are_refused_before_anything_is_asked(signed_in: Sigillo) -> None:
    for argv in (("get", "1ABC"), ("set", "A-B", "v"), ("delete", "A.B"), ("set", "X" * 257)):
        done = signed_in("secrets", *argv)
        assert_one_line_error(done, "invalid secret name ")
        assert "^[A-Za-z_][A-Za-z0-9_]*$" in done.stderr


# --- the agent-shell guard (11.6) --------------------------------------------------------

GUARDED = [("secrets", "get", "GUARDED"), ("secrets", "download", "--format", "env")]


@pytest.mark.parametrize("argv", GUARDED, ids=" ".join)
def test_the_guard_refuses_on_a_terminal_in_an_agent_shell(
    signed_in: Sigillo, cli_server: Server, project: Project, argv: tuple[str, ...]
) -> None:
    put_secrets(cli_server, project.id, "dev", {"GUARDED": "top-secret-value"})
    code, output = terminal(signed_in, *argv, env={"CODEX_THREAD_ID": "1", "NO_COLOR": "1"})
    assert code == 1
    assert output == f"error: {guard_message('codex')}\n"
    assert "top-secret-value" not in output
    code, output = terminal(signed_in, *argv, "--force", env={"CODEX_THREAD_ID": "1"})
    assert code == 0, output
    assert "top-secret-value" in output
    done = signed_in(*argv, env={"CODEX_THREAD_ID": "1"})  # piped: allowed
    assert done.returncode == 0
    assert "top-secret-value" in done.stdout


def test_the_guard_comes_before_resolution(sigillo: Sigillo) -> None:
    """Not logged in, no project: the agent is still named first (11.6 step 1)."""
    code, output = terminal(sigillo, "secrets", "get", "X", env={"CLAUDECODE": "1"})
    assert code == 1
    assert "detected agent shell: claude" in output
    assert "not logged in" not in output


# --- set on a terminal: the masked prompt and the "who and where" line -------------------


def test_the_masked_prompt_never_shows_the_value(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    code, output = terminal(
        signed_in, "secrets", "set", "TYPED", keys=(b"s3cr3t\r",), wait_for=b"Value for TYPED"
    )
    assert code == 0, output
    assert "s3cr3t" not in output
    assert "******" in output
    text = plain(output)
    assert "? Value for TYPED: " in text
    assert "\r\x1b[2K" in output
    assert "✔ Value for TYPED: ****\n" in text
    assert text.endswith('name: "TYPED"\n')
    assert value_in(cli_server, project.id, "dev", "TYPED") == "s3cr3t"


def test_the_masked_prompt_edits_and_takes_utf8(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    keys = b"ab\x7fc\xc3\xa9\x08d\x15xy\xc3\xa9z\x1b[D\x7f!\r"  # DEL, BS, Ctrl-U, arrow key
    code, output = terminal(
        signed_in, "secrets", "set", "EDITED", keys=(keys,), wait_for=b"Value for EDITED"
    )
    assert code == 0, output
    assert value_in(cli_server, project.id, "dev", "EDITED") == "xyé!"


def test_the_masked_prompt_can_be_cancelled(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    for key in (b"\x03", b"\x04"):
        code, output = terminal(
            signed_in,
            "secrets",
            "set",
            "NEVER",
            keys=(b"abc" + key,),
            wait_for=b"Value for",
            env={"NO_COLOR": "1"},
        )
        assert code == 1
        assert output.endswith("***\nerror: cancelled\n")
        assert "abc" not in output
    assert value_in(cli_server, project.id, "dev", "NEVER") is None


def test_an_empty_entry_is_allowed_with_a_note(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    code, output = terminal(signed_in, "secrets", "set", "LATER", keys=(b"\r",), wait_for=b"Value")
    assert code == 0, output
    assert "\x1b[2mnote: setting empty value (fill in later via dashboard)\x1b[0m" in output
    assert value_in(cli_server, project.id, "dev", "LATER") == ""


def test_set_on_a_terminal_says_who_and_where_then_prints_blocks(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    code, output = terminal(
        signed_in, "secrets", "set", "BLOCK", "value", "-c", "dev", "-c", "prod",
        env={"NO_COLOR": "1"},
    )  # fmt: skip
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == (
        f"Writing to Acme / {project.name} (dev, prod) as Ada Lovelace <ada@example.com>"
    )
    blocks = [yaml.safe_load("\n".join(lines[1:5])), yaml.safe_load("\n".join(lines[5:9]))]
    for block, slug in zip(blocks, ("dev", "prod"), strict=True):
        assert block["ok"] is True
        assert block["name"] == "BLOCK"
        assert block["environment_id"] == project.environments[slug]
        assert ULID.fullmatch(block["id"])
    assert "value" not in output.replace("BLOCK", "")


def test_set_json(signed_in: Sigillo, project: Project) -> None:
    one = json.loads(signed_in("secrets", "set", "J", "v", "--json").stdout)
    assert one["ok"] is True
    assert one["name"] == "J"
    assert one["environmentId"] == project.environments["dev"]
    several = json.loads(
        signed_in("secrets", "set", "J", "v", "-c", "dev", "-c", "prod", "--json").stdout
    )
    assert [answer["environmentId"] for answer in several] == [
        project.environments["dev"],
        project.environments["prod"],
    ]


def test_set_with_an_empty_argument(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("secrets", "set", "PLACEHOLDER", "")
    assert done.returncode == 0
    assert done.stderr == ""
    assert value_in(cli_server, project.id, "dev", "PLACEHOLDER") == ""


def test_values_over_64_kib_are_refused_before_writing(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("secrets", "set", "BIG", input=b"x" * 65537)
    assert_one_line_error(done, "the value is 65537 bytes; the server accepts at most 65536")
    assert value_in(cli_server, project.id, "dev", "BIG") is None
    done = signed_in("secrets", "set", "BIG", input=b"x" * 65536)
    assert done.returncode == 0


def test_values_must_be_utf8_without_nul(signed_in: Sigillo) -> None:
    not_text = signed_in("secrets", "set", "B", input=b"\xff")
    assert_one_line_error(not_text, "the value is not UTF-8 text")
    with_nul = signed_in("secrets", "set", "B", input=b"a\x00b")
    assert_one_line_error(with_nul, "the value contains a NUL byte")


# --- delete -----------------------------------------------------------------------------


def test_delete_single_and_json(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    put_secrets(cli_server, project.id, "dev", {"OLD_KEY": "x"})
    done = signed_in("secrets", "delete", "OLD_KEY")
    assert done.returncode == 0
    assert yaml.safe_load(done.stdout) == {"ok": True, "environment_id": "dev", "name": "OLD_KEY"}
    assert value_in(cli_server, project.id, "dev", "OLD_KEY") is None
    again = signed_in("secrets", "delete", "OLD_KEY", "--json")  # not live: 404 (issue 16)
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr == "error: failed to delete secret in dev (404): secret OLD_KEY not found\n"
    put_secrets(cli_server, project.id, "prod", {"OLD_KEY": "x"})
    by_id = signed_in("secrets", "delete", "OLD_KEY", "--env", project.environments["prod"])
    assert f'environment_id: "{project.environments["prod"]}"' in by_id.stdout


def test_delete_on_a_terminal_is_the_same_block(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"GONE": "x"})
    code, output = terminal(signed_in, "secrets", "delete", "GONE", env={"NO_COLOR": "1"})
    assert code == 0
    assert output.endswith('ok: true\nenvironment_id: "dev"\nname: "GONE"\n')
    assert output.startswith("Writing to Acme / ")


def test_delete_in_an_unknown_environment(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"X": "x"})
    done = signed_in("secrets", "delete", "X", "-c", "dev", "-c", "nope")
    assert done.returncode == 1
    assert done.stdout.count("ok: true") == 1
    assert "error: env nope was not found in project" in done.stderr


# --- download -----------------------------------------------------------------------------

# The values as read. DOLLAR is stored as "pa$$word$${HOME}": `$${` writes a literal `${`
# (issue 18: `${HOME}` alone would be a reference to a secret HOME); see STORED.
WORKED_EXAMPLE = {
    "PLAIN": "localhost",
    "QUOTED": 'say "hi"',
    "SINGLE": "it's",
    "MULTI": "line1\nline2",
    "DOLLAR": "pa$$word${HOME}",
    "BACKSLASH": "C:\\path\\n",
    "TAB_CR": "a\tb\rc",
    "UNICODE": "héllo 🔐",
    "EMPTY": "",
    "DB__HOST": "Server=localhost",
    "DATABASE_URL": "postgres://x",
}
STORED = {**WORKED_EXAMPLE, "DOLLAR": "pa$$word$${HOME}"}


@pytest.mark.parametrize("format", FORMATS)
def test_download_matches_the_api(
    signed_in: Sigillo, cli_server: Server, project: Project, format: str
) -> None:
    """7.4: xargs exactly as the API answers; others with one final line feed."""
    put_secrets(cli_server, project.id, "dev", STORED)
    with cli_server.api() as api:
        served = api.get(secrets_path(project.id, "dev", "download"), params={"format": format})
    assert served.status_code == 200
    done = signed_in.raw("secrets", "download", "--format", format)
    assert done.returncode == 0, done.stderr
    expected = served.content if format == "xargs" else served.content.rstrip(b"\n") + b"\n"
    assert done.stdout == expected
    _assert_parses_back(format, done.stdout)


def _assert_parses_back(format: str, body: bytes) -> None:
    text = body.decode()
    if format == "json":
        assert json.loads(text) == WORKED_EXAMPLE
    elif format == "json-kinds":
        entries = {
            name: {"value": value, "kind": "secret"} for name, value in WORKED_EXAMPLE.items()
        }
        assert json.loads(text) == entries
    elif format == "env":
        assert dict(parse_dotenv(text)) == WORKED_EXAMPLE
    elif format == "yaml":
        assert yaml.safe_load(text) == WORKED_EXAMPLE
    elif format == "xargs":
        fields = text.split("\0")
        assert fields.pop() == ""
        assert dict(zip(fields[::2], fields[1::2], strict=True)) == WORKED_EXAMPLE
    elif format == "dotnet-json":
        document = json.loads(text)
        assert document["Db"] == {"Host": "Server=localhost"}
        assert document["TabCr"] == "a\tb\rc"
    else:  # env-no-quotes and docker are lossy (section 16): check single-line values
        assert "PLAIN=localhost\n" in text
        assert "UNICODE=héllo 🔐\n" in text
        assert ("MULTI=line1\\nline2\n" in text) is (format == "docker")


def test_download_default_is_yaml(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    put_secrets(cli_server, project.id, "dev", {"DB_HOST": "localhost", "DB_PORT": "5432"})
    done = signed_in("secrets", "download")
    assert done.stdout == 'DB_HOST: "localhost"\nDB_PORT: "5432"\n'


def test_download_of_an_empty_environment(signed_in: Sigillo) -> None:
    assert signed_in.raw("secrets", "download", "--format", "json").stdout == b"{}\n"
    assert signed_in.raw("secrets", "download", "--format", "env").stdout == b"\n"
    assert signed_in.raw("secrets", "download", "--format", "xargs").stdout == b""


def test_download_strips_every_trailing_line_feed_but_xargs(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"LAST": "ends\n\n"})
    assert (
        signed_in.raw("secrets", "download", "--format", "env-no-quotes").stdout == b"LAST=ends\n"
    )
    assert signed_in.raw("secrets", "download", "--format", "xargs").stdout == b"LAST\0ends\n\n\0"


def test_download_invalid_format_is_checked_first(sigillo: Sigillo) -> None:
    """Before the guard and before resolution: no login, an agent shell, still this."""
    expected = (
        "error: invalid download format 'toml' "
        "(expected: json, env, env-no-quotes, xargs, yaml, docker, dotnet-json, shell,"
        " json-kinds)\n"
    )
    done = sigillo("secrets", "download", "--format", "toml", env={"CODEX_THREAD_ID": "1"})
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == expected
    code, output = terminal(
        sigillo,
        "secrets",
        "download",
        "--format",
        "toml",
        env={"CODEX_THREAD_ID": "1", "NO_COLOR": "1"},
    )
    assert code == 1
    assert output == expected


def test_download_dotnet_json_conflict(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"A": "1", "A__B": "2"})
    done = signed_in("secrets", "download", "--format", "dotnet-json")
    assert done.stderr == (
        "error: failed to download secrets (400): "
        "dotnet-json format conflict: A__B overlaps with an existing scalar key\n"
    )


def test_download_of_an_unknown_environment(signed_in: Sigillo) -> None:
    done = signed_in("secrets", "download", "-c", "staging")
    assert_one_line_error(done, "env staging was not found in project")
    assert "available envs:" in done.stderr


# --- API tokens ---------------------------------------------------------------------------


def test_every_command_works_with_an_api_token(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    key = api_token(cli_server, project.id, access="read-write")["key"]
    env = {"SIGILLO_TOKEN": key}
    assert signed_in("secrets", "set", "TOK", "token-value", env=env).returncode == 0
    assert signed_in("secrets", env=env).stdout == "TOK\n"
    assert signed_in.raw("secrets", "get", "TOK", env=env).stdout == b"token-value"
    download = signed_in("secrets", "download", "--format", "json", env=env)
    assert json.loads(download.stdout) == {"TOK": "token-value"}
    (tmp_path / "up.env").write_text("UP=1\n")
    uploaded = signed_in("secrets", "upload", str(tmp_path / "up.env"), "--yes", env=env)
    assert uploaded.returncode == 0, uploaded.stderr
    deleted = signed_in("secrets", "delete", "TOK", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert names_in(cli_server, project.id, "dev") == ["UP"]


def test_a_read_only_token_cannot_write(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    key = api_token(cli_server, project.id)["key"]
    done = signed_in("secrets", "set", "RO", "v", env={"SIGILLO_TOKEN": key})
    assert_one_line_error(done, "failed to set secret in dev (403): token is read-only")


def test_an_environment_scoped_token_elsewhere(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    key = api_token(cli_server, project.id, environmentId="dev")["key"]
    done = signed_in("secrets", "-c", "prod", env={"SIGILLO_TOKEN": key})
    assert_one_line_error(
        done, "failed to list secrets (403): token is scoped to a different environment"
    )


def test_set_with_a_token_on_a_terminal_says_api_token(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    created = api_token(cli_server, project.id, access="read-write")
    code, output = terminal(
        signed_in, "secrets", "set", "T", "v",
        env={"SIGILLO_TOKEN": created["key"], "NO_COLOR": "1"},
    )  # fmt: skip
    assert code == 0, output
    assert output.splitlines()[0] == (
        f"Writing to project {project.id} (dev) as API token sig_{created['prefix']}••••"
    )
    assert created["key"] not in output


def test_a_revoked_token(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    created = api_token(cli_server, project.id, access="read-write")
    with cli_server.api() as api:
        revoked = api.delete(f"/api/v0/projects/{project.id}/tokens/{created['id']}")
    assert revoked.status_code == 200
    env = {"SIGILLO_TOKEN": created["key"]}
    for argv, action in [
        (("secrets",), "list secrets"),
        (("secrets", "get", "X"), "get secret"),
        (("secrets", "set", "X", "v"), "set secret in dev"),
        (("secrets", "delete", "X"), "delete secret in dev"),
        (("secrets", "download"), "download secrets"),
    ]:
        done = signed_in(*argv, env=env)
        assert_one_line_error(done, f"failed to {action} (401): unauthorized")
        assert created["key"] not in done.stderr


# --- errors shared by every command -------------------------------------------------------

ALL = [
    ("secrets",),
    ("secrets", "get", "X"),
    ("secrets", "set", "X", "v"),
    ("secrets", "delete", "X"),
    ("secrets", "download"),
]


@pytest.mark.parametrize("argv", ALL, ids=" ".join)
def test_not_logged_in(sigillo: Sigillo, argv: tuple[str, ...]) -> None:
    done = sigillo(*argv, env={"SIGILLO_PROJECT": "p", "SIGILLO_ENVIRONMENT": "dev"})
    assert done.stderr == "error: not logged in\n  sigillo login\n"
    assert done.returncode == 1
    assert done.stdout == ""


@pytest.mark.parametrize("argv", ALL, ids=" ".join)
def test_no_project_configured(sigillo: Sigillo, cli_server: Server, argv: tuple[str, ...]) -> None:
    done = sigillo(*argv, env={"SIGILLO_TOKEN": cli_server.session})
    assert done.stderr == (
        f"error: project not configured for {sigillo.cwd}\n"
        "  sigillo setup --project <PROJECT_ID> --env <SLUG>\n"
    )
    assert done.returncode == 1


@pytest.mark.parametrize("argv", ALL, ids=" ".join)
def test_no_environment_configured(
    sigillo: Sigillo, cli_server: Server, project: Project, argv: tuple[str, ...]
) -> None:
    done = sigillo(*argv, env={"SIGILLO_TOKEN": cli_server.session, "SIGILLO_PROJECT": project.id})
    assert done.stderr == f"error: env not configured for {sigillo.cwd}\n  sigillo setup\n"


def test_a_configured_subfolder_is_hinted(sigillo: Sigillo, cli_server: Server, home: Path) -> None:
    config = {
        "scoped": {
            str(sigillo.cwd / "app"): {"project": "P1", "project-name": "web", "environment": "dev"}
        }
    }
    (home / ".sigillo").mkdir()
    (home / ".sigillo" / "config.json").write_text(json.dumps(config))
    done = sigillo("secrets", env={"SIGILLO_TOKEN": cli_server.session})
    assert done.stderr.startswith(f"error: project not configured for {sigillo.cwd}\n")
    assert "  ./app  →  web (dev)\n" in done.stderr


@pytest.mark.parametrize("argv", ALL, ids=" ".join)
def test_unreachable_server(signed_in: Sigillo, argv: tuple[str, ...]) -> None:
    done = signed_in(*argv, env={"SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert_one_line_error(done, "cannot connect to http://127.0.0.1:1")
    assert len([line for line in done.stderr.splitlines() if line.startswith("error")]) == 1


@pytest.mark.parametrize("action", ["get", "set", "delete"])
def test_a_missing_name_is_a_usage_error(signed_in: Sigillo, action: str) -> None:
    done = signed_in("secrets", action)
    assert done.returncode == 2
    assert done.stderr == (
        "error: the following arguments are required: name\n"
        f"  see: sigillo secrets {action} --help\n"
    )
    assert done.stdout == ""


def test_set_resolves_before_reading_the_value(sigillo: Sigillo) -> None:
    """Not logged in: the error comes before any prompt on a terminal."""
    code, output = terminal(sigillo, "secrets", "set", "X", env={"NO_COLOR": "1"})
    assert code == 1
    assert output == "error: not logged in\n  sigillo login\n"


def test_piped_output_has_no_colours(signed_in: Sigillo) -> None:
    done = signed_in("secrets", "set", "C", "-c", "dev", "-c", "nope", input="v\n")
    assert "\x1b" not in done.stdout + done.stderr


# --- names from the server are shown escaped -----------------------------------------------

C1 = "\u009b31mRed"  # CSI as one C1 character: the server accepts it, a terminal obeys it


def test_c1_controls_in_org_project_and_environment_names_are_escaped(
    signed_in: Sigillo, cli_server: Server
) -> None:
    with cli_server.api() as api:
        org = api.post("/api/v0/orgs", json={"name": f"Org{C1}"}).json()["id"]
        created = api.post("/api/v0/projects", json={"name": f"App{C1}", "orgId": org})
        project_id = created.json()["id"]
        made = api.post(
            f"/api/v0/projects/{project_id}/environments", json={"name": f"Env{C1}", "slug": "red"}
        )
        assert made.status_code == 200, made.text
    env = {"SIGILLO_PROJECT": project_id, "NO_COLOR": "1"}
    code, output = terminal(signed_in, "secrets", "set", "PLAIN_NAME", "v", "-c", "red", env=env)
    assert code == 0, output
    assert "\u009b" not in output
    assert output.splitlines()[0] == (
        "Writing to Org\\u009b31mRed / App\\u009b31mRed (red) as Ada Lovelace <ada@example.com>"
    )
    missing = signed_in("secrets", "-c", "nope", env=env)
    assert "  - Env\\u009b31mRed (red)" in missing.stderr.splitlines()
    assert "\u009b" not in missing.stderr


class _Hostile(BaseHTTPRequestHandler):
    """A server whose org, project, user and environment names hold `ESC [31m` (the real
    server refuses such names; a compromised or foreign one need not)."""

    protocol_version = "HTTP/1.1"
    EVIL = "\x1b[31m"
    ROUTES: dict[tuple[str, str], tuple[int, Any]] = {
        ("GET", "/api/v0/me"): (200, {"user": {"name": f"Ada{EVIL}", "email": "a@example.com"}}),
        ("GET", "/api/v0/projects/P"): (200, {"orgName": f"Org{EVIL}", "name": f"App{EVIL}"}),
        ("GET", "/api/v0/projects/P/environments"): (
            200,
            {"environments": [{"name": f"Env{EVIL}", "slug": "dev"}]},
        ),
        ("GET", "/api/v0/projects/P/environments/nope/secrets"): (404, {"error": "not found"}),
        ("POST", "/api/v0/projects/P/environments/dev/secrets"): (
            200,
            {"ok": True, "environmentId": f"env{EVIL}", "id": f"evt{EVIL}", "name": "PLAIN_NAME"},
        ),
        ("GET", "/api/v0/projects/P/environments/dev/secrets"): (
            200,
            {"environmentId": "e", "secrets": [{"id": "1", "name": f"N{EVIL}"}], "allNames": []},
        ),
    }

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, document = self.ROUTES.get(
            (self.command, self.path), (404, {"error": f"no route {self.path}"})
        )
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_escape_sequences_from_a_hostile_server_are_shown_escaped(
    sigillo: Sigillo, hostile: str
) -> None:
    env = {
        "SIGILLO_API_URL": hostile,
        "SIGILLO_TOKEN": "session",
        "SIGILLO_PROJECT": "P",
        "SIGILLO_ENVIRONMENT": "dev",
        "NO_COLOR": "1",
    }
    code, output = terminal(sigillo, "secrets", "set", "PLAIN_NAME", "v", env=env)
    assert code == 0, output
    assert "\x1b" not in output
    assert output == (
        "Writing to Org\\u001b[31m / App\\u001b[31m (dev) as Ada\\u001b[31m <a@example.com>\n"
        "ok: true\n"
        'environment_id: "env\\u001b[31m"\n'
        'id: "evt\\u001b[31m"\n'
        'name: "PLAIN_NAME"\n'
    )
    piped = sigillo("secrets", "set", "PLAIN_NAME", "v", env=env)
    assert piped.stdout == "evt\\u001b[31m\n"
    missing = sigillo("secrets", "-c", "nope", env=env)
    assert missing.stderr == (
        "error: env nope was not found in project P\navailable envs:\n  - Env\\u001b[31m (dev)\n"
    )
    listed = sigillo("secrets", env=env)
    assert listed.stdout == "N\\u001b[31m\n"
    code, output = terminal(sigillo, "secrets", env=env)
    assert "\x1b" not in output
    assert "N\\u001b[31m  secret" in output
