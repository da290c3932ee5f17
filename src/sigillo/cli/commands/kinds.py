"""`sigillo secrets mark NAME… --plain|--secret` [D18]: change the kind of live secrets
without sending or reading their values (PATCH …/secret-kinds).

`plain` is configuration a person chose to show (`PORT`, `LOG_LEVEL`): `sigillo run`
lets it print, the dashboard shows it, and the agent-shell guard lets `get`/`download`
print it. `secret` (the default) is masked and hidden until revealed. Each change is one
`secret.kind_changed` event in the environment's stream, with who, when and the kind it
replaces; a name that already has the kind is left as it is.

Same fan-out as `set` and `delete` (11.7): every `--env`, then every `-c`, each written in
turn, going on after a failure; exit 1 if any failed. Output per environment: on a
terminal a YAML-like block (`PORT: secret → plain`, `LOG_LEVEL: plain (unchanged)`);
piped, one tab-separated line per name, `ENV NAME PREVIOUS KIND` (PREVIOUS equals KIND
when unchanged); `--json`, the server's answer (a list of them for several environments).
"""

from __future__ import annotations

from typing import Any

from sigillo.cli.client import Response, path
from sigillo.cli.commands.secrets import (
    announce,
    answer,
    checked_name,
    print_json,
    report_failure,
    secrets_path,
)
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable

__all__ = ["mark"]


def mark(ctx: Context) -> int:
    """Mark every name in each target environment; names are checked before anything is
    sent, and a name that is not live there changes nothing in that environment."""
    names = list(dict.fromkeys(checked_name(name) for name in ctx.args.names))
    kind = str(ctx.args.kind)
    targets = ctx.environments()
    announce(ctx, targets)
    body = {"kinds": dict.fromkeys(names, kind)}
    answers: list[Any] = []
    failed = False
    for environment in targets:
        response = ctx.client.request("PATCH", _kinds_path(ctx, environment), body)
        if response.ok:
            document = answer(response, f"mark secrets {kind}")
            answers.append(document)
            if not ctx.args.json:
                _report(ctx, environment, names, kind, document)
            continue
        failed = True
        action = f"mark {_subject(names)} {kind} in {printable(environment)}"
        if response.status == 404:
            error = _not_found(ctx, response, environment, names, action)
            ctx.out.error(error.message, error.hint)
        else:
            report_failure(ctx, response, environment, action)
        if response.status == 401:
            break  # the credential is refused: every other environment would say the same
    print_json(ctx, answers, several=len(targets) > 1)
    return 1 if failed else 0


def _kinds_path(ctx: Context, environment: str) -> str:
    project = ctx.resolved.project or ""
    return path("projects", project, "environments", environment, "secret-kinds")


def _subject(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} secrets"


def _report(
    ctx: Context, environment: str, names: list[str], kind: str, document: dict[str, Any]
) -> None:
    """Each name as asked, with the kind it had: the answer lists only those changed."""
    previous = {
        str(item.get("name")): str(item.get("previous"))
        for item in document.get("changed") or []
        if isinstance(item, dict)
    }
    out = ctx.out
    if not out.stdout_tty:
        for name in names:
            out.line("\t".join((printable(environment), name, previous.get(name, kind), kind)))
        return
    out.block([("ok", True), ("environment", environment)])
    out.line("kinds:")
    for name in names:
        if name in previous:
            change = f"{printable(previous[name])} → {out.style(kind, 'bold')}"
        else:
            change = f"{kind} {out.style('(unchanged)', 'dim')}"
        out.line(f"  {name}: {change}")


def _not_found(
    ctx: Context, response: Response, environment: str, names: list[str], action: str
) -> CliError:
    """A 404 means the environment, or a name that is not live there (nothing changed):
    the listing (no values, no read recorded) tells which."""
    listed = ctx.client.get(secrets_path(ctx, environment))
    if listed.status == 404:
        return ctx.environment_not_found(environment)
    document = listed.json() if listed.ok else None
    if not isinstance(document, dict):
        return response.failure(action)
    live = {
        str(item.get("name")) for item in document.get("secrets") or [] if isinstance(item, dict)
    }
    missing = [name for name in names if name not in live]
    if not missing:
        return response.failure(action)
    where = printable(environment)
    return CliError(
        f"failed to {action} (404): no secret named {', '.join(missing)} in {where}; "
        f"nothing was changed in {where}",
        f"  the names in {where}: sigillo secrets -c {where}",
    )
