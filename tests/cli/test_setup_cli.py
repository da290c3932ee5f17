"""`sigillo setup` (behaviour.md 11.4) and its picker (src/sigillo/cli/picker.py)."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sigillo.cli.errors import CliError
from sigillo.cli.output import Output
from sigillo.cli.picker import pick
from tests.cli.conftest import Project, Server, Sigillo, sigillo_command
from tests.cli.terminal import in_terminal

DOWN, UP, ENTER, CTRL_C, CTRL_D = b"\x1b[B", b"\x1b[A", b"\r", b"\x03", b"\x04"
HIDE, SHOW = b"\x1b[?25l", b"\x1b[?25h"


def config(home: Path) -> dict[str, Any]:
    return json.loads((home / ".sigillo" / "config.json").read_text())  # type: ignore[no-any-return]


def write_config(home: Path, scoped: dict[str, dict[str, str]]) -> None:
    (home / ".sigillo").mkdir(exist_ok=True)
    (home / ".sigillo" / "config.json").write_text(json.dumps({"scoped": scoped}))


@pytest.fixture
def token(sigillo: Sigillo, cli_server: Server) -> Sigillo:
    """The CLI with a session in SIGILLO_TOKEN and nothing else resolved."""
    sigillo.env["SIGILLO_TOKEN"] = cli_server.session
    return sigillo


# --- with flags -------------------------------------------------------------------------


def test_setup_with_flags_saves_the_current_directory(
    token: Sigillo, home: Path, project: Project
) -> None:
    write_config(home, {str(token.cwd): {"token": "kept", "api-url": "http://kept.example"}})
    done = token("setup", "--project", project.id, "--env", "dev")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == (
        f"✔ Saved setup for {token.cwd}\n"
        f"  project:     {project.name} ({project.id})\n"
        "  env:         dev\n"
    )
    assert config(home)["scoped"] == {
        str(token.cwd): {
            "token": "kept",
            "api-url": "http://kept.example",
            "project": project.id,
            "project-name": project.name,
            "environment": "dev",
        }
    }


def test_setup_then_commands_in_subdirectories_use_it(
    token: Sigillo, home: Path, project: Project
) -> None:
    assert token("setup", "-p", project.id, "-c", "preview").returncode == 0
    sub = token.cwd / "src" / "deep"
    sub.mkdir(parents=True)
    done = token("me", cwd=sub)
    assert f"Setup:   {token.cwd}\nProject: {project.name} ({project.id})\nEnv:     preview\n" in (
        done.stdout
    )


def test_env_flag_wins_over_config_flag(token: Sigillo, home: Path, project: Project) -> None:
    done = token("setup", "--project", project.id, "-c", "dev", "--env", "prod")
    assert done.returncode == 0, done.stderr
    assert config(home)["scoped"][str(token.cwd)]["environment"] == "prod"


def test_setup_replaces_a_previous_setup(token: Sigillo, home: Path, project: Project) -> None:
    old = {"project": "OLD", "project-name": "old", "environment": "x"}
    write_config(home, {str(token.cwd): old})
    assert token("setup", "--project", project.id, "--env", "prod").returncode == 0
    assert config(home)["scoped"][str(token.cwd)] == {
        "project": project.id,
        "project-name": project.name,
        "environment": "prod",
    }


def test_project_not_found_lists_the_available_projects(
    token: Sigillo, home: Path, project: Project
) -> None:
    done = token("setup", "--project", "website", "--env", "dev")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[:2] == [
        "error: project website was not found or you do not have access to it",
        "available projects:",
    ]
    assert f"  - Acme / {project.name} ({project.id})" in lines
    assert not (home / ".sigillo" / "config.json").exists()


def test_environment_must_be_an_existing_slug(token: Sigillo, home: Path, project: Project) -> None:
    for wrong in ("staging", project.environments["dev"], "DEV"):
        done = token("setup", "--project", project.id, "--env", wrong)
        assert done.returncode == 1
        assert done.stderr == (
            f"error: env {wrong} was not found in project {project.id}\n"
            "available envs:\n  - Dev (dev)\n  - Preview (preview)\n  - Prod (prod)\n"
        )
    assert not (home / ".sigillo" / "config.json").exists()


def test_project_without_environments(token: Sigillo, cli_server: Server, project: Project) -> None:
    with cli_server.api() as api:
        for environment_id in project.environments.values():
            deleted = api.delete(f"/api/v0/projects/{project.id}/environments/{environment_id}")
            assert deleted.status_code == 200, deleted.text
    done = token("setup", "--project", project.id, "--env", "dev")
    assert done.returncode == 1
    assert done.stderr == f"error: no envs found in project {project.id}\n"


def test_not_interactive_needs_the_flags(token: Sigillo, project: Project) -> None:
    done = token("setup")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: --project is required\n  sigillo setup --project <PROJECT_ID> --env <SLUG>\n"
    )
    done = token("setup", "--project", project.id)
    assert done.returncode == 1
    assert done.stderr == (
        f"error: --env/--config is required\n  sigillo setup --project {project.id} --env <SLUG>\n"
    )


def test_a_terminal_on_stdin_alone_is_not_interactive(token: Sigillo, project: Project) -> None:
    """Pickers need stdin and stdout to be terminals: piped stdout means a script."""
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [*sigillo_command(), "setup", "--project", project.id],
            stdin=terminal,
            capture_output=True,
            text=True,
            env=token.env,
            cwd=token.cwd,
            timeout=30,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 1
    assert done.stderr.startswith("error: --env/--config is required\n")


def test_setup_not_logged_in(sigillo: Sigillo, project: Project) -> None:
    done = sigillo("setup", "--project", project.id, "--env", "dev")
    assert done.returncode == 1
    assert done.stderr == "error: not logged in\n  sigillo login\n"


def test_setup_with_an_api_token(token: Sigillo, cli_server: Server, project: Project) -> None:
    with cli_server.api() as api:
        key = api.post(f"/api/v0/projects/{project.id}/tokens", json={"name": "ci"}).json()["key"]
    done = token("setup", "--project", project.id, "--env", "dev", env={"SIGILLO_TOKEN": key})
    assert done.returncode == 1
    assert done.stderr == (
        "error: API tokens only work for secrets commands; sign in with sigillo login\n"
    )


def test_setup_with_an_invalid_session(token: Sigillo, project: Project) -> None:
    done = token("setup", "--project", project.id, "--env", "dev", env={"SIGILLO_TOKEN": "nope"})
    assert done.returncode == 1
    assert done.stderr == "error: failed to fetch project (401): unauthorized\n  sigillo login\n"


def test_setup_against_an_unreachable_server(token: Sigillo) -> None:
    done = token("setup", "-p", "P", "--env", "dev", env={"SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        "error: cannot connect to http://127.0.0.1:1: connection refused"
    )
    assert "Traceback" not in done.stderr


def test_setup_usage_errors(token: Sigillo) -> None:
    for args in (("--project",), ("--env",), ("-c",)):
        done = token("setup", *args)
        assert done.returncode == 2, args
        assert done.stderr.endswith("\n  see: sigillo setup --help\n"), args


# --- interactively ----------------------------------------------------------------------


def project_index(cli_server: Server, project: Project) -> tuple[int, str]:
    """Where the CLI's picker lists `project`, and its label there."""
    with cli_server.api() as api:
        projects = api.get("/api/v0/projects").json()["projects"]
    many_orgs = len({p["orgId"] for p in projects}) > 1
    index = next(i for i, p in enumerate(projects) if p["id"] == project.id)
    label = f"{project.name} ({project.id})"
    return index, f"{projects[index]['orgName']} / {label}" if many_orgs else label


