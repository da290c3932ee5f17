"""`sigillo secrets upload` (a Sigillo addition) and the file readers behind it.

The .env reader must agree with the server's importer (behaviour.md 13) on every input,
so it is compared with sigillo.domain.dotenv here (the CLI itself may not import it). The
CLI is run as the real executable: the plan (`+` new, `~` replaced, never a value), the
confirmation on a terminal, `--yes` required elsewhere, one all-or-nothing bulk write.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigillo.cli.secret_files import FileError, format_for, parse_env, parse_json, parse_yaml
from sigillo.domain.dotenv import parse as server_parse
from sigillo.domain.formats import render
from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_secrets_cli import (
    WORKED_EXAMPLE,
    api_token,
    assert_one_line_error,
    names_in,
    plain,
    put_secrets,
    secrets_path,
    terminal,
    value_in,
)

# A download read back by `upload` is stored as it reads; a literal `${` in a downloaded value
# would come back as a reference (issue 18: write `$${`), so the round trip leaves DOLLAR out.
ROUND_TRIP = {name: value for name, value in WORKED_EXAMPLE.items() if "${" not in value}

# --- the .env reader (13.1, 13.2) --------------------------------------------------------

TABLE_13_2 = [
    ("export B = hello world  # comment", "hello world"),
    ("C='single # not comment'", "single # not comment"),
    ("E='single\\nraw'", "single\\nraw"),
    ("F=`back`", "back"),
    ('I="say \\"hi\\""', 'say "hi"'),
    ('R="C:\\\\path"', "C:\\path"),
    ('U="tab\\tx"', "tab\tx"),
    ('W="caf\\u00e9"', "café"),
    ('X="a\\qb"', "a\\qb"),
    ("J=val#hash", "val"),
    ("K: yamlish", "yamlish"),
    ('M="unterminated', '"unterminated'),
    ('N = "  padded  "', "  padded  "),
    ('P="a"b"', 'a"b'),
    ('Y="v" # note', "v"),
    ('S="\\ud83d\\udd10"', "🔐"),
]


@pytest.mark.parametrize(("line", "value"), TABLE_13_2)
def test_each_row_of_13_2(line: str, value: str) -> None:
    key = line.split("=")[0].split(":")[0].split()[-1]
    assert parse_env(line) == {key: value}
    assert parse_env(line) == dict(server_parse(line))


def test_lines_that_fit_no_pattern_are_skipped() -> None:
    text = "# comment\n\n   \nKEY:value\nnot a pair\n  # indented comment\nOK=1\n"
    assert parse_env(text) == {"OK": "1"}


def test_multi_line_values_and_line_endings() -> None:
    text = 'A="one\ntwo"\r\nB=\'x\ry\'\rC=`a\r\nb`\nD="\u2028\x85\x0b\x0c"\n'
    assert parse_env(text) == {"A": "one\ntwo", "B": "x\ny", "C": "a\nb", "D": "\u2028\x85\x0b\x0c"}


def test_a_later_duplicate_wins_in_the_first_position() -> None:
    assert list(parse_env("A=1\nB=2\nA=3\n").items()) == [("A", "3"), ("B", "2")]


def test_the_worked_example_round_trips() -> None:
    body = render("env", list(WORKED_EXAMPLE.items())).body.decode()
    assert parse_env(body) == WORKED_EXAMPLE


_FRAGMENTS = st.sampled_from(
    [*"AB=:'\"`#\\ \t\n\rxun0dD8cCe-.\u2028", "export ", "\\u", "\\ud83d\\udd10", "\\udc00"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=40).map("".join))
def test_the_reader_agrees_with_the_servers_importer(text: str) -> None:
    assert parse_env(text) == dict(server_parse(text))


_VALUES = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True), _VALUES))
def test_what_env_yaml_and_json_downloads_write_reads_back(values: dict[str, str]) -> None:
    pairs = list(values.items())
    assert parse_env(render("env", pairs).body.decode()) == values
    assert parse_yaml(render("yaml", pairs).body.decode()) == values
    assert parse_json(render("json", pairs).body.decode()) == values


# --- JSON and the YAML subset -------------------------------------------------------------


def test_yaml_plain_and_quoted_values() -> None:
    text = (
        '---\n# comment\nA: plain text\nB: "json \\"quoted\\"\\n"  # c\nC: 123\nD: true\n'
        'E:\nF: # only a comment\nG: a#b\n"H": null\nI: url://x:1/y\n'
    )
    assert parse_yaml(text) == {
        "A": "plain text",
        "B": 'json "quoted"\n',
        "C": "123",
        "D": "true",
        "E": "",
        "F": "",
        "G": "a#b",
        "H": "null",
        "I": "url://x:1/y",
    }


@pytest.mark.parametrize(
    "text",
    [
        "A:\n  B: nested\n",
        "- item\n",
        "A: |\n  block\n",
        "A: >\n  folded\n",
        "A: 'single'\n",
        "A: [1, 2]\n",
        "A: {b: 1}\n",
        "A: &anchor x\n",
        "A: *alias\n",
        "A: !tag x\n",
        "A: b: c\n",
        'A: "\\x41"\n',
        'A: "unterminated\n',
        'A: "x" trailing\n',
        "A: 1\nA: 2\n",
        "just text\n",
    ],
)
def test_yaml_outside_the_subset_is_refused(text: str) -> None:
    with pytest.raises(FileError, match=r"line \d"):
        parse_yaml(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["A"]', "expected a JSON object"),
        ('{"A": 1}', 'the value of "A" is not a string'),
        ('{"A": null}', 'the value of "A" is not a string'),
        ('{"A": "1", "A": "2"}', '"A" appears twice'),
        ("{'A': '1'}", "not valid JSON"),
    ],
)
def test_json_must_be_an_object_of_strings(text: str, message: str) -> None:
    with pytest.raises(FileError, match=message):
        parse_json(text)


def test_the_format_follows_the_file_name() -> None:
    assert format_for("secrets.JSON") == "json"
    assert format_for("a.yaml") == format_for("b.yml") == "yaml"
    assert format_for(".env") == format_for(".env.local") == format_for("vars") == "env"


# --- the command --------------------------------------------------------------------------

DOTENV = """\
# a comment line
export API_KEY="sk-123 \\"quoted\\""
SINGLE='it is # kept'
PLAIN = plain value  # trailing comment
MULTI="first line
second line\\tTAB"
EMPTY=
"""
DOTENV_VALUES = {
    "API_KEY": 'sk-123 "quoted"',
    "SINGLE": "it is # kept",
    "PLAIN": "plain value",
    "MULTI": "first line\nsecond line\tTAB",
    "EMPTY": "",
}


@pytest.fixture
def dotenv(tmp_path: Path) -> Path:
    file = tmp_path / ".env"
    file.write_text(DOTENV)
    return file


def assert_no_value_shown(text: str, values: dict[str, str]) -> None:
    for value in values.values():
        if len(value) > 3:
            assert value not in text


def test_the_example_file_reads_as_the_server_would() -> None:
    assert parse_env(DOTENV) == DOTENV_VALUES == dict(server_parse(DOTENV))


def test_upload_with_yes_writes_everything(
    signed_in: Sigillo, cli_server: Server, project: Project, dotenv: Path
) -> None:
    expected = DOTENV_VALUES
    put_secrets(cli_server, project.id, "dev", {"PLAIN": "old", "UNTOUCHED": "u"})
    done = signed_in("secrets", "upload", str(dotenv), "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == list(expected)  # piped: the names written
    assert done.stderr.splitlines() == [
        f"Upload {dotenv} to dev: 4 new, 1 to be replaced",
        "  + API_KEY",
        "  + SINGLE",
        "  ~ PLAIN  will be replaced",
        "  + MULTI",
        "  + EMPTY",
        "  (1 other secret in dev untouched)",
    ]
    assert_no_value_shown(done.stdout + done.stderr, expected)
    for name, value in expected.items():
        assert value_in(cli_server, project.id, "dev", name) == value
    assert value_in(cli_server, project.id, "dev", "UNTOUCHED") == "u"


def test_upload_without_a_terminal_needs_yes(
    signed_in: Sigillo, cli_server: Server, project: Project, dotenv: Path
) -> None:
    done = signed_in("secrets", "upload", str(dotenv))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.endswith(
        "error: not writing without confirmation: stdin and stdout are not both a terminal\n"
        "  add --yes to write without asking\n"
    )
    assert "  + API_KEY" in done.stderr  # the plan was still shown
    assert names_in(cli_server, project.id, "dev") == []
    piped = signed_in("secrets", "upload", "-", input=DOTENV)
    assert "add --yes" in piped.stderr
    assert names_in(cli_server, project.id, "dev") == []


def test_upload_on_a_terminal_asks_and_writes_on_yes(
    signed_in: Sigillo, cli_server: Server, project: Project, dotenv: Path
) -> None:
    code, output = terminal(
        signed_in, "secrets", "upload", str(dotenv), keys=(b"y\r",), wait_for=b"[y/N]"
    )
    assert code == 0, output
    text = plain(output)
    assert text.startswith(
        f"Writing to Acme / {project.name} (dev) as Ada Lovelace <ada@example.com>\n"
        f"Upload {dotenv} to dev: 5 new, 0 to be replaced\n"
    )
    assert "? Write 5 secrets to dev? [y/N] y\n" in text
    assert text.endswith("✔ Wrote 5 secrets to dev\n")
    assert "\x1b[32m+\x1b[0m API_KEY" in output  # coloured on a terminal
    assert_no_value_shown(output, DOTENV_VALUES)
    assert value_in(cli_server, project.id, "dev", "MULTI") == "first line\nsecond line\tTAB"


@pytest.mark.parametrize("answer", [b"n\r", b"\r", b"whatever\r", b"\x04"])
def test_upload_on_a_terminal_refused(
    signed_in: Sigillo, cli_server: Server, project: Project, dotenv: Path, answer: bytes
) -> None:
    code, output = terminal(
        signed_in, "secrets", "upload", str(dotenv), keys=(answer,), wait_for=b"[y/N]",
        env={"NO_COLOR": "1"},
    )  # fmt: skip
    assert code == 1
    assert output.endswith("error: cancelled; nothing was written\n")
    assert names_in(cli_server, project.id, "dev") == []


def test_upload_on_a_terminal_with_yes_does_not_ask(
    signed_in: Sigillo, cli_server: Server, project: Project, dotenv: Path
) -> None:
    code, output = terminal(signed_in, "secrets", "upload", str(dotenv), "-y")
    assert code == 0, output
    assert "[y/N]" not in output
    assert len(names_in(cli_server, project.id, "dev")) == 5


def test_upload_from_stdin_and_json_output(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("secrets", "upload", "-", "--yes", "--json", "-c", "prod", input="A=1\nB=2\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "ok": True,
        "environmentId": project.environments["prod"],
        "secrets": ["A", "B"],
    }
    assert done.stderr.startswith("Upload stdin to prod: 2 new")


@pytest.mark.parametrize("format", ["env", "json", "yaml"])
def test_a_download_uploads_back_unchanged(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path, format: str
) -> None:
    put_secrets(cli_server, project.id, "dev", ROUND_TRIP)
    downloaded = signed_in.raw("secrets", "download", "--format", format)
    file = tmp_path / f"secrets.{format}"
    file.write_bytes(downloaded.stdout)
    done = signed_in("secrets", "upload", str(file), "--yes", "-c", "preview")
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        served = api.get(secrets_path(project.id, "preview", "download"))
    assert served.json() == ROUND_TRIP
    piped = signed_in(
        "secrets", "upload", "-", "--format", format, "--yes", "-c", "prod",
        input=downloaded.stdout,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert names_in(cli_server, project.id, "prod") == list(ROUND_TRIP)


def test_an_uploaded_reference_resolves_and_an_escape_stays_literal(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    """`${NAME}` in an uploaded file is a reference, as dotenv-expand reads it; `$${` is a
    literal `${` (docs/references.md)."""
    file = tmp_path / "refs.env"
    file.write_text("HOST=db.internal\nURL='pg://${HOST}/app'\nSHELL_DEFAULT='$${HOME:-/root}'\n")
    done = signed_in("secrets", "upload", str(file), "--yes")
    assert done.returncode == 0, done.stderr
    assert value_in(cli_server, project.id, "dev", "URL") == "pg://db.internal/app"
    assert value_in(cli_server, project.id, "dev", "SHELL_DEFAULT") == "${HOME:-/root}"


def test_upload_refuses_invalid_names_before_writing(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    file = tmp_path / "bad.env"
    file.write_text("GOOD=1\nL.dotted-key=2\n1ABC=3\n")
    done = signed_in("secrets", "upload", str(file), "--yes")
    assert done.stderr == (
        f'error: {file}: invalid secret names: "L.dotted-key", "1ABC"\n'
        "  names must match ^[A-Za-z_][A-Za-z0-9_]*$ (at most 256 characters)\n"
    )
    assert names_in(cli_server, project.id, "dev") == []


def test_upload_refuses_oversized_values_naming_the_key_only(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    file = tmp_path / "big.json"
    file.write_text(json.dumps({"SMALL": "s", "BIG": "v" * 65537}))
    done = signed_in("secrets", "upload", str(file), "--yes")
    assert_one_line_error(
        done, f"{file}: the value of BIG is 65537 bytes; the server accepts at most 65536"
    )
    assert "vvvv" not in done.stderr
    assert names_in(cli_server, project.id, "dev") == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.env", b"# nothing here\n", "no secrets found in {file}"),
        ("bad.yaml", b"A:\n  B: 1\n", "{file}: line 2: only flat KEY: value lines"),
        ("bad.json", b"[1]", "{file}: expected a JSON object"),
        ("latin1.env", b"A=caf\xe9\n", "{file} is not UTF-8 text"),
        ("nul.json", b'{"A": "a\\u0000b"}', "{file}: the value of A contains a NUL byte"),
    ],
)
def test_upload_file_errors(
    signed_in: Sigillo, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    file = tmp_path / name
    file.write_bytes(content)
    done = signed_in("secrets", "upload", str(file), "--yes")
    assert_one_line_error(done, message.format(file=file))


def test_upload_of_a_missing_file(signed_in: Sigillo) -> None:
    done = signed_in("secrets", "upload", "nope.env", "--yes")
    assert done.stderr == "error: cannot read nope.env: No such file or directory\n"


def test_upload_writes_one_environment(signed_in: Sigillo, dotenv: Path) -> None:
    done = signed_in("secrets", "upload", str(dotenv), "--yes", "-c", "dev", "-c", "prod")
    assert_one_line_error(done, "upload writes one environment at a time")


def test_upload_to_an_unknown_environment(signed_in: Sigillo, dotenv: Path) -> None:
    done = signed_in("secrets", "upload", str(dotenv), "--yes", "-c", "staging")
    assert_one_line_error(done, "env staging was not found in project")
    assert "available envs:\n  - Dev (dev)\n" in done.stderr


def test_upload_errors_of_the_connection(sigillo: Sigillo, dotenv: Path) -> None:
    done = sigillo("secrets", "upload", str(dotenv), "--yes", env={"SIGILLO_PROJECT": "p"})
    assert done.stderr == "error: not logged in\n  sigillo login\n"
    missing = sigillo("secrets", "upload")
    assert missing.returncode == 2
    assert "the following arguments are required: file" in missing.stderr


def test_upload_with_a_read_only_token_writes_nothing(
    signed_in: Sigillo, cli_server: Server, project: Project, dotenv: Path
) -> None:
    key = api_token(cli_server, project.id)["key"]
    done = signed_in("secrets", "upload", str(dotenv), "--yes", env={"SIGILLO_TOKEN": key})
    assert done.returncode == 1
    assert "error: failed to upload secrets to dev (403): token is read-only" in done.stderr
    assert names_in(cli_server, project.id, "dev") == []


def test_upload_unreachable_server(signed_in: Sigillo, dotenv: Path) -> None:
    done = signed_in(
        "secrets", "upload", str(dotenv), "--yes", env={"SIGILLO_API_URL": "http://127.0.0.1:1"}
    )
    assert_one_line_error(done, "cannot connect to http://127.0.0.1:1")
