"""The command line of the client: the parser, its one-line mistakes, and the options
commands share. The commands themselves are declared in parser_commands.py (and
parser_secrets.py for `run` and `secrets`): each names the function that runs it as
"module:function" under sigillo.cli.commands, imported only when that command runs:
`sigillo --version` and `sigillo secrets` load nothing they do not use.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from sigillo import __version__

__all__ = [
    "FORMATS",
    "SHARED_DEFAULTS",
    "UNSET",
    "Parser",
    "at_option",
    "environment_option",
    "fallback_options",
    "json_option",
    "new_command",
    "project_option",
    "root_parser",
]

# Options shared by a command and its actions (`secrets -c dev get X` and `secrets get X
# -c dev`) are left out of the namespace when not given, so that an action's parser does
# not overwrite its parent's value with a default; main.py fills the defaults in once.
UNSET = argparse.SUPPRESS
SHARED_DEFAULTS: dict[str, Any] = {
    "token": None,
    "api_url": None,
    "project": None,
    "env_flags": None,
    "config_flags": None,
    "json": False,
    "force": False,
    "raw": False,
    "at": None,
}

FORMATS = (
    *("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json", "shell"),
    "json-kinds",
)
DESCRIPTION = "Sigillo: secrets for humans and AI agents, self-hosted."


class _Help(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


class Parser(argparse.ArgumentParser):
    """argparse's parser, except that a mistyped command (or action) is one line with what
    was probably meant: `error: unknown command 'secret'; did you mean 'secrets'?`, then the
    commands there are; exit 2, as for every mistake on the command line. Subparsers are
    made of the same class, so `sigillo secrets delet` gets the same. Every other mistake
    (a missing or unknown argument) is one line too, with where to read the usage."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self.set_defaults(parsed_by=self.prog)  # the deepest parser's wins: `sigillo secrets mark`

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # said by the command that was given them, not by `sigillo`
            self._mistake(f"unrecognized arguments: {' '.join(extras)}", parsed.parsed_by)
        return parsed

    def error(self, message: str) -> NoReturn:
        self._mistake(message, self.prog)

    def _mistake(self, message: str, prog: str) -> NoReturn:
        from sigillo.cli.output import Output, printable

        Output().error(printable(message), [f"  see: {prog} --help"])
        self.exit(2)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if (
            isinstance(action, argparse._SubParsersAction)
            and choices is not None
            and value not in choices
        ):
            self._unknown_command(str(value), [str(choice) for choice in choices])
        super()._check_value(action, value)

    def _unknown_command(self, value: str, choices: list[str]) -> None:
        import difflib  # only a mistyped command line pays for it

        from sigillo.cli.output import Output, printable

        where = self.prog.removeprefix("sigillo").strip()
        named = f"{where} {value}".strip()
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        if close:
            meant = f"{where} {close[0]}".strip()
            message = f"unknown command '{printable(named)}'; did you mean '{meant}'?"
        else:
            message = f"unknown command '{printable(named)}' (invalid choice)"
        Output().error(
            message,
            [f"  {'commands' if not where else where + ' actions'}: {', '.join(choices)}"],
        )
        self.exit(2)


def root_parser(epilog: str) -> tuple[argparse.ArgumentParser, Any]:
    root = Parser(prog="sigillo", description=DESCRIPTION, epilog=epilog, formatter_class=_Help)
    root.add_argument("-v", "--version", action="version", version=f"sigillo {__version__}")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    return root, commands


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def new_command(
    commands: Any, name: str, run: str, help: str, *examples: str, **options: Any
) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=_examples(*examples) if examples else None,
        formatter_class=_Help,
        **options,
    )
    command.set_defaults(run=run)
    global_ = command.add_argument_group("connection")
    global_.add_argument(
        "--token", metavar="TOKEN", default=UNSET, help="credential [$SIGILLO_TOKEN, config]"
    )
    global_.add_argument(
        "--api-url", metavar="URL", default=UNSET, help="server [$SIGILLO_API_URL, config]"
    )
    return command


def project_option(command: argparse.ArgumentParser, help: str = "project id") -> None:
    command.add_argument(
        "-p", "--project", metavar="ID", default=UNSET, help=f"{help} [$SIGILLO_PROJECT]"
    )


def environment_option(command: argparse.ArgumentParser, *, many: bool = False) -> None:
    what = "environment slug or id; repeat for several" if many else "environment slug or id"
    command.add_argument(
        "--env",
        dest="env_flags",
        action="append",
        default=UNSET,
        metavar="SLUG",
        help=f"{what} [$SIGILLO_ENVIRONMENT]",
    )
    command.add_argument(
        "-c",
        "--config",
        dest="config_flags",
        action="append",
        default=UNSET,
        metavar="SLUG",
        help="same as --env",
    )


def at_option(command: argparse.ArgumentParser) -> None:
    """`--at`: read the environment as it was at a moment (issue 17)."""
    command.add_argument(
        "--at",
        metavar="TIME|EVENT_ID",
        default=UNSET,
        help="as it was then: an RFC 3339 time (2026-12-07T09:30:00Z) or an event id",
    )


def fallback_options(command: argparse.ArgumentParser) -> None:
    """`--no-fallback` and `--fallback-max-age`: the offline copy (issue 18, cli/fallback.py)."""
    command.add_argument(
        "--no-fallback",
        action="store_true",
        help="never use or keep the offline copy (also SIGILLO_NO_FALLBACK=1)",
    )
    command.add_argument(
        "--fallback-max-age",
        metavar="DURATION",
        default=None,
        help="oldest offline copy to use when the server is unreachable: 30m, 24h, 7d [24h]",
    )


def json_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--json", action="store_true", default=UNSET, help="print the server's JSON answer"
    )
