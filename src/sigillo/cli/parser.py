"""The command line of the client: every command, its options and its help examples.

Each command names the function that runs it as "module:function" under
sigillo.cli.commands, imported only when that command runs: `sigillo --version` and
`sigillo secrets` load nothing they do not use.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from sigillo import __version__

__all__ = ["COMMANDS", "FORMATS", "SHARED_DEFAULTS", "Parser", "add_commands", "root_parser"]

# Options shared by a command and its actions (`secrets -c dev get X` and `secrets get X
# -c dev`) are left out of the namespace when not given, so that an action's parser does
# not overwrite its parent's value with a default; main.py fills the defaults in once.
_UNSET = argparse.SUPPRESS
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


def _command(
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
        "--token", metavar="TOKEN", default=_UNSET, help="credential [$SIGILLO_TOKEN, config]"
    )
    global_.add_argument(
        "--api-url", metavar="URL", default=_UNSET, help="server [$SIGILLO_API_URL, config]"
    )
    return command


def _project(command: argparse.ArgumentParser, help: str = "project id") -> None:
    command.add_argument(
        "-p", "--project", metavar="ID", default=_UNSET, help=f"{help} [$SIGILLO_PROJECT]"
    )


def _environment(command: argparse.ArgumentParser, *, many: bool = False) -> None:
    what = "environment slug or id; repeat for several" if many else "environment slug or id"
    command.add_argument(
        "--env",
        dest="env_flags",
        action="append",
        default=_UNSET,
        metavar="SLUG",
        help=f"{what} [$SIGILLO_ENVIRONMENT]",
    )
    command.add_argument(
        "-c",
        "--config",
        dest="config_flags",
        action="append",
        default=_UNSET,
        metavar="SLUG",
        help="same as --env",
    )


def _at(command: argparse.ArgumentParser) -> None:
    """`--at`: read the environment as it was at a moment (issue 17)."""
    command.add_argument(
        "--at",
        metavar="TIME|EVENT_ID",
        default=_UNSET,
        help="as it was then: an RFC 3339 time (2026-12-07T09:30:00Z) or an event id",
    )


def _fallback(command: argparse.ArgumentParser) -> None:
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


def _json(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--json", action="store_true", default=_UNSET, help="print the server's JSON answer"
    )


def _login(commands: Any) -> None:
    login = _command(
        commands,
        "login",
        "auth:login",
        "sign in through the browser (device flow), or save a token",
        "sigillo login",
        "SIGILLO_TOKEN=sig_xxx sigillo login --scope /",
        "sigillo login --token sig_xxx --scope /",
        "sigillo login --api-url https://secrets.example.com --scope .",
    )
    login.add_argument("--scope", default="/", help="directory the login applies to [/]")
    login.add_argument("--no-browser", action="store_true", help="only print the URL")


def _logout(commands: Any) -> None:
    logout = _command(
        commands,
        "logout",
        "auth:logout",
        "forget the login of a scope",
        "sigillo logout",
        "sigillo logout --scope .",
    )
    logout.add_argument("--scope", default="/", help="directory whose record is removed [/]")


def _me(commands: Any) -> None:
    me = _command(
        commands, "me", "auth:me", "show who you are and what this directory uses", "sigillo me"
    )
    _json(me)


def _setup(commands: Any) -> None:
    setup = _command(
        commands,
        "setup",
        "setup:setup",
        "choose the project and environment of this directory",
        "sigillo setup",
        "sigillo setup --project 01J8Z4QWERTYUIOPASDFGHJKLZ --env dev",
    )
    _project(setup)
    _environment(setup)


def _run(commands: Any) -> None:
    run = _command(
        commands,
        "run",
        "run:run",
        "run a command with the environment's secrets, redacting them from its output",
        "sigillo run -- npm run dev",
        "sigillo run -c prod -- ./deploy.sh",
        "sigillo run --command 'psql \"$DATABASE_URL\"'",
        "sigillo run --mount .env -- docker compose up",
        "sigillo run --mount config.json --mount-format json -- next dev",
        "sigillo run --at 2026-12-07T09:30:00Z -- ./deploy.sh     (the secrets of then)",
        "sigillo run --watch -- next dev                          (restart when secrets change)",
    )
    _project(run)
    _environment(run)
    _at(run)
    _fallback(run)
    run.add_argument(
        "--watch",
        action="store_true",
        help="restart the command when a secret of the environment (or one it refers to) changes",
    )
    run.add_argument(
        "--watch-signal",
        metavar="SIGNAL",
        default=None,
        help="with --watch: send SIGNAL (HUP, USR1…) instead of restarting",
    )
    run.add_argument(
        "--command", dest="shell_command", metavar="STRING", help="run STRING with the shell"
    )
    run.add_argument("--mount", metavar="PATH", help="also write the secrets to PATH (0600)")
    run.add_argument(
        "--mount-format", default="env", metavar="FORMAT", help="format of the mount [env]"
    )
    run.add_argument(
        "--mount-mode", default="file", metavar="MODE", help="file, or fifo (never on disk) [file]"
    )
    run.add_argument(
        "--disable-redaction", action="store_true", help="pass the output through untouched"
    )
    run.add_argument(
        "--redact", action="append", default=[], metavar="NAME", help="also redact this secret"
    )
    run.add_argument(
        "--redact-all", action="store_true", help="redact every value of 4 characters or more"
    )
    run.add_argument(
        "--keep-token",
        action="store_true",
        help="leave SIGILLO_TOKEN in the child's environment (still masked in its output)",
    )
    run.add_argument(
        "--show",
        action="append",
        default=[],
        metavar="NAME",
        help="treat this secret as plain for this run (its value may print)",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS")


def _secrets(commands: Any) -> None:
    secrets = _command(
        commands,
        "secrets",
        "secrets:list_",
        "list, read and change secrets",
        "sigillo secrets",
        "sigillo secrets get DATABASE_URL -c dev",
        "sigillo secrets set STRIPE_SECRET_KEY -c prod",
        "sigillo secrets mark PORT LOG_LEVEL --plain",
        "sigillo secrets download --format env > .env",
        "sigillo secrets --at 2026-12-07T09:30:00Z                (as they were then)",
    )
    _project(secrets)
    _environment(secrets)
    _at(secrets)
    _json(secrets)
    actions = secrets.add_subparsers(dest="action", metavar="ACTION")

    get = _command(
        actions,
        "get",
        "secrets:get",
        "print one secret's value",
        "sigillo secrets get DATABASE_URL",
        "sigillo secrets get DATABASE_URL -c dev | sigillo secrets set DATABASE_URL -c preview",
        "sigillo secrets get DATABASE_URL --raw          (as stored: ${DB_PASSWORD} unresolved)",
    )
    get.add_argument("name")
    _project(get)
    _environment(get)
    _at(get)
    get.add_argument(
        "--raw",
        action="store_true",
        default=_UNSET,
        help="print the value alone, as stored: its ${…} references unresolved",
    )
    get.add_argument(
        "--force", action="store_true", default=_UNSET, help="print even inside an AI agent's shell"
    )
    _json(get)

    set_ = _command(
        actions,
        "set",
        "secrets:set_",
        "set a secret in one or more environments",
        "sigillo secrets set STRIPE_SECRET_KEY -c prod            (asks for the value)",
        "sigillo secrets set DATABASE_URL postgres://db.internal/app -c dev -c prod",
        'printf %s "$VALUE" | sigillo secrets set API_KEY',
        'sigillo secrets set PLACEHOLDER ""',
        "sigillo secrets set PORT 3000 --plain                    (configuration: may be shown)",
    )
    set_.add_argument("name")
    set_.add_argument(
        "value", nargs="?", help="the value [masked prompt on a terminal, else stdin]"
    )
    _kind(set_, "mark it plain configuration: shown by `run` and the dashboard")
    _project(set_)
    _environment(set_, many=True)
    _json(set_)

    mark = _command(
        actions,
        "mark",
        "kinds:mark",
        "mark secrets as secret (masked, the default) or plain configuration (shown)",
        "sigillo secrets mark PORT NODE_ENV LOG_LEVEL --plain",
        "sigillo secrets mark ADMIN_EMAIL --secret -c prod",
    )
    mark.add_argument("names", nargs="+", metavar="NAME")
    _kind(mark, "plain configuration: shown by `run` and the dashboard", required=True)
    _project(mark)
    _environment(mark, many=True)
    _json(mark)

    delete = _command(
        actions,
        "delete",
        "secrets:delete",
        "delete a secret from one or more environments",
        "sigillo secrets delete OLD_KEY -c dev -c prod",
    )
    delete.add_argument("name")
    _project(delete)
    _environment(delete, many=True)
    _json(delete)

    download = _command(
        actions,
        "download",
        "secrets:download",
        "print every secret of an environment in a file format",
        "sigillo secrets download --format env > .env",
        "sigillo secrets download --format json -c prod | jq .",
        "sigillo secrets download --format xargs | xargs -0 -n2 sh -c '...' sh",
        "sigillo secrets download --format env --at 01JEX7Q7W4T2R3N8M9P0A1B2C3 > then.env",
    )
    download.add_argument(
        "--format", default="yaml", metavar="FORMAT", help=f"{', '.join(FORMATS)} [yaml]"
    )
    _project(download)
    _environment(download)
    _at(download)
    _fallback(download)
    download.add_argument(
        "--force", action="store_true", default=_UNSET, help="print even inside an AI agent's shell"
    )

    upload = _command(
        actions,
        "upload",
        "upload:upload",
        "set secrets from a .env, JSON or YAML file, after showing what changes",
        "sigillo secrets upload .env -c dev",
        "sigillo secrets upload secrets.json -c prod --yes",
        "sigillo secrets download --format env -c dev | sigillo secrets upload - -c preview --yes",
        "sigillo secrets upload .env --plain PORT NODE_ENV LOG_LEVEL -c dev",
        "# .json: one object of string values. .yaml: flat `KEY: value` lines only, each",
        '# value JSON-quoted ("...") or plain (taken as written); no nesting or lists.',
    )
    upload.add_argument("file", help="a .env, .json or .yaml file; - reads stdin")
    upload.add_argument(
        "--format", choices=("env", "json", "yaml"), help="[from the file name, else env]"
    )
    upload.add_argument("-y", "--yes", action="store_true", help="write without asking")
    upload.add_argument(
        "--plain",
        nargs="+",
        default=[],
        metavar="NAME",
        help="mark these names plain configuration (the others keep their kind)",
    )
    _project(upload)
    _environment(upload)
    _json(upload)
    _past_actions(actions)


def _past_actions(actions: Any) -> None:
    """`secrets history`, `diff` and `rollback` (issue 17): the log read, and undone."""
    moment = "an RFC 3339 time (2026-12-07T09:30:00Z) or an event id"
    history = _command(
        actions,
        "history",
        "history:history",
        "show every change of a secret: who, when, set, delete or kind",
        "sigillo secrets history DATABASE_URL -c prod",
        "sigillo secrets history DATABASE_URL --show-values     (recorded as a read)",
    )
    history.add_argument("name")
    history.add_argument(
        "--show-values", action="store_true", help="print the past values too (audited)"
    )
    history.add_argument(
        "--force", action="store_true", default=_UNSET, help="print even inside an AI agent's shell"
    )
    _project(history)
    _environment(history)
    _json(history)
    diff = _command(
        actions,
        "diff",
        "history:diff",
        "compare two environments, or one environment at two moments",
        "sigillo secrets diff -c dev -c prod",
        "sigillo secrets diff -c prod --at 2026-12-01T00:00:00Z          (then against now)",
        "sigillo secrets diff -c prod --at 01JEX7Q7W4T2R3N8M9P0A1B2C3 --at 2026-12-07T09:30:00Z",
    )
    diff.add_argument(
        "--at",
        dest="moments",
        action="append",
        metavar="TIME|EVENT_ID",
        help=f"the first side's moment, then the second's [now]: {moment}",
    )
    diff.add_argument("--show-values", action="store_true", help="print the values too (audited)")
    diff.add_argument(
        "--force", action="store_true", default=_UNSET, help="print even inside an AI agent's shell"
    )
    _project(diff)
    _environment(diff, many=True)
    _json(diff)
    rollback = _command(
        actions,
        "rollback",
        "history:rollback",
        "bring secrets back to a moment, by appending (history is kept)",
        "sigillo secrets rollback --to 2026-12-07T09:30:00Z -c prod",
        "sigillo secrets rollback --to 01JEX7Q7W4T2R3N8M9P0A1B2C3 DATABASE_URL API_KEY --yes",
    )
    rollback.add_argument("names", nargs="*", metavar="NAME", help="only these [every secret]")
    rollback.add_argument("--to", required=True, metavar="TIME|EVENT_ID", help=moment)
    rollback.add_argument("-y", "--yes", action="store_true", help="write without asking")
    _project(rollback)
    _environment(rollback)
    _json(rollback)


def _kind(parser: Any, plain_help: str, *, required: bool = False) -> None:
    """`--plain` / `--secret` [D18]: the kind to give; neither keeps the kind a name has."""
    kind = parser.add_mutually_exclusive_group(required=required)
    kind.add_argument(
        "--plain", dest="kind", action="store_const", const="plain", default=None, help=plain_help
    )
    kind.add_argument(
        "--secret",
        dest="kind",
        action="store_const",
        const="secret",
        help="mark it a secret: masked by `run`, hidden until revealed (the default)",
    )


def _orgs(commands: Any) -> None:
    orgs = _command(
        commands,
        "orgs",
        "orgs:orgs",
        "list your organisations",
        "sigillo orgs",
        "sigillo orgs create --name Acme",
    )
    _json(orgs)
    org_actions = orgs.add_subparsers(dest="action", metavar="ACTION")
    create = _command(
        org_actions,
        "create",
        "orgs:create_org",
        "create an organisation",
        "sigillo orgs create --name Acme",
    )
    create.add_argument("--name", required=True)
    _json(create)


def _projects(commands: Any) -> None:
    projects = _command(
        commands,
        "projects",
        "projects:projects",
        "list and manage projects",
        "sigillo projects",
        "sigillo projects create --org <ORG_ID> --name backend",
    )
    projects.add_argument("--org", metavar="ID", help="only this organisation's projects")
    _json(projects)
    actions = projects.add_subparsers(dest="action", metavar="ACTION")
    create = _command(
        actions,
        "create",
        "projects:create_project",
        "create a project (with dev, preview and prod)",
        "sigillo projects create --name backend               (your only org)",
        "sigillo projects create --org <ORG_ID> --name backend",
    )
    create.add_argument("--org", metavar="ID", help="the org [the only one you are in]")
    create.add_argument("--name", required=True)
    _json(create)
    get = _command(
        actions,
        "get",
        "projects:get_project",
        "show a project and its environments",
        "sigillo projects get <PROJECT_ID>",
    )
    get.add_argument("id", metavar="ID_OR_NAME")
    _json(get)
    update = _command(
        actions,
        "update",
        "projects:update_project",
        "rename a project",
        "sigillo projects update <PROJECT_ID> --name api",
    )
    update.add_argument("id", metavar="ID_OR_NAME")
    update.add_argument("--name", required=True)
    _json(update)
    delete = _command(
        actions,
        "delete",
        "projects:delete_project",
        "delete a project and all its secrets",
        "sigillo projects delete <PROJECT_ID> --yes",
    )
    delete.add_argument("id", metavar="ID_OR_NAME")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask on a terminal")
    _json(delete)


def _environments(commands: Any) -> None:
    environments = _command(
        commands,
        "environments",
        "environments:environments",
        "list and manage environments",
        "sigillo environments",
        "sigillo environments create -p <PROJECT_ID> --name Staging --slug staging",
    )
    _project(environments)
    _json(environments)
    actions = environments.add_subparsers(dest="action", metavar="ACTION")
    create = _command(
        actions,
        "create",
        "environments:create_environment",
        "create an environment",
        "sigillo environments create --name Staging --slug staging   (this directory's project)",
        "sigillo environments create -p <PROJECT_ID> --name Staging --slug staging",
    )
    _project(create)
    create.add_argument("--name", required=True)
    create.add_argument("--slug", required=True)
    _json(create)
    for name, run, help, example in (
        (
            "get",
            "environments:get_environment",
            "show an environment",
            "sigillo environments get staging",
        ),
        (
            "rename",
            "environments:rename_environment",
            "change an environment's name and/or slug",
            "sigillo environments rename staging --name QA --slug qa",
        ),
        (
            "delete",
            "environments:delete_environment",
            "delete an environment and its secrets",
            "sigillo environments delete staging --yes",
        ),
    ):
        action = _command(actions, name, run, help, example)
        action.add_argument("id", metavar="ID_OR_SLUG")
        _project(action)
        if name == "rename":
            action.add_argument("--name")
            action.add_argument("--slug")
        if name == "delete":
            action.add_argument("-y", "--yes", action="store_true", help="do not ask on a terminal")
        _json(action)


def _tokens(commands: Any) -> None:
    tokens = _command(
        commands,
        "tokens",
        "tokens:list_",
        "list and manage API tokens of a project",
        "sigillo tokens",
        "sigillo tokens create --name ci --env prod",
    )
    _project(tokens)
    _json(tokens)
    actions = tokens.add_subparsers(dest="action", metavar="ACTION")
    create = _command(
        actions,
        "create",
        "tokens:create",
        "create an API token (its key is shown once)",
        "sigillo tokens create --name ci --env prod",
        "sigillo tokens create --name deploy --read-write --expires-in 30d",
    )
    create.add_argument("--name", required=True)
    _project(create)
    create.add_argument("--env", metavar="SLUG", help="limit the token to one environment")
    create.add_argument("--read-write", action="store_true", help="allow writes [read only]")
    create.add_argument("--expires-in", metavar="DURATION", help="e.g. 12h, 30d, 1y [never]")
    _json(create)
    revoke = _command(
        actions,
        "revoke",
        "tokens:revoke",
        "revoke an API token at once",
        "sigillo tokens revoke <TOKEN_ID>",
    )
    revoke.add_argument("id", metavar="ID_OR_NAME")
    _project(revoke)
    _json(revoke)


def _completion(commands: Any) -> None:
    completion = _command(
        commands,
        "completion",
        "completion:script",
        "print a shell completion script",
        "sigillo completion bash > ~/.local/share/bash-completion/completions/sigillo",
        'sigillo completion zsh > "${fpath[1]}/_sigillo"',
        "sigillo completion fish > ~/.config/fish/completions/sigillo.fish",
    )
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))


def _mcp(commands: Any) -> None:
    mcp = _command(
        commands,
        "mcp",
        "mcp:serve",
        "serve the Model Context Protocol over stdio, for AI agents (no tool returns a value)",
        "claude mcp add sigillo -- sigillo mcp",
        "sigillo mcp -c dev                       (the environment it acts on by default)",
    )
    _project(mcp)
    _environment(mcp)


def _agent(commands: Any) -> None:
    agent = _command(
        commands,
        "agent",
        "agent:skill",
        "teach AI agents to use Sigillo: print or install the agent skill",
        "sigillo agent skill                       (print SKILL.md)",
        "sigillo agent skill --install claude",
    )
    actions = agent.add_subparsers(dest="action", metavar="ACTION")
    skill = _command(
        actions,
        "skill",
        "agent:skill",
        "print the agent skill (SKILL.md), or install it for an agent host",
        "sigillo agent skill",
        "sigillo agent skill --install claude      (~/.claude/skills/sigillo/SKILL.md)",
        "sigillo agent skill --install cursor --dir .",
    )
    skill.add_argument(
        "--install",
        metavar="HOST",
        action="append",
        default=[],
        help="claude, cursor, codex, … (repeat for several)",
    )
    skill.add_argument(
        "--dir", metavar="PATH", default=None, help="install into this project, not your home"
    )


# Each command's builder, in the order `sigillo --help` lists them.
COMMANDS: dict[str, Callable[[Any], None]] = {
    "login": _login,
    "logout": _logout,
    "me": _me,
    "setup": _setup,
    "run": _run,
    "secrets": _secrets,
    "orgs": _orgs,
    "projects": _projects,
    "environments": _environments,
    "tokens": _tokens,
    "mcp": _mcp,
    "agent": _agent,
    "completion": _completion,
}


def add_commands(commands: Any, only: str | None = None) -> None:
    """Add every command to `commands` (a root's subparsers), or only the one named `only`:
    a command line needs the parser of its own command alone (building them all costs more
    than parsing)."""
    for name, build in COMMANDS.items():
        if only is None or name == only:
            build(commands)
