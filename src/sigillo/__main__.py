"""`sigillo`: one executable for the client (sigillo.cli) and the server.

Server commands (`server`, `admin …`) import the server stack only when they run, so the
client's commands stay fast and light.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from sigillo.cli.parser import root_parser
from sigillo.cli.parser_commands import COMMANDS, add_commands

__all__ = ["main", "parser"]

EXAMPLES = """\
examples:
  sigillo login                                    sign in through the browser
  sigillo setup                                    pick the project and environment here
  sigillo secrets set DATABASE_URL                 asks for the value
  sigillo secrets download --format env > .env
  sigillo server                                   start on SQLite in ~/.sigillo/server
  sigillo server --port 9000 --data-dir ./data
  sigillo server --database-url postgresql://user@db.internal/sigillo
  sigillo admin migrate                            bring the schema up to date
  sigillo admin rebuild-projections --check        verify read models against the log
  printf %s "$PASSWORD" | sigillo admin create-user ada@example.com --password-stdin
  sigillo admin reset-two-factor ada@example.com   turn off 2FA for a lost device
"""


ADMIN_EXAMPLES = {
    "admin": "sigillo admin migrate --database-url postgresql://sigillo@db.internal/sigillo",
    "migrate": "sigillo admin migrate --data-dir ./data",
    "rebuild-projections": "sigillo admin rebuild-projections --check   (then without --check)",
    "create-user": 'printf %s "$PASSWORD" | sigillo admin create-user ada@example.com '
    "--password-stdin",
    "reset-two-factor": "sigillo admin reset-two-factor ada@example.com   (a lost device)",
    "sign-in-failures": "sigillo admin sign-in-failures --email ada@example.com --limit 20",
    "backup": "sigillo admin backup /backups/sigillo-$(date +%F).db --data-dir ./data",
    "verify-backup": "sigillo admin verify-backup /backups/sigillo-2026-12-07.db --data-dir ./data",
    "rotate-key": 'SIGILLO_ENCRYPTION_KEY="$NEW_KEY,$OLD_KEY" sigillo admin rotate-key   '
    "(then --status)",
    "verify": "sigillo admin verify --head 130:<mac>   (the head an earlier verify printed)",
    "audit": "sigillo admin audit export --since 2026-12-01 --org Acme --output audit.jsonl",
    "audit export": "sigillo admin audit export --since 2026-12-07T09:00:00Z > audit.jsonl",
}


# Every command's name; `server` and `admin` are built here, the client's in sigillo.cli.
COMMAND_NAMES = frozenset((*COMMANDS, "server", "admin"))


def _examples(name: str) -> dict[str, object]:
    return {
        "epilog": f"examples:\n  {ADMIN_EXAMPLES[name]}",
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }


def _database_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--data-dir",
        metavar="DIR",
        help="server data directory [$SIGILLO_DATA_DIR, ~/.sigillo/server]",
    )
    command.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:////path/db or postgresql://… [$SIGILLO_DATABASE_URL, SQLite in the data dir]",
    )


def parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command's, or, when `argv` (the arguments after the
    program's name) starts with a command's name, that command's alone, since building
    them all takes milliseconds at every start. Anything else (no command, an option, a
    misspelled name) gets them all, for the help's list and the error's choices; the
    completion scripts are rendered from the whole parser, `parser()`."""
    root, commands = root_parser(EXAMPLES)
    only = argv[0] if argv and argv[0] in COMMAND_NAMES else None
    add_commands(commands, only)
    if only in (None, "server"):
        _server(commands)
    if only in (None, "admin"):
        _admin(commands)
    return root


