"""The Secrets tab (behaviour.md 14.4): an environment's keys with their values hidden.

The page is one table inside one form (`#secrets-form`): a key input per live secret
(a changed key is a rename), its kind button [D18] and its value, masked with a reveal
button, rows for keys missing here but live elsewhere in the project, blank "Add Secret"
rows (each with a "plain" box, unticked: new secrets are secrets); Save opens a dialog to
choose the environments. Secret values are never in a GET answer: each one comes from a
POST that records the read first [D5, D16], and leaves again with "Hide value". The values
of `plain` secrets, configuration a person chose to show, are in the table as they are.

Routes (all under `…/envs/<slug>`, all 404 for anyone outside the project's org):

    GET  ""                 the page (`?dialog=`, `?delete=`, `?add=`, `?select=1` for
                            plain browsers)
    POST /reveal            one value (secrets_values)
    POST /reveal-all        every value, one recorded read each
    POST /export            the saved values as .env text ("Copy as .env")
    POST /download          the same as a file `.env.<slug>`
    POST /cli-banner        hides the CLI banner for a year (a cookie)
    POST /save              renames and new values, here and in chosen environments
                            (secrets_changes)
    POST /delete            one name from chosen environments
    POST /sync              copy the missing names from another environment
    POST /import/preview    what a pasted .env would change, names only (secrets_import)
    POST /import            apply it, with the kinds chosen in the preview
    POST /kinds             mark secrets plain or secret [D18] (secrets_kinds)

Every POST answers an htmx request with a fragment and a plain one with a page or a 303,
so each also works without JavaScript. Modules: secrets_view (what answers are made of),
secrets_rows (the table's rows), secrets_notices (the query), secrets_values,
secrets_changes, secrets_import, secrets_kinds; templates under project/secrets/.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from sigillo.services.container import Services
from sigillo.web.pages import redirect
from sigillo.web.params import PathText
from sigillo.web.project import ENV, project_page, render_tab
from sigillo.web.session import Viewer
from sigillo.web.tabs import secrets_changes, secrets_import, secrets_kinds, secrets_values
from sigillo.web.tabs.secrets_notices import page_extras
from sigillo.web.tabs.secrets_view import Place, build_view

__all__ = ["ROUTES"]


@get(ENV, name="web:tab-secrets")
async def secrets_tab(
    request: Request[Any, Any, Any],
    project_id: PathText,
    env_slug: PathText,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
) -> Response[str]:
    page = await project_page(services, viewer, project_id, env_slug, tab="secrets")
    if page.moved:
        return redirect(request, page.moved)
    if page.environment is None:
        return render_tab(request, page, "secrets", {"view": None})
    place = Place(page.project, page.environment, page.environments)
    extras = page_extras(request.query_params)
    view = await build_view(services, place, request, **extras)
    return render_tab(request, page, "secrets", {"view": view})


ROUTES: list[ControllerRouterHandler] = [
    secrets_tab,
    *secrets_values.ROUTES,
    *secrets_changes.ROUTES,
    *secrets_import.ROUTES,
    *secrets_kinds.ROUTES,
]
