"""`sigillo setup`: choose the project and environment of the current directory
(behaviour.md 11.4).

With `--project` and `--env` (or `-c`) nothing is asked; without them the choices are
offered in pickers, but only when stdin and stdout are both terminals: a script or an
agent gets an error naming the flag it must pass, never a prompt that waits forever.
The choice is saved on the current directory's scope; a token or server saved on that
same scope is kept.
"""

from __future__ import annotations

import sys
from typing import Any

from sigillo.cli.client import Client, path
from sigillo.cli.commands.auth import session_failure
from sigillo.cli.config import normalise_scope
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable
from sigillo.cli.picker import pick

__all__ = ["setup"]

SETUP_HINT = "  sigillo setup --project <PROJECT_ID> --env <SLUG>"


def setup(ctx: Context) -> int:
    client = ctx.signed_in()
    interactive = _stdin_tty() and ctx.out.stdout_tty
    given_environment = _first(ctx.args.environments)  # --env wins over -c (11.4)
    project = _project(ctx, client, ctx.args.project, interactive)
    project_id = str(project.get("id") or "")
    environments = [e for e in project.get("environments") or [] if isinstance(e, dict)]
    if not environments:
        raise CliError(f"no envs found in project {printable(project_id)}")
    environment = _environment(ctx, project_id, environments, given_environment, interactive)

    scope = normalise_scope(".", ctx.cwd)
    name = str(project.get("name") or "")
    ctx.config.update(
        scope, project=project_id, project_name=name, environment=str(environment["slug"])
    )
    try:
        ctx.config.save()
    except OSError as error:
        raise CliError(f"cannot write {ctx.config.path}: {error.strerror or error}") from None
    out = ctx.out
    out.success(f"Saved setup for {printable(scope)}")
    out.line(f"  project:     {printable(name)} ({printable(project_id)})")
    out.line(f"  env:         {printable(str(environment['slug']))}")
    return 0


def _stdin_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


# --- the project ------------------------------------------------------------------------


def _project(ctx: Context, client: Client, given: str | None, interactive: bool) -> dict[str, Any]:
    if given:
        return _fetch_project(ctx, client, given)
    if not interactive:
        raise CliError("--project is required", SETUP_HINT)
    projects = _list_projects(ctx, client)
    if not projects:
        raise CliError("no projects found — create one first")
    orgs = {p.get("orgId") for p in projects}
    options = [_project_label(p, with_org=len(orgs) > 1) for p in projects]
    current = ctx.resolved.project
    default = next((i for i, p in enumerate(projects) if p.get("id") == current), 0)
    return projects[pick("Select project", options, ctx.out, default=default)]


def _fetch_project(ctx: Context, client: Client, project_id: str) -> dict[str, Any]:
    answer = client.get(path("projects", project_id))
    if answer.status == 404:
        raise _project_not_found(client, project_id)
    if not answer.ok:
        message = f"failed to fetch project ({answer.status}): {printable(answer.message())}"
        raise session_failure(ctx, answer, message)
    project = answer.json()
    if not isinstance(project, dict) or not project.get("id"):
        raise CliError("the server's answer for the project is not a project")
    return project


def _list_projects(ctx: Context, client: Client) -> list[dict[str, Any]]:
    answer = client.get(path("projects"))
    if not answer.ok:
        message = f"failed to list projects ({answer.status}): {printable(answer.message())}"
        raise session_failure(ctx, answer, message)
    document = answer.json()
    projects = document.get("projects") if isinstance(document, dict) else None
    return [p for p in projects or [] if isinstance(p, dict) and p.get("id")]


def _project_not_found(client: Client, project_id: str) -> CliError:
    """`project X was not found …`, with the projects the user can choose from (10.4)."""
    message = f"project {printable(project_id)} was not found or you do not have access to it"
    try:
        answer = client.get(path("projects"))
    except CliError:
        return CliError(message)
    document = answer.json() if answer.ok else None
    projects = document.get("projects") if isinstance(document, dict) else None
    if not projects:
        return CliError(message)
    lines = [f"  - {_project_label(p, with_org=True)}" for p in projects if isinstance(p, dict)]
    return CliError(message, "available projects:", *lines)


def _project_label(project: dict[str, Any], *, with_org: bool) -> str:
    label = f"{printable(str(project.get('name') or ''))} ({printable(str(project.get('id')))})"
    if with_org:
        return f"{printable(str(project.get('orgName') or ''))} / {label}"
    return label


# --- the environment --------------------------------------------------------------------


def _environment(
    ctx: Context,
    project_id: str,
    environments: list[dict[str, Any]],
    given: str | None,
    interactive: bool,
) -> dict[str, Any]:
    if given:
        # The slug exactly: an id or another spelling would be saved and then mean nothing
        # to a reader of the config (and would break when the environment is renamed).
        for environment in environments:
            if environment.get("slug") == given:
                return environment
        raise _environment_not_found(project_id, environments, given)
    if not interactive:
        raise CliError(
            "--env/--config is required", f"  sigillo setup --project {project_id} --env <SLUG>"
        )
    options = [
        f"{printable(str(e.get('name') or ''))} ({printable(str(e.get('slug') or ''))})"
        for e in environments
    ]
    current = ctx.resolved.environment if ctx.resolved.project == project_id else None
    default = next((i for i, e in enumerate(environments) if e.get("slug") == current), 0)
    return environments[pick("Select env", options, ctx.out, default=default)]


def _environment_not_found(
    project_id: str, environments: list[dict[str, Any]], slug: str
) -> CliError:
    return CliError(
        f"env {printable(slug)} was not found in project {printable(project_id)}",
        "available envs:",
        *(
            f"  - {printable(str(e.get('name') or ''))} ({printable(str(e.get('slug') or ''))})"
            for e in environments
        ),
    )
