"""Kinds on the Secrets tab [D18]: mark live secrets `plain` or `secret`, one or many.

POST `…/kinds` reads the small form `s-kd` (outside the table's form, like the reveal
form), which every row's kind button and the two bulk buttons submit:

* a row's kind button sends `plain=<name>` (the row is a secret now) or `secret=<name>`;
* "Mark as plain" / "Mark as secret" send `mark=plain|secret` and one `sel=<name>` per
  ticked row. Ticked rows are ignored when a row's own kind button is clicked.

The change goes through services.secrets.change_kinds, with the rights of a Save: any
member of the project's org (anyone else gets the same 404 as an unknown project), CSRF
checked like every unsafe request. It appends one `secret.kind_changed` event per name
whose kind changes (none for a name that already has it), which the Event Log shows. No
value is read for it: the answer shows the values of plain rows, configuration a person
chose to show, and masks the others.

htmx gets out-of-band swaps of the value cells of the names asked for (a plain one with its
value, a secret masked) and the outcome in `#secrets-status`: the rest of the table, and
whatever was typed into it, stays as it is. A plain request gets a 303 back to the tab with
the outcome in the query. Refused with a message, nothing changed: no name (422), a name
the name rule refuses (422), a kind other than "secret" or "plain" (422), one name asked
both ways (422), more than MAX_NAMES names (413), a name not live here (409).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.events import SecretKind
from sigillo.domain.values import secret_name
from sigillo.services.container import Services
from sigillo.web.pages import is_htmx, render
from sigillo.web.params import PathText
from sigillo.web.project import ENV
from sigillo.web.session import Viewer
from sigillo.web.tabs.secrets_changes import GONE, shown
from sigillo.web.tabs.secrets_notices import Notice, kinds_sentence, plural
from sigillo.web.tabs.secrets_rows import kind_cells
from sigillo.web.tabs.secrets_view import call_for, fields

__all__ = ["KIND_RULE", "MAX_NAMES", "ROUTES", "Refusal", "read_kinds"]

MAX_NAMES = 5000
KIND_RULE = 'must be "secret" or "plain"'
KINDS: dict[str, SecretKind] = {"secret": "secret", "plain": "plain"}
NONE_CHOSEN = "Select the secrets to mark first."
NONE_NAMED = "Nothing to change: choose a secret first."
TOO_MANY = f"At most {MAX_NAMES} secrets can be marked at once."
ANSWER = "project/secrets/kinds.html"


class Refusal(Exception):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def read_kinds(items: list[tuple[str, str]]) -> dict[str, SecretKind]:
    """The kind asked for each name, checked; a `Refusal` says what is wrong."""
    marks = [value for key, value in items if key == "mark"]
    if marks:
        if any(mark not in KINDS for mark in marks) or len(set(marks)) > 1:
            raise Refusal(f"Kind {KIND_RULE}.")
        asked = [(value, KINDS[marks[0]]) for key, value in items if key == "sel"]
        if not asked:
            raise Refusal(NONE_CHOSEN)
    else:
        asked = [(value, KINDS[key]) for key, value in items if key in KINDS]
        if not asked:
            raise Refusal(NONE_NAMED)
    if len(asked) > MAX_NAMES:
        raise Refusal(TOO_MANY, 413)
    kinds: dict[str, SecretKind] = {}
    for raw, kind in asked:
        try:
            name = secret_name(raw)
        except InvalidInput as error:
            raise Refusal(f'Invalid key "{shown(raw)}": name {error.message}.') from None
        if kinds.setdefault(name, kind) != kind:
            raise Refusal(f'"{name}" cannot be marked both secret and plain.')
    return kinds


def _outcome(kinds: dict[str, SecretKind], changed: int) -> Notice:
    chosen = set(kinds.values())
    if len(chosen) == 1:
        [kind] = chosen
        return Notice(
            kinds_sentence(changed, kind),
            query={"done": "marked", "n": str(changed), "k": kind},
        )
    return Notice(f"Changed the kind of {plural(changed, 'secret')}.")


@post(ENV + "/kinds", name="web:secrets-kinds", status_code=200)
async def change_kinds(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    environment = call.place.environment
    items = await fields(request)
    # A plain browser's bulk request came from `?select=1`: refused, it gets the boxes back.
    again: dict[str, Any] = {"select": any(key == "mark" for key, _ in items)}
    try:
        kinds = read_kinds(items)
    except Refusal as refusal:
        return await call.refuse(refusal.message, status=refusal.status, **again)
    live = {row.name for row in await services.secrets.current(environment.id)}
    gone = [name for name in kinds if name not in live]
    if gone:
        return await call.refuse(GONE.format(f'"{shown(gone[0])}"'), status=409, **again)
    try:
        recorded = await services.secrets.change_kinds(environment.id, kinds, viewer.actor)
    except NotFound:  # deleted since the check above
        return await call.refuse(GONE.format("A secret"), status=409, **again)
    notice = _outcome(kinds, len(recorded))
    if not is_htmx(request):
        return await call.finish(notice)
    rows = [row for row in await services.secrets.current(environment.id) if row.name in kinds]
    cells = kind_cells(
        rows,
        services.secrets.plain_values(rows),
        services.secrets.empty_names(rows),
        call.place.url,
    )
    return render(request, ANSWER, {"cells": cells, "notice": notice})


ROUTES: list[ControllerRouterHandler] = [change_kinds]
