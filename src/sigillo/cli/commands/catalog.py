"""What `sigillo orgs`, `projects` and `environments` share (behaviour.md 11.10): the
calls and their errors, the output blocks and tables, and the confirmation of deletes.
The commands themselves: cli/commands/orgs.py, projects.py, environments.py.

Output is the YAML-like block of 10.2 whether stdout is a terminal or not, except for the
create commands, which print only the new id when piped (10.8), so that
`id=$(sigillo projects create …)` works, and for lists on a terminal: an aligned table
sorted by name, without ids (issue 16; `--json` and piped output keep the ids, and
`get`, `update` and `delete` take a project's name as well as its id). `--json` prints the
server's answer instead.

Three things a careful user of a secrets manager expects beyond the table of 11.10:

* before a write on a terminal, one dim line on stderr says which account and which org
  (and project) the write goes to: a wrong `SIGILLO_TOKEN` or `-p` shows before it matters;
* deleting a project or an environment asks `Delete … and all its secrets? [y/N]` on a
  terminal unless `--yes` is given; without a terminal to ask on, only `--yes` deletes;
* an environment named by id is checked against the resolved project before a rename or a
  delete: for sessions the server looks ids up in any project (behaviour.md 16), so
  `environments delete <id>` could otherwise reach into another project.

Every string that comes from the server goes through `quote`/`printable` (output.py): a
name holding terminal escapes is shown escaped, never obeyed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sigillo.cli.client import Response, path
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote, scalar

__all__ = [
    "announce",
    "ask",
    "by_name",
    "call",
    "can_confirm",
    "environment_hint",
    "environment_row",
    "failure",
    "list_of",
    "project_hint",
    "project_or_fail",
    "show",
    "show_created",
    "show_list",
    "show_table",
]

Fields = list[tuple[str, object]]
Hint = Callable[[Context, Response], Sequence[str]]

API_TOKENS_ONLY_FOR_SECRETS = "API tokens (sig_…) only work for secrets commands"


# --- requests and failures -----------------------------------------------------------


def call(
    context: Context,
    method: str,
    target: str,
    action: str,
    body: object = None,
    *,
    query: Mapping[str, str] | None = None,
    hint: Hint | None = None,
) -> dict[str, Any]:
    """The JSON object the server answers, or `failed to <action> (<status>): <message>`
    (behaviour.md 10.2), followed by what `hint` suggests for that answer."""
    response = context.signed_in().request(method, target, body, query=query)
    if not response.ok:
        raise failure(context, response, action, hint(context, response) if hint else ())
    document = response.json()
    if not isinstance(document, dict):
        raise CliError(
            f"failed to {action} ({response.status}): the server's answer is not JSON",
            f"  is {printable(context.resolved.api_url)} a Sigillo server?",
        )
    return document


def failure(
    context: Context, response: Response, action: str, hint: Sequence[str] = ()
) -> CliError:
    """The error of a refused request, with what the user can do about it.

    A `sig_` token on these routes always gets 401 (behaviour.md 5.2): instead of the bare
    `unauthorized`, say that API tokens are for secrets commands only (16 asks for this).
    """
    token = context.resolved.token or ""
    status = response.status
    if status == 401 and token.startswith("sig_"):
        return CliError(
            f"failed to {action} (401): {API_TOKENS_ONLY_FOR_SECRETS}",
            "  sign in with your account instead:",
            "  sigillo login",
        )
    message = printable(response.message())
    lines = list(_details(response))
    if status == 401:
        lines.append("  sigillo login")
    elif status == 403 and message == "forbidden":
        lines.append("  your account is not a member of the organisation that owns it")
    elif status >= 500:
        lines.append("  the server failed; its log tells why")
    return CliError(f"failed to {action} ({status}): {message}", *lines, *hint)


def _details(response: Response) -> Iterable[str]:
    """`  <field>: <message>` for each item of a validation failure's `detail` (5.4)."""
    document = response.json()
    details = document.get("detail") if isinstance(document, dict) else None
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict):
            field, message = str(item.get("field", "")), str(item.get("message", ""))
            yield f"  {printable(field)}: {printable(message)}"


def project_or_fail(context: Context, project: str, action: str) -> dict[str, Any]:
    """The project (a ProjectListItem) by id, or by name when no id matches and one project
    the user can reach has that name (terminal lists show names, not ids); else the
    failure of `action` with, on a 404, the projects the user can reach."""
    response = context.signed_in().get(path("projects", project))
    if response.status == 404:
        named = _named_project(context, project)
        if named is not None:
            response = context.client.get(path("projects", named))
    if response.ok and isinstance(response.json(), dict):
        document: dict[str, Any] = response.json()
        return document
    raise failure(context, response, action, project_hint(context, response))


def _named_project(context: Context, name: str) -> str | None:
    """The id of the one reachable project named `name`, if exactly one is."""
    listed = context.client.get(path("projects"))
    items = (listed.json() or {}).get("projects") if listed.ok else None
    found = [
        str(p.get("id"))
        for p in (items if isinstance(items, list) else [])
        if isinstance(p, dict) and p.get("name") == name
    ]
    return found[0] if len(found) == 1 else None


