"""`sigillo sessions`: the signed-in user's sessions (issue 20): list them, end one, or end
every other one.

Sessions are the account's: browsers and `sigillo login`s (device-flow logins carry their
client's name). The list never holds a token, only ids. On a terminal it is a table, newest
first, the session this command used marked; piped, YAML with ids; `--json` the server's
answer. An API token has no sessions: the server's 403 is said in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sigillo.cli.client import path
from sigillo.cli.commands.catalog import call, list_of, show, show_list, show_table
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable

__all__ = ["end", "list_"]

THIS_SESSION = "this session"


def _when(ms: object) -> str | None:
    if not isinstance(ms, int) or isinstance(ms, bool):
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(ms: object) -> str:
    when = _when(ms)
    return when[:16].replace("T", " ") if when else ""


def _device(session: Mapping[str, Any]) -> str:
    device = str(session.get("device") or "")
    client = str(session.get("clientName") or "")
    return f"{device} ({client})" if client else device


def list_(context: Context) -> None:
    """`sigillo sessions`: every live session of the account, newest first."""
    document = call(context, "GET", path("sessions"), "list sessions")
    if context.args.json:
        context.out.json(document)
        return
    sessions = list_of(document, "sessions")
    if context.out.stdout_tty:
        headers = ["ID", "DEVICE", "ADDRESS", "CREATED", "LAST USED", ""]
        rows = [
            [
                printable(str(s.get("id"))),
                printable(_device(s)),
                printable(str(s.get("ipAddress") or "")),
                _day(s.get("createdAt")),
                _day(s.get("lastSeenAt")),
                THIS_SESSION if s.get("current") is True else "",
            ]
            for s in sessions
        ]
        show_table(context, "sessions", headers, rows)
        return
    show_list(
        context,
        "sessions",
        (
            [
                ("id", s.get("id")),
                ("device", s.get("device")),
                ("client_name", s.get("clientName") or None),
                ("ip_address", s.get("ipAddress")),
                ("created_at", _when(s.get("createdAt"))),
                ("last_used_at", _when(s.get("lastSeenAt"))),
                ("current", s.get("current") is True),
            ]
            for s in sessions
        ),
    )


def end(context: Context) -> None:
    """`sigillo sessions end ID` or `sigillo sessions end --others`."""
    args = context.args
    if bool(args.id) == bool(args.others):
        raise CliError(
            "name one session to end, or --others",
            "  sigillo sessions end <SESSION_ID>",
            "  sigillo sessions end --others",
        )
    if args.others:
        document = call(context, "POST", path("sessions", "end-others"), "end sessions")
        show(context, document, [("ok", True), ("ended", document.get("ended"))])
        return
    document = call(context, "DELETE", path("sessions", args.id), "end session")
    show(context, document, [("ok", True), ("id", document.get("id"))])
    if document.get("signedOut") is True and not args.json:
        context.out.note("that was this login's session: sign in again with `sigillo login`")
