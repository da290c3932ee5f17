"""What every Secrets-tab answer is made of: where it acts, what it shows, how it ends.

* `Place`: the project and environment a request names, or 404. Anyone who is not a member
  of the project's org gets the same 404 as an unknown id (no tenant learns what exists),
  and so does an unknown environment slug (a write never lands somewhere else).
* `SecretsView`: what `templates/project/secrets/body.html` shows. Names, kinds, times and
  the empty flag; a value only when the request revealed it [D5], or when a person marked
  its secret `plain` [D18] (opened without a recorded read: plain values are configuration
  a person chose to show).
* `Call`: one request's way to answer, as a full page (a plain request) or as the tab's
  body fragment (htmx), and to refuse with a message: a fragment with `HX-Retarget` for
  htmx, so that what the user typed stays on the page; the page with the message otherwise.
  A plain request's success is a 303 back to the tab with its outcome in the query
  (secrets_notices).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from markupsafe import Markup

from sigillo.domain.errors import Forbidden, NotFound
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow, ProjectRow
from sigillo.http.served import settings_of
from sigillo.services.container import Services
from sigillo.services.sign_in_policy import PolicyRefused
from sigillo.web.pages import is_htmx, redirect, render
from sigillo.web.project import ProjectPage, project_page, render_tab
from sigillo.web.session import Viewer
from sigillo.web.tabs.secrets_notices import Notice
from sigillo.web.tabs.secrets_rows import Resolution, live_rows, masked_cell, missing_rows

__all__ = [
    "BANNER_COOKIE",
    "BODY",
    "Call",
    "Missing",
    "Place",
    "SecretsView",
    "Source",
    "build_view",
    "call_for",
    "fields",
    "place_of",
]

BODY = "project/secrets/body.html"
BANNER_COOKIE = "sigillo-cli-banner-dismissed"
CLI_DEFAULT_API_URL = "http://127.0.0.1:8080"  # the CLI's (sigillo.cli.config.DEFAULT_API_URL)


@dataclass(frozen=True, slots=True)
class Place:
    project: ProjectRow
    environment: EnvironmentRow
    environments: list[EnvironmentRow]

    @property
    def url(self) -> str:
        return f"/dash/projects/{self.project.id}/envs/{self.environment.slug}"

    def other(self, environment_id: str) -> EnvironmentRow | None:
        """Another environment of this project, by id (never one of another project)."""
        return next(
            (
                env
                for env in self.environments
                if env.id == environment_id and env.id != self.environment.id
            ),
            None,
        )


async def place_of(services: Services, viewer: Viewer, project_id: str, env_slug: str) -> Place:
    try:
        project = await services.access.project_for(project_id, viewer.actor)
    except PolicyRefused:
        raise
    except Forbidden:
        raise NotFound("project") from None
    environments = await services.catalog.environments(project.id)
    current = next((env for env in environments if env.slug == env_slug), None)
    if current is None:
        raise NotFound("environment")
    return Place(project, current, environments)


@dataclass(frozen=True, slots=True)
class Missing:
    name: str
    where: list[str]  # the names of the environments where it is live


@dataclass(frozen=True, slots=True)
class Source:
    environment: EnvironmentRow
    count: int  # how many of the missing names it holds


@dataclass
class SecretsView:
    url: str
    project: ProjectRow
    environment: EnvironmentRow
    environments: list[EnvironmentRow]
    rows: list[CurrentSecretRow]
    empty: frozenset[str]
    missing: list[Missing]
    sources: list[Source]
    banner: bool
    cli_api_url: str = ""  # what `sigillo login --api-url` needs; "" on the CLI's default
    plain: Mapping[str, str] = field(default_factory=dict)  # the values of plain rows
    revealed: Mapping[str, str] = field(default_factory=dict)
    # name -> (what a revealed value resolves to, or why it cannot be resolved) (issue 18)
    resolutions: Mapping[str, Resolution] = field(default_factory=dict)
    references_since: int = 0  # values set before are literal (services.references)
    saved: frozenset[str] = frozenset()
    notice: Notice | None = None
    dialog: str = ""  # a dialog shown open (a plain request's way to open it)
    delete_name: str = ""
    new_rows: int = 0
    import_text: str | None = None  # a plain request's own pasted text, shown back
    preview: Any = None  # secrets_import.Preview
    select: bool = False  # selection boxes in the rows (`?select=1`, for plain browsers)
    now_ms: int = 0

    @property
    def rows_html(self) -> Markup:
        return live_rows(
            self.rows,
            url=self.url,
            empty=self.empty,
            saved=self.saved,
            revealed=self.revealed,
            now_ms=self.now_ms,
            plain=self.plain,
            select=self.select,
            resolutions=self.resolutions,
            references_since=self.references_since,
        )

    @property
    def masked_template(self) -> Markup:
        """The hidden cell secrets.js puts back on "Hide value" (it fills in the name)."""
        return masked_cell("")

    @property
    def missing_html(self) -> Markup:
        return missing_rows((item.name, item.where) for item in self.missing)


async def build_view(
    services: Services, place: Place, request: Request[Any, Any, Any], **extra: Any
) -> SecretsView:
    """Two reads of secrets, whatever the number of rows: this environment's live rows and
    the live names of each other environment. Only the values of plain rows are opened."""
    rows = await services.secrets.current(place.environment.id)
    others = [env for env in place.environments if env.id != place.environment.id]
    names = await services.secrets.names_by_environment(env.id for env in others)
    live = {row.name for row in rows}
    elsewhere = {env.id: set(names[env.id]) for env in others}
    missing = [
        Missing(name, [env.name for env in others if name in elsewhere[env.id]])
        for name in sorted(set().union(*elsewhere.values()) - live)
    ]
    wanted = {item.name for item in missing}
    sources = [Source(env, len(wanted & elsewhere[env.id])) for env in others]
    sources.sort(key=lambda source: -source.count)  # the richest source first (stable)
    return SecretsView(
        url=place.url,
        project=place.project,
        environment=place.environment,
        environments=place.environments,
        rows=rows,
        empty=services.secrets.empty_names(rows),
        plain=services.secrets.plain_values(rows),
        missing=missing,
        sources=sources,
        banner=request.cookies.get(BANNER_COOKIE) != "1",
        cli_api_url=cli_api_url(request),
        now_ms=int(time.time() * 1000),
        references_since=services.references.since,
        **extra,
    )


def cli_api_url(request: Request[Any, Any, Any]) -> str:
    """The address the CLI must be given to reach this server (issue 16): the public URL
    when one is configured, else the one this page was asked at; "" when it is the CLI's
    default, which `sigillo login` needs no `--api-url` for."""
    settings = settings_of(request)
    public = settings.public_url if settings else None
    address = (public or str(request.base_url)).rstrip("/")
    return "" if address == CLI_DEFAULT_API_URL else address


async def fields(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """Every text field of the submitted form, repeats included, in order."""
    return [
        (key, value)
        for key, value in (await request.form()).multi_items()
        if isinstance(key, str) and isinstance(value, str)
    ]


@dataclass
class Call:
    request: Request[Any, Any, Any]
    services: Services
    viewer: Viewer
    place: Place

    async def page(self, *, status: int = 200, **extra: Any) -> Response[str]:
        """The whole page (the shell around the tab), showing `extra`."""
        page: ProjectPage = await project_page(
            self.services,
            self.viewer,
            self.place.project.id,
            self.place.environment.slug,
        )
        if page.environment is None:  # deleted meanwhile
            raise NotFound("environment")
        view = await build_view(self.services, self.place, self.request, **extra)
        return render_tab(self.request, page, "secrets", {"view": view}, status=status)

    async def body(self, *, status: int = 200, **extra: Any) -> Response[str]:
        """The tab's body alone (for htmx, which swaps it into `#secrets`)."""
        view = await build_view(self.services, self.place, self.request, **extra)
        return render(self.request, BODY, {"view": view}, status=status)

    async def finish(self, notice: Notice, *, saved: frozenset[str] = frozenset()) -> Response[str]:
        """Done: the fresh body for htmx; a 303 back to the tab for a plain request."""
        if is_htmx(self.request):
            return await self.body(notice=notice, saved=saved)
        query = f"?{urlencode(notice.query)}" if notice.query else ""
        return redirect(self.request, self.place.url + query)

    async def refuse(
        self,
        message: str,
        *,
        target: str = "#secrets-status",
        status: int = 422,
        error: bool = True,
        **extra: Any,
    ) -> Response[str]:
        """Nothing done: for htmx the message alone, swapped into `target` (what the user
        typed stays as it is); for a plain request the page, saying why."""
        notice = Notice(message, error=error)
        if is_htmx(self.request):
            headers = {"HX-Retarget": target, "HX-Reswap": "innerHTML"}
            return render(
                self.request,
                "project/secrets/alert.html",
                {"notice": notice},
                status=status,
                headers=headers,
            )
        return await self.page(status=status, notice=notice, **extra)


async def call_for(
    request: Request[Any, Any, Any],
    services: Services,
    viewer: Viewer,
    project_id: str,
    env_slug: str,
) -> Call:
    return Call(request, services, viewer, await place_of(services, viewer, project_id, env_slug))
