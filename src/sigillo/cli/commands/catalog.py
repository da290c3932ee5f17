"""`sigillo orgs`, `projects` and `environments` (behaviour.md 11.10): list, show, create,
rename and delete the containers secrets live in.

Output is the YAML-like block of 10.2 whether stdout is a terminal or not, except for the
create commands, which print only the new id when piped (10.8), so that
`id=$(sigillo projects create …)` works, and for lists on a terminal: an aligned table
sorted by name, without ids (issue 16; `--json` and piped output keep the ids, and
`get`, `update` and `delete` take a project's name as well as its id). `--json` prints the
server's answer instead.

Three things a careful user of a secrets manager expects beyond the table of 11.10:

* before a write on a terminal, one dim line on stderr says which account and which org
  (and project) the write goes to: a wrong `SIGILLO_TOKEN` or `-p` shows before it matters;
* deleting a project or an environment asks `Delete … and all its secrets? [y/N]` on a
  terminal unless `--yes` is given; without a terminal to ask on, only `--yes` deletes;
* an environment named by id is checked against the resolved project before a rename or a
  delete: for sessions the server looks ids up in any project (behaviour.md 16), so
  `environments delete <id>` could otherwise reach into another project.

Every string that comes from the server goes through `quote`/`printable` (output.py): a
name holding terminal escapes is shown escaped, never obeyed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sigillo.cli.client import Response, path
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote, scalar

__all__ = [
    "announce",
    "ask",
    "call",
    "create_environment",
    "create_org",
    "create_project",
    "delete_environment",
    "delete_project",
    "environment_hint",
    "environments",
    "failure",
    "get_environment",
    "get_project",
    "orgs",
    "project_hint",
    "project_or_fail",
    "projects",
    "rename_environment",
    "show",
    "show_created",
    "show_list",
    "update_project",
]

Fields = list[tuple[str, object]]
Hint = Callable[[Context, Response], Sequence[str]]

API_TOKENS_ONLY_FOR_SECRETS = "API tokens (sig_…) only work for secrets commands"


# --- requests and failures -----------------------------------------------------------


def call(
    context: Context,
    method: str,
    target: str,
    action: str,
    body: object = None,
    *,
    query: Mapping[str, str] | None = None,
    hint: Hint | None = None,
) -> dict[str, Any]:
    """The JSON object the server answers, or `failed to <action> (<status>): <message>`
    (behaviour.md 10.2), followed by what `hint` suggests for that answer."""
    response = context.signed_in().request(method, target, body, query=query)
    if not response.ok:
        raise failure(context, response, action, hint(context, response) if hint else ())
    document = response.json()
    if not isinstance(document, dict):
        raise CliError(
            f"failed to {action} ({response.status}): the server's answer is not JSON",
            f"  is {printable(context.resolved.api_url)} a Sigillo server?",
        )
    return document


def failure(
    context: Context, response: Response, action: str, hint: Sequence[str] = ()
) -> CliError:
    """The error of a refused request, with what the user can do about it.

    A `sig_` token on these routes always gets 401 (behaviour.md 5.2): instead of the bare
    `unauthorized`, say that API tokens are for secrets commands only (16 asks for this).
    """
    token = context.resolved.token or ""
    status = response.status
    if status == 401 and token.startswith("sig_"):
        return CliError(
            f"failed to {action} (401): {API_TOKENS_ONLY_FOR_SECRETS}",
            "  sign in with your account instead:",
            "  sigillo login",
        )
    message = printable(response.message())
    lines = list(_details(response))
    if status == 401:
        lines.append("  sigillo login")
    elif status == 403 and message == "forbidden":
        lines.append("  your account is not a member of the organisation that owns it")
    elif status >= 500:
        lines.append("  the server failed; its log tells why")
    return CliError(f"failed to {action} ({status}): {message}", *lines, *hint)


def _details(response: Response) -> Iterable[str]:
    """`  <field>: <message>` for each item of a validation failure's `detail` (5.4)."""
    document = response.json()
    details = document.get("detail") if isinstance(document, dict) else None
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict):
            field, message = str(item.get("field", "")), str(item.get("message", ""))
            yield f"  {printable(field)}: {printable(message)}"


