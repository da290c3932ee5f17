"""`sigillo secrets upload FILE` (a Sigillo addition): every secret of a .env, JSON or
flat YAML file set in one environment, in one all-or-nothing bulk write (PUT …/secrets).

`--plain NAME…` [D18] writes those names as plain configuration (as `{"value", "kind"}`
entries of the bulk write); every other name keeps the kind it has, `secret` when new.
A `--plain` name the file does not set is refused before anything is asked or written.
"""

from __future__ import annotations

import sys
from typing import Any

from sigillo.cli.commands.secrets import (
    MAX_INPUT_BYTES,
    MAX_NAME_LENGTH,
    NAME_RULE,
    announce,
    environment_answer,
    read_stdin,
    secrets_path,
    stdin_is_tty,
    valid_name,
    value_problem,
)
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote

__all__ = ["upload"]


def upload(ctx: Context) -> int:
    """Set every secret of a .env, JSON or YAML file in one environment, all or nothing.

    Before writing, the plan lists each name as `+` (new here) or `~` (exists here: its
    value will be replaced), and which will be plain. Values are neither printed nor
    downloaded to compare: reading
    them would be an audited access to every secret for no gain. On a terminal the user
    confirms; elsewhere `--yes` is required, so that a script never writes by accident.
    """
    targets = ctx.environments()
    if len(targets) > 1:
        raise CliError("upload writes one environment at a time", "  run it once per --env")
    environment = targets[0]
    label, secrets = _read_secrets_file(ctx)
    plain = _plain_names(ctx, label, secrets)
    live = _live_kinds(ctx, environment)
    announce(ctx, [environment])
    _show_plan(ctx, label, environment, secrets, live, plain)
    if not ctx.args.yes:
        _confirm(ctx, len(secrets), environment)
    body: dict[str, Any] = {
        "secrets": {
            name: {"value": value, "kind": "plain"} if name in plain else value
            for name, value in secrets.items()
        }
    }
    response = ctx.client.request("PUT", secrets_path(ctx, environment), body)
    document = environment_answer(
        ctx, response, environment, f"upload secrets to {printable(environment)}"
    )
    if ctx.args.json:
        ctx.out.json(document)
    elif ctx.out.stdout_tty:
        ctx.out.success(f"Wrote {_count(len(secrets))} to {printable(environment)}")
    else:
        for name in document.get("secrets") or []:
            ctx.out.line(printable(str(name)))
    return 0


def _read_secrets_file(ctx: Context) -> tuple[str, dict[str, str]]:
    from sigillo.cli import secret_files  # only upload parses files

    filename = str(ctx.args.file)
    format = ctx.args.format or ("env" if filename == "-" else secret_files.format_for(filename))
    label = "stdin" if filename == "-" else printable(filename)
    data = read_stdin() if filename == "-" else _read_file(filename, label)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{label} is not UTF-8 text") from None
    try:
        secrets = secret_files.parse(text, format)
    except secret_files.FileError as error:
        raise CliError(f"{label}: {error}") from None
    if not secrets:
        raise CliError(f"no secrets found in {label}", f"  expected {format} text")
    _check_file_secrets(label, secrets)
    return label, secrets


def _read_file(filename: str, label: str) -> bytes:
    try:
        with open(filename, "rb") as file:
            data = file.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        raise CliError(f"cannot read {label}: {error.strerror or type(error).__name__}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise CliError(f"{label} is larger than 10 MiB")
    return data


def _check_file_secrets(label: str, secrets: dict[str, str]) -> None:
    """Every problem of the file at once, before anything is written; names only."""
    bad = [name for name in secrets if not valid_name(name)]
    if bad:
        raise CliError(
            f"{label}: invalid secret name{'s' if len(bad) > 1 else ''}: "
            + ", ".join(quote(name) for name in bad),
            f"  names must match {NAME_RULE} (at most {MAX_NAME_LENGTH} characters)",
        )
    for name, value in secrets.items():
        try:
            problem = value_problem(value.encode("utf-8"))
        except UnicodeEncodeError:  # a JSON `\ud800` escape: not text the server can keep
            problem = "is not valid Unicode text (a lone surrogate escape)"
        if problem:
            raise CliError(f"{label}: the value of {name} {problem}")


def _plain_names(ctx: Context, label: str, secrets: dict[str, str]) -> list[str]:
    """`--plain`'s names, each once; every one must be set by the file."""
    plain = list(dict.fromkeys(ctx.args.plain or []))
    unknown = [name for name in plain if name not in secrets]
    if unknown:
        raise CliError(
            f"--plain names {'secrets' if len(unknown) > 1 else 'a secret'} {label} does not "
            "set: " + ", ".join(quote(name) for name in unknown),
            "  nothing was written; --plain marks names of the file only "
            "(existing secrets: sigillo secrets mark NAME --plain)",
        )
    return plain


def _live_kinds(ctx: Context, environment: str) -> dict[str, str]:
    """The live names and their kinds (the listing: no value, no read recorded)."""
    response = ctx.client.get(secrets_path(ctx, environment))
    document = environment_answer(ctx, response, environment, "list secrets")
    return {
        str(item.get("name")): str(item.get("kind") or "secret")
        for item in document.get("secrets") or []
        if isinstance(item, dict) and "name" in item
    }


def _show_plan(
    ctx: Context,
    label: str,
    environment: str,
    secrets: dict[str, str],
    live: dict[str, str],
    plain: list[str],
) -> None:
    """On stderr, beside the question it leads to: stdout keeps the result alone. A name
    that will be plain says so, and a secret about to become plain says that too."""
    out = ctx.out
    err = out.stderr
    new = [name for name in secrets if name not in live]
    replaced = [name for name in secrets if name in live]
    marked = f"; {len(plain)} marked plain" if plain else ""
    out.note(
        f"Upload {label} to {printable(environment)}: "
        f"{len(new)} new, {len(replaced)} to be replaced{marked}"
    )
    for name in secrets:
        if name not in live:
            kind = "  plain" if name in plain else ""
            out.note(f"  {out.style('+', 'green', stream=err)} {name}{kind}")
            continue
        if name in plain and live[name] != "plain":
            kind = f", {live[name]} → plain"
        elif name in plain or live[name] == "plain":
            kind = ", plain"
        else:
            kind = ""
        out.note(f"  {out.style('~', 'yellow', stream=err)} {name}  will be replaced{kind}")
    untouched = len(set(live) - set(secrets))
    if untouched:
        out.note(f"  ({_count(untouched, 'other secret')} in {printable(environment)} untouched)")


def _confirm(ctx: Context, count: int, environment: str) -> None:
    if not (stdin_is_tty() and ctx.out.stdout_tty):
        raise CliError(
            "not writing without confirmation: stdin and stdout are not both a terminal",
            "  add --yes to write without asking",
        )
    err = ctx.out.stderr
    question = f"Write {_count(count)} to {printable(environment)}? [y/N]"
    err.write(f"{ctx.out.style('?', 'blue', stream=err)} {question} ")
    err.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise CliError("cancelled; nothing was written")


def _count(number: int, noun: str = "secret") -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