def project_hint(context: Context, response: Response) -> list[str]:
    """`available projects:` and one line per project (10.4), after a 404."""
    if response.status != 404:
        return []
    listed = context.client.get(path("projects"))
    items = (listed.json() or {}).get("projects") if listed.ok else None
    if not isinstance(items, list) or not items:
        return []
    return [
        "available projects:",
        *(
            f"  - {printable(str(p.get('orgName')))} / {printable(str(p.get('name')))}"
            f" ({printable(str(p.get('id')))})"
            for p in items
            if isinstance(p, dict)
        ),
    ]


def environment_hint(context: Context, project: str) -> list[str]:
    """`available envs:` and one line per environment (10.4), when the list can be had."""
    listed = context.client.get(path("projects", project, "environments"))
    items = (listed.json() or {}).get("environments") if listed.ok else None
    if not isinstance(items, list):
        return []
    return [
        "available envs:",
        *(
            f"  - {printable(str(e.get('name')))} ({printable(str(e.get('slug')))})"
            for e in items
            if isinstance(e, dict)
        ),
    ]


# --- output --------------------------------------------------------------------------


def show(context: Context, document: Mapping[str, Any], fields: Fields) -> None:
    """The server's JSON with `--json`, else the `key: value` block."""
    if context.args.json:
        context.out.json(document)
    else:
        context.out.block(fields)


def show_created(context: Context, document: Mapping[str, Any], fields: Fields) -> None:
    """What a create command prints (10.8): the new id alone when piped, so that it can be
    captured; the block on a terminal; the server's JSON with `--json`."""
    if context.args.json:
        context.out.json(document)
    elif not context.out.stdout_tty:
        context.out.line(printable(str(document.get("id", ""))))
    else:
        context.out.block(fields)


def show_list(context: Context, key: str, items: Iterable[Fields]) -> None:
    """`key:` then `  - first: …` and `    other: …` per item; `key: []` when empty (valid
    YAML either way, and an empty list reads as one)."""
    rows = list(items)
    if not rows:
        context.out.line(f"{key}: []")
        return
    context.out.line(f"{key}:")
    for row in rows:
        for index, (label, value) in enumerate(row):
            lead = "  - " if index == 0 else "    "
            context.out.line(f"{lead}{label}: {scalar(value)}")


def by_name(items: Iterable[Mapping[str, Any]], *keys: str) -> list[Mapping[str, Any]]:
    """Items sorted by their `keys` (default: name), case-insensitively, then by id."""
    fields = keys or ("name",)

    def key(item: Mapping[str, Any]) -> tuple[str, ...]:
        return (*(str(item.get(field) or "").casefold() for field in fields), str(item.get("id")))

    return sorted(items, key=key)


def show_table(
    context: Context,
    what: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Callable[[int, str], Sequence[str]] | None = None,
) -> None:
    """A list on a terminal (issue 16): the aligned table, or `no <what>` when empty."""
    if rows:
        context.out.table(headers, rows, styles)
    else:
        context.out.line(context.out.style(f"no {what}", "dim"))


def list_of(document: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = document.get(key)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# --- who a write goes to, and confirmations ------------------------------------------


def announce(
    context: Context, org_id: str | None = None, project: Mapping[str, Any] | None = None
) -> None:
    """On a terminal, one dim line on stderr: the account, org and project a write goes to.

    Best effort: if `/me` fails, the write itself reports the problem."""
    if not context.out.stderr_tty:
        return
    me = context.client.get(path("me"))
    document = me.json() if me.ok else None
    if not isinstance(document, dict):
        return
    user = document.get("user")
    user = user if isinstance(user, dict) else {}
    account = str(user.get("email") or user.get("name") or user.get("id") or "?")
    line = f"writing as {printable(account)}"
    if project is not None:
        org_id = str(project.get("orgId") or "")
    if org_id:
        names = {str(o.get("id")): str(o.get("name")) for o in list_of(document, "orgs")}
        org_name = names.get(org_id) or (project or {}).get("orgName")
        line += f" to org {quote(str(org_name))}" if org_name else f" to org {printable(org_id)}"
    if project is not None:
        line += f", project {quote(str(project.get('name', '')))}"
    context.out.note(line, "dim")


def _stdin_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def can_confirm(context: Context, what: str) -> None:
    """Without `--yes`, a delete needs a terminal to ask on (a Sigillo addition)."""
    if not context.args.yes and not _stdin_tty():
        raise CliError(
            f"not deleting {what} without confirmation",
            "  pass --yes to delete it from a script",
        )


def ask(context: Context, question: str) -> None:
    """`question [y/N]` on stderr; anything but y or yes cancels (exit 1)."""
    if context.args.yes:
        return
    context.out.stderr.write(f"{question} [y/N] ")
    context.out.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        if not answer.endswith("\n"):
            context.out.stderr.write("\n")
        raise CliError("cancelled: nothing was deleted")


# --- orgs ----------------------------------------------------------------------------


def environment_row(environment: Mapping[str, Any]) -> Fields:
    return [
        ("id", environment.get("id")),
        ("name", environment.get("name")),
        ("slug", environment.get("slug")),
    ]
