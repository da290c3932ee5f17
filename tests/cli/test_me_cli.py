"""`sigillo me` (behaviour.md 11.3): who the token belongs to, and what this directory uses."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sigillo.cli.commands.auth import _identity
from sigillo.cli.output import Output
from tests.cli.conftest import EMAIL, Project, Server, Sigillo, sigillo_command
from tests.cli.terminal import in_terminal


def write_config(home: Path, scoped: dict[str, dict[str, str]]) -> None:
    (home / ".sigillo").mkdir(exist_ok=True)
    (home / ".sigillo" / "config.json").write_text(json.dumps({"scoped": scoped}))


def section(stdout: str, heading: str) -> list[str]:
    """The lines under `heading`, up to the next blank line."""
    lines = stdout.split("\n")
    start = lines.index(heading) + 1
    end = lines.index("", start)
    return lines[start:end]


def api_token(cli_server: Server, project: Project) -> str:
    with cli_server.api() as api:
        created = api.post(f"/api/v0/projects/{project.id}/tokens", json={"name": "ci"})
    assert created.status_code == 200, created.text
    return str(created.json()["key"])


def test_me_shows_the_user_and_orgs(sigillo: Sigillo, cli_server: Server) -> None:
    done = sigillo("me", env={"SIGILLO_TOKEN": cli_server.session})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"User:  Ada Lovelace\nEmail: {EMAIL}\n\nOrganizations:\n")
    orgs = [line.split() for line in section(done.stdout, "Organizations:")]
    assert ["Acme", cli_server.org_id, "admin"] in orgs
    assert "Setup:" not in done.stdout  # nothing resolved for this directory
    assert "Configured subfolders" not in done.stdout


def test_me_json_is_the_servers_answer(sigillo: Sigillo, cli_server: Server) -> None:
    done = sigillo("me", "--json", env={"SIGILLO_TOKEN": cli_server.session})
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        expected = api.get("/api/v0/me").json()
    assert json.loads(done.stdout) == expected
    assert done.stdout.endswith("}\n")


def test_me_shows_the_setup_of_this_directory_and_its_subfolders(
    sigillo: Sigillo, home: Path, cli_server: Server, project: Project
) -> None:
    app = sigillo.cwd / "app"
    (app / "api").mkdir(parents=True)
    write_config(
        home,
        {
            "/": {"token": cli_server.session, "environment": "prod"},
            str(app): {"project": project.id, "project-name": "my-website", "environment": "dev"},
            str(app / "api"): {"project": "01J8Z4OTHERPROJECT", "project-name": "backend",
                               "environment": "prod"},
            str(app / "web"): {"project": "01J8Z4NONAME"},
        },
    )  # fmt: skip
    done = sigillo("me", cwd=app)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(
        f"\nSetup:   {app}\n"
        f"Project: my-website ({project.id})\n"
        "Env:     dev\n"
        "\nConfigured subfolders:\n"
        "  ./api  →  backend (prod)\n"
        "  ./web  →  01J8Z4NONAME\n"
    )


def test_me_setup_from_variables_and_flags(
    sigillo: Sigillo, home: Path, cli_server: Server
) -> None:
    write_config(home, {str(sigillo.cwd): {"project": "P1", "project-name": "saved-name"}})
    env = {"SIGILLO_TOKEN": cli_server.session, "SIGILLO_PROJECT": "P2"}
    done = sigillo("me", env=env)
    assert done.returncode == 0, done.stderr
    # a project from a variable has no saved name; the environment is not set anywhere
    assert "\nSetup:   $SIGILLO_PROJECT (environment variable)\nProject: P2\nEnv:     —\n" in (
        done.stdout
    )
    done = sigillo("me", env={"SIGILLO_TOKEN": cli_server.session, "SIGILLO_ENVIRONMENT": "qa"})
    assert "\nSetup:   " + str(sigillo.cwd) + "\nProject: saved-name (P1)\nEnv:     qa\n" in (
        done.stdout
    )


def test_me_coloured_headings_only_on_a_terminal(sigillo: Sigillo, cli_server: Server) -> None:
    env = {**sigillo.env, "SIGILLO_TOKEN": cli_server.session}
    code, output = in_terminal([*sigillo_command(), "me"], env, sigillo.cwd)
    assert code == 0, output
    assert b"\x1b[1mOrganizations:\x1b[0m" in output
    piped = sigillo("me", env={"SIGILLO_TOKEN": cli_server.session})
    assert "\x1b" not in piped.stdout


def test_missing_fields_print_a_dash() -> None:
    stdout = io.StringIO()
    document: dict[str, Any] = {"user": {"id": "u_3", "name": "", "email": ""}, "orgs": []}
    _identity(Output(stdout=stdout, stderr=io.StringIO(), env={}), document)
    assert stdout.getvalue() == "User:  —\nEmail: —\n"


def test_names_from_the_server_cannot_drive_the_terminal() -> None:
    stdout = io.StringIO()
    document = {
        "user": {"name": "Eve\x1b]0;owned\x07", "email": "eve@example.com"},
        "orgs": [{"id": "O1", "name": "Evil\x1b[2J Corp", "role": "member"}],
    }
    _identity(Output(stdout=stdout, stderr=io.StringIO(), env={}), document)
    assert "\x1b" not in stdout.getvalue()
    assert "User:  Eve\\u001b]0;owned\\u0007\n" in stdout.getvalue()
    assert "  Evil\\u001b[2J Corp  O1  member\n" in stdout.getvalue()


def test_me_not_logged_in(sigillo: Sigillo) -> None:
    done = sigillo("me")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: not logged in\n  sigillo login\n"


def test_me_with_an_invalid_session(sigillo: Sigillo) -> None:
    done = sigillo("me", env={"SIGILLO_TOKEN": "not-a-session"})
    assert done.returncode == 1
    assert done.stderr == "error: /api/v0/me failed (401): unauthorized\n  sigillo login\n"


def test_me_with_an_api_token_explains_why_it_fails(
    sigillo: Sigillo, cli_server: Server, project: Project
) -> None:
    token = api_token(cli_server, project)
    assert sigillo("login", "--token", token).returncode == 0
    done = sigillo("me")
    assert done.returncode == 1
    assert done.stderr == (
        "error: API tokens only work for secrets commands; sign in with sigillo login\n"
    )
    assert token not in done.stderr


def test_me_with_a_revoked_token(sigillo: Sigillo, cli_server: Server, project: Project) -> None:
    token = api_token(cli_server, project)
    with cli_server.api() as api:
        listed = api.get(f"/api/v0/projects/{project.id}/tokens").json()["tokens"]
        token_id = next(t["id"] for t in listed if t["name"] == "ci")
        assert api.delete(f"/api/v0/projects/{project.id}/tokens/{token_id}").status_code == 200
    done = sigillo("me", env={"SIGILLO_TOKEN": token})
    assert done.returncode == 1
    assert done.stderr.startswith("error: API tokens only work for secrets commands")


def test_me_against_an_unreachable_server(sigillo: Sigillo) -> None:
    done = sigillo("me", env={"SIGILLO_TOKEN": "whatever", "SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first == (
        "error: failed to fetch /api/v0/me: cannot connect to http://127.0.0.1:1: "
        "connection refused"
    )
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_me_takes_no_arguments(sigillo: Sigillo) -> None:
    done = sigillo("me", "extra")
    assert done.returncode == 2
    assert done.stderr == "error: unrecognized arguments: extra\n  see: sigillo me --help\n"
