"""`sigillo projects`: list, show, create, rename and delete projects (behaviour.md 11.10;
the shared output and confirmations: cli/commands/catalog.py)."""

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
    environment_row,
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


def projects(context: Context) -> None:
    """`sigillo projects [--org ID]`: every project of the caller's orgs, or of one."""
    org = getattr(context.args, "org", None)
    query = {"orgId": org} if org else None
    document = call(context, "GET", path("projects"), "list projects", query=query)
    if context.args.json:
        context.out.json(document)
        return
    if context.out.stdout_tty:
        rows = [
            [str(p.get("name")), str(p.get("orgName"))]
            for p in by_name(list_of(document, "projects"), "orgName", "name")
        ]
        show_table(context, "projects", ["NAME", "ORG"], rows)
        return
    show_list(context, "projects", (_project_row(p) for p in list_of(document, "projects")))


def _project_row(project: Mapping[str, Any]) -> Fields:
    return [
        ("id", project.get("id")),
        ("name", project.get("name")),
        ("org_id", project.get("orgId")),
        ("org_name", project.get("orgName")),
    ]


def _answer_fields(document: Mapping[str, Any]) -> Fields:
    return [
        ("ok", True),
        ("id", document.get("id")),
        ("name", document.get("name")),
        ("org_id", document.get("orgId")),
    ]


def create_project(context: Context) -> None:
    """`sigillo projects create [--org ID] --name N`, with dev, preview and prod. Without
    `--org`, the caller's only org; with several, the error lists them."""
    context.signed_in()
    args = context.args
    org = args.org or _only_org(context)
    announce(context, org_id=org)
    body = {"name": args.name, "orgId": org}
    document = call(context, "POST", path("projects"), "create project", body)
    show_created(context, document, _answer_fields(document))


def _only_org(context: Context) -> str:
    """The id of the caller's one org, for `projects create` without `--org`."""
    listed = list_of(call(context, "GET", path("orgs"), "create project"), "orgs")
    if len(listed) == 1:
        return str(listed[0].get("id"))
    if not listed:
        raise CliError(
            "you are not a member of any org", "  create one first: sigillo orgs create --name N"
        )
    raise CliError(
        "pass --org: you are a member of several orgs",
        "available orgs:",
        *(
            f"  - {printable(str(o.get('name')))} ({printable(str(o.get('id')))})"
            for o in by_name(listed)
        ),
    )


def get_project(context: Context) -> None:
    """`sigillo projects get ID`: the project and its environments."""
    document = project_or_fail(context, context.args.id, "get project")
    if context.args.json:
        context.out.json(document)
        return
    context.out.block(_project_row(document)[:3])
    show_list(
        context, "environments", (environment_row(e) for e in list_of(document, "environments"))
    )


def update_project(context: Context) -> None:
    """`sigillo projects update ID --name N`: rename it (members may, 17.1)."""
    project = project_or_fail(context, context.args.id, "update project")
    project_id = str(project.get("id"))
    announce(context, project=project)
    body = {"name": context.args.name}
    target = path("projects", project_id)
    document = call(context, "PATCH", target, "update project", body, hint=project_hint)
    show(context, document, _answer_fields(document))


def delete_project(context: Context) -> None:
    """`sigillo projects delete ID [--yes]`: the project, its environments, secrets and
    tokens. Asks first on a terminal; needs `--yes` without one."""
    context.signed_in()
    can_confirm(context, f"project {printable(context.args.id)}")
    project = project_or_fail(context, context.args.id, "delete project")
    project_id = str(project.get("id"))
    if context.out.stderr_tty or not context.args.yes:
        announce(context, project=project)
        ask(context, f"Delete project {quote(str(project.get('name', '')))} and all its secrets?")
    target = path("projects", project_id)
    document = call(context, "DELETE", target, "delete project", hint=project_hint)
    show(context, document, [("ok", True), ("id", document.get("id"))])
