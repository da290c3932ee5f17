"""`sigillo orgs`: the caller's orgs, creating one (behaviour.md 11.10), and an org's
sign-in policy (issue 20)."""

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


def sign_in_policy(context: Context) -> None:
    """`sigillo orgs sign-in-policy --org ID [--require-sso on|off] [--require-two-factor
    on|off]`: shows the org's policy; with a flag, an admin changes it (what is not given
    stays as it is)."""
    target = path("orgs", context.args.org, "sign-in-policy")
    document = call(context, "GET", target, "read the sign-in policy")
    wanted = {
        "requireSso": context.args.require_sso,
        "requireTwoFactor": context.args.require_two_factor,
    }
    if any(value is not None for value in wanted.values()):
        announce(context)
        body = {
            key: (value == "on") if value is not None else bool(document.get(key))
            for key, value in wanted.items()
        }
        document = call(context, "PUT", target, "set the sign-in policy", body)
    if context.args.json:
        context.out.json(document)
        return
    context.out.block(
        [
            ("require_sso", bool(document.get("requireSso"))),
            ("require_two_factor", bool(document.get("requireTwoFactor"))),
        ]
    )
