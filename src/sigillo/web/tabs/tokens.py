"""The Tokens tab (behaviour.md 14.6, [D15]): a project's API tokens, created and revoked.

Members see the list (decided point 2) with a note that admins manage tokens; admins also
get "Create token" and a revoke button per live token. The handlers ask the access service,
which refuses a member (403) whatever the page showed.

Creating answers the whole tab with the "Token created" dialog holding the key: that
answer is the only one that ever carries it (the store keeps its hash; lists show
`sig_<prefix>••••`). The dialog is `data-no-dismiss` (Escape and a click on the backdrop do
nothing) and `data-show-modal` (static/js/admin.js opens it as a modal; without script it
is rendered open in the page); "Done" loads the tab afresh, and with it the key is gone.
A refused creation shows the create dialog again with the message (422).

Revoking keeps the record [D1]: the row says "Revoked" from then on.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import InvalidInput
from sigillo.domain.projections.rows import ApiTokenRow, EnvironmentRow
from sigillo.services.container import Services
from sigillo.web.forms import Form, read_form
from sigillo.web.pages import is_htmx, redirect, render
from sigillo.web.params import PathText, QueryText
from sigillo.web.project import PROJECT, ProjectPage, project_page, render_tab
from sigillo.web.session import Viewer

__all__ = ["EXPIRY_CHOICES", "ROUTES"]

TOKENS = PROJECT + "/tokens"
TOKEN = TOKENS + "/{token_id:str}"
LIST = "project/tokens/list.html"
DAY_MS = 24 * 3600 * 1000
EXPIRY_CHOICES = (
    ("never", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("date", "On a date"),
)
ALL_ENVIRONMENTS = "all"

NAME_REQUIRED = "Name is required"
NAME_RULE = "Name must be 1-100 characters with no control characters"
ENVIRONMENT_NOT_FOUND = "Environment not found in this project"
ACCESS_RULE = "Access must be read or read-write"
EXPIRY_RULE = "Choose when the token expires"
DATE_RULE = "Expiry date must be a date (YYYY-MM-DD)"
DATE_PAST = "Expiry date must be in the future"
# The domain's refusals (by the field it names) as the dialog's field and message.
REFUSALS = {
    "name": ("name", NAME_RULE),
    "environmentId": ("environment", ENVIRONMENT_NOT_FOUND),
    "access": ("access", ACCESS_RULE),
    "expiresAt": ("expires_on", DATE_PAST),
}


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as its row shows it: never the key, never the hash."""

    token: ApiTokenRow
    scope: str  # the environment's name, or "All environments"
    status: str  # active, expired or revoked

    @property
    def display(self) -> str:
        return f"sig_{self.token.prefix}••••"

    @property
    def expires_on(self) -> str:
        """A future moment as a date ("Jan 5, 2026"; relative times only say the past)."""
        if self.token.expires_at is None:
            return "Never"
        moment = dt.datetime.fromtimestamp(self.token.expires_at / 1000, tz=dt.UTC)
        return f"{moment:%b} {moment.day}, {moment.year}"


@dataclass
class CreateForm:
    """The create dialog's fields as typed, and why they were refused."""

    name: str = ""
    environment: str = ALL_ENVIRONMENTS
    access: str = "read"
    expires: str = "never"
    expires_on: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Created:
    """The one answer that shows a key."""

    view: TokenView
    key: str


def _now() -> int:
    return int(time.time() * 1000)


def _views(
    tokens: list[ApiTokenRow], environments: list[EnvironmentRow], now: int
) -> list[TokenView]:
    names = {env.id: env.name for env in environments}
    views = []
    for token in tokens:
        if token.revoked_at is not None:
            status = "revoked"
        elif token.expires_at is not None and token.expires_at <= now:
            status = "expired"
        else:
            status = "active"
        if token.environment_id is None:
            scope = "All environments"
        else:  # a deleted environment's tokens are revoked with it [D2]
            scope = names.get(token.environment_id, "Deleted environment")
        views.append(TokenView(token, scope, status))
    return views


async def _context(
    services: Services,
    page: ProjectPage,
    *,
    create: CreateForm | None = None,
    created: Created | None = None,
    show_create: bool = False,
) -> dict[str, Any]:
    tokens = await services.access.tokens(page.project.id, page.viewer.actor)
    environments = await services.catalog.environments(page.project.id)
    return {
        "tokens": _views(tokens, environments, _now()),
        "environments": environments,
        "can_manage": page.is_admin,
        "create": create or CreateForm(),
        "show_create": show_create or bool(create and create.errors),
        "created": created,
        "expiry_choices": EXPIRY_CHOICES,
        "base": page.url("tokens"),
        "notice": "",  # what a revoke did
    }


