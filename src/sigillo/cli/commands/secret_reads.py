"""`sigillo secrets get` and `secrets download`: the two commands that print values
(behaviour.md 11.6, 11.9), behind the agent-shell guard of 11.6: to a terminal an AI agent
drives, a value is printed only when every value concerned is plain [D18] (told by the
listing, which says a plain value holding a secret through a reference is a secret), and
checked again once the values are here. `get` prints the value as the server resolved its
references, or as stored with `--raw`; `download` the environment in a file format, from
the offline copy when the server cannot be reached (cli/fallback.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sigillo.cli.agents import agent_guard, guard_message, only_plain
from sigillo.cli.at import at_query, past_failure
from sigillo.cli.client import Unreachable
from sigillo.cli.commands.secrets import (
    answer,
    checked_name,
    failure_of,
    secrets_path,
)
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable
from sigillo.cli.parser import FORMATS

__all__ = ["agent_guard_for", "download", "get"]


def get(ctx: Context) -> int:
    """The agent-shell guard first (a value must not reach an agent's context; a plain
    one may), then the value: raw bytes when piped or `--raw`, else a three-line block.
    `--at`: the value live then. References (`${…}`) come resolved by the server, unless
    `--raw`: the value as stored."""
    at = at_query(ctx)
    if ctx.args.raw:
        at = {**at, "raw": "true"}
    agent = agent_guard_for(ctx, [ctx.args.name])
    name = checked_name(ctx.args.name)
    if name == "download":
        # GET …/secrets/download is the download route (behaviour.md 16).
        raise CliError(
            "a secret named download cannot be read on its own",
            "  its value is part of: sigillo secrets download",
        )
    environment = ctx.environment()
    response = ctx.client.get(secrets_path(ctx, environment, name), query=at)
    if not response.ok:
        past = past_failure(ctx, response, "get secret")
        raise past or failure_of(ctx, response, environment, "get secret", secret=True)
    document = answer(response, "get secret")
    if agent is not None and document.get("kind") != "plain":
        # Marked a secret between the listing and the read: the read is recorded, but
        # the value is still not shown.
        raise CliError(guard_message(agent))
    if ctx.args.json:
        ctx.out.json(document)
        return 0
    value = document.get("value")
    if not isinstance(value, str):
        raise CliError("failed to get secret: the server's answer holds no value")
    if ctx.args.raw or not ctx.out.stdout_tty:
        ctx.out.write(value.encode() + (b"\n" if ctx.out.stdout_tty else b""))
        return 0
    ctx.out.block(
        [
            ("environment_id", document.get("environmentId")),
            ("name", document.get("name", name)),
            ("value", value),
        ]
    )
    return 0


# --- set (11.7) -----------------------------------------------------------------------


def download(ctx: Context) -> int:
    """The environment rendered in a format (7.1), written as 7.4 says: xargs unchanged,
    every other format with its trailing line feeds replaced by exactly one."""
    format = ctx.args.format
    if format not in FORMATS:
        raise CliError(
            f"invalid download format '{printable(format)}' (expected: {', '.join(FORMATS)})"
        )
    at = at_query(ctx)  # --at: the environment as it was then
    agent = agent_guard_for(ctx, None)
    environment = ctx.environment()
    # Issue 18: an unreachable server is stood in for by the offline copy of this format.
    from sigillo.cli.fallback import Copies

    copies = Copies.of(ctx, environment, "downloading")
    try:
        response = ctx.client.get(
            secrets_path(ctx, environment, "download"),
            query={"format": format, **at},
            accept="*/*",
        )
    except Unreachable as unreachable:
        if copies is None:
            raise
        response = copies.use(format, unreachable)
    else:
        if copies is not None:
            copies.answered(format, response)
    if failure := past_failure(ctx, response, "download secrets"):
        raise failure
    if response.status == 404:
        raise ctx.environment_not_found(environment)
    if not response.ok:
        raise response.failure("download secrets")
    if agent is not None and not _listed_plain(ctx, None):
        # A secret appeared, or a name was marked secret, since the listing: the read is
        # recorded, but the values are still not shown.
        raise CliError(guard_message(agent))
    body = response.body if format == "xargs" else response.body.rstrip(b"\n") + b"\n"
    ctx.out.write(body)
    # [D19] The comment lines that open an env or docker body name the values its readers
    # cannot all read back; repeat the names (never a value) on stderr.
    unread = []
    for line in body.decode("utf-8", "replace").split("\n") if format in ("env", "docker") else []:
        name, _, why = line.removeprefix("# ").partition(": ")
        if not line.startswith("# ") or not why.startswith("cannot be written so that"):
            break
        if name.isascii() and name.isidentifier():
            unread.append(name)
    if unread:
        reader = "not every .env reader reads" if format == "env" else "docker does not read"
        ctx.out.note(
            f"warning: {reader} these values back exactly: {', '.join(unread)}"
            " (see the comment lines at the top)",
            "yellow",
        )
    return 0


# --- shared ---------------------------------------------------------------------------


def agent_guard_for(ctx: Context, names: Sequence[str] | None) -> str | None:
    """11.6: refuse to print values to a terminal an AI agent is driving, unless every
    value concerned is plain [D18] (`names`, or every live one when None).

    None: no guard applies. When the guard would refuse, the listing (no values, no read
    recorded) is asked for the kinds first, so that no value is fetched and then refused:
    if a name concerned is not plain, or the listing cannot be had (not logged in, no
    project, a refused token, an unreachable server), the refusal is today's. Otherwise
    the agent is returned, and the caller checks again once it has the values, which
    closes the window of a kind changed in between."""
    agent = agent_guard(ctx.env, force=bool(ctx.args.force), stdout_is_tty=ctx.out.stdout_tty)
    if agent is not None and not _listed_plain(ctx, names):
        raise CliError(guard_message(agent))
    return agent


def _listed_plain(ctx: Context, names: Sequence[str] | None) -> bool:
    """Whether the listing says every value concerned is plain; False when it cannot."""
    try:
        environment = ctx.environment()
        response = ctx.client.get(secrets_path(ctx, environment), query=at_query(ctx))
    except CliError:
        return False
    document = response.json() if response.ok else None
    if not isinstance(document, dict):
        return False
    kinds = {
        str(item.get("name")): str(item.get("kind"))
        for item in document.get("secrets") or []
        if isinstance(item, dict)
    }
    return only_plain(kinds, names)
