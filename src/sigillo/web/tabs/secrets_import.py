"""Import .env on the Secrets tab (behaviour.md 13 and 14.4): preview, then apply.

POST `…/import/preview` (`text`) parses the pasted text (sigillo.domain.dotenv: quotes,
multi-line values, `export`, comments, empty values) and answers which keys it would add,
change or leave unchanged, by name only: no value goes back to the browser. Telling
"changed" from "unchanged" compares with stored values, so the service records that
comparison as a read of the names compared [D16]. POST `…/import` parses the same text
again and writes the added and changed keys to this environment as `set`s, in one
transaction (names it leaves unchanged are not written again).

Kinds [D18]: each key the import writes has a "plain" box (`plain=<name>`), ticked
beforehand for a new key whose pair looks like configuration (sigillo.domain.kind_hints:
the preview says what it looks like, never the value) and for a changed key that is plain
already; unticked otherwise. The import writes the kinds the boxes say when it is
submitted: a ticked key becomes (or stays) plain, an unticked one secret. So nothing
becomes plain unless a person submits it ticked. The preview shows no value, not even the
ones proposed as plain: what a value looks like is said in words, and the person, who has
the text in front of them, decides.

The preview also lists the lines the import skips, by line number and reason, never their
text (a stray line may be part of a value): lines that are not `KEY=value`, and a key set
again further down (its earlier line loses). Comment lines are counted. A byte-order mark
at the start of the text is dropped (sigillo.domain.dotenv), as `secrets upload` drops it.

Refused, with nothing written: text over 1 MiB (413), text with no `KEY=value` line, keys
the name rule refuses (the API's message: a parser accepts `L.dotted-key`, Sigillo does
not), values over 64 KiB, and a box ticked for a key the import does not write. The
preview is swapped into the import dialog; a plain browser gets the page with the dialog
open, its own pasted text and the preview in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain import dotenv
from sigillo.domain.errors import InvalidInput
from sigillo.domain.events import SecretKind
from sigillo.domain.kind_hints import config_hint
from sigillo.domain.values import secret_name, secret_value
from sigillo.services.container import Services
from sigillo.web.pages import is_htmx, render
from sigillo.web.params import PathText
from sigillo.web.project import ENV
from sigillo.web.session import Viewer
from sigillo.web.tabs.secrets_changes import shown
from sigillo.web.tabs.secrets_notices import Notice, plural
from sigillo.web.tabs.secrets_view import Call, call_for, fields

__all__ = ["MAX_IMPORT_BYTES", "ROUTES", "Preview", "parse_text"]

MAX_IMPORT_BYTES = 1024 * 1024
TOO_LARGE = "The pasted text is too large: at most 1 MiB of .env text can be imported at once."
NOTHING = "No secrets found. Each line should be in KEY=value format."
MAX_PROBLEMS = 10
TARGET = "#import-preview"


@dataclass
class Preview:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    hints: dict[str, str] = field(default_factory=dict)  # what a written pair looks like
    ticked: set[str] = field(default_factory=set)  # the "plain" boxes ticked beforehand
    skipped: list[dotenv.Skipped] = field(default_factory=list)  # line numbers and reasons
    comments: int = 0  # comment lines, skipped as such

    @property
    def writes(self) -> int:
        return len(self.added) + len(self.changed)

    @property
    def proposed(self) -> int:
        """How many new keys are proposed as plain."""
        return sum(1 for name in self.added if name in self.ticked)


def parse_text(text: str) -> tuple[dict[str, str], list[str]]:
    """The pairs of pasted .env text, and what is wrong with it (nothing found, bad keys,
    oversized values); problems name keys, never values."""
    return _checked(dotenv.parse(text))


def _checked(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    if not pairs:
        return {}, [NOTHING]
    problems: list[str] = []
    for key, value in pairs:
        try:
            secret_name(key)
        except InvalidInput as error:
            problems.append(f'Invalid key "{shown(key)}": name {error.message}.')
            continue
        try:
            secret_value(value)
        except InvalidInput as error:
            problems.append(f'The value of "{key}" {error.message}.')
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], f"And {more} more."]
    return dict(pairs), problems


async def _pasted(call: Call) -> str | Response[str]:
    """The pasted text, or the refusal of one too large to import."""
    length = call.request.headers.get("content-length", "")
    if length.isdigit() and int(length) > 3 * MAX_IMPORT_BYTES + 4096:  # before parsing
        return await call.refuse(TOO_LARGE, target=TARGET, status=413, dialog="import")
    text = next((value for key, value in await fields(call.request) if key == "text"), "")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_IMPORT_BYTES:
        return await call.refuse(TOO_LARGE, target=TARGET, status=413, dialog="import")
    return text


async def _compared(call: Call, text: str) -> tuple[dict[str, str], Preview] | Response[str]:
    scanned = dotenv.scan(text)
    pairs, problems = _checked(scanned.pairs)
    if problems:
        again: dict[str, Any] = {"dialog": "import", "import_text": text}
        return await call.refuse(" ".join(problems), target=TARGET, **again)
    environment = call.place.environment
    states = await call.services.secrets.compare(environment.id, pairs, call.viewer.actor)
    kinds = {row.name: row.kind for row in await call.services.secrets.current(environment.id)}
    preview = Preview(skipped=scanned.skipped, comments=scanned.comments)
    for name, state in states.items():
        getattr(preview, state).append(name)
        if state == "unchanged":
            continue
        hint = config_hint(name, pairs[name])
        if hint is not None:
            preview.hints[name] = hint
        if kinds.get(name) == "plain" or (state == "added" and hint is not None):
            preview.ticked.add(name)
    return pairs, preview


def _chosen(items: list[tuple[str, str]], writes: dict[str, str]) -> dict[str, SecretKind] | str:
    """The kind of each key written, from the ticked "plain" boxes; or what is wrong."""
    ticked: set[str] = set()
    for key, value in items:
        if key != "plain":
            continue
        if value not in writes:
            try:
                secret_name(value)
            except InvalidInput as error:
                return f'Invalid key "{shown(value)}": name {error.message}.'
            return f'"{value}" is not among the keys this import writes: preview again.'
        ticked.add(value)
    return {name: "plain" if name in ticked else "secret" for name in writes}


@post(ENV + "/import/preview", name="web:secrets-import-preview", status_code=200)
async def import_preview(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    text = await _pasted(call)
    if not isinstance(text, str):
        return text
    found = await _compared(call, text)
    if not isinstance(found, tuple):
        return found
    _, preview = found
    if not is_htmx(request):
        return await call.page(dialog="import", import_text=text, preview=preview)
    context = {"preview": preview, "url": call.place.url}
    return render(request, "project/secrets/preview.html", context)


@post(ENV + "/import", name="web:secrets-import", status_code=200)
async def import_apply(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    text = await _pasted(call)
    if not isinstance(text, str):
        return text
    found = await _compared(call, text)
    if not isinstance(found, tuple):
        return found
    pairs, preview = found
    writes = {name: pairs[name] for name in [*preview.added, *preview.changed]}
    if not writes:
        message = "Nothing to import: every key already has this value here."
        return await call.refuse(message, target=TARGET, status=200, error=False, dialog="import")
    kinds = _chosen(await fields(request), writes)
    if isinstance(kinds, str):
        again: dict[str, Any] = {"dialog": "import", "import_text": text}
        return await call.refuse(kinds, target=TARGET, **again)
    await services.secrets.set(call.place.environment.id, writes, viewer.actor, kinds)
    skipped = f" ({len(preview.unchanged)} unchanged)" if preview.unchanged else ""
    notice = Notice(
        f"Imported {plural(len(writes), 'secret')}{skipped}.",
        query={"done": "imported", "n": str(len(writes))},
    )
    return await call.finish(notice, saved=frozenset(writes))


ROUTES: list[ControllerRouterHandler] = [import_preview, import_apply]
