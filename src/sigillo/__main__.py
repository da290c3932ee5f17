"""`sigillo`: one executable for the server and, later, the client.

Server commands (`server`, `admin …`) import the server stack only when they run, so the
client's commands stay fast and light.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sigillo import __version__

__all__ = ["main", "parser"]

EXAMPLES = """\
examples:
  sigillo server                                   start on SQLite in ~/.sigillo/server
  sigillo server --port 9000 --data-dir ./data
  sigillo server --database-url postgresql://user@db.internal/sigillo
  sigillo admin migrate                            bring the schema up to date
  sigillo admin rebuild-projections --check        verify read models against the log
  printf %s "$PASSWORD" | sigillo admin create-user ada@example.com --password-stdin
"""


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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="sigillo",
        description="Sigillo: secrets for humans and AI agents, self-hosted.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"sigillo {__version__}")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")

    server = commands.add_parser(
        "server",
        help="run the Sigillo server",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server.add_argument("--host", help="address to listen on [$SIGILLO_HOST, 127.0.0.1]")
    server.add_argument("--port", type=int, help="port to listen on [$SIGILLO_PORT, 8080]")
    _database_options(server)

    admin = commands.add_parser("admin", help="administer a server's database")
    tasks = admin.add_subparsers(dest="task", metavar="TASK", required=True)
    _database_options(tasks.add_parser("migrate", help="apply pending database migrations"))
    rebuild = tasks.add_parser(
        "rebuild-projections", help="replay the event log into fresh read models"
    )
    rebuild.add_argument(
        "--check", action="store_true", help="only compare; change nothing, exit 1 on a difference"
    )
    _database_options(rebuild)
    create_user = tasks.add_parser(
        "create-user",
        help="create a local account (the password is read from stdin, never from arguments)",
    )
    create_user.add_argument("email")
    create_user.add_argument("--name", help="display name [the part of the email before @]")
    create_user.add_argument(
        "--password-stdin", action="store_true", required=True, help="read the password from stdin"
    )
    _database_options(create_user)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 0
    from sigillo.server_commands import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
