"""`sigillo secrets history`, `diff` and `rollback` (issue 17): the log read, and undone.

A moment (`--at`, `--to`) is an RFC 3339 time with its offset (`2026-12-07T09:30:00Z`) or
an event id (the first column of `history`); it is checked here before anything is sent,
as the server checks it.

- `history NAME`: every set, delete and kind change, oldest first, with who and when.
  Values only with `--show-values`, which the server records as a read.
- `diff`: two environments (`-c A -c B`), or one at two moments (`--at T`: then against
  now; `--at T1 --at T2`), or two environments at moments: each name added, removed,
  changed or unchanged. Values only with `--show-values` (recorded as a read).
- `rollback --to MOMENT [NAME…]`: the plan (names only) on stderr, then a question on a
  terminal unless `--yes`; without a terminal to ask on, only `--yes` writes. The server
  appends the whole plan in one write, or nothing.

Values printed by `history` and `diff` go through the agent-shell guard of 11.6 first,
with no exemption for plain values: a past value's kind then may not be its kind now.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from typing import Any

from sigillo.cli.agents import agent_guard, guard_message
from sigillo.cli.client import Response, path
from sigillo.cli.commands.secrets import answer, checked_name, failure_of, stdin_is_tty
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote

__all__ = ["checked_moment", "diff", "history", "rollback"]

MOMENT_RULE = "must be an RFC 3339 time (2026-12-07T09:30:00Z) or an event id"
_EVENT_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_TONES = {"added": ("green",), "removed": ("red",), "changed": ("yellow",), "unchanged": ("dim",)}


def checked_moment(text: str, flag: str) -> str:
    """The moment as given, or the error the server would answer, said at once."""
    given = text.strip()
    if _EVENT_ID.fullmatch(given.upper()):
        return given.upper()
    try:
        when = datetime.fromisoformat(given.replace("z", "Z").replace("Z", "+00:00"))
        valid = when.tzinfo is not None and "T" in given.upper() and len(given) <= 64
    except ValueError:
        valid = False
    if not valid:
        raise CliError(
            f"invalid {flag} {quote(text)}: {MOMENT_RULE}",
            "  a time needs its offset: 2026-12-07T09:30:00Z or 2026-12-07T10:30:00+01:00",
        )
    return given


def _env_path(ctx: Context, environment: str, *rest: str) -> str:
    return path("projects", ctx.resolved.project or "", "environments", environment, *rest)


def _failure(ctx: Context, response: Response, environment: str, action: str) -> CliError:
    """A 422's own reason (which field, what rule); a 404 about the moment as the server
    says it; else the environment-aware error of the secrets commands."""
    document = response.json()
    if response.status == 422 and isinstance(document, dict):
        details = [d for d in document.get("detail") or [] if isinstance(d, dict)]
        if details:
            said = "; ".join(
                f"{printable(str(d.get('field')))}: {printable(str(d.get('message')))}"
                for d in details
            )
            return CliError(f"failed to {action} (422): {said}")
    message = response.message()
    if response.status == 404 and message.startswith(("environment:", "event ")):
        return CliError(f"failed to {action}: {printable(message)}")
    return failure_of(ctx, response, environment, action, secret=True)


def _guard(ctx: Context) -> None:
    agent = agent_guard(ctx.env, force=bool(ctx.args.force), stdout_is_tty=ctx.out.stdout_tty)
    if agent is not None:
        raise CliError(guard_message(agent))


def _who(actor: object) -> str:
    if not isinstance(actor, dict):
        return "?"
    name = actor.get("name")
    if actor.get("kind") == "system":
        return "system"
    label = str(name) if name else str(actor.get("id", "?"))
    return f"token {label}" if actor.get("kind") == "token" else label


# --- history --------------------------------------------------------------------------


def history(ctx: Context) -> int:
    name = checked_name(ctx.args.name)
    show = bool(ctx.args.show_values)
    if show:
        _guard(ctx)
    environment = ctx.environment()
    query = {"show_values": "true"} if show else None
    response = ctx.client.get(_env_path(ctx, environment, "secrets", name, "history"), query=query)
    if not response.ok:
        raise _failure(ctx, response, environment, "read history")
    document = answer(response, "read history")
    if ctx.args.json:
        ctx.out.json(document)
        return 0
    rows = []
    for entry in document.get("entries") or []:
        if not isinstance(entry, dict):
            continue
        operation = str(entry.get("operation", ""))
        if operation == "kind":
            change = f"marked {entry.get('kind')} (was {entry.get('previousKind')})"
        else:
            change = {"set": "set", "delete": "deleted"}.get(operation, operation)
        row = [
            str(entry.get("eventId", "")),
            str(entry.get("version", "")),
            str(entry.get("time", "")),
            change,
            _who(entry.get("actor")),
        ]
        if show:
            value = entry.get("value")
            row.append(quote(value) if isinstance(value, str) else "")
        rows.append(row)
    headers = ["EVENT", "VERSION", "TIME", "CHANGE", "BY"] + (["VALUE"] if show else [])
    ctx.out.table(headers, rows)
    return 0


# --- diff -----------------------------------------------------------------------------


def diff(ctx: Context) -> int:
    environments = list(dict.fromkeys(ctx.args.environments or []))
    given = list(ctx.args.moments or [])
    parent = getattr(ctx.args, "at", None)  # `secrets --at T diff`: the parent's --at
    if parent and not given:
        given = [parent]
    moments = [checked_moment(moment, "--at") for moment in given]
    if len(environments) > 2 or len(moments) > 2:
        raise CliError("diff compares two sides: at most two -c and two --at")
    if not environments:
        environments = [ctx.environment()]
    else:
        ctx.project()
    if len(environments) == 1 and not moments:
        raise CliError(
            "nothing to compare: one environment, now",
            "  give a second environment (-c dev -c prod) or a moment (--at 2026-12-01T00:00:00Z)",
        )
    first, second = environments[0], environments[-1]
    first_at: str | None = moments[0] if moments else None
    second_at: str | None = moments[1] if len(moments) > 1 else None
    if len(environments) == 2 and len(moments) == 1:
        second_at = first_at  # both environments then
    show = bool(ctx.args.show_values)
    if show:
        _guard(ctx)
    query = {"to": second}
    if first_at:
        query["from_at"] = first_at
    if second_at:
        query["to_at"] = second_at
    if show:
        query["show_values"] = "true"
    response = ctx.client.get(_env_path(ctx, first, "diff"), query=query)
    if not response.ok:
        if response.status == 404 and not response.message().startswith(("environment:", "event ")):
            raise ctx.environment_not_found(second if ctx.environment_exists(first) else first)
        raise _failure(ctx, response, first, "diff secrets")
    document = answer(response, "diff secrets")
    if ctx.args.json:
        ctx.out.json(document)
        return 0
    _print_diff(ctx, document, show)
    return 0


def _side(side: object) -> str:
    if not isinstance(side, dict):
        return "?"
    label = printable(str(side.get("slug") or side.get("environmentId") or "?"))
    at = side.get("at")
    return f"{label} at {printable(str(at))}" if at else f"{label} now"


def _print_diff(ctx: Context, document: dict[str, Any], show: bool) -> None:
    out = ctx.out
    entries = [e for e in document.get("entries") or [] if isinstance(e, dict)]
    counts = dict.fromkeys(_TONES, 0)
    rows = []
    for entry in entries:
        status = str(entry.get("status", ""))
        counts[status] = counts.get(status, 0) + 1
        note = ""
        before, after = entry.get("fromKind"), entry.get("toKind")
        if before and after and before != after:
            note = f"kind {before} → {after}"
        row = [str(entry.get("name", "")), status]
        if show:
            row += [_shown(entry.get("fromValue")), _shown(entry.get("toValue"))]
        rows.append([*row, note])
    first, second = _side(document.get("from")), _side(document.get("to"))
    out.note(
        f"{first} → {second}: "
        + ", ".join(f"{counts[status]} {status}" for status in _TONES if status in counts)
    )
    if not rows:
        out.line(out.style("no secrets on either side", "dim"))
        return
    headers = ["NAME", "STATUS"] + (["FROM", "TO"] if show else []) + ["NOTE"]
    out.table(headers, rows, lambda column, cell: _TONES.get(cell, ()) if column == 1 else ())


def _shown(value: object) -> str:
    return quote(value) if isinstance(value, str) else "-"


# --- rollback -------------------------------------------------------------------------


def rollback(ctx: Context) -> int:
    to = checked_moment(ctx.args.to, "--to")
    names = [checked_name(name) for name in dict.fromkeys(ctx.args.names or [])]
    targets = ctx.environments()
    if len(targets) > 1:
        raise CliError("rollback writes one environment at a time", "  run it once per -c")
    environment = targets[0]
    target = _env_path(ctx, environment, "rollback")
    body: dict[str, Any] = {"to": to}
    if names:
        body["names"] = names
    if not ctx.args.yes:
        if not (stdin_is_tty() and ctx.out.stderr_tty):
            raise CliError(
                "not rolling back without confirmation: stdin is not a terminal",
                "  add --yes to roll back without asking",
            )
        planned = _call(ctx, target, {**body, "dryRun": True}, environment)
        if _nothing(planned):
            return _report_nothing(ctx, planned, environment)
        _show_plan(ctx, planned, environment)
        _confirm(ctx, environment)
    done = _call(ctx, target, body, environment)
    if ctx.args.json:
        ctx.out.json(done)
        return 0
    if _nothing(done):
        return _report_nothing(ctx, done, environment)
    if ctx.args.yes:
        _show_plan(ctx, done, environment)
    events = [e for e in done.get("events") or [] if isinstance(e, dict)]
    if ctx.out.stdout_tty:
        noun = "event" if len(events) == 1 else "events"
        ctx.out.success(
            f"rolled back {printable(environment)} to {printable(str(done.get('to')))}: "
            f"{len(events)} {noun} appended"
        )
    else:
        for event in events:
            ctx.out.line(printable(str(event.get("id", ""))))
    return 0


def _call(ctx: Context, target: str, body: dict[str, Any], environment: str) -> dict[str, Any]:
    response = ctx.client.request("POST", target, body)
    if not response.ok:
        raise _failure(ctx, response, environment, "roll back")
    return answer(response, "roll back")


def _nothing(document: dict[str, Any]) -> bool:
    return not (document.get("restore") or document.get("delete") or document.get("kinds"))


def _report_nothing(ctx: Context, document: dict[str, Any], environment: str) -> int:
    if ctx.args.json:
        ctx.out.json(document)
    else:
        ctx.out.note(
            f"nothing to roll back: {printable(environment)} is as it was at "
            f"{printable(str(document.get('to')))}"
        )
    return 0


def _show_plan(ctx: Context, document: dict[str, Any], environment: str) -> None:
    """Names only, on stderr (stdout keeps the result)."""
    out, err = ctx.out, ctx.out.stderr
    restore = [str(n) for n in document.get("restore") or []]
    delete = [str(n) for n in document.get("delete") or []]
    kinds = document.get("kinds") or {}
    kinds = kinds if isinstance(kinds, dict) else {}
    out.note(
        f"Roll back {printable(environment)} to {printable(str(document.get('to')))}: "
        f"{len(restore)} set back, {len(delete)} deleted, {len(kinds)} kind changes"
    )
    for name in restore:
        kind = f", marked {kinds[name]}" if name in kinds else ""
        out.note(f"  {out.style('~', 'yellow', stream=err)} {printable(name)}  set back{kind}")
    for name in delete:
        out.note(f"  {out.style('-', 'red', stream=err)} {printable(name)}  deleted")
    for name, kind in kinds.items():
        if name not in restore:
            out.note(f"  {out.style('*', 'cyan', stream=err)} {printable(name)}  marked {kind}")


def _confirm(ctx: Context, environment: str) -> None:
    err = ctx.out.stderr
    err.write(
        f"{ctx.out.style('?', 'blue', stream=err)} Roll back {printable(environment)}? [y/N] "
    )
    err.flush()
    reply = sys.stdin.readline()
    if reply.strip().lower() not in ("y", "yes"):
        raise CliError("cancelled; nothing was written")
