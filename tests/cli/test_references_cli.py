"""Secret references (issue 18) through the real `sigillo` executable against a live
server: `secrets get` prints the value the server resolved, `--raw` the value as stored;
`secrets download` renders resolved values; a broken reference is a one-line `error: …`
naming it, never a value, and a failing exit code; a malformed reference is refused when
set, with the way to write it literally. (`sigillo run` is tested elsewhere.)
"""

from __future__ import annotations

import json

from sigillo.domain.dotenv import parse as parse_dotenv
from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_secrets_cli import api_token, put_secrets, value_in

PW = "zq-ref-cli-pw"
RAW_URL = "pg://u:${prod.PW}@${HOST}/x"
RESOLVED_URL = f"pg://u:{PW}@db/x"


def scene(server: Server, project: Project) -> None:
    put_secrets(server, project.id, "prod", {"PW": PW})
    put_secrets(server, project.id, "dev", {"HOST": "db", "URL": RAW_URL, "LIT": "a $${HOME} b"})


def one_line_error(stderr: str) -> str:
    """The error line, checked to be the only one and no traceback."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def test_get_prints_the_resolved_value_and_raw_the_stored_one(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    scene(cli_server, project)
    got = signed_in.raw("secrets", "get", "URL")
    assert got.returncode == 0, got.stderr
    assert got.stdout == RESOLVED_URL.encode()
    raw = signed_in.raw("secrets", "get", "URL", "--raw")
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout == RAW_URL.encode()
    # An escape: resolved it reads as `${`, raw it is as written.
    assert signed_in.raw("secrets", "get", "LIT").stdout == b"a ${HOME} b"
    assert signed_in.raw("secrets", "get", "LIT", "--raw").stdout == b"a $${HOME} b"
    # --json is the server's answer: resolved, or raw with --raw.
    document = json.loads(signed_in("secrets", "get", "URL", "--json").stdout)
    assert document["value"] == RESOLVED_URL
    document = json.loads(signed_in("secrets", "get", "URL", "--json", "--raw").stdout)
    assert document["value"] == RAW_URL


def test_get_follows_a_change_of_the_referenced_secret(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    scene(cli_server, project)
    assert signed_in.raw("secrets", "get", "URL").stdout == RESOLVED_URL.encode()
    put_secrets(cli_server, project.id, "prod", {"PW": "rotated"})
    assert signed_in.raw("secrets", "get", "URL").stdout == b"pg://u:rotated@db/x"
    # From another environment, with -c.
    put_secrets(cli_server, project.id, "preview", {"P": "${prod.PW}!"})
    assert signed_in.raw("secrets", "get", "P", "-c", "preview").stdout == b"rotated!"


def test_download_renders_resolved_values(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    scene(cli_server, project)
    done = signed_in("secrets", "download", "--format", "env")
    assert done.returncode == 0, done.stderr
    assert dict(parse_dotenv(done.stdout)) == {
        "HOST": "db",
        "URL": RESOLVED_URL,
        "LIT": "a ${HOME} b",
    }
    kinds = json.loads(signed_in("secrets", "download", "--format", "json-kinds").stdout)
    assert kinds["URL"] == {"value": RESOLVED_URL, "kind": "secret", "parts": [PW, "db"]}
    as_json = json.loads(signed_in("secrets", "download", "--format", "json").stdout)
    assert as_json["URL"] == RESOLVED_URL


def test_a_broken_reference_is_a_one_line_error_naming_it(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"BAD": f"{PW} ${{prod.NOPE}}"})
    for argv in (
        ("secrets", "get", "BAD"),
        ("secrets", "get", "BAD", "--json"),
        ("secrets", "download", "--format", "env"),
        ("secrets", "download", "--format", "json-kinds"),
    ):
        done = signed_in(*argv)
        assert done.returncode != 0, argv
        assert done.stdout == "", argv
        line = one_line_error(done.stderr)
        assert "${prod.NOPE} in BAD: no such secret" in line, line
        assert "409" in line
        assert PW not in done.stderr
    # --raw still reads what is stored.
    raw = signed_in.raw("secrets", "get", "BAD", "--raw")
    assert (raw.returncode, raw.stdout) == (0, f"{PW} ${{prod.NOPE}}".encode())


def test_a_cycle_is_an_error_naming_it(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"A": "${B}", "B": "${A}"})
    done = signed_in("secrets", "get", "A")
    assert done.returncode != 0
    assert "reference cycle: dev.A → dev.B → dev.A" in one_line_error(done.stderr)


def test_a_scoped_token_cannot_pull_another_environment(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    scene(cli_server, project)
    key = api_token(cli_server, project.id, environmentId="dev")["key"]
    done = signed_in("secrets", "get", "URL", env={"SIGILLO_TOKEN": key})
    assert done.returncode != 0
    line = one_line_error(done.stderr)
    assert "${prod.PW}: not readable with this credential (in URL)" in line
    assert PW not in done.stderr
    raw = signed_in.raw("secrets", "get", "URL", "--raw", env={"SIGILLO_TOKEN": key})
    assert (raw.returncode, raw.stdout) == (0, RAW_URL.encode())
    assert signed_in.raw("secrets", "get", "HOST", env={"SIGILLO_TOKEN": key}).stdout == b"db"


def test_set_refuses_a_malformed_reference_and_takes_the_escape(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("secrets", "set", "SHELL", "${HOME:-/root}")
    assert done.returncode != 0
    line = one_line_error(done.stderr)
    # the one line names what is refused and how to write it literally
    assert line.startswith(
        "error: failed to set secret in dev (422): validation failed: SHELL holds ${HOME:-/root}"
    ), line
    assert "write $${ for a literal ${" in line
    assert value_in(cli_server, project.id, "dev", "SHELL") is None
    ok = signed_in("secrets", "set", "SHELL", "$${HOME:-/root}")
    assert ok.returncode == 0, ok.stderr
    assert signed_in.raw("secrets", "get", "SHELL").stdout == b"${HOME:-/root}"
    assert signed_in.raw("secrets", "get", "SHELL", "--raw").stdout == b"$${HOME:-/root}"
