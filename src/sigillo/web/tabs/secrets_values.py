"""Where values leave the server on the Secrets tab, each time recorded first [D5, D16].

* POST `…/reveal` (`name`): that one value, read with `how="reveal"`. htmx gets the value's
  table cell alone, retargeted at `#v-<name>`; a plain request gets the page with that
  value shown and every other one still hidden.
* POST `…/reveal-all`: every live value of kind `secret`, one recorded read per value
  ("Show all"; plain values are shown already [D18]). htmx gets the cells as out-of-band
  swaps; a plain request gets the page with all shown.
* POST `…/export` ("Copy as .env") and `…/download` ("Download .env"): the `env` rendering
  (behaviour.md 7.1) of the saved values, one `download` read; as text for the clipboard,
  or as the file `.env.<slug>`. POST, never GET: a GET would put values behind a link.
* POST `…/cli-banner`: hides the CLI banner for a year (the cookie of behaviour.md 14.4).

Hiding a value needs no request: the browser puts the mask back (a plain browser reloads
the page, where every value is hidden).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.types import ControllerRouterHandler

from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.formats import render as render_format
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.services.container import Services
from sigillo.services.references import ReadScope
from sigillo.web.pages import PAGE_HEADERS, is_htmx, redirect, render
from sigillo.web.params import PathText
from sigillo.web.project import ENV
from sigillo.web.session import Viewer
from sigillo.web.tabs.secrets_rows import Resolution, revealed_cell, revealed_cells
from sigillo.web.tabs.secrets_view import BANNER_COOKIE, call_for, fields

__all__ = ["ROUTES"]

YEAR = 31_536_000
MARKUP = "project/secrets/markup.html"


@post(ENV + "/reveal", name="web:secrets-reveal", status_code=200)
async def reveal(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    name = next((value for key, value in await fields(request) if key == "name"), "")
    environment = call.place.environment
    try:
        revealed = await services.secrets.reveal(environment.id, [name], viewer.actor, "reveal")
    except InvalidInput as error:
        return await call.refuse(f"Name {error.message}.")
    except NotFound:
        return await call.refuse(
            "This secret is no longer set in this environment. Reload the page.", status=404
        )
    [(row, value)] = revealed
    resolutions = await _resolutions(services, environment, revealed, viewer)
    if not is_htmx(request):
        return await call.page(revealed={row.name: value}, resolutions=resolutions)
    resolution = resolutions.get(row.name)
    plain = row.kind == "plain"
    cell = revealed_cell(row.name, value, call.place.url, plain=plain, resolution=resolution)
    headers = {"HX-Retarget": f"#v-{row.name}", "HX-Reswap": "outerHTML"}
    return render(request, MARKUP, {"markup": cell}, headers=headers)


async def _resolutions(
    services: Services,
    environment: EnvironmentRow,
    revealed: list[tuple[CurrentSecretRow, str]],
    viewer: Viewer,
) -> dict[str, Resolution]:
    """What each revealed value that holds references resolves to, or why it cannot be:
    the referenced secrets' reads recorded as reveals too (services.references)."""
    resolved = await services.references.resolve(
        environment, revealed, ReadScope(viewer.actor), "reveal", strict=False
    )
    return {
        r.row.name: (None, r.error) if r.error is not None else (r.value, None)
        for r in resolved
        if r.references or r.error is not None
    }


@post(ENV + "/reveal-all", name="web:secrets-reveal-all", status_code=200)
async def reveal_all(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    environment_id = call.place.environment.id
    hidden = [
        row.name for row in await services.secrets.current(environment_id) if row.kind == "secret"
    ]
    revealed = await services.secrets.reveal_each(environment_id, hidden, viewer.actor, "reveal")
    values = {row.name: value for row, value in revealed}
    resolutions = await _resolutions(services, call.place.environment, revealed, viewer)
    if not is_htmx(request):
        return await call.page(revealed=values, resolutions=resolutions)
    cells = revealed_cells(values, call.place.url, resolutions)
    return render(request, MARKUP, {"markup": cells})


async def _env_text(
    request: Request[Any, Any, Any],
    services: Services,
    viewer: Viewer,
    project_id: PathText,
    env_slug: PathText,
) -> tuple[bytes, str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    environment = call.place.environment
    revealed = await services.secrets.reveal(environment.id, None, viewer.actor, "download")
    scope = ReadScope(viewer.actor)
    resolved = await services.references.resolve(environment, revealed, scope, "download")
    rendered = render_format("env", [(r.row.name, r.value) for r in resolved])
    return rendered.body, call.place.environment.slug


@post(ENV + "/export", name="web:secrets-export", status_code=200)
async def export(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[bytes]:
    body, _ = await _env_text(request, services, viewer, project_id, env_slug)
    return Response(body, media_type="text/plain; charset=utf-8", headers=dict(PAGE_HEADERS))


@post(ENV + "/download", name="web:secrets-download", status_code=200)
async def download(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[bytes]:
    body, slug = await _env_text(request, services, viewer, project_id, env_slug)
    headers = {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename=".env.{slug}"'}
    return Response(body, media_type="text/plain; charset=utf-8", headers=headers)


@post(ENV + "/cli-banner", name="web:secrets-cli-banner", status_code=200)
async def dismiss_banner(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    call = await call_for(request, services, viewer, project_id, env_slug)
    cookie = Cookie(key=BANNER_COOKIE, value="1", path="/", max_age=YEAR, samesite="lax")
    if is_htmx(request):  # the banner's place becomes empty
        return Response("", media_type=MediaType.HTML, headers=dict(PAGE_HEADERS), cookies=[cookie])
    return redirect(request, call.place.url, cookies=[cookie])


ROUTES: list[ControllerRouterHandler] = [reveal, reveal_all, export, download, dismiss_banner]