def setup_in_terminal(token: Sigillo, *args: str, keys: list[bytes]) -> tuple[int, bytes]:
    return in_terminal(
        [*sigillo_command(), "setup", *args],
        token.env,
        token.cwd,
        keys=keys,
        wait_for=b"Select ",
    )


def test_pick_project_and_environment_with_keys(
    token: Sigillo, home: Path, cli_server: Server, project: Project
) -> None:
    index, label = project_index(cli_server, project)
    # down past the project and back up; `j` to Preview, `j` to Prod, `k` back to Preview
    keys = [DOWN] * (index + 1) + [UP, ENTER, b"j", b"j", b"k", ENTER]
    code, output = setup_in_terminal(token, keys=keys)
    text = output.decode()
    assert code == 0, text
    assert "\x1b[34m?\x1b[0m \x1b[1mSelect project\x1b[0m" in text
    assert f"\x1b[36m\u276f\x1b[0m \x1b[1m{label}\x1b[0m" in text  # the current option
    assert f"Select project \x1b[36m{label}\x1b[0m" in text
    assert "Select env \x1b[36mPreview (preview)\x1b[0m" in text
    assert f"Saved setup for {token.cwd}\r\n" in text
    assert output.count(HIDE) == 2
    assert output.count(SHOW) == 2
    assert output.rindex(SHOW) > output.rindex(HIDE)
    assert config(home)["scoped"][str(token.cwd)] == {
        "project": project.id,
        "project-name": project.name,
        "environment": "preview",
    }


