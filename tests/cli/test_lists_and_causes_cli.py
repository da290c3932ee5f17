"""Issue 16, "The CLI, next to Doppler's and Infisical's": lists are aligned tables on a
terminal (sorted names, names rather than ids) while piped output keeps its ids; a
mistyped command gets "did you mean"; errors name the real cause (an API URL ending in
/api/v0, a server that is not Sigillo, an unknown project, a secret that is not there);
an empty stdin is warned about; `environments create` and `projects create` find their
project and org when there is only one to find.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_catalog_cli import assert_one_line_error, parse, terminal
from tests.cli.test_secrets_cli import plain, put_secrets, value_in

NO_COLOR = {"NO_COLOR": "1"}


def lines_of(sigillo: Sigillo, *argv: str) -> list[str]:
    code, output = terminal(sigillo, *argv)
    assert code == 0, output
    return plain(output).splitlines()


# --- tables on a terminal, YAML with ids when piped ------------------------------------


@pytest.fixture
def alone(sigillo: Sigillo, cli_server: Server) -> tuple[Sigillo, str]:
    """A fresh account with one org, "Solo", and the CLI signed in as it (NO_COLOR)."""
    _email, session = cli_server.new_account("solo")
    with cli_server.api(session) as api:
        org = api.post("/api/v0/orgs", json={"name": "Solo"}).json()
    sigillo.env.update(SIGILLO_TOKEN=session, NO_COLOR="1")
    return sigillo, org["id"]


def test_projects_create_uses_the_only_org(alone: tuple[Sigillo, str]) -> None:
    sigillo, org_id = alone
    for name in ("zeta", "Alpha", "beta"):
        created = sigillo("projects", "create", "--name", name)
        assert created.returncode == 0, created.stderr
    listed = parse(sigillo("projects").stdout)["projects"]
    assert {p["org_id"] for p in listed} == {org_id}
    assert lines_of(sigillo, "projects") == [
        "NAME   ORG",
        "Alpha  Solo",
        "beta   Solo",
        "zeta   Solo",
    ]
    assert lines_of(sigillo, "orgs") == ["NAME  ROLE", "Solo  admin"]


def test_projects_create_with_several_orgs_asks_for_one(
    alone: tuple[Sigillo, str], cli_server: Server
) -> None:
    sigillo, org_id = alone
    other = parse(sigillo("orgs", "create", "--name", "Second").stdout) or {}
    assert other  # the new org's id, piped
    done = sigillo("projects", "create", "--name", "x")
    assert_one_line_error(done, "pass --org: you are a member of several orgs")
    assert f"  - Solo ({org_id})" in done.stderr.splitlines()


def test_orgs_and_projects_without_any(alone: tuple[Sigillo, str], cli_server: Server) -> None:
    sigillo, _ = alone
    assert lines_of(sigillo, "projects") == ["no projects"]
    assert sigillo("projects").stdout == "projects: []\n"  # piped: as before


def test_environments_on_a_terminal(signed_in: Sigillo, project: Project) -> None:
    signed_in.env.update(NO_COLOR)
    created = signed_in("environments", "create", "--name", "Alpha QA", "--slug", "qa")
    assert created.returncode == 0, created.stderr
    assert lines_of(signed_in, "environments") == [
        f"project {project.name} (org Acme)",
        "NAME      SLUG",
        "Alpha QA  qa",
        "Dev       dev",
        "Preview   preview",
        "Prod      prod",
    ]
    piped = parse(signed_in("environments").stdout)  # piped: creation order, with ids
    assert [e["slug"] for e in piped["environments"]] == ["dev", "preview", "prod", "qa"]
    assert piped["environments"][0]["id"] == project.environments["dev"]


def test_tokens_on_a_terminal_and_revoke_by_name(signed_in: Sigillo, project: Project) -> None:
    signed_in.env.update(NO_COLOR)
    for argv in (("--name", "web"), ("--name", "ci", "--env", "prod", "--read-write")):
        assert signed_in("tokens", "create", *argv).returncode == 0
    rows = lines_of(signed_in, "tokens")
    assert rows[0].split() == ["NAME", "KEY", "SCOPE", "ACCESS", "EXPIRES", "CREATED", "STATUS"]
    assert [row.split()[0] for row in rows[1:]] == ["ci", "web"]
    assert rows[1].split()[2:6] == ["env", "prod", "read-write", "never"]
    assert rows[2].split()[2:5] == ["all", "environments", "read"]
    assert rows[1].endswith("active")
    revoked = signed_in("tokens", "revoke", "web")
    assert revoked.returncode == 0, revoked.stderr
    after = lines_of(signed_in, "tokens")[2]
    assert after.split()[0] == "web"
    assert after.split()[-3] == "revoked"  # then the day and the time it was revoked
    tokens = parse(signed_in("tokens").stdout)["tokens"]  # piped: ids, as before
    assert all(t["id"] for t in tokens)


def test_projects_get_takes_a_name(signed_in: Sigillo, project: Project) -> None:
    done = signed_in("projects", "get", project.name)
    assert done.returncode == 0, done.stderr
    assert parse(done.stdout)["id"] == project.id


# --- did you mean ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (("secret",), "error: unknown command 'secret'; did you mean 'secrets'?"),
        (("secrets", "delet", "X"),
         "error: unknown command 'secrets delet'; did you mean 'secrets delete'?"),
        (("enviroments",), "error: unknown command 'enviroments'; did you mean 'environments'?"),
    ],
    ids=" ".join,
)  # fmt: skip
def test_a_mistyped_command_gets_what_was_meant(
    sigillo: Sigillo, argv: tuple[str, ...], first: str
) -> None:
    done = sigillo(*argv)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[0] == first
    assert len(done.stderr.splitlines()) == 2


# --- errors that name their cause ------------------------------------------------------


def test_an_api_url_ending_in_api_v0_says_so(signed_in: Sigillo, cli_server: Server) -> None:
    for url in (f"{cli_server.url}/api/v0", f"{cli_server.url}/api/v0/"):
        done = signed_in("secrets", "--api-url", url)
        assert_one_line_error(done, f"the API URL {url} ends in /api/v0")
        assert f"  use {cli_server.url} " in done.stderr


class _NotSigillo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>It works!</body></html>"
        self.send_response(404 if "api" in self.path else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def not_sigillo() -> Iterator[str]:
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotSigillo)
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{stub.server_address[1]}"
    finally:
        stub.shutdown()
        stub.server_close()
        thread.join()


@pytest.mark.parametrize("argv", [("secrets",), ("orgs",), ("secrets", "get", "X")], ids=" ".join)
def test_a_server_that_is_not_sigillo_says_so(signed_in: Sigillo, argv: tuple[str, ...]) -> None:
    with not_sigillo() as url:
        done = signed_in(*argv, env={"SIGILLO_API_URL": url})
    assert_one_line_error(done, f"{url} answered 404 without JSON: it is not a Sigillo server")
    assert "env dev" not in done.stderr


def test_an_unknown_project_says_project_not_found(signed_in: Sigillo, project: Project) -> None:
    for argv in (("secrets",), ("secrets", "get", "X"), ("secrets", "set", "X", "v")):
        done = signed_in(*argv, "-p", "01NOSUCHPROJECT0000000000")
        assert done.returncode == 1
        assert done.stderr.startswith("error: project 01NOSUCHPROJECT0000000000 not found"), argv
        assert "env dev" not in done.stderr
        assert f"  - Acme / {project.name} ({project.id})" in done.stderr.splitlines()


def test_deleting_a_name_that_is_not_there_is_404_and_writes_nothing(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "prod", {"ONLY_PROD": "x"})
    done = signed_in("secrets", "delete", "ONLY_PROD", "-c", "dev", "-c", "prod")
    assert done.returncode == 1
    assert done.stderr == (
        "error: failed to delete secret in dev (404): secret ONLY_PROD not found\n"
    )
    assert done.stdout == 'ok: true\nenvironment_id: "prod"\nname: "ONLY_PROD"\n'
    # the server appends nothing for dev: tests/api/test_delete_missing.py


def test_an_empty_stdin_is_warned_about(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("secrets", "set", "EMPTY_ONE", input=b"")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "warning: the value is empty (stdin held nothing); setting it anyway\n"
    assert value_in(cli_server, project.id, "dev", "EMPTY_ONE") == ""
    given = signed_in("secrets", "set", "EMPTY_TWO", "")  # said on purpose: no warning
    assert (given.returncode, given.stderr) == (0, "")


def test_piped_lists_keep_their_ids(signed_in: Sigillo, project: Project) -> None:
    """What scripts rely on is unchanged: YAML with ids for the catalog, names for secrets."""
    assert project.id in [p["id"] for p in parse(signed_in("projects").stdout)["projects"]]
    assert "id" in parse(signed_in("orgs").stdout)["orgs"][0]


@pytest.mark.parametrize(("given", "meant"), [("production", "prod"), ("devv", "dev")])
def test_an_unknown_environment_says_which_was_meant(
    signed_in: Sigillo, project: Project, given: str, meant: str
) -> None:
    """The seed README's `-c production`, on a project with dev, preview and prod."""
    done = signed_in("secrets", "-c", given)
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first == (
        f"error: env {given} was not found in project {project.id}; did you mean {meant}?"
    )