def _expiry(form: CreateForm, now: int) -> int | None:
    """Epoch milliseconds, or None for "never". A date means "until the end of that day"
    (UTC), so a token made to expire today still works today."""
    if form.expires == "never":
        return None
    if form.expires in ("7", "30", "90"):
        return now + int(form.expires) * DAY_MS
    if form.expires != "date":
        form.errors["expires"] = EXPIRY_RULE
        return None
    try:
        day = dt.date.fromisoformat(form.expires_on)
    except ValueError:
        form.errors["expires_on"] = DATE_RULE
        return None
    try:
        end = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
    except OverflowError:  # the last day there is
        form.errors["expires_on"] = DATE_RULE
        return None
    at = int(end.timestamp() * 1000) - 1  # 23:59:59.999 of that day: listed as that day
    if at <= now:
        form.errors["expires_on"] = DATE_PAST
        return None
    return at


def _read(form: Form, environments: list[EnvironmentRow]) -> CreateForm:
    """The fields, checked; `errors` says what is wrong with them."""
    create = CreateForm(
        name=form.text("name").strip()[:100],
        environment=form.text("environment") or ALL_ENVIRONMENTS,
        access=form.text("access") or "read",
        expires=form.text("expires") or "never",
        expires_on=form.text("expires_on").strip()[:10],
    )
    if not form.text("name").strip():
        create.errors["name"] = NAME_REQUIRED
    elif len(form.text("name").strip()) > 100:
        create.errors["name"] = NAME_RULE
    if create.environment != ALL_ENVIRONMENTS and all(
        env.id != create.environment for env in environments
    ):
        create.errors["environment"] = ENVIRONMENT_NOT_FOUND
        create.environment = ALL_ENVIRONMENTS
    if create.access not in ("read", "read-write"):
        create.errors["access"] = ACCESS_RULE
        create.access = "read"
    if len(form.text("expires_on").strip()) > 10:
        create.errors["expires_on"] = DATE_RULE
    return create


@get(TOKENS, name="web:tab-tokens")
async def tokens_tab(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    dialog: QueryText = "",
) -> Response[str]:
    """`?dialog=create` opens the create dialog (the "Create token" link's way without
    script)."""
    page = await project_page(services, viewer, project_id)
    show = dialog == "create" and page.is_admin
    return render_tab(request, page, "tokens", await _context(services, page, show_create=show))


@post(TOKENS, name="web:token-create", status_code=200)
async def create_token(
    request: Request[Any, Any, Any],
    project_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only. Answers the tab with the key, once (for htmx, its `main` block)."""
    page = await project_page(services, viewer, project_id)
    await services.access.project_for(page.project.id, viewer.actor, admin=True)
    environments = await services.catalog.environments(page.project.id)
    create = _read(await read_form(request), environments)
    now = _now()
    expires_at = _expiry(create, now)
    if not create.errors:
        try:
            token, key = await services.access.create_token(
                page.project.id,
                viewer.actor,
                name=create.name,
                access=create.access,
                environment_id=None
                if create.environment == ALL_ENVIRONMENTS
                else create.environment,
                expires_at=expires_at,
            )
        except InvalidInput as error:
            where, message = REFUSALS.get(error.field, ("name", NAME_RULE))
            create.errors[where] = message
        else:
            [view] = _views([token], environments, now)
            context = await _context(services, page, created=Created(view, key))
            return render_tab(request, page, "tokens", context)
    context = await _context(services, page, create=create)
    return render_tab(request, page, "tokens", context, status=422)


@post(TOKEN + "/revoke", name="web:token-revoke", status_code=200)
async def revoke_token(
    request: Request[Any, Any, Any],
    project_id: PathText,
    token_id: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    """Admins only; a token of another project is unknown here (404). Revoking twice is
    fine. htmx gets the list back, saying so; a plain post goes back to the tab."""
    page = await project_page(services, viewer, project_id)
    await services.access.revoke_token(page.project.id, token_id, viewer.actor)
    if not is_htmx(request):
        return redirect(request, page.url("tokens"))
    context = await _context(services, page)
    names = (view.token.name for view in context["tokens"] if view.token.id == token_id)
    notice = f'Token "{next(names, "")}" revoked.'
    return render(request, LIST, {"page": page, **context, "notice": notice})


ROUTES: list[ControllerRouterHandler] = [tokens_tab, create_token, revoke_token]
