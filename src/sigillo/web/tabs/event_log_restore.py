"""Undoing and comparing from the Event Log tab (issue 17), over the same services as the
API's history routes (sigillo.api.history).

- `POST …/event-log/restore` (`to`: an event id, `name`): "Restore this value" of a set
  row. Rolls that one name back to that event (services.rollback with `names=[name]`).
- `POST …/event-log/rollback-plan` (`to`): "Restore environment to here" asks first: the
  plan (names only) is decided as a dry run and shown in a confirmation dialog.
- `POST …/event-log/rollback` (`to`): the confirmed rollback of the whole environment.
- `POST …/event-log/diff` (`with`: another environment's id, or empty for this one;
  `at`: an RFC 3339 time or an event id, or empty for now): this environment now against
  the other one (at `at`) or against itself at `at`, names only ("values hidden").
  `show_values=1` ("Reveal values" under the answer) returns both sides' values too,
  recorded first as a `diff` read of each side (services.diff).

Every one of them is a POST, CSRF-checked like every unsafe request: telling a changed
value from an unchanged one is recorded as a `compare` read, so even the plan and the diff
change the log. Who may: a member of the project's org (members read and write secrets,
behaviour.md 5.3); anyone else gets the 404 of an unknown project. A bad moment or name is
422 with the reason beside the log, an unknown event or a time before the environment
existed 404 with the reason; nothing is written then. After a write the status message
says what changed and the log is rendered again, newest first.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.moments import Moment, parse_moment
from sigillo.domain.values import secret_name
from sigillo.services.container import Services
from sigillo.web.params import PathText
from sigillo.web.project import ProjectPage
from sigillo.web.session import Viewer
from sigillo.web.tabs.event_log import LOG, Compared, Outcome, log_environment, show_log
from sigillo.web.tabs.secrets_notices import plural
from sigillo.web.tabs.secrets_view import fields

__all__ = ["ROUTES"]


def _moment(text: str) -> Moment:
    return parse_moment(text, "moment")


def _refusal(error: InvalidInput | NotFound) -> tuple[str, int]:
    """The message beside the log, and the status."""
    if isinstance(error, InvalidInput):
        return f"The {error.field} {error.message}.", 422
    reason = str(error.args[0]) if error.args else "not found"
    return f"Not found: {reason}.", 404


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {key: value.strip() for key, value in await fields(request)}


async def _refused(
    request: Request[Any, Any, Any],
    services: Services,
    page: ProjectPage,
    error: InvalidInput | NotFound,
    shown: tuple[str, str] = ("", ""),
) -> Response[str]:
    """The log with the reason beside it; `shown`: the diff form's inputs, given back."""
    message, status = _refusal(error)
    outcome = Outcome(error=message, diff_with=shown[0], diff_at=shown[1])
    return await show_log(request, services, page, outcome=outcome, status=status)


def _changes(restore: list[str], delete: list[str], kinds: list[str]) -> str:
    parts = []
    if restore:
        parts.append(f"restored {plural(len(restore), 'secret')}")
    if delete:
        parts.append(f"deleted {plural(len(delete), 'secret')}")
    if kinds:
        parts.append(f"changed the kind of {plural(len(kinds), 'secret')}")
    return ", ".join(parts)


@post(LOG + "/restore", name="web:event-log-restore", status_code=200)
async def restore_value(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """One name back to its value at the event (a set row's "Restore this value")."""
    page, environment = await log_environment(services, viewer, project_id, env_slug)
    form = await _form(request)
    try:
        moment = _moment(form.get("to", ""))
        name = secret_name(form.get("name", ""), "name")
        result = await services.rollback.rollback(environment, moment, viewer.actor, [name])
    except (InvalidInput, NotFound) as error:
        return await _refused(request, services, page, error)
    if result.plan.empty:
        notice = f"{name} already has the value it had then: nothing to restore."
    else:
        notice = f"Restored {name} to its value of event {moment}."
    return await show_log(request, services, page, outcome=Outcome(notice=notice))


@post(LOG + "/rollback-plan", name="web:event-log-rollback-plan", status_code=200)
async def rollback_plan(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """The plan of "Restore environment to here", names only, in the confirmation dialog."""
    page, environment = await log_environment(services, viewer, project_id, env_slug)
    form = await _form(request)
    try:
        moment = _moment(form.get("to", ""))
        result = await services.rollback.rollback(
            environment, moment, viewer.actor, None, dry_run=True
        )
    except (InvalidInput, NotFound) as error:
        return await _refused(request, services, page, error)
    plan = result.plan
    if plan.empty:
        notice = f"{environment.name} is already as it was at event {moment}: nothing to restore."
        return await show_log(request, services, page, outcome=Outcome(notice=notice))
    outcome = Outcome(
        plan_to=str(moment),
        plan_restore=plan.restore,
        plan_delete=plan.delete,
        plan_kinds=sorted(plan.kinds),
    )
    return await show_log(request, services, page, outcome=outcome)


@post(LOG + "/rollback", name="web:event-log-rollback", status_code=200)
async def rollback(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """The confirmed rollback of the whole environment: one all-or-nothing write."""
    page, environment = await log_environment(services, viewer, project_id, env_slug)
    form = await _form(request)
    try:
        moment = _moment(form.get("to", ""))
        result = await services.rollback.rollback(environment, moment, viewer.actor, None)
    except (InvalidInput, NotFound) as error:
        return await _refused(request, services, page, error)
    plan = result.plan
    changes = _changes(plan.restore, plan.delete, sorted(plan.kinds))
    if not changes:
        notice = f"{environment.name} is already as it was at event {moment}: nothing to restore."
    else:
        notice = f"Restored {environment.name} to event {moment}: {changes}."
    return await show_log(request, services, page, outcome=Outcome(notice=notice))


@post(LOG + "/diff", name="web:event-log-diff", status_code=200)
async def diff(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """This environment now against another one, or against itself at a moment."""
    page, environment = await log_environment(services, viewer, project_id, env_slug)
    form = await _form(request)
    other_id, at_text = form.get("with", ""), form.get("at", "")
    reveal = form.get("show_values", "") == "1"
    shown = (other_id, at_text)
    other = environment
    if other_id:
        found = next((e for e in page.environments if e.id == other_id), None)
        if found is None:
            return await _refused(request, services, page, NotFound("environment"), shown)
        other = found
    try:
        at = _moment(at_text) if at_text else None
        if other.id == environment.id and at is None:
            raise InvalidInput("moment", "is needed to compare an environment with itself")
        answer = await services.diff.diff(
            (other, at), (environment, None), viewer.actor, show_values=reveal
        )
    except (InvalidInput, NotFound) as error:
        return await _refused(request, services, page, error, shown)
    when = f" at {at}" if at is not None else ""
    title = f"{other.name}{when} → {environment.name} now"
    values = {e.name: (e.from_value or "", e.to_value or "") for e in answer.entries if reveal}
    compared = Compared(title, [(e.name, e.status) for e in answer.entries], values)
    outcome = Outcome(compared=compared, diff_with=other_id, diff_at=at_text)
    return await show_log(request, services, page, outcome=outcome)


ROUTES: list[ControllerRouterHandler] = [restore_value, rollback_plan, rollback, diff]
