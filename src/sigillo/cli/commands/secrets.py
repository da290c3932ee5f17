"""`sigillo secrets …`: list, set and delete (behaviour.md 11.5-11.9); `get` and `download`
are in secret_reads.py, `mark` in kinds.py and `upload` (a Sigillo addition) in upload.py,
all built on the helpers at the end of this module.

Pipe-friendly output (10.8): when stdout is piped, `secrets` prints names only, `get` the
value's bytes only and `set` the new event ids only, so that the next program gets data,
not decoration. On a terminal the same answers are YAML-like blocks. `--json` prints the
server's answer. Every string that comes from the server is printed through `quote` or
`printable`, so a hostile name cannot drive the user's terminal.

Values are precious: they are printed only by `get` and `download` (and only after the
agent-shell guard of 11.6 let them through), never in an error, a note or the plan of
`upload`. Writes made from a terminal first say who is writing where (the account, or
"API token", and the org and project), because a mis-resolved project is the usual way
a secret lands in the wrong place.

Kinds [D18]: every live secret is `secret` (the default) or `plain` (configuration a
person chose to show). The listing shows them, `set --plain/--secret` sends one, and the
agent-shell guard lets plain values through (`agent_guard_for`).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from sigillo.cli.at import at_query, past_failure
from sigillo.cli.client import Response, path
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_NAME_LENGTH",
    "NAME_RULE",
    "announce",
    "answer",
    "checked_name",
    "delete",
    "environment_answer",
    "failure_of",
    "list_",
    "print_json",
    "read_stdin",
    "report_failure",
    "secrets_path",
    "set_",
    "stdin_is_tty",
    "valid_name",
    "value_problem",
]

NAME_RULE = "^[A-Za-z_][A-Za-z0-9_]*$"
MAX_NAME_LENGTH = 256
MAX_VALUE_BYTES = 64 * 1024  # the server's limit [D13]; checked here before anything is sent
MAX_INPUT_BYTES = 10 * 1024 * 1024  # what is read from stdin or a file at most (11.7)
STRIPPED_NOTE = "note: trailing newline stripped from piped stdin"
EMPTY_NOTE = "note: setting empty value (fill in later via dashboard)"
PLAIN_COMMENT = "# configuration: shown, not masked"
EMPTY_VALUE_WARNING = "warning: the value is empty (stdin held nothing); setting it anyway"
PLAIN_ROW = "shown, not masked"
EMPTY_ROW = "empty value"
MISSING_ROW = "not in this environment"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --- list (11.5) ----------------------------------------------------------------------


def list_(ctx: Context) -> int:
    """Piped: live names, one per line. Terminal (issue 16): the project's and the
    environment's names, then a table sorted by name: each name's kind [D18] and a note
    (plain values are shown, empty values, names that other environments of the project
    have and this one has not). `--json` is the server's answer, whose items carry `kind`
    and ids."""
    at = at_query(ctx)  # --at: the listing as it was then
    environment = ctx.environment()
    response = ctx.client.get(secrets_path(ctx, environment), query=at)
    if failure := past_failure(ctx, response, "list secrets"):
        raise failure
    document = environment_answer(ctx, response, environment, "list secrets")
    if ctx.args.json:
        ctx.out.json(document)
        return 0
    items = [item for item in document.get("secrets") or [] if isinstance(item, dict)]
    if not ctx.out.stdout_tty:
        for item in items:
            ctx.out.line(printable(str(item.get("name", ""))))
        return 0
    _print_listing(ctx, document.get("environmentId"), items, document.get("allNames") or [])
    return 0


def _print_listing(
    ctx: Context, environment_id: object, items: list[dict[str, Any]], all_names: list[Any]
) -> None:
    out = ctx.out
    out.line(f"{out.style('environment', 'dim')} {_environment_label(ctx, str(environment_id))}")
    rows = [
        [
            str(item.get("name", "")),
            "plain" if item.get("kind") == "plain" else "secret",  # unknown kinds are masked
            EMPTY_ROW if item.get("isEmpty") else PLAIN_ROW if item.get("kind") == "plain" else "",
        ]
        for item in items
    ]
    live = {item.get("name") for item in items}
    rows += [[str(name), "-", MISSING_ROW] for name in all_names if name not in live]
    if not rows:
        out.line(out.style("no secrets", "dim"))
        return
    colours = {EMPTY_ROW: ("yellow",), MISSING_ROW: ("red",), PLAIN_ROW: ("cyan",)}
    out.table(
        ["NAME", "KIND", "NOTE"],
        sorted(rows, key=lambda row: row[0]),
        lambda column, cell: colours.get(cell, ()) if column == 2 else (),
    )


def _environment_label(ctx: Context, environment_id: str) -> str:
    """`Acme / Backend, Development (dev)`: what a listing lists, by name (best effort:
    what cannot be fetched is named by its id)."""
    project = ctx.resolved.project or ""
    response = ctx.client.get(path("projects", project, "environments", environment_id))
    document = response.json() if response.ok else None
    if isinstance(document, dict):
        name, slug = str(document.get("name") or ""), str(document.get("slug") or "")
        environment = f"{printable(name)} ({printable(slug)})" if slug else printable(name)
    else:
        environment = printable(environment_id)
    return f"{_project_label(ctx, project)}, {environment}"


# --- get (11.6) -----------------------------------------------------------------------


def set_(ctx: Context) -> int:
    """Write one value into each target environment in turn, going on after a failure;
    exit 1 if any failed. The targets are resolved before the value is asked for, so a
    typo in `-c` costs nothing to type again."""
    name = checked_name(ctx.args.name)
    targets = ctx.environments()
    if name == "download":
        ctx.out.note(
            "note: a secret named download can be set and deleted, but read only through "
            "`sigillo secrets download`",
            "dim",
        )
    announce(ctx, targets)
    value = _checked_value(_read_value(ctx, name))
    body = {"name": name, "value": value}
    if ctx.args.kind is not None:  # --plain or --secret; neither keeps the name's kind
        body["kind"] = ctx.args.kind
    answers: list[Any] = []
    failed = False
    for environment in targets:
        response = ctx.client.request("POST", secrets_path(ctx, environment), body)
        if response.ok:
            answers.append(_report_set(ctx, answer(response, "set secret")))
            continue
        failed = True
        report_failure(ctx, response, environment, f"set secret in {printable(environment)}")
        if response.status == 401:
            break  # the credential is refused: every other environment would say the same
    print_json(ctx, answers, several=len(targets) > 1)
    return 1 if failed else 0


def _read_value(ctx: Context, name: str) -> bytes:
    """The argument; else a masked prompt when stdin is a terminal; else all of stdin."""
    if ctx.args.value is not None:
        return str(ctx.args.value).encode("utf-8", "surrogateescape")
    if stdin_is_tty():
        from sigillo.cli.masked import read_masked  # only this path needs termios

        typed = read_masked(name, ctx.out)
        if not typed:
            ctx.out.note(EMPTY_NOTE, "dim")
        return typed
    data = read_stdin()
    if not data:  # `< /dev/null`, or a pipe from a command that printed nothing
        ctx.out.note(EMPTY_VALUE_WARNING, "yellow")
    elif data.count(b"\n") == 1 and data.endswith(b"\n"):
        data = data[:-1]
        ctx.out.note(STRIPPED_NOTE, "dim")
    return data


def _report_set(ctx: Context, document: dict[str, Any]) -> dict[str, Any]:
    if ctx.args.json:
        return document
    if ctx.out.stdout_tty:
        ctx.out.block(
            [
                ("ok", True),
                ("environment_id", document.get("environmentId")),
                ("id", document.get("id")),
                ("name", document.get("name")),
                # the server's answer does not repeat the kind: the one asked for is shown
                *([("kind", ctx.args.kind)] if ctx.args.kind else []),
            ]
        )
    else:
        ctx.out.line(printable(str(document.get("id", ""))))
    return document


# --- delete (11.8) --------------------------------------------------------------------


def delete(ctx: Context) -> int:
    """Same fan-out as set; each environment is reported as given (slug or id)."""
    name = checked_name(ctx.args.name)
    targets = ctx.environments()
    announce(ctx, targets)
    answers: list[Any] = []
    failed = False
    for environment in targets:
        response = ctx.client.request("DELETE", secrets_path(ctx, environment, name))
        if response.ok:
            document = answer(response, "delete secret")
            answers.append(document)
            if not ctx.args.json:
                ctx.out.block(
                    [
                        ("ok", True),
                        ("environment_id", environment),
                        ("name", document.get("name", name)),
                    ]
                )
            continue
        failed = True
        action = f"delete secret in {printable(environment)}"
        report_failure(ctx, response, environment, action, secret=True)
        if response.status == 401:
            break
    print_json(ctx, answers, several=len(targets) > 1)
    return 1 if failed else 0


# --- download (11.9) ------------------------------------------------------------------


def secrets_path(ctx: Context, environment: str, *name: str) -> str:
    project = ctx.resolved.project or ""
    return path("projects", project, "environments", environment, "secrets", *name)


def valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and _NAME.fullmatch(name) is not None


def checked_name(name: str) -> str:
    """[D13]'s rule, checked before anything is asked or sent: a mistyped name must not
    cost the user a typed-in secret."""
    if not valid_name(name):
        raise CliError(
            f"invalid secret name {quote(name)}",
            f"  names must match {NAME_RULE} (at most {MAX_NAME_LENGTH} characters)",
        )
    return name


def value_problem(data: bytes) -> str | None:
    if len(data) > MAX_VALUE_BYTES:
        return f"is {len(data)} bytes; the server accepts at most {MAX_VALUE_BYTES} (64 KiB)"
    if b"\x00" in data:
        return "contains a NUL byte, which no environment variable can hold"
    return None


def _checked_value(data: bytes) -> str:
    problem = value_problem(data)
    if problem:
        raise CliError(f"the value {problem}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError("the value is not UTF-8 text") from None


def stdin_is_tty() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False


def read_stdin() -> bytes:
    stdin = sys.stdin
    if stdin is None:  # started with stdin closed: nothing to read
        return b""
    data = stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise CliError("stdin holds more than 10 MiB")
    return data


def answer(response: Response, action: str) -> dict[str, Any]:
    document = response.json()
    if not isinstance(document, dict):
        raise CliError(f"failed to {action}: the server's answer is not a JSON object")
    return document


def environment_answer(
    ctx: Context, response: Response, environment: str, action: str
) -> dict[str, Any]:
    """The answer of an environment-bound call; 404 means the environment (10.4)."""
    if response.status == 404:
        raise ctx.environment_not_found(environment)
    if not response.ok:
        raise response.failure(action)
    return answer(response, action)


def report_failure(
    ctx: Context, response: Response, environment: str, action: str, *, secret: bool = False
) -> None:
    """One environment's failure of a fan-out, printed at once; the others go on. A 404
    means the environment (or the project), unless `secret` says the route names a secret
    and the environment exists: then it is the server's `secret NAME not found`."""
    error = failure_of(ctx, response, environment, action, secret=secret)
    ctx.out.error(error.message, error.hint)


