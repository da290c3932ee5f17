"""`sigillo environments`: list, show, create, rename and delete an org's environments
(behaviour.md 11.10). An environment named by id is checked against the resolved project
before a rename or a delete (cli/commands/catalog.py says why)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigillo.cli.client import path
from sigillo.cli.commands.catalog import (
    Fields,
    announce,
    ask,
    by_name,
    call,
    can_confirm,
    environment_hint,
    environment_row,
    failure,
    list_of,
    project_hint,
    project_or_fail,
    show,
    show_created,
    show_list,
    show_table,
)
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote


def _environment_fields(document: Mapping[str, Any], *, ok: bool) -> Fields:
    fields: Fields = [("ok", True)] if ok else []
    return [
        *fields,
        ("id", document.get("id")),
        ("project_id", document.get("projectId")),
        ("name", document.get("name")),
        ("slug", document.get("slug")),
    ]


def environments(context: Context) -> None:
    """`sigillo environments [-p ID]`: the project's environments in creation order (piped),
    or a table sorted by name under the project's name (on a terminal)."""
    project = context.project()
    target = path("projects", project, "environments")
    document = call(context, "GET", target, "list environments", hint=project_hint)
    if context.args.json:
        context.out.json(document)
        return
    if context.out.stdout_tty:
        owner = project_or_fail(context, project, "list environments")
        org = str(owner.get("orgName") or "")
        label = printable(str(owner.get("name", ""))) + (f" (org {printable(org)})" if org else "")
        context.out.line(f"{context.out.style('project', 'dim')} {label}")
        rows = [
            [str(e.get("name")), str(e.get("slug"))]
            for e in by_name(list_of(document, "environments"))
        ]
        show_table(context, "environments", ["NAME", "SLUG"], rows)
        return
    context.out.block([("project_id", document.get("projectId", project))])
    show_list(
        context, "environments", (environment_row(e) for e in list_of(document, "environments"))
    )


def create_environment(context: Context) -> None:
    """`sigillo environments create [-p ID] --name N --slug S`: in the directory's project
    (issue 16) unless `-p` says another; on a terminal the line before the write names the
    project, so a directory resolving elsewhere than expected shows before it matters."""
    context.signed_in()
    args = context.args
    project_id = context.project()
    if context.out.stderr_tty:
        announce(context, project=project_or_fail(context, project_id, "create environment"))
    body = {"name": args.name, "slug": args.slug}
    target = path("projects", project_id, "environments")
    document = call(context, "POST", target, "create environment", body, hint=project_hint)
    show_created(context, document, _environment_fields(document, ok=True))


def _environment_or_fail(
    context: Context, project: str, reference: str, action: str
) -> dict[str, Any]:
    """The environment `reference` (id or slug) names, or the failure of `action`, with
    the project's environments after a 404."""
    response = context.client.get(path("projects", project, "environments", reference))
    if response.ok and isinstance(response.json(), dict):
        document: dict[str, Any] = response.json()
        return document
    hint = environment_hint(context, project) if response.status == 404 else []
    raise failure(context, response, action, hint)


def _in_project(
    context: Context, environment: Mapping[str, Any], project: str, reference: str
) -> None:
    """Refuse to write to an environment of another project reached by its id."""
    if environment.get("projectId") != project:
        raise CliError(
            f"env {printable(reference)} belongs to project "
            f"{printable(str(environment.get('projectId')))}, not {printable(project)}",
            "  pass -p with its project to change it",
        )


def get_environment(context: Context) -> None:
    """`sigillo environments get ID_OR_SLUG` in the resolved project."""
    project = context.project()
    document = _environment_or_fail(context, project, context.args.id, "get environment")
    show(context, document, _environment_fields(document, ok=False))


def rename_environment(context: Context) -> None:
    """`sigillo environments rename ID_OR_SLUG [--name N] [--slug S]`; an omitted field is
    sent as null, which the server reads as "unchanged" [D9]."""
    context.signed_in()
    args = context.args
    if not args.name and not args.slug:
        raise CliError("pass --name, --slug, or both")
    project = context.project()
    environment = _environment_or_fail(context, project, args.id, "rename environment")
    _in_project(context, environment, project, args.id)
    if context.out.stderr_tty:
        announce(context, project=project_or_fail(context, project, "rename environment"))
    body = {"name": args.name or None, "slug": args.slug or None}
    target = path("projects", project, "environments", str(environment.get("id")))
    document = call(context, "PATCH", target, "rename environment", body)
    show(context, document, _environment_fields(document, ok=True))


def delete_environment(context: Context) -> None:
    """`sigillo environments delete ID_OR_SLUG [--yes]`: the environment and its secrets;
    tokens scoped to it are revoked [D2]. Asks first on a terminal; needs `--yes` without."""
    context.signed_in()
    reference = context.args.id
    project = context.project()
    can_confirm(context, f"env {printable(reference)}")
    environment = _environment_or_fail(context, project, reference, "delete environment")
    _in_project(context, environment, project, reference)
    if context.out.stderr_tty or not context.args.yes:
        owner = project_or_fail(context, project, "delete environment")
        announce(context, project=owner)
        ask(
            context,
            f"Delete environment {quote(str(environment.get('name')))}"
            f" ({printable(str(environment.get('slug')))}) of project"
            f" {quote(str(owner.get('name', '')))} and all its secrets?",
        )
    target = path("projects", project, "environments", str(environment.get("id")))
    document = call(context, "DELETE", target, "delete environment")
    show(context, document, [("ok", True), ("id", document.get("id"))])
