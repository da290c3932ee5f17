"""The Event Log tab (behaviour.md 14.8): an environment's audit trail, newest first.

One table: Secret | Action | Value | Time | User. Its rows are the environment's secret
sets and deletes, the changes of their kinds [D18] ("PORT · marked plain (was secret)") and
the reads of its values (reveal, get, download, run, compare [D16]), read a page at a time through
the audit service with its cursor (`?before=`), and filtered by secret name (`?secret=`)
and by author (`?actor=`, a choice among the users and tokens that can appear here).
Names, times and authors only: values stay on the server [D5]. A read of the whole
environment (download, run) is recorded by its scope, not its names, and reads "all 30
secrets (version 57)"; filtered by a secret, "NAME +29 more".

A `set` row's value is revealed on request, one row at a time: `POST …/event-log/<position>
/reveal` (CSRF-checked like every unsafe request) answers that one historical value, after
recording the read (how "reveal", the viewer as actor, the secret's name) through
services.past_values. For htmx it answers the table cell alone; a plain form post gets the
whole page with that cell revealed. `GET …/<position>/hidden` gives the cell back hidden
("Hide value"): a GET that reads nothing sealed and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import NotFound
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.domain.streams import environment_stream
from sigillo.services.audit_entries import ActorChoice, AuditEntry
from sigillo.services.container import Services
from sigillo.services.log_chain import ChainReport
from sigillo.web.pages import is_htmx, redirect, render
from sigillo.web.params import PathText
from sigillo.web.project import ENV, ProjectPage, project_page, render_tab
from sigillo.web.session import Viewer
from sigillo.web.tabs.event_log_query import LogQuery, Problem, parse_position, parse_query

__all__ = ["ROUTES", "Compared", "Outcome", "log_environment", "show_log"]

LOG = ENV + "/event-log"
CELL = "project/event_log/value.html"
SHOWN_NAMES = 3  # a read of many secrets lists the first few and counts the rest
ACTIONS = {"secret.set": "set", "secret.deleted": "delete"}
TONES = {"set": "set", "delete": "delete"}  # everything else is a read: neutral
KIND_CHANGED = "secret.kind_changed"
# what a read's `how` did, where its name alone does not say
READ_DETAILS = {
    "compare": "values compared, none shown",  # import preview, Compare, rollback plan
    "diff": "values shown side by side",
    "history": "past values",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One event as the table shows it: never a value."""

    position: int
    names: list[str]
    more: int  # names not shown
    action: str  # set, delete, reveal, get, download, run, compare, "marked plain"/"secret"
    tone: str  # set, delete, kind or read
    at: int
    author: str | None  # the user's or the token's name; None shows as "—"
    by_token: bool
    revoked: bool
    detail: str = ""  # a kind change: "was secret"
    scope: str = ""  # a read of the whole environment: "all 30 secrets (version 57)"
    event_id: str = ""  # the moment "Restore …" goes back to (event_log_restore)

    @property
    def name(self) -> str:
        return self.names[0] if self.names else ""

    @property
    def revealable(self) -> bool:
        return self.action == "set"


@dataclass(frozen=True, slots=True)
class Cell:
    """The Value cell of a `set` row: hidden, or showing the value just revealed."""

    position: int
    name: str
    base: str  # the tab's URL
    query: LogQuery
    value: str | None = None
    focus: bool = False  # a cell swapped in alone takes the focus its button had

    @property
    def reveal_url(self) -> str:
        return f"{self.base}/{self.position}/reveal{self.query.encode()}"

    @property
    def hide_url(self) -> str:
        return f"{self.base}/{self.position}/hidden{self.query.encode()}"

    @property
    def page_url(self) -> str:
        return self.base + self.query.encode()


