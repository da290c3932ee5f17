"""`sigillo tokens`: list, create and revoke a project's API tokens (behaviour.md 11.10,
6.8, [D15]).

The key of a new token is printed once, at creation, and never again: piped, it is the
whole output (`sigillo tokens create --name ci > key` or into a CI secret store); on a
terminal it comes in a block with a reminder. Lists show the display prefix
`sig_<12 hex>••••` (5.2), never a key: piped, as YAML with ids; on a terminal, as a table
sorted by name with a status column and no ids (issue 16), which is why `revoke` also
takes a token's name (when one active token has it).

Times are printed as UTC ISO 8601 (`2026-01-31T12:00:00Z`) rather than the API's epoch
milliseconds: people read them, and YAML and most languages parse them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sigillo.cli.client import path
from sigillo.cli.commands.catalog import (
    announce,
    by_name,
    call,
    failure,
    project_hint,
    project_or_fail,
    show,
    show_list,
    show_table,
)
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable

__all__ = ["create", "expiry", "list_", "revoke"]

ALL_ENVIRONMENTS = "all environments"
BULLETS = "\u2022" * 4

_UNITS_MS = {
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 7 * 86_400_000,
    "y": 365 * 86_400_000,
}
_DURATION = re.compile(r"([1-9][0-9]{0,5})([mhdwy])")


def expiry(duration: str, now_ms: int) -> int:
    """`--expires-in` (`30m`, `12h`, `30d`, `2w`, `1y`) as the absolute expiry the API
    takes: epoch milliseconds (6.1)."""
    match = _DURATION.fullmatch(duration.strip())
    if not match:
        raise CliError(
            f"invalid --expires-in {printable(duration)!r}",
            "  a whole number and a unit: m (minutes), h, d, w or y (365 days),"
            " e.g. 30m, 12h, 30d, 1y",
        )
    return now_ms + int(match.group(1)) * _UNITS_MS[match.group(2)]


def _when(ms: object) -> str | None:
    if not isinstance(ms, int) or isinstance(ms, bool):
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slugs(context: Context, project: str) -> dict[str, str]:
    """Environment id → slug, to show a token's scope by the name people use (best
    effort: an id that is not found is shown as it is)."""
    listed = context.client.get(path("projects", project, "environments"))
    items = (listed.json() or {}).get("environments") if listed.ok else None
    if not isinstance(items, list):
        return {}
    return {str(e.get("id")): str(e.get("slug")) for e in items if isinstance(e, dict)}


def _scope(environment_id: object, slugs: Mapping[str, str]) -> str:
    if not environment_id:
        return ALL_ENVIRONMENTS
    return f"env {slugs.get(str(environment_id), str(environment_id))}"


def list_(context: Context) -> None:
    """`sigillo tokens [-p ID]`: the project's tokens, newest first, revoked ones too."""
    project = context.project()
    target = path("projects", project, "tokens")
    document = call(context, "GET", target, "list tokens", hint=project_hint)
    if context.args.json:
        context.out.json(document)
        return
    tokens = [t for t in document.get("tokens") or [] if isinstance(t, dict)]
    slugs = _slugs(context, project) if any(t.get("environmentId") for t in tokens) else {}
    if context.out.stdout_tty:
        now = int(time.time() * 1000)
        headers = ["NAME", "KEY", "SCOPE", "ACCESS", "EXPIRES", "CREATED", "STATUS"]
        rows = [_table_row(token, slugs, now) for token in by_name(tokens)]
        show_table(context, "tokens", headers, rows)
        return
    show_list(context, "tokens", (_row(token, slugs) for token in tokens))


def _table_row(token: Mapping[str, Any], slugs: Mapping[str, str], now: int) -> list[str]:
    expires = token.get("expiresAt")
    if token.get("revokedAt"):
        status = "revoked " + _day(token.get("revokedAt"))
    elif isinstance(expires, int) and expires <= now:
        status = "expired"
    else:
        status = "active"
    return [
        str(token.get("name")),
        f"sig_{token.get('prefix', '')}{BULLETS}",
        _scope(token.get("environmentId"), slugs),
        str(token.get("access")),
        _day(expires) or "never",
        _day(token.get("createdAt")),
        status,
    ]


