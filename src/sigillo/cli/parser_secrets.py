"""`sigillo run` and `sigillo secrets …`: their options, actions and help examples."""

from __future__ import annotations

import argparse
from typing import Any

from sigillo.cli.parser import (
    FORMATS,
    UNSET,
    at_option,
    environment_option,
    fallback_options,
    json_option,
    new_command,
    project_option,
)


def build_run(commands: Any) -> None:
    run = new_command(
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
    project_option(run)
    environment_option(run)
    at_option(run)
    fallback_options(run)
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


def build_secrets(commands: Any) -> None:
    secrets = new_command(
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
    project_option(secrets)
    environment_option(secrets)
    at_option(secrets)
    json_option(secrets)
    actions = secrets.add_subparsers(dest="action", metavar="ACTION")

    get = new_command(
        actions,
        "get",
        "secret_reads:get",
        "print one secret's value",
        "sigillo secrets get DATABASE_URL",
        "sigillo secrets get DATABASE_URL -c dev | sigillo secrets set DATABASE_URL -c preview",
        "sigillo secrets get DATABASE_URL --raw          (as stored: ${DB_PASSWORD} unresolved)",
    )
    get.add_argument("name")
    project_option(get)
    environment_option(get)
    at_option(get)
    get.add_argument(
        "--raw",
        action="store_true",
        default=UNSET,
        help="print the value alone, as stored: its ${…} references unresolved",
    )
    get.add_argument(
        "--force", action="store_true", default=UNSET, help="print even inside an AI agent's shell"
    )
    json_option(get)

    set_ = new_command(
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
    project_option(set_)
    environment_option(set_, many=True)
    json_option(set_)

    mark = new_command(
        actions,
        "mark",
        "kinds:mark",
        "mark secrets as secret (masked, the default) or plain configuration (shown)",
        "sigillo secrets mark PORT NODE_ENV LOG_LEVEL --plain",
        "sigillo secrets mark ADMIN_EMAIL --secret -c prod",
    )
    mark.add_argument("names", nargs="+", metavar="NAME")
    _kind(mark, "plain configuration: shown by `run` and the dashboard", required=True)
    project_option(mark)
    environment_option(mark, many=True)
    json_option(mark)

    delete = new_command(
        actions,
        "delete",
        "secrets:delete",
        "delete a secret from one or more environments",
        "sigillo secrets delete OLD_KEY -c dev -c prod",
    )
    delete.add_argument("name")
    project_option(delete)
    environment_option(delete, many=True)
    json_option(delete)

    download = new_command(
        actions,
        "download",
        "secret_reads:download",
        "print every secret of an environment in a file format",
        "sigillo secrets download --format env > .env",
        "sigillo secrets download --format json -c prod | jq .",
        "sigillo secrets download --format xargs | xargs -0 -n2 sh -c '...' sh",
        "sigillo secrets download --format env --at 01JEX7Q7W4T2R3N8M9P0A1B2C3 > then.env",
    )
    download.add_argument(
        "--format", default="yaml", metavar="FORMAT", help=f"{', '.join(FORMATS)} [yaml]"
    )
    project_option(download)
    environment_option(download)
    at_option(download)
    fallback_options(download)
    download.add_argument(
        "--force", action="store_true", default=UNSET, help="print even inside an AI agent's shell"
    )

    upload = new_command(
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
    project_option(upload)
    environment_option(upload)
    json_option(upload)
    _past_actions(actions)


def _past_actions(actions: Any) -> None:
    """`secrets history`, `diff` and `rollback` (issue 17): the log read, and undone."""
    moment = "an RFC 3339 time (2026-12-07T09:30:00Z) or an event id"
    history = new_command(
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
        "--force", action="store_true", default=UNSET, help="print even inside an AI agent's shell"
    )
    project_option(history)
    environment_option(history)
    json_option(history)
    diff = new_command(
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
        "--force", action="store_true", default=UNSET, help="print even inside an AI agent's shell"
    )
    project_option(diff)
    environment_option(diff, many=True)
    json_option(diff)
    rollback = new_command(
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
    project_option(rollback)
    environment_option(rollback)
    json_option(rollback)


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