@dataclass(frozen=True, slots=True)
class Compared:
    """The diff view's answer (services.diff, values hidden): what was compared, and each
    name's status."""

    title: str
    entries: list[tuple[str, str]]  # (name, added/removed/changed/unchanged)
    # name -> (value before, value after), "" where the name is not on that side; empty
    # until "Reveal values" asks for them (an audited `diff` read)
    values: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __repr__(self) -> str:  # never a value in a log line or a traceback
        return f"Compared(title={self.title!r}, entries={len(self.entries)})"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a restore, a rollback plan or a diff on this tab (event_log_restore) adds to
    the page: a status message, an error, the plan awaiting confirmation, a diff."""

    notice: str = ""
    error: str = ""
    plan_to: str = ""  # the event id the plan goes back to ("" : no plan shown)
    plan_restore: list[str] = field(default_factory=list)
    plan_delete: list[str] = field(default_factory=list)
    plan_kinds: list[str] = field(default_factory=list)
    compared: Compared | None = None
    diff_with: str = ""  # the diff form's inputs, shown back
    diff_at: str = ""


@dataclass(frozen=True)
class EventLog:
    environment: EnvironmentRow
    base: str
    query: LogQuery
    problem: Problem | None
    actors: list[ActorChoice]
    rows: list[Row]
    next_before: int | None
    revealed: dict[int, str]
    chain: ChainReport | None = None  # the environment's stream, verified (store.log_verify)
    outcome: Outcome = field(default_factory=lambda: Outcome())

    @property
    def restore_url(self) -> str:
        return self.base + "/restore"

    @property
    def plan_url(self) -> str:
        return self.base + "/rollback-plan"

    @property
    def rollback_url(self) -> str:
        return self.base + "/rollback"

    @property
    def diff_url(self) -> str:
        return self.base + "/diff"

    def cell(self, row: Row) -> Cell:
        value = self.revealed.get(row.position)
        return Cell(row.position, row.name, self.base, self.query, value, focus=value is not None)

    @property
    def next_url(self) -> str | None:
        if self.next_before is None:
            return None
        return self.base + self.query.page(self.next_before).encode()

    @property
    def newest_url(self) -> str:
        return self.base + self.query.page(None).encode()

    @property
    def clear_url(self) -> str:
        return self.base


def _action(entry: AuditEntry) -> tuple[str, str, str]:
    """What the Action cell says of `entry`: the action, its tone and a detail."""
    if entry.type == KIND_CHANGED:
        return f"marked {entry.kind}", "kind", f"was {entry.previous_kind}"
    action = ACTIONS.get(entry.type) or entry.how or entry.type
    details = [READ_DETAILS.get(action, "")]
    if entry.versions:
        listed = ", ".join(str(v) for v in entry.versions[:SHOWN_NAMES])
        details.append(f"version{'s' if len(entry.versions) > 1 else ''} {listed}")
    if entry.as_of:
        details.append(f"as of {entry.as_of}")
    return action, TONES.get(action, "read"), "; ".join(d for d in details if d)


def _row(entry: AuditEntry, secret: str | None, actors: dict[str, ActorChoice]) -> Row:
    action, tone, detail = _action(entry)
    names = list(entry.names or [])
    if secret is not None and secret in names:  # the filtered secret first
        names.remove(secret)
        names.insert(0, secret)
    more, scope = max(0, len(names) - SHOWN_NAMES), ""
    if entry.secrets_version is not None:  # every secret live at that version
        count = entry.count or 0
        if secret is not None:  # kept by the filter: the secret was among them
            names, more = [secret], max(0, count - 1)
        else:
            noun = "secret" if count == 1 else "secrets"
            scope = f"all {count} {noun} (version {entry.secrets_version})"
    known = actors.get(entry.actor.id)
    return Row(
        position=entry.position,
        names=names[:SHOWN_NAMES],
        more=more,
        action=action,
        tone=tone,
        at=entry.at,
        author=entry.actor.name,
        by_token=entry.actor.kind == "token",
        revoked=known is not None and known.revoked,
        detail=detail,
        scope=scope,
        event_id=entry.id,
    )


async def show_log(
    request: Request[Any, Any, Any],
    services: Services,
    page: ProjectPage,
    *,
    revealed: dict[int, str] | None = None,
    outcome: Outcome | None = None,
    status: int = 200,
) -> Response[str]:
    """The tab, whole (or its `main` block for htmx), for the query in the URL, with what
    a restore, a plan or a diff says (`outcome`, answered with `status`)."""
    environment = page.environment
    if environment is None:  # a project without environments
        return render_tab(request, page, "event_log", {"log": None})
    actors = await services.audit.environment_actors(environment)
    query, problem = parse_query(request.query_params, {a.id for a in actors})
    rows: list[Row] = []
    next_before = None
    if problem is None:
        found = await services.audit.environment_log(
            environment,
            before=query.before,
            secret=query.secret,
            actor=query.actor,
            secrets_only=True,
        )
        by_id = {actor.id: actor for actor in actors}
        rows = [_row(entry, query.secret, by_id) for entry in found.events]
        next_before = found.next_before
    log = EventLog(
        environment,
        page.url("event_log"),
        query,
        problem,
        actors,
        rows,
        next_before,
        revealed or {},
        await _verified(services, environment),
        outcome or Outcome(),
    )
    status = problem.status if problem else status
    return render_tab(request, page, "event_log", {"log": log}, status=status)


async def _verified(services: Services, environment: EnvironmentRow) -> ChainReport | None:
    """The environment's stream's own chain, walked now: every seal and version."""
    if services.verify_streams is None:
        return None
    return await services.verify_streams([environment_stream(environment.id)])


async def log_environment(
    services: Services, viewer: Viewer, project_id: str, env_slug: str
) -> tuple[ProjectPage, EnvironmentRow]:
    """The page and its environment, for a member; the same 404 for anyone else, for an
    unknown environment and for an unknown project."""
    page = await project_page(services, viewer, project_id, env_slug, tab="event_log")
    if page.moved or page.environment is None:
        raise NotFound("environment")
    return page, page.environment


def _position(text: str) -> int:
    position = parse_position(text)
    if position is None:
        raise NotFound("event")
    return position


def _query(request: Request[Any, Any, Any]) -> LogQuery:
    """The filters a cell's links carry on (unchecked: they only build URLs of this tab,
    whose page checks them again)."""
    return parse_query(request.query_params, ())[0]


@get(LOG, name="web:tab-event-log")
async def event_log_tab(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    page = await project_page(services, viewer, project_id, env_slug, tab="event_log")
    if page.moved:
        return redirect(request, page.moved)
    return await show_log(request, services, page)


@post(LOG + "/{position:str}/reveal", name="web:event-log-reveal", status_code=200)
async def reveal_value(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    position: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """One historical value, its read recorded first (services.past_values)."""
    page, environment = await log_environment(services, viewer, project_id, env_slug)
    shown = await services.past_values.reveal(environment, _position(position), viewer.actor)
    if not is_htmx(request):
        return await show_log(request, services, page, revealed={shown.position: shown.value})
    base, query = page.url("event_log"), _query(request)
    cell = Cell(shown.position, shown.name, base, query, shown.value, focus=True)
    return render(request, CELL, {"cell": cell})


@get(LOG + "/{position:str}/hidden", name="web:event-log-hide")
async def hidden_value(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    position: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """The Value cell of a `set` row, hidden again. A plain request (no htmx) goes back
    to the tab, where every value is hidden."""
    page, environment = await log_environment(services, viewer, project_id, env_slug)
    number = _position(position)
    name = await services.past_values.name_at(environment, number)
    query = _query(request)
    if not is_htmx(request):
        return redirect(request, page.url("event_log") + query.encode())
    cell = Cell(number, name, page.url("event_log"), query, focus=True)
    return render(request, CELL, {"cell": cell})


ROUTES: list[ControllerRouterHandler] = [event_log_tab, reveal_value, hidden_value]
