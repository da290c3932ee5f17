"""The Environments tab (behaviour.md 14.5): a project's environments, created, renamed and
deleted in place.

The table shows each environment with its coloured dot (`dot_colour`, the reference's rule),
its name and slug (inputs that look like text: click to edit, Enter or leaving the field
saves, Escape puts the saved value back, see static/js/admin.js), when it last changed and
when it was made. "+ Add Environment" is an inline form. Deleting is for admins [D3]:
the button is only rendered for them, and the handler asks the access service, so a member
who posts anyway gets 403. Renaming and creating are for every member (decided point 1).

Every change is a POST that works twice over: a plain form post answers `303` back to the
tab (or, when refused, the whole page with the message, 422); an htmx post answers the
fragment it changed (a row after a rename, the whole table after an add or a delete),
refusals included (422, which the page swaps in). An edit that changes nothing (the same
or an empty value) is no edit: nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import Conflict, InvalidInput, NotFound
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.services.container import Services
from sigillo.web.forms import read_form
from sigillo.web.pages import is_htmx, redirect, render
from sigillo.web.params import PathText
from sigillo.web.project import PROJECT, ProjectPage, project_page, render_tab
from sigillo.web.session import Viewer

__all__ = ["PALETTE", "ROUTES", "dot_colour"]

ENVIRONMENTS = PROJECT + "/environments"
ENVIRONMENT = ENVIRONMENTS + "/{environment_id:str}"
SECTION = "project/environments/section.html"
ROW = "project/environments/row.html"

NAME_AND_SLUG = "Name and slug are required"
NEITHER = "At least one of name or slug is required"
NAME_RULE = "Name must be 1-100 characters with no control characters"
SLUG_RULE = (
    "Slug must be lowercase letters, digits and dashes, starting with a letter or digit "
    "(at most 63 characters)"
)
SLUG_TAKEN = "An environment with this slug already exists in this project"
ECHO = {"name": 100, "slug": 63}  # a refused value is shown back at most this long

NAMED_COLOURS = {
    "dev": "green",
    "development": "green",
    "preview": "amber",
    "staging": "amber",
    "prod": "emerald",
    "production": "emerald",
}
PALETTE = ("violet", "pink", "cyan", "orange", "rose", "teal", "indigo", "lime")


def dot_colour(name: str, slug: str) -> str:
    """Behaviour.md 14.5: the well-known environments by slug or lower-cased name, else a
    colour of PALETTE chosen by a rolling hash of the lower-cased slug (times 31 plus the code, mod
    2^32; the reference's JavaScript counts UTF-16 code units, which slugs, being ASCII,
    share with code points)."""
    for key in (slug, name.lower()):
        if key in NAMED_COLOURS:
            return NAMED_COLOURS[key]
    units = slug.lower().encode("utf-16-le")
    rolling = 0
    for at in range(0, len(units), 2):
        rolling = (rolling * 31 + int.from_bytes(units[at : at + 2], "little")) % 2**32
    return PALETTE[rolling % len(PALETTE)]


@dataclass(frozen=True, slots=True)
class EnvRow:
    """An environment as its row shows it, with the message of a refused edit."""

    env: EnvironmentRow
    colour: str
    error: str | None = None
    error_field: str | None = None


@dataclass
class AddForm:
    """The "+ Add Environment" form: what was typed, and why it was refused."""

    name: str = ""
    slug: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _row(env: EnvironmentRow, error: str | None = None, error_field: str | None = None) -> EnvRow:
    return EnvRow(env, dot_colour(env.name, env.slug), error, error_field)


def _message(error: InvalidInput | Conflict) -> tuple[str, str]:
    """(field, message) for a refusal of the catalog, in the tab's own words."""
    if isinstance(error, Conflict):
        return "slug", SLUG_TAKEN
    if error.field == "slug":
        return "slug", SLUG_RULE
    return "name", NAME_RULE


def _find(environments: list[EnvironmentRow], environment_id: str) -> EnvironmentRow:
    """One of this project's environments (an id of another project is as unknown as any)."""
    found = next((env for env in environments if env.id == environment_id), None)
    if found is None:
        raise NotFound("environment")
    return found


async def _context(
    services: Services,
    page: ProjectPage,
    *,
    add: AddForm | None = None,
    refused: EnvRow | None = None,
) -> dict[str, Any]:
    """The tab's data, read afresh (a change a moment ago shows at once)."""
    environments = await services.catalog.environments(page.project.id)
    rows = [
        refused if refused is not None and refused.env.id == env.id else _row(env)
        for env in environments
    ]
    return {
        "rows": rows,
        "can_delete": page.is_admin,
        "add": add or AddForm(),
        "base": page.url("environments"),
    }