def _day(ms: object) -> str:
    """`2026-01-31 12:00` (UTC), for a table; empty when there is no time."""
    when = _when(ms)
    return when[:16].replace("T", " ") if when else ""


def _row(token: Mapping[str, Any], slugs: Mapping[str, str]) -> list[tuple[str, object]]:
    return [
        ("id", token.get("id")),
        ("name", token.get("name")),
        ("prefix", f"sig_{token.get('prefix', '')}{BULLETS}"),
        ("scope", _scope(token.get("environmentId"), slugs)),
        ("access", token.get("access")),
        ("expires_at", _when(token.get("expiresAt"))),
        ("created_at", _when(token.get("createdAt"))),
        ("revoked_at", _when(token.get("revokedAt"))),
    ]


def _environment_id(context: Context, project: str, slug: str) -> str:
    """The id of `--env` in the project: looked up first, so that a typo gets the list of
    environments (10.4) and an id of another project's environment is refused."""
    response = context.client.get(path("projects", project, "environments", slug))
    document = response.json() if response.ok else None
    if isinstance(document, dict) and document.get("projectId") == project:
        return str(document.get("id"))
    if response.ok or response.status == 404:
        raise context.environment_not_found(slug)
    raise failure(context, response, "create token")


def create(context: Context) -> None:
    """`sigillo tokens create --name N [-p ID] [--env SLUG] [--read-write]
    [--expires-in D]`: a read-only token for every environment unless told otherwise."""
    args = context.args
    project = context.project()
    expires_at = expiry(args.expires_in, int(time.time() * 1000)) if args.expires_in else None
    body: dict[str, object] = {"name": args.name, "access": _access(args.read_write)}
    if args.env:
        body["environmentId"] = _environment_id(context, project, args.env)
    if expires_at is not None:
        body["expiresAt"] = expires_at
    if context.out.stderr_tty:
        announce(context, project=project_or_fail(context, project, "create token"))
    target = path("projects", project, "tokens")
    document = call(context, "POST", target, "create token", body, hint=project_hint)
    _show_key(context, document, args.env)


def _access(read_write: bool) -> str:
    return "read-write" if read_write else "read"


def _show_key(context: Context, document: Mapping[str, Any], slug: str | None) -> None:
    """The key alone and a newline when piped; a block and a reminder on a terminal."""
    out = context.out
    if context.args.json:
        out.json(document)
        return
    key = printable(str(document.get("key", "")))
    if not out.stdout_tty:
        out.line(key)
        return
    out.block(
        [
            ("id", document.get("id")),
            ("key", key),
            ("scope", f"env {slug}" if slug else ALL_ENVIRONMENTS),
            ("access", document.get("access")),
            ("expires_at", _when(document.get("expiresAt"))),
        ]
    )
    out.note("the key is shown only this once: store it now", "yellow")


def revoke(context: Context) -> None:
    """`sigillo tokens revoke ID [-p ID]`: the token stops working at once; its record and
    the events it wrote are kept [D1]."""
    project = context.project()
    if context.out.stderr_tty:
        announce(context, project=project_or_fail(context, project, "revoke token"))
    target = path("projects", project, "tokens", _token_id(context, project, context.args.id))
    document = call(context, "DELETE", target, "revoke token", hint=project_hint)
    show(context, document, [("ok", True), ("id", document.get("id"))])


def _token_id(context: Context, project: str, reference: str) -> str:
    """`reference` as the id of a token of the project, else the id of the one active
    token named so (terminal lists show names); else `reference` unchanged, for the
    server to answer (404 with the projects, as before)."""
    listed = context.client.get(path("projects", project, "tokens"))
    document = listed.json() if listed.ok else None
    items = document.get("tokens") if isinstance(document, dict) else None
    tokens = [t for t in items if isinstance(t, dict)] if isinstance(items, list) else []
    if any(t.get("id") == reference for t in tokens):
        return reference
    named = [t for t in tokens if t.get("name") == reference and not t.get("revokedAt")]
    if len(named) > 1:
        raise CliError(
            f"several active tokens are named {printable(reference)}: pass the id of one",
            *(
                f"  - {printable(str(t.get('id')))} (created {_day(t.get('createdAt'))})"
                for t in named
            ),
        )
    return str(named[0].get("id")) if named else reference
