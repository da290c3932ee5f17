"""Every command of the client (`sigillo --help` lists them in COMMANDS' order), its
options and help examples; `run` and `secrets` are parser_secrets.py's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sigillo.cli.parser import (
    environment_option,
    json_option,
    new_command,
    project_option,
)
from sigillo.cli.parser_secrets import build_run, build_secrets


def _login(commands: Any) -> None:
    login = new_command(
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
    logout = new_command(
        commands,
        "logout",
        "auth:logout",
        "forget the login of a scope",
        "sigillo logout",
        "sigillo logout --scope .",
    )
    logout.add_argument("--scope", default="/", help="directory whose record is removed [/]")


def _me(commands: Any) -> None:
    me = new_command(
        commands, "me", "auth:me", "show who you are and what this directory uses", "sigillo me"
    )
    json_option(me)


def _setup(commands: Any) -> None:
    setup = new_command(
        commands,
        "setup",
        "setup:setup",
        "choose the project and environment of this directory",
        "sigillo setup",
        "sigillo setup --project 01J8Z4QWERTYUIOPASDFGHJKLZ --env dev",
    )
    project_option(setup)
    environment_option(setup)


def _orgs(commands: Any) -> None:
    orgs = new_command(
        commands,
        "orgs",
        "orgs:orgs",
        "list your organisations",
        "sigillo orgs",
        "sigillo orgs create --name Acme",
    )
    json_option(orgs)
    org_actions = orgs.add_subparsers(dest="action", metavar="ACTION")
    create = new_command(
        org_actions,
        "create",
        "orgs:create_org",
        "create an organisation",
        "sigillo orgs create --name Acme",
    )
    create.add_argument("--name", required=True)
    json_option(create)
    policy = new_command(
        org_actions,
        "sign-in-policy",
        "orgs:sign_in_policy",
        "show or set how an organisation's members must sign in (admins set it)",
        "sigillo orgs sign-in-policy --org <ORG_ID>",
        "sigillo orgs sign-in-policy --org <ORG_ID> --require-two-factor on",
    )
    policy.add_argument("--org", metavar="ID", required=True, help="the organisation")
    for flag, what in (("sso", "single sign-on"), ("two-factor", "two-factor authentication")):
        policy.add_argument(
            f"--require-{flag}", choices=("on", "off"), default=None, help=f"require {what}"
        )
    json_option(policy)


def _projects(commands: Any) -> None:
    projects = new_command(
        commands,
        "projects",
        "projects:projects",
        "list and manage projects",
        "sigillo projects",
        "sigillo projects create --org <ORG_ID> --name backend",
    )
    projects.add_argument("--org", metavar="ID", help="only this organisation's projects")
    json_option(projects)
    actions = projects.add_subparsers(dest="action", metavar="ACTION")
    create = new_command(
        actions,
        "create",
        "projects:create_project",
        "create a project (with dev, preview and prod)",
        "sigillo projects create --name backend               (your only org)",
        "sigillo projects create --org <ORG_ID> --name backend",
    )
    create.add_argument("--org", metavar="ID", help="the org [the only one you are in]")
    create.add_argument("--name", required=True)
    json_option(create)
    get = new_command(
        actions,
        "get",
        "projects:get_project",
        "show a project and its environments",
        "sigillo projects get <PROJECT_ID>",
    )
    get.add_argument("id", metavar="ID_OR_NAME")
    json_option(get)
    update = new_command(
        actions,
        "update",
        "projects:update_project",
        "rename a project",
        "sigillo projects update <PROJECT_ID> --name api",
    )
    update.add_argument("id", metavar="ID_OR_NAME")
    update.add_argument("--name", required=True)
    json_option(update)
    delete = new_command(
        actions,
        "delete",
        "projects:delete_project",
        "delete a project and all its secrets",
        "sigillo projects delete <PROJECT_ID> --yes",
    )
    delete.add_argument("id", metavar="ID_OR_NAME")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask on a terminal")
    json_option(delete)


def _environments(commands: Any) -> None:
    environments = new_command(
        commands,
        "environments",
        "environments:environments",
        "list and manage environments",
        "sigillo environments",
        "sigillo environments create -p <PROJECT_ID> --name Staging --slug staging",
    )
    project_option(environments)
    json_option(environments)
    actions = environments.add_subparsers(dest="action", metavar="ACTION")
    create = new_command(
        actions,
        "create",
        "environments:create_environment",
        "create an environment",
        "sigillo environments create --name Staging --slug staging   (this directory's project)",
        "sigillo environments create -p <PROJECT_ID> --name Staging --slug staging",
    )
    project_option(create)
    create.add_argument("--name", required=True)
    create.add_argument("--slug", required=True)
    json_option(create)
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
        action = new_command(actions, name, run, help, example)
        action.add_argument("id", metavar="ID_OR_SLUG")
        project_option(action)
        if name == "rename":
            action.add_argument("--name")
            action.add_argument("--slug")
        if name == "delete":
            action.add_argument("-y", "--yes", action="store_true", help="do not ask on a terminal")
        json_option(action)


def _tokens(commands: Any) -> None:
    tokens = new_command(
        commands,
        "tokens",
        "tokens:list_",
        "list and manage API tokens of a project",
        "sigillo tokens",
        "sigillo tokens create --name ci --env prod",
    )
    project_option(tokens)
    json_option(tokens)
    actions = tokens.add_subparsers(dest="action", metavar="ACTION")
    create = new_command(
        actions,
        "create",
        "tokens:create",
        "create an API token (its key is shown once)",
        "sigillo tokens create --name ci --env prod",
        "sigillo tokens create --name deploy --read-write --expires-in 30d",
    )
    create.add_argument("--name", required=True)
    project_option(create)
    create.add_argument("--env", metavar="SLUG", help="limit the token to one environment")
    create.add_argument("--read-write", action="store_true", help="allow writes [read only]")
    create.add_argument("--expires-in", metavar="DURATION", help="e.g. 12h, 30d, 1y [never]")
    json_option(create)
    revoke = new_command(
        actions,
        "revoke",
        "tokens:revoke",
        "revoke an API token at once",
        "sigillo tokens revoke <TOKEN_ID>",
    )
    revoke.add_argument("id", metavar="ID_OR_NAME")
    project_option(revoke)
    json_option(revoke)


def _sessions(commands: Any) -> None:
    sessions = new_command(
        commands,
        "sessions",
        "sessions:list_",
        "list your sign-in sessions, end one or all the others",
        "sigillo sessions",
        "sigillo sessions end <SESSION_ID>",
        "sigillo sessions end --others",
    )
    json_option(sessions)
    actions = sessions.add_subparsers(dest="action", metavar="ACTION")
    end = new_command(
        actions,
        "end",
        "sessions:end",
        "end one of your sessions, or every other one",
        "sigillo sessions end <SESSION_ID>",
        "sigillo sessions end --others",
    )
    end.add_argument("id", metavar="SESSION_ID", nargs="?", default=None)
    end.add_argument("--others", action="store_true", help="end every session but this one")
    json_option(end)


def _completion(commands: Any) -> None:
    completion = new_command(
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
    mcp = new_command(
        commands,
        "mcp",
        "mcp:serve",
        "serve the Model Context Protocol over stdio, for AI agents (no tool returns a value)",
        "claude mcp add sigillo -- sigillo mcp",
        "sigillo mcp -c dev                       (the environment it acts on by default)",
    )
    project_option(mcp)
    environment_option(mcp)


def _agent(commands: Any) -> None:
    agent = new_command(
        commands,
        "agent",
        "agent:skill",
        "teach AI agents to use Sigillo: print or install the agent skill",
        "sigillo agent skill                       (print SKILL.md)",
        "sigillo agent skill --install claude",
    )
    actions = agent.add_subparsers(dest="action", metavar="ACTION")
    skill = new_command(
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
    "run": build_run,
    "secrets": build_secrets,
    "orgs": _orgs,
    "projects": _projects,
    "environments": _environments,
    "tokens": _tokens,
    "sessions": _sessions,
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