def test_pick_only_the_environment(token: Sigillo, home: Path, project: Project) -> None:
    code, output = setup_in_terminal(token, "-p", project.id, keys=[DOWN, DOWN, ENTER])
    assert code == 0, output
    assert b"Select project" not in output
    assert config(home)["scoped"][str(token.cwd)]["environment"] == "prod"


def test_picker_starts_at_the_current_setup(token: Sigillo, home: Path, project: Project) -> None:
    write_config(home, {str(token.cwd): {"project": project.id, "environment": "prod"}})
    code, _ = setup_in_terminal(token, keys=[ENTER, ENTER])
    assert code == 0
    assert config(home)["scoped"][str(token.cwd)]["environment"] == "prod"
    assert config(home)["scoped"][str(token.cwd)]["project"] == project.id


@pytest.mark.parametrize(
    "keys", [[CTRL_C], [CTRL_D], [ENTER, CTRL_C]], ids=["ctrl-c", "ctrl-d", "ctrl-c-at-env"]
)
def test_cancel_restores_the_cursor_and_saves_nothing(
    token: Sigillo, home: Path, project: Project, keys: list[bytes]
) -> None:
    code, output = setup_in_terminal(token, keys=keys)
    assert code == 1
    assert output.endswith(b"\x1b[1;31merror\x1b[0m: setup cancelled\r\n")
    assert b"Traceback" not in output
    assert output.count(HIDE) == output.count(SHOW) >= 1
    assert output.rindex(SHOW) > output.rindex(HIDE)
    assert not (home / ".sigillo" / "config.json").exists()


def test_no_projects_at_all(token: Sigillo, cli_server: Server, tmp_path: Path) -> None:
    """A user who belongs to no org sees `no projects found`; a fresh account has none."""
    session = _user_without_projects(cli_server, tmp_path)
    token.env["SIGILLO_TOKEN"] = session
    code, output = in_terminal([*sigillo_command(), "setup"], token.env, token.cwd)
    assert code == 1
    assert output == "\x1b[1;31merror\x1b[0m: no projects found — create one first\r\n".encode()


def _user_without_projects(cli_server: Server, tmp_path: Path) -> str:
    return cli_server.new_account("nobody")[1]


# --- the picker's numbered fallback -----------------------------------------------------


def fallback(answers: list[str] | Callable[[], str]) -> tuple[int, str]:
    """`pick` where raw mode is impossible (a pipe, not a terminal)."""
    stdout = io.StringIO()
    read, write = os.pipe()
    try:
        reader = answers if callable(answers) else iter(answers).__next__
        chosen = pick(
            "Select env",
            ["Dev (dev)", "Preview (preview)", "Prod (prod)"],
            Output(stdout=stdout, stderr=io.StringIO(), env={}),
            default=1,
            fd=read,
            read_line=reader,
        )
    finally:
        os.close(read)
        os.close(write)
    return chosen, stdout.getvalue()


def test_fallback_shows_a_numbered_list() -> None:
    chosen, shown = fallback(["3"])
    assert chosen == 2
    assert shown == (
        "? Select env\n"
        "  1) Dev (dev)\n"
        "  2) Preview (preview) (default)\n"
        "  3) Prod (prod)\n"
        "Enter number: ✔ Select env Prod (prod)\n"
    )


@pytest.mark.parametrize("answer", ["", "0", "4", "two", "-1"])
def test_fallback_invalid_answer_picks_the_default(answer: str) -> None:
    assert fallback([answer])[0] == 1


@pytest.mark.parametrize("error", [EOFError, KeyboardInterrupt])
def test_fallback_cancelled(error: type[BaseException]) -> None:
    def read() -> str:
        raise error

    with pytest.raises(CliError, match="setup cancelled"):
        fallback(read)