def project_or_fail(context: Context, project: str, action: str) -> dict[str, Any]:
    """The project (a ProjectListItem) by id, or by name when no id matches and one project
    the user can reach has that name (terminal lists show names, not ids); else the
    failure of `action` with, on a 404, the projects the user can reach."""
    response = context.signed_in().get(path("projects", project))
    if response.status == 404:
        named = _named_project(context, project)
        if named is not None:
            response = context.client.get(path("projects", named))
    if response.ok and isinstance(response.json(), dict):
        document: dict[str, Any] = response.json()
        return document
    raise failure(context, response, action, project_hint(context, response))


def _named_project(context: Context, name: str) -> str | None:
    """The id of the one reachable project named `name`, if exactly one is."""
    listed = context.client.get(path("projects"))
    items = (listed.json() or {}).get("projects") if listed.ok else None
    found = [
        str(p.get("id"))
        for p in (items if isinstance(items, list) else [])
        if isinstance(p, dict) and p.get("name") == name
    ]
    return found[0] if len(found) == 1 else None


def project_hint(context: Context, response: Response) -> list[str]:
    """`available projects:` and one line per project (10.4), after a 404."""
    if response.status != 404:
        return []
    listed = context.client.get(path("projects"))
    items = (listed.json() or {}).get("projects") if listed.ok else None
    if not isinstance(items, list) or not items:
        return []
    return [
        "available projects:",
        *(
            f"  - {printable(str(p.get('orgName')))} / {printable(str(p.get('name')))}"
            f" ({printable(str(p.get('id')))})"
            for p in items
            if isinstance(p, dict)
        ),
    ]


def environment_hint(context: Context, project: str) -> list[str]:
    """`available envs:` and one line per environment (10.4), when the list can be had."""
    listed = context.client.get(path("projects", project, "environments"))
    items = (listed.json() or {}).get("environments") if listed.ok else None
    if not isinstance(items, list):
        return []
    return [
        "available envs:",
        *(
            f"  - {printable(str(e.get('name')))} ({printable(str(e.get('slug')))})"
            for e in items
            if isinstance(e, dict)
        ),
    ]


# --- output --------------------------------------------------------------------------


def show(context: Context, document: Mapping[str, Any], fields: Fields) -> None:
    """The server's JSON with `--json`, else the `key: value` block."""
    if context.args.json:
        context.out.json(document)
    else:
        context.out.block(fields)


def show_created(context: Context, document: Mapping[str, Any], fields: Fields) -> None:
    """What a create command prints (10.8): the new id alone when piped, so that it can be
    captured; the block on a terminal; the server's JSON with `--json`."""
    if context.args.json:
        context.out.json(document)
    elif not context.out.stdout_tty:
        context.out.line(printable(str(document.get("id", ""))))
    else:
        context.out.block(fields)


def show_list(context: Context, key: str, items: Iterable[Fields]) -> None:
    """`key:` then `  - first: …` and `    other: …` per item; `key: []` when empty (valid
    YAML either way, and an empty list reads as one)."""
    rows = list(items)
    if not rows:
        context.out.line(f"{key}: []")
        return
    context.out.line(f"{key}:")
    for row in rows:
        for index, (label, value) in enumerate(row):
            lead = "  - " if index == 0 else "    "
            context.out.line(f"{lead}{label}: {scalar(value)}")


def by_name(items: Iterable[Mapping[str, Any]], *keys: str) -> list[Mapping[str, Any]]:
    """Items sorted by their `keys` (default: name), case-insensitively, then by id."""
    fields = keys or ("name",)

    def key(item: Mapping[str, Any]) -> tuple[str, ...]:
        return (*(str(item.get(field) or "").casefold() for field in fields), str(item.get("id")))

    return sorted(items, key=key)


def show_table(
    context: Context,
    what: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Callable[[int, str], Sequence[str]] | None = None,
) -> None:
    """A list on a terminal (issue 16): the aligned table, or `no <what>` when empty."""
    if rows:
        context.out.table(headers, rows, styles)
    else:
        context.out.line(context.out.style(f"no {what}", "dim"))