def failure_of(
    ctx: Context, response: Response, environment: str, action: str, *, secret: bool = False
) -> CliError:
    """The error of an environment-bound request, naming what is really unknown (issue 16):
    the project, the environment, or (for routes naming a secret) the secret."""
    if response.status == 404 and not (secret and ctx.environment_exists(environment)):
        return ctx.environment_not_found(environment)
    return response.failure(action)


def print_json(ctx: Context, answers: list[Any], *, several: bool) -> None:
    """`--json` of a fan-out: the server's answer for one environment, a list of the
    successful answers when several were targeted (so the output is one JSON document)."""
    if ctx.args.json and (answers or several):
        ctx.out.json(answers if several else answers[0])


def announce(ctx: Context, environments: list[str]) -> None:
    """On a terminal, before a write: who is writing into which org, project and
    environments. Best effort: what cannot be fetched is named by its id."""
    if not ctx.out.stderr_tty:
        return
    out = ctx.out
    token = ctx.resolved.token or ""
    project = ctx.resolved.project or ""
    if token.startswith("sig_"):
        who = f"API token {printable(token[:16])}••••"
        where = f"project {printable(project)}"  # a token may not read /me or projects
    else:
        who = _account(ctx)
        where = _project_label(ctx, project)
    listed = ", ".join(printable(environment) for environment in environments)
    bold = ("bold",)
    out.note(
        f"Writing to {out.style(where, *bold, stream=out.stderr)} ({listed}) "
        f"as {out.style(who, *bold, stream=out.stderr)}"
    )


def _account(ctx: Context) -> str:
    response = ctx.client.get(path("me"))
    user = (response.json() or {}).get("user") if response.ok else None
    if not isinstance(user, dict):
        return "an unknown account"
    name, email = str(user.get("name") or ""), str(user.get("email") or "")
    if name and email:
        return f"{printable(name)} <{printable(email)}>"
    return printable(name or email) or "an unknown account"


def _project_label(ctx: Context, project: str) -> str:
    response = ctx.client.get(path("projects", project))
    document = response.json() if response.ok else None
    if not isinstance(document, dict):
        return f"project {printable(project)}"
    org, name = str(document.get("orgName") or ""), str(document.get("name") or project)
    return f"{printable(org)} / {printable(name)}" if org else printable(name)
