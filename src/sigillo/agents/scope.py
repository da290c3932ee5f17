"""What every MCP tool call starts from: a CLI Context of its own (the configured token,
server, project and environment, resolved as every CLI command resolves them, or the
project and environment the tool was given), the place it acts on by name and id, and the
server's refusals in plain words. Blocking: the MCP server runs these in worker threads.

Messages never hold a value or a token: they are built from the server's error texts
(which never quote a value) and from names and ids.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sigillo.cli.client import Response, path
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable

__all__ = [
    "READ_ONLY",
    "acting_on",
    "call",
    "environment_missing",
    "failure",
    "get_json",
    "words",
]

READ_ONLY = (
    "this token is read-only: ask a person for a read-write token "
    "(sigillo tokens create --read-write) or to make this change themselves"
)
SIGNED_OUT = (
    "the server refused the credential (401): it is missing, expired or revoked, or an API "
    "token was used where a signed-in account is needed (API tokens reach only the secrets "
    "of their own project); ask a person to run `sigillo login`"
)


@contextmanager
def call(
    base: Context, project: str | None = None, environment: str | None = None
) -> Iterator[Context]:
    """A Context for one tool call: `base`'s arguments, with `project` and `environment`
    (a slug or an id) overriding the configured ones when given. Its client is its own
    (calls run in parallel threads) and is closed at the end."""
    args = copy.copy(base.args)
    if project:
        args.project = project
    if environment:
        args.environments = [environment]
    ctx = Context(args, env=base.env, cwd=base.cwd, out=base.out)
    try:
        yield ctx
    finally:
        if "client" in vars(ctx):
            ctx.client.close()


def words(error: CliError) -> str:
    """A CliError as one message for the agent: the sentence, then its hints."""
    hints = [line.strip() for line in error.hint if line.strip()]
    return "; ".join([error.message, *hints])


def failure(
    ctx: Context, response: Response, action: str, environment: str | None = None
) -> CliError:
    """What a refused request means, in words: a read-only token, a refused credential, an
    environment that does not exist (with the ones that do), or the server's message."""
    message = printable(response.message())
    if response.status == 403 and "read-only" in message:
        return CliError(READ_ONLY)
    if response.status == 401:
        return CliError(f"failed to {action}: {SIGNED_OUT}")
    if response.status == 404 and environment is not None:
        return environment_missing(ctx)
    if response.status == 403:
        return CliError(f"failed to {action} (403): {message}; this credential cannot reach it")
    return CliError(f"failed to {action} ({response.status}): {message}")


def environment_missing(ctx: Context) -> CliError:
    """An environment that is not there, with the ones that are. What the agent gave is
    not quoted back: it may have put a value where a slug goes."""
    project = ctx.resolved.project or ""
    listed = ctx.client.get(path("projects", project, "environments"))
    if listed.status == 404:
        return CliError(
            "project not found, or this account cannot reach it: list_projects shows the "
            "projects it can"
        )
    items = (listed.json() or {}).get("environments") if listed.ok else None
    if not isinstance(items, list):
        return CliError("environment not found, or this credential does not reach it")
    available = ", ".join(
        f"{printable(str(e.get('slug')))} ({printable(str(e.get('name')))})"
        for e in items
        if isinstance(e, dict)
    )
    return CliError(f"environment not found in this project; available: {available or 'none'}")


def get_json(
    ctx: Context, target: str, action: str, environment: str | None = None, **options: Any
) -> dict[str, Any]:
    """GET `target` and its JSON object, or the failure in words."""
    response = ctx.client.get(target, **options)
    if not response.ok:
        raise failure(ctx, response, action, environment)
    document = response.json()
    if not isinstance(document, dict):
        raise CliError(f"failed to {action}: the server's answer is not a JSON object")
    return document


def acting_on(
    ctx: Context, environment: str | None = None, environment_id: str | None = None
) -> dict[str, Any]:
    """The org, project and (when given, by slug or id) environment a call acts on, by name
    and id. An API token cannot read the project's names: then the ids and slug as
    configured, and a note saying why the names are missing."""
    project_id = ctx.project()
    response = ctx.client.get(path("projects", project_id))
    document = response.json() if response.ok else None
    place: dict[str, Any] = {"org": None, "project": {"id": project_id, "name": None}}
    environments: list[Any] = []
    if isinstance(document, dict):
        place["org"] = {"id": document.get("orgId"), "name": document.get("orgName")}
        place["project"] = {"id": document.get("id"), "name": document.get("name")}
        environments = document.get("environments") or []
    else:
        place["note"] = (
            "names are not readable with this credential (an API token): ids as configured"
        )
    if environment is not None:
        found = next(
            (
                e
                for e in environments
                if (isinstance(e, dict) and e.get("id") in (environment, environment_id))
                or (isinstance(e, dict) and e.get("slug") == environment)
            ),
            None,
        )
        if found is not None:
            place["environment"] = {
                "id": found.get("id"),
                "slug": found.get("slug"),
                "name": found.get("name"),
            }
        else:
            place["environment"] = {"id": environment_id, "slug": environment, "name": None}
    return place
