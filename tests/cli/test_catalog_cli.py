"""`sigillo orgs`, `projects` and `environments` (behaviour.md 11.10, 10.8, 15.2 item 3),
run as the real executable against a live server.

Every command is checked piped (its output parsed as YAML, or the bare id of a create),
with `--json` (parsed), on a terminal where that differs, and on bad input: missing
options (exit 2), not logged in, a project of another user's org (403), unknown ids
(404), an API token on these session-only routes, an unreachable server, duplicate
slugs (409), and names holding terminal escapes (shown escaped, never obeyed).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from tests.cli.conftest import Project, Server, Sigillo, sigillo_command
from tests.cli.terminal import in_terminal

# The server refuses C0 controls in names (17.8) but takes DEL and the C1 controls, which
# many terminals obey: U+009D starts an OSC (here: set the title), U+009B is a CSI.
EVIL = "evil\u009d0;pwned\u009c\u009b2J\u007fname"
EVIL_SHOWN = "evil\\u009d0;pwned\\u009c\\u009b2J\\u007fname"
RAW_CONTROLS = ("\u009d", "\u009c", "\u009b", "\u007f", "\x1b", "\x07")
# What a hostile or compromised server could send: ESC sequences the real one refuses.
ESC = "\x1b]0;pwned\x07\x1b[2J"
ESC_SHOWN = "\\u001b]0;pwned\\u0007\\u001b[2J"


def assert_no_raw_controls(text: str) -> None:
    """No control character a terminal would obey, besides the SGR colour codes the CLI
    itself writes on terminals (`ESC[…m`)."""
    text = re.sub("\x1b\\[[0-9;]*m", "", text)
    for control in RAW_CONTROLS:
        assert control not in text, repr(text)


# --- helpers shared with test_tokens_cli.py -------------------------------------------


def parse(text: str) -> Any:
    """The YAML-like output of 10.2 is YAML: parse it as such."""
    return yaml.safe_load(text)


def terminal(
    sigillo: Sigillo, *args: str, keys: tuple[bytes, ...] = (), wait_for: bytes | None = None
) -> tuple[int, str]:
    """Run the CLI in a pseudo-terminal; its output with CRLF turned back into LF."""
    code, output = in_terminal(
        [*sigillo_command(), *args], sigillo.env, sigillo.cwd, keys=keys, wait_for=wait_for
    )
    return code, output.replace(b"\r\n", b"\n").decode("utf-8", "replace")


def assert_one_line_error(done: subprocess.CompletedProcess[str], start: str) -> None:
    """Exit 1, nothing on stdout, `error: …` first on stderr and no traceback."""
    assert done.returncode == 1, done
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {start}"), done.stderr
    assert "Traceback" not in done.stderr


def assert_usage_error(done: subprocess.CompletedProcess[str], missing: str) -> None:
    assert done.returncode == 2, done
    first, hint, *rest = done.stderr.splitlines()  # one line, then where the usage is
    assert first.startswith("error: "), done.stderr
    assert hint.startswith("  see: sigillo "), done.stderr
    assert hint.endswith(" --help"), done.stderr
    assert rest == [], done.stderr
    assert missing in done.stderr


@dataclass
class Stranger:
    """Another account with its own org and project: Ada is no member of either."""

    email: str
    session: str
    org_id: str
    project_id: str


def new_account(cli_server: Server, prefix: str) -> tuple[str, str]:
    return cli_server.new_account(prefix)


def make_stranger(cli_server: Server) -> Stranger:
    email, session = new_account(cli_server, "bob")
    with cli_server.api(session) as api:
        org = api.post("/api/v0/orgs", json={"name": "Bob's org"}).json()["id"]
        project = api.post("/api/v0/projects", json={"name": "bob-app", "orgId": org})
    return Stranger(email, session, org, project.json()["id"])


def api_token(cli_server: Server, project_id: str, **body: Any) -> dict[str, Any]:
    with cli_server.api() as api:
        created = api.post(f"/api/v0/projects/{project_id}/tokens", json={"name": "ci", **body})
    assert created.status_code == 200, created.text
    document: dict[str, Any] = created.json()
    return document


def team_project(cli_server: Server, member: Stranger) -> tuple[str, str]:
    """A new org of Ada's, with `member` joined as a plain member through an invite link,
    and a project in it: (org id, project id)."""
    with cli_server.api() as api:
        org = api.post("/api/v0/orgs", json={"name": "Team"}).json()["id"]
        invite = api.post(f"/api/v0/orgs/{org}/invitations", json={"role": "member"})
        project = api.post("/api/v0/projects", json={"name": "team-app", "orgId": org})
    with cli_server.api(member.session) as api:
        accepted = api.post(f"/api/v0/invitations/{invite.json()['token']}/accept")
    assert accepted.json()["role"] == "member", accepted.text
    return org, project.json()["id"]


@pytest.fixture(scope="module")
def stranger(cli_server: Server) -> Stranger:
    return make_stranger(cli_server)


@pytest.fixture
def unconfigured(sigillo: Sigillo, cli_server: Server) -> Sigillo:
    """Signed in (SIGILLO_TOKEN), but with no project or environment."""
    sigillo.env["SIGILLO_TOKEN"] = cli_server.session
    return sigillo


# --- session-only routes: the errors every command shares -----------------------------

COMMANDS = [
    ("orgs",),
    ("orgs", "create", "--name", "x"),
    ("projects",),
    ("projects", "create", "--org", "o", "--name", "x"),
    ("projects", "get", "p"),
    ("projects", "update", "p", "--name", "x"),
    ("projects", "delete", "p", "--yes"),
    ("environments",),
    ("environments", "create", "-p", "p", "--name", "x", "--slug", "x"),
    ("environments", "get", "dev"),
    ("environments", "rename", "dev", "--name", "x"),
    ("environments", "delete", "dev", "--yes"),
]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_not_logged_in(sigillo: Sigillo, argv: tuple[str, ...]) -> None:
    done = sigillo(*argv, env={"SIGILLO_PROJECT": "p", "SIGILLO_ENVIRONMENT": "dev"})
    assert_one_line_error(done, "not logged in")
    assert done.stderr == "error: not logged in\n  sigillo login\n"


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_unreachable_server(signed_in: Sigillo, argv: tuple[str, ...]) -> None:
    done = signed_in(*argv, env={"SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert_one_line_error(done, "cannot connect to http://127.0.0.1:1")


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_api_token_is_told_to_sign_in(
    signed_in: Sigillo, cli_server: Server, project: Project, argv: tuple[str, ...]
) -> None:
    """A `sig_` token gets 401 on every route but the secrets ones (5.2): say so plainly
    rather than `unauthorized` (behaviour.md 16)."""
    key = api_token(cli_server, project.id, access="read-write")["key"]
    done = signed_in(*argv, env={"SIGILLO_TOKEN": key})
    assert_one_line_error(done, "failed to ")
    assert "(401): API tokens (sig_…) only work for secrets commands" in done.stderr
    assert "sigillo login" in done.stderr
    assert key not in done.stderr


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (("orgs", "create"), "--name"),
        (("projects", "create", "--org", "o"), "--name"),
        (("projects", "get"), "ID_OR_NAME"),
        (("projects", "update", "p"), "--name"),
        (("projects", "update", "--name", "x"), "ID_OR_NAME"),
        (("projects", "delete"), "ID_OR_NAME"),
        (("environments", "create", "-p", "p", "--slug", "x"), "--name"),
        (("environments", "create", "-p", "p", "--name", "x"), "--slug"),
        (("environments", "get"), "ID_OR_SLUG"),
        (("environments", "rename"), "ID_OR_SLUG"),
        (("environments", "delete"), "ID_OR_SLUG"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value,
)
def test_missing_arguments_are_usage_errors(
    signed_in: Sigillo, argv: tuple[str, ...], missing: str
) -> None:
    done = signed_in(*argv)
    assert_usage_error(done, missing)
    assert done.stdout == ""


# --- orgs ------------------------------------------------------------------------------


def test_orgs_piped_is_yaml(signed_in: Sigillo, cli_server: Server) -> None:
    done = signed_in("orgs")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    orgs = parse(done.stdout)["orgs"]
    assert {"id": cli_server.org_id, "name": "Acme", "role": "admin"} in orgs
    assert all(list(org) == ["id", "name", "role"] for org in orgs)


def test_orgs_json_is_the_servers(signed_in: Sigillo, cli_server: Server) -> None:
    done = signed_in("orgs", "--json")
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        assert json.loads(done.stdout) == api.get("/api/v0/orgs").json()


def test_orgs_of_a_user_without_any_is_an_empty_list(sigillo: Sigillo, cli_server: Server) -> None:
    _, session = new_account(cli_server, "carol")
    done = sigillo("orgs", env={"SIGILLO_TOKEN": session})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "orgs: []\n"
    assert parse(done.stdout) == {"orgs": []}


def test_orgs_create_piped_prints_the_id(signed_in: Sigillo, cli_server: Server) -> None:
    done = signed_in("orgs", "create", "--name", "Piped Org")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    org_id = done.stdout.removesuffix("\n")
    assert done.stdout == org_id + "\n"
    assert org_id
    with cli_server.api() as api:
        orgs = api.get("/api/v0/orgs").json()["orgs"]
    assert {"id": org_id, "name": "Piped Org", "role": "admin"}.items() <= next(
        o for o in orgs if o["id"] == org_id
    ).items()


def test_orgs_create_json(signed_in: Sigillo) -> None:
    done = signed_in("orgs", "create", "--name", "Json Org", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True
    assert document["name"] == "Json Org"
    assert document["id"]


def test_orgs_create_on_a_terminal_shows_the_block_and_the_account(signed_in: Sigillo) -> None:
    code, output = terminal(signed_in, "orgs", "create", "--name", "Terminal Org")
    assert code == 0, output
    assert "writing as ada@example.com" in output
    assert "\x1b[2m" in output  # the account line is dim
    block = parse(output[output.index("ok: true") :])
    assert block["ok"] is True
    assert block["name"] == "Terminal Org"
    assert block["id"]


def test_orgs_create_with_an_empty_name_is_refused(signed_in: Sigillo) -> None:
    done = signed_in("orgs", "create", "--name", "   ")
    assert_one_line_error(done, "failed to create org (422): validation failed")
    assert "  name: " in done.stderr


def test_org_names_with_terminal_controls_are_shown_escaped(signed_in: Sigillo) -> None:
    created = signed_in("orgs", "create", "--name", EVIL, "--json")
    assert created.returncode == 0, created.stderr
    assert_no_raw_controls(created.stdout)
    assert json.loads(created.stdout)["name"] == EVIL
    done = signed_in("orgs")
    assert done.returncode == 0, done.stderr
    assert_no_raw_controls(done.stdout)
    assert f'    name: "{EVIL_SHOWN}"' in done.stdout.splitlines()
    assert EVIL in [org["name"] for org in parse(done.stdout)["orgs"]]
    code, output = terminal(signed_in, "orgs")
    assert code == 0
    assert_no_raw_controls(output)
    assert EVIL_SHOWN in output


def test_org_names_with_escape_sequences_are_refused_by_the_server(signed_in: Sigillo) -> None:
    done = signed_in("orgs", "create", "--name", ESC)
    assert_one_line_error(done, "failed to create org (422): validation failed")
    assert "  name: must be 1-100 characters with no control characters" in done.stderr
    assert "\x1b" not in done.stderr


# --- projects --------------------------------------------------------------------------


def test_projects_piped_is_yaml(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    done = signed_in("projects")
    assert done.returncode == 0, done.stderr
    projects = parse(done.stdout)["projects"]
    mine = {"id": project.id, "name": project.name, "org_id": cli_server.org_id}
    assert {**mine, "org_name": "Acme"} in projects
    assert all(list(p) == ["id", "name", "org_id", "org_name"] for p in projects)


def test_projects_of_one_org(
    signed_in: Sigillo, cli_server: Server, project: Project, stranger: Stranger
) -> None:
    done = signed_in("projects", "--org", cli_server.org_id)
    assert done.returncode == 0, done.stderr
    projects = parse(done.stdout)["projects"]
    assert project.id in [p["id"] for p in projects]
    assert {p["org_id"] for p in projects} == {cli_server.org_id}
    other = signed_in("projects", "--org", stranger.org_id)
    assert_one_line_error(other, "failed to list projects (403): forbidden")


def test_projects_json_is_the_servers(signed_in: Sigillo, cli_server: Server) -> None:
    done = signed_in("projects", "--json", "--org", cli_server.org_id)
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        answer = api.get("/api/v0/projects", params={"orgId": cli_server.org_id}).json()
    assert json.loads(done.stdout) == answer


def test_projects_create_piped_prints_the_id(signed_in: Sigillo, cli_server: Server) -> None:
    done = signed_in("projects", "create", "--org", cli_server.org_id, "--name", "backend")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    project_id = done.stdout.removesuffix("\n")
    assert project_id
    assert "\n" not in project_id
    with cli_server.api() as api:
        got = api.get(f"/api/v0/projects/{project_id}").json()
    assert got["name"] == "backend"
    assert got["orgId"] == cli_server.org_id
    assert [e["slug"] for e in got["environments"]] == ["dev", "preview", "prod"]


def test_projects_create_json_and_terminal(signed_in: Sigillo, cli_server: Server) -> None:
    done = signed_in("projects", "create", "--org", cli_server.org_id, "--name", "j", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True
    assert document["orgId"] == cli_server.org_id
    code, output = terminal(
        signed_in, "projects", "create", "--org", cli_server.org_id, "--name", "t"
    )
    assert code == 0, output
    assert 'writing as ada@example.com to org "Acme"' in output
    block = parse(output[output.index("ok: true") :])
    assert list(block) == ["ok", "id", "name", "org_id"]
    assert block["name"] == "t"
    assert block["org_id"] == cli_server.org_id


def test_projects_create_in_another_users_org_is_forbidden(
    signed_in: Sigillo, stranger: Stranger
) -> None:
    done = signed_in("projects", "create", "--org", stranger.org_id, "--name", "intruder")
    assert_one_line_error(done, "failed to create project (403): forbidden")


def test_projects_get(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    done = signed_in("projects", "get", project.id)
    assert done.returncode == 0, done.stderr
    got = parse(done.stdout)
    assert list(got) == ["id", "name", "org_id", "environments"]
    assert got["id"] == project.id
    assert got["name"] == project.name
    assert got["org_id"] == cli_server.org_id
    assert got["environments"] == [
        {"id": project.environments[slug], "name": name, "slug": slug}
        for slug, name in (("dev", "Dev"), ("preview", "Preview"), ("prod", "Prod"))
    ]


def test_projects_get_json(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    done = signed_in("projects", "get", project.id, "--json")
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        assert json.loads(done.stdout) == api.get(f"/api/v0/projects/{project.id}").json()


def test_projects_get_unknown_lists_the_available(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("projects", "get", "no-such-project")
    assert_one_line_error(done, "failed to get project (404): project not found")
    assert "available projects:" in done.stderr
    assert f"  - Acme / {project.name} ({project.id})" in done.stderr.splitlines()


def test_projects_of_another_org_are_forbidden(signed_in: Sigillo, stranger: Stranger) -> None:
    for argv, action in (
        (("get", stranger.project_id), "get project"),
        (("update", stranger.project_id, "--name", "mine"), "update project"),
        (("delete", stranger.project_id, "--yes"), "delete project"),
    ):
        done = signed_in("projects", *argv)
        assert_one_line_error(done, f"failed to {action} (403): forbidden")
    with httpx.Client(base_url=signed_in.server.url) as api:
        got = api.get(
            f"/api/v0/projects/{stranger.project_id}",
            headers={"Authorization": f"Bearer {stranger.session}"},
        )
    assert got.json()["name"] == "bob-app"


def test_projects_update(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    done = signed_in("projects", "update", project.id, "--name", "renamed")
    assert done.returncode == 0, done.stderr
    assert parse(done.stdout) == {
        "ok": True,
        "id": project.id,
        "name": "renamed",
        "org_id": cli_server.org_id,
    }
    again = signed_in("projects", "update", project.id, "--name", "again", "--json")
    assert json.loads(again.stdout)["name"] == "again"
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project.id}").json()["name"] == "again"


def test_projects_update_on_a_terminal_names_the_target(
    signed_in: Sigillo, project: Project
) -> None:
    code, output = terminal(signed_in, "projects", "update", project.id, "--name", "tty")
    assert code == 0, output
    assert f'writing as ada@example.com to org "Acme", project "{project.name}"' in output
    assert parse(output[output.index("ok: true") :])["name"] == "tty"


def test_projects_update_unknown(signed_in: Sigillo) -> None:
    done = signed_in("projects", "update", "no-such-project", "--name", "x")
    assert_one_line_error(done, "failed to update project (404): project not found")


def test_projects_delete_without_a_terminal_needs_yes(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("projects", "delete", project.id)
    assert_one_line_error(done, f"not deleting project {project.id} without confirmation")
    assert "--yes" in done.stderr
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project.id}").status_code == 200


def test_projects_delete_with_yes(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    done = signed_in("projects", "delete", project.id, "--yes")
    assert done.returncode == 0, done.stderr
    assert parse(done.stdout) == {"ok": True, "id": project.id}
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project.id}").status_code == 404
    gone = signed_in("projects", "delete", project.id, "--yes")
    assert_one_line_error(gone, "failed to delete project (404): project not found")


def test_projects_delete_json(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("projects", "delete", project.id, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "id": project.id}


def test_projects_delete_on_a_terminal_asks(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    question = f'Delete project "{project.name}" and all its secrets? [y/N]'
    code, output = terminal(
        signed_in, "projects", "delete", project.id, keys=(b"n\n",), wait_for=b"[y/N]"
    )
    assert code == 1
    assert question in output
    assert "cancelled: nothing was deleted" in output
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project.id}").status_code == 200
    code, output = terminal(
        signed_in, "projects", "delete", project.id, keys=(b"y\n",), wait_for=b"[y/N]"
    )
    assert code == 0, output
    assert 'writing as ada@example.com to org "Acme"' in output
    assert parse(output[output.index("ok: true") :]) == {"ok": True, "id": project.id}
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project.id}").status_code == 404


def test_projects_delete_on_a_terminal_with_yes_does_not_ask(
    signed_in: Sigillo, project: Project
) -> None:
    code, output = terminal(signed_in, "projects", "delete", project.id, "--yes")
    assert code == 0, output
    assert "[y/N]" not in output


def test_project_names_with_terminal_controls_are_shown_escaped(
    signed_in: Sigillo, cli_server: Server
) -> None:
    with cli_server.api() as api:
        created = api.post("/api/v0/projects", json={"name": EVIL, "orgId": cli_server.org_id})
    project_id = created.json()["id"]
    for argv in (("projects", "get", project_id), ("projects",)):
        done = signed_in(*argv)
        assert done.returncode == 0, done.stderr
        assert_no_raw_controls(done.stdout)
        assert f'name: "{EVIL_SHOWN}"' in done.stdout
    _code, output = terminal(
        signed_in, "projects", "delete", project_id, keys=(b"n\n",), wait_for=b"[y/N]"
    )
    assert f'Delete project "{EVIL_SHOWN}" and all its secrets?' in output
    assert_no_raw_controls(output)


# --- environments ----------------------------------------------------------------------


def test_environments_piped_is_yaml(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("environments")
    assert done.returncode == 0, done.stderr
    listed = parse(done.stdout)
    assert list(listed) == ["project_id", "environments"]
    assert listed["project_id"] == project.id
    assert [(e["slug"], e["id"]) for e in listed["environments"]] == list(
        project.environments.items()
    )
    assert all(list(e) == ["id", "name", "slug"] for e in listed["environments"])


def test_environments_of_another_project_by_flag(unconfigured: Sigillo, project: Project) -> None:
    done = unconfigured("environments", "-p", project.id)
    assert done.returncode == 0, done.stderr
    assert parse(done.stdout)["project_id"] == project.id


def test_environments_json(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    done = signed_in("environments", "--json")
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        answer = api.get(f"/api/v0/projects/{project.id}/environments").json()
    assert json.loads(done.stdout) == answer


def test_environments_need_a_project(unconfigured: Sigillo) -> None:
    for argv in (("environments",), ("environments", "get", "dev")):
        done = unconfigured(*argv)
        assert_one_line_error(done, f"project not configured for {unconfigured.cwd}")
        assert "sigillo setup --project <PROJECT_ID> --env <SLUG>" in done.stderr


def test_environments_of_another_org_are_forbidden(
    unconfigured: Sigillo, stranger: Stranger
) -> None:
    p = ("-p", stranger.project_id)
    for argv, action in (
        (("environments", *p), "list environments"),
        (("environments", "create", *p, "--name", "X", "--slug", "x"), "create environment"),
        (("environments", "get", "dev", *p), "get environment"),
        (("environments", "rename", "dev", "--name", "X", *p), "rename environment"),
        (("environments", "delete", "dev", "--yes", *p), "delete environment"),
    ):
        done = unconfigured(*argv)
        assert_one_line_error(done, f"failed to {action} (403): forbidden")


def test_environments_of_an_unknown_project(unconfigured: Sigillo, project: Project) -> None:
    done = unconfigured("environments", "-p", "no-such-project")
    assert_one_line_error(done, "failed to list environments (404): project not found")
    assert f"  - Acme / {project.name} ({project.id})" in done.stderr.splitlines()


def test_environments_create_piped_prints_the_id(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in(
        "environments", "create", "-p", project.id, "--name", "Staging", "--slug", "staging"
    )
    assert done.returncode == 0, done.stderr
    env_id = done.stdout.removesuffix("\n")
    assert env_id
    assert "\n" not in env_id
    with cli_server.api() as api:
        got = api.get(f"/api/v0/projects/{project.id}/environments/staging").json()
    assert got["id"] == env_id
    assert got["name"] == "Staging"


def test_environments_create_json_and_terminal(signed_in: Sigillo, project: Project) -> None:
    done = signed_in(
        "environments", "create", "-p", project.id, "--name", "QA", "--slug", "qa", "--json"
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True
    assert document["slug"] == "qa"
    assert document["projectId"] == project.id
    code, output = terminal(
        signed_in, "environments", "create", "-p", project.id, "--name", "UAT", "--slug", "uat"
    )
    assert code == 0, output
    assert f'writing as ada@example.com to org "Acme", project "{project.name}"' in output
    block = parse(output[output.index("ok: true") :])
    assert list(block) == ["ok", "id", "project_id", "name", "slug"]
    assert block["project_id"] == project.id
    assert block["slug"] == "uat"


def test_environments_create_uses_the_saved_project(signed_in: Sigillo, project: Project) -> None:
    """Issue 16: without -p, the project this directory resolves to (here SIGILLO_PROJECT)."""
    done = signed_in("environments", "create", "--name", "Staging", "--slug", "staging")
    assert done.returncode == 0, done.stderr
    assert parse(signed_in("environments", "get", "staging").stdout)["project_id"] == project.id


def test_environments_create_duplicate_slug(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("environments", "create", "-p", project.id, "--name", "Dev 2", "--slug", "dev")
    assert_one_line_error(
        done,
        "failed to create environment (409): "
        "an environment with this slug already exists in this project",
    )


def test_environments_create_bad_slug_shows_the_rule(signed_in: Sigillo, project: Project) -> None:
    done = signed_in(
        "environments", "create", "-p", project.id, "--name", "Bad", "--slug", "Bad Slug"
    )
    assert_one_line_error(done, "failed to create environment (422): validation failed")
    assert "  slug: " in done.stderr


def test_environments_end_to_end(signed_in: Sigillo, cli_server: Server) -> None:
    """behaviour.md 15.2, item 3, with the setup of 15.2."""
    run_id = uuid.uuid4().hex[:12]
    with cli_server.api() as api:
        created = api.post(
            "/api/v0/projects",
            json={"name": f"sigillo-cli-e2e-{run_id}", "orgId": cli_server.org_id},
        )
        project_id = created.json()["id"]
        base = f"/api/v0/projects/{project_id}/environments"
        api.post(base, json={"name": "E2E", "slug": f"e2e-{run_id}"}).raise_for_status()
        extra = api.post(base, json={"name": "Extra E2E", "slug": f"extra-e2e-{run_id}"})
        extra_id, extra_slug = extra.json()["id"], f"extra-e2e-{run_id}"
    env = {"SIGILLO_PROJECT": project_id, "SIGILLO_ENVIRONMENT": f"e2e-{run_id}"}
    try:
        got = signed_in("environments", "get", extra_slug, env=env)
        assert got.returncode == 0, got.stderr
        assert f'id: "{extra_id}"' in got.stdout.splitlines()
        assert f'slug: "{extra_slug}"' in got.stdout.splitlines()
        assert parse(got.stdout) == {
            "id": extra_id,
            "project_id": project_id,
            "name": "Extra E2E",
            "slug": extra_slug,
        }

        renamed = signed_in(
            "environments", "rename", extra_slug, "--slug", f"{extra_slug}-renamed", env=env
        )
        assert renamed.returncode == 0, renamed.stderr
        assert parse(renamed.stdout) == {
            "ok": True,
            "id": extra_id,
            "project_id": project_id,
            "name": "Extra E2E",
            "slug": f"{extra_slug}-renamed",
        }

        # --yes: without a terminal to ask on, Sigillo deletes only when told to.
        deleted = signed_in("environments", "delete", f"{extra_slug}-renamed", "--yes", env=env)
        assert deleted.returncode == 0, deleted.stderr
        assert f'id: "{extra_id}"' in deleted.stdout.splitlines()
        assert parse(deleted.stdout) == {"ok": True, "id": extra_id}
    finally:
        with cli_server.api() as api:
            api.delete(f"/api/v0/projects/{project_id}")


def test_environments_get_json(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    done = signed_in("environments", "get", "preview", "--json")
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        answer = api.get(f"/api/v0/projects/{project.id}/environments/preview").json()
    assert json.loads(done.stdout) == answer


def test_environments_get_by_id(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("environments", "get", project.environments["prod"])
    assert parse(done.stdout)["slug"] == "prod"


def test_environments_unknown_lists_the_available(signed_in: Sigillo) -> None:
    for argv, action in (
        (("get", "staging"), "get environment"),
        (("rename", "staging", "--name", "x"), "rename environment"),
        (("delete", "staging", "--yes"), "delete environment"),
    ):
        done = signed_in("environments", *argv)
        assert_one_line_error(done, f"failed to {action} (404): environment not found")
        assert done.stderr.splitlines()[1:] == [
            "available envs:",
            "  - Dev (dev)",
            "  - Preview (preview)",
            "  - Prod (prod)",
        ]


def test_environments_rename_needs_name_or_slug(signed_in: Sigillo, sigillo: Sigillo) -> None:
    done = signed_in("environments", "rename", "dev")
    assert_one_line_error(done, "pass --name, --slug, or both")
    assert done.stderr == "error: pass --name, --slug, or both\n"
    empty = signed_in("environments", "rename", "dev", "--name", "", "--slug", "")
    assert empty.stderr == "error: pass --name, --slug, or both\n"
    # ...checked after the login check:
    anonymous = sigillo("environments", "rename", "dev", env={"SIGILLO_TOKEN": ""})
    assert anonymous.stderr.startswith("error: not logged in")


def test_environments_rename_name_only_keeps_the_slug(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("environments", "rename", "preview", "--name", "Staging")
    assert done.returncode == 0, done.stderr
    assert parse(done.stdout) == {
        "ok": True,
        "id": project.environments["preview"],
        "project_id": project.id,
        "name": "Staging",
        "slug": "preview",
    }
    both = signed_in("environments", "rename", "preview", "--name", "QA", "--slug", "qa", "--json")
    assert both.returncode == 0, both.stderr
    document = json.loads(both.stdout)
    assert (document["name"], document["slug"], document["ok"]) == ("QA", "qa", True)


def test_environments_rename_to_a_taken_slug(signed_in: Sigillo) -> None:
    done = signed_in("environments", "rename", "preview", "--slug", "prod")
    assert_one_line_error(
        done,
        "failed to rename environment (409): "
        "an environment with this slug already exists in this project",
    )


def test_environments_rename_on_a_terminal(signed_in: Sigillo, project: Project) -> None:
    code, output = terminal(signed_in, "environments", "rename", "preview", "--name", "Pre")
    assert code == 0, output
    assert f'writing as ada@example.com to org "Acme", project "{project.name}"' in output
    assert parse(output[output.index("ok: true") :])["name"] == "Pre"


def test_environment_ids_of_another_project_are_not_written(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    """For sessions the server finds an environment id in any project (behaviour.md 16):
    the CLI refuses to rename or delete one outside the resolved project."""
    with cli_server.api() as api:
        other = api.post("/api/v0/projects", json={"name": "other", "orgId": cli_server.org_id})
        other_id = other.json()["id"]
        dev = api.get(f"/api/v0/projects/{other_id}/environments/dev").json()["id"]
    for argv in (("rename", dev, "--name", "Hijacked"), ("delete", dev, "--yes")):
        done = signed_in("environments", *argv)
        assert_one_line_error(done, f"env {dev} belongs to project {other_id}, not {project.id}")
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{other_id}/environments/dev").json()["name"] != "Hijacked"


def test_members_may_rename_but_not_delete(
    sigillo: Sigillo, cli_server: Server, stranger: Stranger
) -> None:
    """behaviour.md 5.3 and 17.1: a member renames projects and environments; deleting
    either is for admins."""
    _, project_id = team_project(cli_server, stranger)
    sigillo.env.update(SIGILLO_TOKEN=stranger.session, SIGILLO_PROJECT=project_id)
    renamed = sigillo("projects", "update", project_id, "--name", "renamed by a member")
    assert renamed.returncode == 0, renamed.stderr
    env = sigillo("environments", "rename", "dev", "--slug", "development")
    assert env.returncode == 0, env.stderr
    created = sigillo("environments", "create", "-p", project_id, "--name", "QA", "--slug", "qa")
    assert created.returncode == 0, created.stderr
    for argv, action in (
        (("projects", "delete", project_id, "--yes"), "delete project"),
        (("environments", "delete", "qa", "--yes"), "delete environment"),
    ):
        done = sigillo(*argv)
        assert_one_line_error(done, f"failed to {action} (403): admin role required")
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project_id}/environments/qa").status_code == 200


def test_environments_delete_without_a_terminal_needs_yes(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("environments", "delete", "preview")
    assert_one_line_error(done, "not deleting env preview without confirmation")
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project.id}/environments/preview").status_code == 200


def test_environments_delete_json(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("environments", "delete", "preview", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "id": project.environments["preview"]}


def test_environments_delete_on_a_terminal_asks(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    code, output = terminal(
        signed_in, "environments", "delete", "prod", keys=(b"\n",), wait_for=b"[y/N]"
    )
    assert code == 1
    assert (
        f'Delete environment "Prod" (prod) of project "{project.name}" and all its secrets? [y/N]'
    ) in output
    assert "cancelled: nothing was deleted" in output
    code, output = terminal(
        signed_in, "environments", "delete", "prod", keys=(b"yes\n",), wait_for=b"[y/N]"
    )
    assert code == 0, output
    assert parse(output[output.index("ok: true") :]) == {
        "ok": True,
        "id": project.environments["prod"],
    }
    with cli_server.api() as api:
        assert api.get(f"/api/v0/projects/{project.id}/environments/prod").status_code == 404


def test_environment_names_with_terminal_controls_are_shown_escaped(
    signed_in: Sigillo, project: Project
) -> None:
    created = signed_in(
        "environments", "create", "-p", project.id, "--name", EVIL, "--slug", "evil"
    )
    assert created.returncode == 0, created.stderr
    for argv in (
        ("environments",),
        ("environments", "get", "evil"),
        ("projects", "get", project.id),
    ):
        done = signed_in(*argv)
        assert done.returncode == 0, done.stderr
        assert_no_raw_controls(done.stdout)
        assert f'name: "{EVIL_SHOWN}"' in done.stdout
    missing = signed_in("environments", "get", "nope")
    assert_no_raw_controls(missing.stderr)
    assert f"  - {EVIL_SHOWN} (evil)" in missing.stderr.splitlines()


def test_piped_output_never_has_colours(signed_in: Sigillo) -> None:
    for argv in (("environments",), ("environments", "get", "nope")):
        done = signed_in(*argv)
        assert "\x1b" not in done.stdout + done.stderr


# --- a hostile server: what the real one refuses to store is still shown escaped --------


def _hostile_routes() -> dict[str, object]:
    environment = {"id": "e1", "projectId": "p1", "name": ESC, "slug": ESC, "createdAt": 1}
    project = {"id": "p1", "orgId": "o1", "orgName": ESC, "name": ESC, "createdAt": 1}
    token = {"id": "t1", "name": ESC, "prefix": ESC, "environmentId": "e1", "access": ESC}
    return {
        "/api/v0/orgs": {"orgs": [{"id": ESC, "name": ESC, "role": ESC}]},
        "/api/v0/projects": {"projects": [{**project, "environments": []}]},
        "/api/v0/projects/p1": {**project, "environments": [environment]},
        "/api/v0/projects/p1/environments": {"projectId": "p1", "environments": [environment]},
        "/api/v0/projects/p1/environments/e1": environment,
        "/api/v0/projects/p1/tokens": {"tokens": [{**token, "createdAt": 1}]},
    }


class _Hostile(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        document = _hostile_routes().get(self.path.split("?")[0])
        status = 200 if document is not None else 404
        body = json.dumps(document or {"error": f"{ESC} not found"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def hostile_server() -> Iterator[str]:
    """A stub server answering names made of escape sequences; yields its URL."""
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{stub.server_address[1]}"
    finally:
        stub.shutdown()
        stub.server_close()
        thread.join()


@pytest.fixture
def hostile(sigillo: Sigillo) -> Iterator[Sigillo]:
    with hostile_server() as url:
        sigillo.env.update(SIGILLO_API_URL=url, SIGILLO_TOKEN="session", SIGILLO_PROJECT="p1")
        yield sigillo


@pytest.mark.parametrize(
    "argv",
    [
        ("orgs",),
        ("projects",),
        ("projects", "get", "p1"),
        ("environments",),
        ("environments", "get", "e1"),
    ],
    ids=" ".join,
)
def test_escape_sequences_from_the_server_are_shown_escaped(
    hostile: Sigillo, argv: tuple[str, ...]
) -> None:
    done = hostile(*argv)
    assert done.returncode == 0, done.stderr
    assert_no_raw_controls(done.stdout)
    assert ESC_SHOWN in done.stdout
    assert parse(done.stdout)  # still valid YAML
    code, output = terminal(hostile, *argv)
    assert code == 0
    assert_no_raw_controls(output)
    assert ESC_SHOWN in output


@pytest.mark.parametrize(
    "argv",
    [
        ("projects", "get", "p2"),
        ("environments", "get", "e2"),
        ("projects", "update", "p2", "--name", "x"),
    ],
    ids=" ".join,
)
def test_escape_sequences_in_server_errors_are_shown_escaped(
    hostile: Sigillo, argv: tuple[str, ...]
) -> None:
    done = hostile(*argv)
    assert done.returncode == 1
    assert_no_raw_controls(done.stderr)
    assert f"(404): {ESC_SHOWN} not found" in done.stderr.splitlines()[0]
    assert len(done.stderr.splitlines()) > 2  # the available projects or envs, escaped
    code, output = terminal(hostile, *argv)
    assert code == 1
    assert_no_raw_controls(output)