async def _answer(
    request: Request[Any, Any, Any],
    services: Services,
    page: ProjectPage,
    *,
    status: int = 200,
    fragment: str = SECTION,
    add: AddForm | None = None,
    refused: EnvRow | None = None,
    row: EnvRow | None = None,
    said: str = "",
) -> Response[str]:
    """After a change: htmx gets `fragment` (ROW shows `row`) and, in an `HX-Trigger`
    header, what was `said` for the page's live region (app.js); a plain post goes back to
    the tab, or, when refused, gets the whole page with the message."""
    htmx = is_htmx(request)
    if not htmx and status < 400:
        return redirect(request, page.url("environments"))
    context = await _context(services, page, add=add, refused=refused)
    if htmx:
        headers = {"HX-Trigger": json.dumps({"sigillo:status": said})} if said else None
        return render(
            request, fragment, {"page": page, "row": row, **context}, status=status, headers=headers
        )
    return render_tab(request, page, "environments", context, status=status)


@get(ENVIRONMENTS, name="web:tab-environments")
async def environments_tab(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    page = await project_page(services, viewer, project_id)
    return render_tab(request, page, "environments", await _context(services, page))


@post(ENVIRONMENTS, name="web:environment-create", status_code=200)
async def create_environment(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Any member may add an environment; both fields are needed."""
    page = await project_page(services, viewer, project_id)
    form = await read_form(request)
    name, slug = form.text("name").strip(), form.text("slug").strip()
    add = AddForm(name[: ECHO["name"]], slug[: ECHO["slug"]])
    if not name or not slug:
        add.errors["form"] = NAME_AND_SLUG
    else:
        try:
            await services.catalog.create_environment(page.project.id, name, slug, viewer.actor)
        except (InvalidInput, Conflict) as error:
            where, message = _message(error)
            add.errors[where] = message
    if add.errors:
        return await _answer(request, services, page, status=422, add=add)
    return await _answer(request, services, page)


@post(ENVIRONMENT, name="web:environment-rename", status_code=200)
async def rename_environment(
    request: Request[Any, Any, Any],
    project_id: PathText,
    environment_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Change the name and/or the slug (any member). Each is trimmed; an empty or unchanged
    one is "not given", and when neither is given nothing is written (the inline edit's
    "unchanged or empty cancels"). A form with neither field at all is refused."""
    page = await project_page(services, viewer, project_id)
    env = _find(page.environments, environment_id)
    form = await read_form(request)
    if "name" not in form.fields and "slug" not in form.fields:
        refused = _row(env, NEITHER, "name")
        return await _answer(
            request, services, page, status=422, fragment=ROW, refused=refused, row=refused
        )
    name = form.text("name").strip()
    slug = form.text("slug").strip()
    new_name = name if name and name != env.name else None
    new_slug = slug if slug and slug != env.slug else None
    if new_name is not None or new_slug is not None:
        try:
            env = await services.catalog.rename_environment(
                page.project.id, env.id, viewer.actor, name=new_name, slug=new_slug
            )
        except (InvalidInput, Conflict) as error:
            where, message = _message(error)
            refused = _row(env, message, where)
            return await _answer(
                request, services, page, status=422, fragment=ROW, refused=refused, row=refused
            )
    said = ""
    if new_name is not None:
        said = f"Environment renamed to {env.name}"
    elif new_slug is not None:
        said = f"Slug of {env.name} changed to {env.slug}"
    return await _answer(request, services, page, fragment=ROW, row=_row(env), said=said)


@post(ENVIRONMENT + "/delete", name="web:environment-delete", status_code=200)
async def delete_environment(
    request: Request[Any, Any, Any],
    project_id: PathText,
    environment_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only [D3]: its secrets go with it, and tokens scoped to it are revoked [D2]."""
    page = await project_page(services, viewer, project_id)
    env = _find(page.environments, environment_id)
    await services.access.project_for(page.project.id, viewer.actor, admin=True)
    await services.catalog.delete_environment(page.project.id, env.id, viewer.actor)
    return await _answer(request, services, page)


ROUTES: list[ControllerRouterHandler] = [
    environments_tab,
    create_environment,
    rename_environment,
    delete_environment,
]