def _server(commands: Any) -> None:
    server = commands.add_parser(
        "server",
        help="run the Sigillo server",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server.add_argument("--host", help="address to listen on [$SIGILLO_HOST, 127.0.0.1]")
    server.add_argument("--port", type=int, help="port to listen on [$SIGILLO_PORT, 8080]")
    server.add_argument(
        "--metrics-address",
        metavar="HOST:PORT",
        help="serve Prometheus metrics at /metrics on this address [$SIGILLO_METRICS_ADDRESS, off]",
    )
    _database_options(server)


def _admin(commands: Any) -> None:
    admin = commands.add_parser(
        "admin", help="administer a server's database", **_examples("admin")
    )
    tasks = admin.add_subparsers(dest="task", metavar="TASK", required=True)
    _database_options(
        tasks.add_parser(
            "migrate", help="apply pending database migrations", **_examples("migrate")
        )
    )
    rebuild = tasks.add_parser(
        "rebuild-projections",
        help="replay the event log into fresh read models",
        **_examples("rebuild-projections"),
    )
    rebuild.add_argument(
        "--check", action="store_true", help="only compare; change nothing, exit 1 on a difference"
    )
    _database_options(rebuild)
    create_user = tasks.add_parser(
        "create-user",
        help="create a local account (the password is read from stdin, never from arguments)",
        **_examples("create-user"),
    )
    create_user.add_argument("email")
    create_user.add_argument("--name", help="display name [the part of the email before @]")
    create_user.add_argument(
        "--password-stdin", action="store_true", required=True, help="read the password from stdin"
    )
    _database_options(create_user)
    reset_two_factor = tasks.add_parser(
        "reset-two-factor",
        help="turn off an account's two-factor authentication (a lost device) and end its "
        "sessions; audited",
        **_examples("reset-two-factor"),
    )
    reset_two_factor.add_argument("email")
    _database_options(reset_two_factor)
    failures = tasks.add_parser(
        "sign-in-failures",
        help="list failed sign-ins, newest first: time, client address, email hash",
        **_examples("sign-in-failures"),
    )
    failures.add_argument("--email", help="only those for this email address (by its hash)")
    failures.add_argument("--limit", type=int, default=100, help="at most this many [100]")
    _database_options(failures)
    backup = tasks.add_parser(
        "backup",
        help="copy the database while the server runs (SQLite), or print the pg_dump command",
        **_examples("backup"),
    )
    backup.add_argument("path", metavar="PATH", help="the backup file to write (mode 0600)")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    _database_options(backup)
    verify = tasks.add_parser(
        "verify-backup",
        help="check a backup: its log against its read models, and the key against its values",
        **_examples("verify-backup"),
    )
    verify.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        help="a SQLite backup file [none: the database --database-url names, e.g. a restored dump]",
    )
    _database_options(verify)
    rotate = tasks.add_parser(
        "rotate-key",
        help="re-wrap every data key under the first configured key, while servers run",
        **_examples("rotate-key"),
    )
    rotate.add_argument(
        "--status", action="store_true", help="only say which master keys are still needed"
    )
    rotate.add_argument(
        "--activate-after",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="seal new values with the new data key from this many seconds on, when every "
        "server has loaded it (they look every 10 s) [30]",
    )
    _database_options(rotate)
    verify_log = tasks.add_parser(
        "verify",
        help="prove the event log was not edited: walk its tamper-evident chain",
        **_examples("verify"),
    )
    verify_log.add_argument(
        "--org", metavar="ORG", help="only this org's streams' own chains (its id or name)"
    )
    verify_log.add_argument(
        "--head",
        metavar="N:MAC",
        help="a head an earlier verify printed: the log must still hold it",
    )
    _database_options(verify_log)
    audit = tasks.add_parser(
        "audit", help="the audit trail: export it as JSON lines", **_examples("audit")
    )
    audit_tasks = audit.add_subparsers(dest="audit_task", metavar="TASK", required=True)
    export = audit_tasks.add_parser(
        "export",
        help="write the audit trail as JSON lines, in commit order (never a value)",
        **_examples("audit export"),
    )
    export.add_argument(
        "--since", metavar="TIME", help="only events from TIME on: RFC 3339 or a date (UTC)"
    )
    export.add_argument("--org", metavar="ORG", help="only this org's events (its id or name)")
    export.add_argument("--output", metavar="FILE", help="write to FILE, mode 0600 [stdout]")
    _database_options(export)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command_line = parser(argv)
    args = command_line.parse_args(argv)
    if args.command is None:
        command_line.print_help()
        return 0
    if args.command in ("server", "admin"):
        from sigillo.server_commands import run

        return run(args)
    from sigillo.cli.main import run as run_client

    return run_client(args)


if __name__ == "__main__":
    sys.exit(main())
