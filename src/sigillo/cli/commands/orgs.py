"""`sigillo orgs`: the caller's orgs, and creating one (behaviour.md 11.10)."""

from __future__ import annotations

from sigillo.cli.client import path
from sigillo.cli.commands.catalog import (
    announce,
    by_name,
    call,
    list_of,
    show_created,
    show_list,
    show_table,
)
from sigillo.cli.context import Context


def orgs(context: Context) -> None:
    """`sigillo orgs`: the caller's orgs with their role in each."""
    document = call(context, "GET", path("orgs"), "list orgs")
    if context.args.json:
        context.out.json(document)
        return
    if context.out.stdout_tty:
        rows = [
            [str(o.get("name")), str(o.get("role"))] for o in by_name(list_of(document, "orgs"))
        ]
        show_table(context, "orgs", ["NAME", "ROLE"], rows)
        return
    show_list(
        context,
        "orgs",
        (
            [("id", o.get("id")), ("name", o.get("name")), ("role", o.get("role"))]
            for o in list_of(document, "orgs")
        ),
    )


def create_org(context: Context) -> None:
    """`sigillo orgs create --name N`: the caller becomes its admin."""
    context.signed_in()
    announce(context)
    document = call(context, "POST", path("orgs"), "create org", {"name": context.args.name})
    show_created(
        context,
        document,
        [("ok", True), ("id", document.get("id")), ("name", document.get("name"))],
    )
