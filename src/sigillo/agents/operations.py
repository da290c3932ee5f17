"""The MCP tools' work against the Sigillo server, blocking (mcp_server.py runs each in a
worker thread): listings, the names one environment lacks, setting a value the agent
already has, marking kinds, and fetching the values a command runs with.

Each answer is a dict without any value: names, kinds, times, ids, and `actingOn` (scope.py).
The values fetched for a command (`fetch_values`) go to mcp_run.py and never into an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sigillo.agents.scope import acting_on, failure, get_json
from sigillo.cli.client import path
from sigillo.cli.commands.secrets import MAX_NAME_LENGTH, NAME_RULE, valid_name, value_problem
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError

__all__ = [
    "Values",
    "fetch_values",
    "list_environments",
    "list_projects",
    "list_secrets",
    "mark_secrets",
    "missing_secrets",
    "set_secret",
]

KINDS = ("secret", "plain")


@dataclass
class Values:
    """What a command runs with: every value by name, the names of kind plain, and the
    secrets each value was built from (references) to protect on their own. No repr of
    the values: a traceback or a log line must not show them."""

    secrets: dict[str, str] = field(repr=False)
    plain: set[str]
    parts: list[str] = field(repr=False)
    environment_id: str | None = None


def list_projects(ctx: Context) -> dict[str, Any]:
    ctx.signed_in()
    listed = get_json(ctx, path("projects"), "list projects")
    projects = [
        {
            "id": p.get("id"),
            "name": p.get("name"),
            "org": {"id": p.get("orgId"), "name": p.get("orgName")},
            "environments": [_environment(e) for e in p.get("environments") or []],
        }
        for p in listed.get("projects") or []
        if isinstance(p, dict)
    ]
    resolved = ctx.resolved
    return {
        "configured": {"project": resolved.project, "environment": resolved.environment},
        "projects": projects,
    }


def list_environments(ctx: Context) -> dict[str, Any]:
    place = acting_on(ctx)
    project = ctx.project()
    listed = get_json(ctx, path("projects", project, "environments"), "list environments")
    environments = [_environment(e) for e in listed.get("environments") or []]
    return {"actingOn": place, "environments": environments}


def list_secrets(ctx: Context) -> dict[str, Any]:
    """Names with their kind, whether empty and when last changed; and the names other
    environments of the project have and this one lacks."""
    environment = ctx.environment()
    listing = _listing(ctx, environment)
    live = [item for item in listing.get("secrets") or [] if isinstance(item, dict)]
    names = {item.get("name") for item in live}
    return {
        "actingOn": acting_on(ctx, environment, listing.get("environmentId")),
        "secrets": [
            {
                "name": item.get("name"),
                "kind": "plain" if item.get("kind") == "plain" else "secret",
                "empty": bool(item.get("isEmpty")),
                "lastChanged": _iso(item.get("updatedAt")),
                "lastChangedMs": item.get("updatedAt"),
            }
            for item in live
        ],
        "missingHere": [n for n in listing.get("allNames") or [] if n not in names],
    }


def missing_secrets(ctx: Context, other: str) -> dict[str, Any]:
    """The names live in `other` and not in this environment, and the reverse."""
    environment = ctx.environment()
    here = _listing(ctx, environment)
    there = _listing(ctx, other)
    names_here = _names(here)
    names_there = _names(there)
    return {
        "actingOn": acting_on(ctx, environment, here.get("environmentId")),
        "comparedWith": acting_on(ctx, other, there.get("environmentId")).get("environment"),
        "missing": [name for name in names_there if name not in names_here],
        "onlyHere": [name for name in names_here if name not in names_there],
    }


def set_secret(ctx: Context, name: str, value: str, kind: str | None) -> dict[str, Any]:
    """Set `name` to `value` (which is never repeated) in the environment."""
    _check_names([name])
    problem = value_problem(value.encode("utf-8", "surrogateescape"))
    if problem:
        raise CliError(f"the value of {name} {problem}")
    if kind is not None and kind not in KINDS:
        raise CliError("kind must be secret or plain")
    environment = ctx.environment()
    target = path("projects", ctx.project(), "environments", environment, "secrets")
    body: dict[str, Any] = {"name": name, "value": value}
    if kind is not None:
        body["kind"] = kind
    response = ctx.signed_in().request("POST", target, body)
    if not response.ok:
        raise failure(ctx, response, f"set {name}", environment)
    answer = response.json() if isinstance(response.json(), dict) else {}
    return {
        "actingOn": acting_on(ctx, environment, answer.get("environmentId")),
        "ok": True,
        "name": name,
        "eventId": answer.get("id"),
        "kind": kind or "unchanged (a new name is a secret)",
        "note": "the value was stored; it is never shown back",
    }


def mark_secrets(ctx: Context, names: list[str], kind: str) -> dict[str, Any]:
    """Change the kind of live secrets, without their values."""
    if not names:
        raise CliError("names: give at least one secret name")
    _check_names(names)
    if kind not in KINDS:
        raise CliError("kind must be secret or plain")
    environment = ctx.environment()
    target = path("projects", ctx.project(), "environments", environment, "secret-kinds")
    unique = list(dict.fromkeys(names))
    response = ctx.signed_in().request("PATCH", target, {"kinds": dict.fromkeys(unique, kind)})
    if response.status == 404:  # the environment, or names not live there: the listing tells
        live = _names(_listing(ctx, environment))
        missing = sum(1 for name in unique if name not in live)
        raise CliError(
            f"failed to mark secrets {kind} (404): {missing} of the {len(unique)} names are "
            "not secrets of this environment (list_secrets shows its names); nothing was changed"
        )
    if not response.ok:
        raise failure(ctx, response, f"mark secrets {kind}", environment)
    answer = response.json() if isinstance(response.json(), dict) else {}
    changed = {c.get("name"): c for c in answer.get("changed") or [] if isinstance(c, dict)}
    return {
        "actingOn": acting_on(ctx, environment, answer.get("environmentId")),
        "ok": True,
        "kind": kind,
        "changed": [
            {"name": n, "previous": changed[n].get("previous"), "kind": kind}
            for n in unique
            if n in changed
        ],
        "unchanged": [n for n in unique if n not in changed],
    }


def fetch_values(ctx: Context, environment: str) -> Values:
    """Every value of the environment with its kind, read once as `json-kinds` with
    `purpose=mcp` (the server records the read as made through MCP)."""
    target = path("projects", ctx.project(), "environments", environment, "secrets", "download")
    query = {"format": "json-kinds", "purpose": "mcp"}
    response = ctx.signed_in().get(target, query=query, accept="*/*")
    if not response.ok:
        raise failure(ctx, response, "fetch the secrets", environment)
    document = response.json()
    if not isinstance(document, dict):
        raise CliError("invalid secrets response")
    values = Values({}, set(), [])
    for name, entry in document.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            continue
        values.secrets[name] = entry["value"]
        if entry.get("kind") == "plain":  # any other kind, or none, is a secret
            values.plain.add(name)
        values.parts += [p for p in entry.get("parts") or [] if isinstance(p, str)]
    return values


def _listing(ctx: Context, environment: str) -> dict[str, Any]:
    target = path("projects", ctx.project(), "environments", environment, "secrets")
    return get_json(ctx, target, "list secrets", environment)


def _names(listing: dict[str, Any]) -> list[str]:
    return [
        str(item.get("name"))
        for item in listing.get("secrets") or []
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    ]


def _check_names(names: list[str]) -> None:
    """Names are checked before anything is sent; a wrong one is not quoted back (an agent
    may have put a value where a name goes)."""
    wrong = sum(1 for name in names if not valid_name(name))
    if wrong:
        raise CliError(
            f"{'a name is' if wrong == 1 else f'{wrong} names are'} not a valid secret name: "
            f"names must match {NAME_RULE} (at most {MAX_NAME_LENGTH} characters)"
        )


def _environment(item: Any) -> dict[str, Any]:
    item = item if isinstance(item, dict) else {}
    return {"id": item.get("id"), "slug": item.get("slug"), "name": item.get("name")}


def _iso(milliseconds: Any) -> str | None:
    if not isinstance(milliseconds, int):
        return None
    moment = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