def _list_of(document: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = document.get(key)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# --- who a write goes to, and confirmations ------------------------------------------


def announce(
    context: Context, org_id: str | None = None, project: Mapping[str, Any] | None = None
) -> None:
    """On a terminal, one dim line on stderr: the account, org and project a write goes to.

    Best effort: if `/me` fails, the write itself reports the problem."""
    if not context.out.stderr_tty:
        return
    me = context.client.get(path("me"))
    document = me.json() if me.ok else None
    if not isinstance(document, dict):
        return
    user = document.get("user")
    user = user if isinstance(user, dict) else {}
    account = str(user.get("email") or user.get("name") or user.get("id") or "?")
    line = f"writing as {printable(account)}"
    if project is not None:
        org_id = str(project.get("orgId") or "")
    if org_id:
        names = {str(o.get("id")): str(o.get("name")) for o in _list_of(document, "orgs")}
        org_name = names.get(org_id) or (project or {}).get("orgName")
        line += f" to org {quote(str(org_name))}" if org_name else f" to org {printable(org_id)}"
    if project is not None:
        line += f", project {quote(str(project.get('name', '')))}"
    context.out.note(line, "dim")


def _stdin_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _can_confirm(context: Context, what: str) -> None:
    """Without `--yes`, a delete needs a terminal to ask on (a Sigillo addition)."""
    if not context.args.yes and not _stdin_tty():
        raise CliError(
            f"not deleting {what} without confirmation",
            "  pass --yes to delete it from a script",
        )


def ask(context: Context, question: str) -> None:
    """`question [y/N]` on stderr; anything but y or yes cancels (exit 1)."""
    if context.args.yes:
        return
    context.out.stderr.write(f"{question} [y/N] ")
    context.out.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        if not answer.endswith("\n"):
            context.out.stderr.write("\n")
        raise CliError("cancelled: nothing was deleted")


# --- orgs ----------------------------------------------------------------------------


def orgs(context: Context) -> None:
    """`sigillo orgs`: the caller's orgs with their role in each."""
    document = call(context, "GET", path("orgs"), "list orgs")
    if context.args.json:
        context.out.json(document)
        return
    if context.out.stdout_tty:
        rows = [
            [str(o.get("name")), str(o.get("role"))] for o in by_name(_list_of(document, "orgs"))
        ]
        show_table(context, "orgs", ["NAME", "ROLE"], rows)
        return
    show_list(
        context,
        "orgs",
        (
            [("id", o.get("id")), ("name", o.get("name")), ("role", o.get("role"))]
            for o in _list_of(document, "orgs")
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


# --- projects ------------------------------------------------------------------------


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
            for p in by_name(_list_of(document, "projects"), "orgName", "name")
        ]
        show_table(context, "projects", ["NAME", "ORG"], rows)
        return
    show_list(context, "projects", (_project_row(p) for p in _list_of(document, "projects")))


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
    listed = _list_of(call(context, "GET", path("orgs"), "create project"), "orgs")
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
        context, "environments", (_environment_row(e) for e in _list_of(document, "environments"))
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
    _can_confirm(context, f"project {printable(context.args.id)}")
    project = project_or_fail(context, context.args.id, "delete project")
    project_id = str(project.get("id"))
    if context.out.stderr_tty or not context.args.yes:
        announce(context, project=project)
        ask(context, f"Delete project {quote(str(project.get('name', '')))} and all its secrets?")
    target = path("projects", project_id)
    document = call(context, "DELETE", target, "delete project", hint=project_hint)
    show(context, document, [("ok", True), ("id", document.get("id"))])


# --- environments --------------------------------------------------------------------


def _environment_row(environment: Mapping[str, Any]) -> Fields:
    return [
        ("id", environment.get("id")),
        ("name", environment.get("name")),
        ("slug", environment.get("slug")),
    ]


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
            for e in by_name(_list_of(document, "environments"))
        ]
        show_table(context, "environments", ["NAME", "SLUG"], rows)
        return
    context.out.block([("project_id", document.get("projectId", project))])
    show_list(
        context, "environments", (_environment_row(e) for e in _list_of(document, "environments"))
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
    _can_confirm(context, f"env {printable(reference)}")
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
