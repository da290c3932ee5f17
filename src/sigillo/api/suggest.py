"""An environment slug that names nothing, answered with "did you mean prod?".

The seed's examples say `-c production` where projects have `dev`, `preview` and `prod`. An
unknown slug is answered with the closest slug of the project (services.catalog
`closest_slug`: same but for case, a common alias, else difflib), in the error text and as
`suggestion`, but only from environments the caller may already see: the project of a
member, the project (or the one environment) of an API token. The text never repeats what
the client sent.
"""

from __future__ import annotations

from sigillo.domain.errors import Forbidden, NotFound, SigilloError
from sigillo.domain.events import Actor
from sigillo.domain.projections.rows import ApiTokenRow
from sigillo.services.catalog import closest_slug
from sigillo.services.container import Services

__all__ = ["Suggested", "UnknownEnvironment", "UnknownToToken", "for_member", "for_token"]


def _text(base: str, suggestion: str | None) -> str:
    return f"{base}; did you mean {suggestion}?" if suggestion else base


class Suggested(SigilloError):
    """An error that names the slug the caller probably meant (`suggestion`, or None)."""

    suggestion: str | None = None


class UnknownEnvironment(NotFound, Suggested):
    """404: no environment by that id or slug (in a project the caller may see)."""

    def __init__(self, base: str, suggestion: str | None) -> None:
        SigilloError.__init__(self, _text(base, suggestion))
        self.what = "environment"
        self.suggestion = suggestion


class UnknownToToken(Forbidden, Suggested):
    """403: a token asked for an environment that is not in its project."""

    def __init__(self, base: str, suggestion: str | None) -> None:
        SigilloError.__init__(self, _text(base, suggestion))
        self.suggestion = suggestion


async def for_member(services: Services, project_id: str, ref: str, actor: Actor) -> str | None:
    """The closest slug in `project_id` when `actor` may reach that project, else None (an
    outsider learns nothing about a project's environments)."""
    try:
        await services.access.project_for(project_id, actor)
    except (Forbidden, NotFound):
        return None
    return closest_slug(ref, await services.catalog.environments(project_id))


async def for_token(services: Services, token: ApiTokenRow, ref: str) -> str | None:
    """The closest slug among what the token reaches: its project, or its one environment."""
    environments = await services.catalog.environments(token.project_id)
    if token.environment_id is not None:
        environments = [env for env in environments if env.id == token.environment_id]
    return closest_slug(ref, environments)
