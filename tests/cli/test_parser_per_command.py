"""A command line gets the parser of its own command only (`parser(argv)`), and that parser
behaves exactly like the whole one (`parser()`): same help, same parse, same errors."""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator, Sequence

import pytest

from sigillo.__main__ import COMMAND_NAMES, main, parser
from sigillo.cli.parser_commands import COMMANDS


def _paths(node: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for action in node._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name)
                yield from _paths(child, (*path, name))


def _commands(root: argparse.ArgumentParser) -> list[str]:
    (subparsers,) = (a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    return list(subparsers.choices)


EVERY_PATH = list(_paths(parser()))


def outcome(build: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[object, str, str]:
    """What parsing `argv` gives: the namespace (or the exit status), stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: object = build.parse_args(argv)
        except SystemExit as exit:
            result = ("exit", exit.code)
    return result, out.getvalue(), err.getvalue()


def same_as_whole(argv: Sequence[str]) -> tuple[object, str, str]:
    alone = outcome(parser(argv), argv)
    assert alone == outcome(parser(), argv), argv
    return alone


def test_every_command_is_known_by_name() -> None:
    assert _commands(parser()) == [*COMMANDS, "server", "admin"]
    assert set(_commands(parser())) == COMMAND_NAMES
    assert len(EVERY_PATH) > 30


@pytest.mark.parametrize("name", sorted(COMMAND_NAMES))
def test_a_command_line_builds_its_command_alone(name: str) -> None:
    assert _commands(parser([name])) == [name]
    assert _commands(parser([name, "--help"])) == [name]


@pytest.mark.parametrize(
    "argv",
    [[], ["-h"], ["--help"], ["--version"], ["nope"], ["secret"], ["--token", "x", "secrets"],
     ["--"], ["RUN"], ["-"]],
)  # fmt: skip
def test_anything_but_a_command_name_first_builds_them_all(argv: list[str]) -> None:
    assert _commands(parser(argv)) == _commands(parser())


@pytest.mark.parametrize("path", EVERY_PATH, ids=" ".join)
def test_every_help_is_the_whole_parsers(path: tuple[str, ...]) -> None:
    result, out, err = same_as_whole([*path, "--help"])
    assert result == ("exit", 0)
    assert out.startswith(f"usage: sigillo {' '.join(path)}")
    assert err == ""


def test_the_root_help_lists_every_command() -> None:
    result, out, _ = same_as_whole(["--help"])
    assert result == ("exit", 0)
    for name in COMMAND_NAMES:
        assert f"\n    {name}" in out, name


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--", "true"],
        ["run", "-c", "prod", "--redact", "A", "--show", "B", "--", "sh", "-c", "echo $A"],
        ["run", "--command", "psql", "--mount", ".env", "--mount-format", "json"],
        ["run", "--", "run", "--help"],
        ["secrets"],
        ["secrets", "--json", "-c", "dev", "-p", "P"],
        ["secrets", "-c", "dev", "get", "KEY", "--raw"],
        ["secrets", "set", "KEY", "v", "--env", "dev", "-c", "prod", "--plain"],
        ["secrets", "mark", "A", "B", "--secret"],
        ["secrets", "delete", "KEY", "-c", "dev"],
        ["secrets", "download", "--format", "env", "--force"],
        ["secrets", "upload", "-", "--plain", "PORT", "--yes"],
        ["login", "--token", "sig_x", "--scope", "."],
        ["logout"],
        ["me", "--json"],
        ["setup", "--project", "P", "--env", "dev"],
        ["orgs"],
        ["orgs", "create", "--name", "Acme"],
        ["orgs", "sign-in-policy", "--org", "O", "--require-two-factor", "on", "--json"],
        ["projects", "--org", "O"],
        ["projects", "create", "--org", "O", "--name", "backend"],
        ["projects", "get", "P"],
        ["projects", "update", "P", "--name", "api"],
        ["projects", "delete", "P", "-y"],
        ["environments", "-p", "P"],
        ["environments", "create", "-p", "P", "--name", "QA", "--slug", "qa"],
        ["environments", "get", "qa"],
        ["environments", "rename", "qa", "--slug", "test"],
        ["environments", "delete", "qa", "--yes"],
        ["tokens"],
        ["tokens", "create", "--name", "ci", "--env", "prod", "--expires-in", "30d"],
        ["tokens", "revoke", "T", "--api-url", "http://x"],
        ["sessions"],
        ["sessions", "--json"],
        ["sessions", "end", "S"],
        ["sessions", "end", "--others", "--json"],
        ["completion", "zsh"],
        ["server", "--host", "::1", "--port", "9000"],
        ["admin", "migrate", "--data-dir", "d"],
        ["admin", "rebuild-projections", "--check"],
        ["admin", "create-user", "a@example.com", "--password-stdin", "--name", "Ada"],
        ["admin", "reset-two-factor", "a@example.com", "--data-dir", "d"],
        ["admin", "sign-in-failures", "--email", "a@example.com", "--limit", "5"],
    ],
    ids=" ".join,
)
def test_command_lines_parse_as_with_the_whole_parser(argv: list[str]) -> None:
    result, out, err = same_as_whole(argv)
    assert isinstance(result, argparse.Namespace), err
    assert result.command == argv[0]
    assert (out, err) == ("", "")


@pytest.mark.parametrize(
    "argv",
    [
        ["nope"],
        ["secrets", "nope"],
        ["secrets", "get"],
        ["secrets", "mark", "X"],
        ["secrets", "set", "X", "v", "--plain", "--secret"],
        ["me", "extra"],
        ["run", "--bogus"],
        ["completion"],
        ["completion", "tcsh"],
        ["server", "--port", "x"],
        ["admin"],
        ["admin", "create-user", "a@example.com"],
        ["admin", "reset-two-factor"],
        ["-v"],
    ],
    ids=" ".join,
)
def test_mistakes_are_reported_as_with_the_whole_parser(argv: list[str]) -> None:
    result, out, err = same_as_whole(argv)
    if argv == ["-v"]:
        assert (result, out.startswith("sigillo ")) == (("exit", 0), True)
    elif argv[-1] == "nope":  # a mistyped command: one line, then the commands there are
        assert (result, out) == (("exit", 2), "")
        assert err.startswith(f"error: unknown command '{' '.join(argv)}' (invalid choice)\n")
    else:
        assert (result, out, err.startswith("error: ")) == (("exit", 2), "", True)
        assert err.endswith(" --help\n"), err
        assert len(err.splitlines()) == 2, err


def test_the_invalid_choice_error_says_what_was_meant_and_lists_every_command() -> None:
    _, _, err = same_as_whole(["secret"])
    first, commands = err.splitlines()
    assert first == "error: unknown command 'secret'; did you mean 'secrets'?"
    assert commands.startswith("  commands: ")
    assert set(commands.removeprefix("  commands: ").split(", ")) == COMMAND_NAMES


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["projets"], "unknown command 'projets'; did you mean 'projects'?"),
        (
            ["secrets", "delet", "X"],
            "unknown command 'secrets delet'; did you mean 'secrets delete'?",
        ),
        (["tokens", "revok", "T"], "unknown command 'tokens revok'; did you mean 'tokens revoke'?"),
        (["admin", "migrat"], "unknown command 'admin migrat'; did you mean 'admin migrate'?"),
    ],
)
def test_a_mistyped_action_gets_what_was_meant(argv: list[str], expected: str) -> None:
    result, out, err = same_as_whole(argv)
    assert (result, out) == (("exit", 2), "")
    assert err.splitlines()[0] == f"error: {expected}"
    assert len(err.splitlines()) == 2


def test_no_command_prints_the_whole_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out == parser().format_help()
