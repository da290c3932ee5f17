"""Writes from the Secrets tab: Save, Delete and "Sync missing" (behaviour.md 14.4).

Save reads the table form: `k:<name>` is the key input of a live row (a different text is a
rename), `v:<name>` a revealed or plain value (only those rows have one: an unrevealed
secret is never sent, so it cannot change), `m:<name>` the value typed into a missing key's
row, `nk<i>`/`nv<i>` an added row and `np<i>` its kind (the box "plain", which sends
`plain`; unticked, the new secret is a secret) [D18], `env` each additional environment
chosen in the dialog. The browser drops unchanged keys and values before sending; a plain
browser sends them all, which only writes the same values again, except for plain values,
which are compared here (no read needed) and not written again when unchanged. Rows whose
target names collide, malformed names, kinds other than "secret" or "plain" and oversized
values are refused with a message and nothing is written. Textarea values arrive with
CR LF line ends (HTML form rules) and are stored with LF.

Kinds go to `save` only for the added rows marked plain (there and in every environment
chosen); every other name keeps the kind it has in each environment, a renamed one its old
name's, and a name new to another environment is a secret there until someone marks it.

Delete takes `name` and the `env` ids chosen; Sync takes the `source` environment and
copies whatever is still missing here and live there. Environments must belong to this
project: any other id, of this org or another, is "Environment not found".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.events import SecretKind
from sigillo.domain.secrets import secret_kind
from sigillo.domain.values import secret_name, secret_value
from sigillo.services.container import Services
from sigillo.web.params import PathText
from sigillo.web.project import ENV
from sigillo.web.session import Viewer
from sigillo.web.tabs.secrets_notices import Notice, plural
from sigillo.web.tabs.secrets_view import Place, call_for, fields

__all__ = ["ROUTES", "Edits", "read_edits", "shown"]

_NEW = re.compile(r"n([kvp])([0-9]{1,4})")
NOT_FOUND = "Environment not found"
GONE = "{} is no longer set in this environment. Reload the page and try again."


def shown(name: str) -> str:
    """A name as a message may quote it: short, one line."""
    flat = name.replace("\r", " ").replace("\n", " ")
    return flat if len(flat) <= 60 else flat[:57] + "…"


def _lf(value: str) -> str:
    return value.replace("\r\n", "\n")


@dataclass
class Edits:
    renames: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, SecretKind] = field(default_factory=dict)
    also: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    gone: bool = False  # a row names a secret that is no longer live here


def _checked_name(raw: str, edits: Edits) -> str | None:
    try:
        return secret_name(raw)
    except InvalidInput as error:
        edits.problems.append(f'Invalid key "{shown(raw)}": name {error.message}.')
        return None


def _checked_kind(name: str, kind: str, edits: Edits) -> None:
    try:
        chosen = secret_kind(kind)
    except InvalidInput as error:
        edits.problems.append(f'The kind of "{name}" {error.message}.')
        return
    if chosen == "plain":
        edits.kinds[name] = chosen


def read_edits(
    items: list[tuple[str, str]],
    place: Place,
    live: list[str],
    plain: Mapping[str, str] | None = None,
) -> Edits:
    """The changes a submitted table asks for, checked against the live names; `plain`
    holds the stored values of the plain rows (one sent back unchanged is no change)."""
    edits = Edits()
    keys: dict[str, str] = {}
    revealed: dict[str, str] = {}
    added: list[tuple[str, str, str]] = []  # name, value, kind ("" when not chosen)
    new: dict[str, dict[str, str]] = {}
    for key, value in items:
        if key.startswith("k:"):
            keys[key[2:]] = value.strip()
        elif key.startswith("v:"):
            revealed[key[2:]] = _lf(value)
        elif key.startswith("m:") and value.strip():
            added.append((key[2:], _lf(value), ""))
        elif key == "env":
            other = place.other(value)
            if other is None and value != place.environment.id:
                edits.problems.append(NOT_FOUND)
            elif other is not None and other.id not in edits.also:
                edits.also.append(other.id)
        elif (found := _NEW.fullmatch(key)) is not None:
            new.setdefault(found.group(2), {})[found.group(1)] = value
    for row in new.values():
        name, value = row.get("k", "").strip(), _lf(row.get("v", ""))
        if name and value.strip():
            added.append((name, value, row.get("p", "")))
    live_set = set(live)
    for old in [*keys, *revealed]:
        if old not in live_set:
            edits.gone = True
            edits.problems.append(GONE.format(f'"{shown(old)}"'))
            return edits
    for old, new_name in keys.items():
        if new_name == old:
            continue
        if not new_name:
            edits.problems.append(f'The key of "{old}" cannot be empty.')
        elif (checked := _checked_name(new_name, edits)) is not None:
            edits.renames[old] = checked
    finals = [edits.renames.get(name, name) for name in live]
    stored = plain or {}
    for old, value in revealed.items():
        if old in stored and _lf(stored[old]) == value:
            continue  # a plain value sent back as it is
        edits.values[edits.renames.get(old, old)] = value
    for raw, value, kind in added:
        checked_new = _checked_name(raw, edits)
        if checked_new is not None:
            finals.append(checked_new)
            edits.values[checked_new] = value
            if kind:
                _checked_kind(checked_new, kind, edits)
    seen: set[str] = set()
    for name in finals:
        if name in seen:
            edits.problems.append(f'Two rows are named "{name}". Keys must be unique.')
        seen.add(name)
    for name, value in edits.values.items():
        try:
            secret_value(value)
        except InvalidInput as error:
            edits.problems.append(f'The value of "{name}" {error.message}.')
    return edits


@post(ENV + "/save", name="web:secrets-save", status_code=200)
async def save(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    environment = call.place.environment
    rows = await services.secrets.current(environment.id)
    live = [row.name for row in rows]
    plain = services.secrets.plain_values(rows)
    edits = read_edits(await fields(request), call.place, live, plain)
    if edits.problems:
        message = " ".join(dict.fromkeys(edits.problems))  # each problem once, in order
        return await call.refuse(message, target="#save-error", status=409 if edits.gone else 422)
    if not edits.renames and not edits.values:
        message = "Nothing to save: change a key or a value first."
        return await call.refuse(message, target="#save-error")
    try:
        names = await services.secrets.save(
            environment.id,
            viewer.actor,
            values=edits.values,
            renames=edits.renames,
            also=edits.also,
            kinds=edits.kinds or None,
        )
    except NotFound as error:
        if error.what == "secret":
            message = GONE.format("A renamed secret")
            return await call.refuse(message, target="#save-error", status=409)
        return await call.refuse(NOT_FOUND, target="#save-error")
    count, places = len(names), 1 + len(edits.also)
    notice = Notice(
        f"Saved {plural(count, 'secret')} to {plural(places, 'environment')}.",
        query={"done": "saved", "n": str(count), "e": str(places)},
    )
    return await call.finish(notice, saved=frozenset(names))


@post(ENV + "/delete", name="web:secrets-delete", status_code=200)
async def delete(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    items = await fields(request)
    raw = next((value for key, value in items if key == "name"), "")
    chosen = list(dict.fromkeys(value for key, value in items if key == "env"))
    try:
        name = secret_name(raw)
    except InvalidInput as error:
        return await call.refuse(f"Name {error.message}.", target="#delete-error")
    again: dict[str, Any] = {"dialog": "delete", "delete_name": name}
    if not chosen:
        return await call.refuse("No environments selected", target="#delete-error", **again)
    known = {env.id for env in call.place.environments}
    if any(environment_id not in known for environment_id in chosen):
        return await call.refuse(NOT_FOUND, target="#delete-error", **again)
    try:
        await services.secrets.delete_from(chosen, name, viewer.actor)
    except NotFound:
        return await call.refuse(NOT_FOUND, target="#delete-error", **again)
    places = plural(len(chosen), "environment")
    notice = Notice(
        f'Deleted "{name}" from {places}.',
        query={"done": "deleted", "name": name, "e": str(len(chosen))},
    )
    return await call.finish(notice)


@post(ENV + "/sync", name="web:secrets-sync", status_code=200)
async def sync(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    source_id = next((value for key, value in await fields(request) if key == "source"), "")
    again: dict[str, Any] = {"dialog": "sync"}
    if not source_id:
        message = "Both environment IDs are required"
        return await call.refuse(message, target="#sync-error", **again)
    if source_id == call.place.environment.id:
        message = "Source and target environments must be different"
        return await call.refuse(message, target="#sync-error", **again)
    source = call.place.other(source_id)
    if source is None:
        return await call.refuse(NOT_FOUND, target="#sync-error", **again)
    try:
        copied = await services.secrets.copy_missing(
            source.id, call.place.environment.id, viewer.actor
        )
    except NotFound:
        return await call.refuse(NOT_FOUND, target="#sync-error", **again)
    if not copied:
        message = "That environment doesn't have any of the missing secrets."
        return await call.refuse(message, target="#sync-error", status=200, error=False, **again)
    notice = Notice(
        f"Copied {plural(len(copied), 'missing secret')} from {source.name}.",
        query={"done": "synced", "n": str(len(copied))},
    )
    return await call.finish(notice, saved=frozenset(copied))


ROUTES: list[ControllerRouterHandler] = [save, delete, sync]
