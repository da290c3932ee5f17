"""The command line itself (behaviour.md 15.3, "Argument parsing", the parts outside
`run`), and help with examples on every command."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator

import pytest

from sigillo.__main__ import parser
from sigillo.cli.parser import FORMATS, SHARED_DEFAULTS
from sigillo.domain import formats as domain_formats


def parse(*argv: str) -> argparse.Namespace:
    args = parser().parse_args(argv)
    for name, default in SHARED_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def targets(args: argparse.Namespace) -> list[str]:
    return [*(args.env_flags or []), *(args.config_flags or [])]


def test_the_documented_command_lines_parse() -> None:
    assert parse("secrets", "download", "--format", "xargs", "--force").force is True
    assert parse("secrets", "get", "NAME", "--force").name == "NAME"
    assert targets(parse("secrets", "--env", "env_123")) == ["env_123"]
    assert targets(parse("secrets", "--config", "env_123")) == ["env_123"]
    set_ = parse("secrets", "set", "KEY", "value", "-p", "proj_123", "-c", "dev")
    assert (set_.project, set_.value, targets(set_)) == ("proj_123", "value", ["dev"])
    assert parse("orgs", "create", "--name", "acme").name == "acme"
    created = parse("projects", "create", "--org", "org_123", "--name", "backend")
    assert (created.org, created.name) == ("org_123", "backend")
    renamed = parse("environments", "rename", "env_123", "--name", "prod", "--slug", "production")
    assert (renamed.id, renamed.name, renamed.slug) == ("env_123", "prod", "production")
    login = parse("login", "--token", "sig_test_123", "--scope", "/")
    assert (login.token, login.scope) == ("sig_test_123", "/")
    assert parse("login", "--token", "sig_test_123").scope == "/"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("-c", "dev", "-c", "prod"), ["dev", "prod"]),
        (("--env", "dev", "-c", "prod"), ["dev", "prod"]),
        (
            ("--env", "dev", "--env", "prod", "-c", "dev", "-c", "staging"),
            ["dev", "prod", "dev", "staging"],
        ),
        (("-c", "dev", "--env", "prod"), ["prod", "dev"]),
    ],
)
def test_environment_flags_collect_every_env_then_every_config(
    argv: tuple[str, ...], expected: list[str]
) -> None:
    assert targets(parse("secrets", "set", "KEY", "v", *argv)) == expected


def test_options_given_before_the_action_are_kept() -> None:
    args = parse("secrets", "-c", "dev", "-p", "P", "get", "KEY")
    assert (targets(args), args.project, args.name) == (["dev"], "P", "KEY")


def test_the_kind_flags_parse() -> None:
    """[D18]: `--plain`/`--secret` on set (neither: None, the name keeps its kind) and mark
    (one is required), `--plain NAME…` on upload; each handler is where main.py finds it."""
    assert parse("secrets", "set", "PORT", "3000").kind is None
    assert parse("secrets", "set", "PORT", "3000", "--plain").kind == "plain"
    assert parse("secrets", "set", "PORT", "--secret", "-c", "dev").kind == "secret"
    marked = parse("secrets", "mark", "PORT", "LOG_LEVEL", "--plain", "-c", "dev", "-c", "prod")
    assert (marked.names, marked.kind, targets(marked)) == (
        ["PORT", "LOG_LEVEL"],
        "plain",
        ["dev", "prod"],
    )
    assert parse("secrets", "-c", "dev", "mark", "X", "--secret").kind == "secret"
    upload = parse("secrets", "upload", ".env", "--plain", "PORT", "LOG_LEVEL", "--yes")
    assert (upload.file, upload.plain, upload.yes) == (".env", ["PORT", "LOG_LEVEL"], True)
    assert parse("secrets", "upload", ".env").plain == []
    for argv in (("secrets", "mark", "X"), ("secrets", "mark", "X", "--plain", "--secret")):
        with pytest.raises(SystemExit):
            parse(*argv)
    with pytest.raises(SystemExit):
        parse("secrets", "set", "X", "v", "--plain", "--secret")
    for argv in (("secrets", "mark", "X", "--plain"), ("secrets", "upload", "f")):
        module, function = parse(*argv).run.split(":")
        assert callable(
            getattr(importlib.import_module(f"sigillo.cli.commands.{module}"), function)
        )


def test_the_download_formats_are_exactly_the_documented_ones() -> None:
    """behaviour.md 7.1's, in its order, then Sigillo's json-kinds [D18]; the server's list."""
    assert FORMATS == domain_formats.DOWNLOAD_FORMATS
    assert FORMATS[:7] == ("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json")


def _commands(
    node: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in node._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from _commands(child, (*path, name))


def test_every_command_has_help_with_examples() -> None:
    commands = dict(_commands(parser()))
    assert len(commands) > 30
    for path, command in commands.items():
        assert command.epilog, path
        assert command.epilog.startswith("examples:\n  "), path
        assert f"sigillo {path[0]}" in command.epilog, path
        assert command.format_help().startswith(f"usage: sigillo {' '.join(path)}"), path
