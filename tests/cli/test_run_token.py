"""Sigillo's own credential and `sigillo run` (issue 12, item 2): a token reads every secret
of its scope, so the child never gets SIGILLO_TOKEN unless `--keep-token`, and the token in
use is masked in the child's output whatever the child finds it in."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Server
from tests.cli.test_run_kinds import MASKED, _project, _put, _runner


def test_the_child_does_not_get_sigillo_token(cli_server: Server, tmp_path: Path) -> None:
    project = _project(cli_server)
    _put(cli_server, project, {"PORT": "3000"}, {"PORT": "plain"})
    sigillo = _runner(cli_server, project, tmp_path)
    token = sigillo.env["SIGILLO_TOKEN"]
    done = sigillo("run", "--", "env")
    assert done.returncode == 0, done.stderr
    names = {line.partition("=")[0] for line in done.stdout.splitlines()}
    assert "SIGILLO_TOKEN" not in names
    assert {"PORT", "SIGILLO"} <= names
    assert "PORT=3000" in done.stdout.splitlines()  # plain values still print
    assert token not in done.stdout + done.stderr


def test_keep_token_passes_it_and_it_stays_masked(cli_server: Server, tmp_path: Path) -> None:
    project = _project(cli_server)
    _put(cli_server, project, {"PORT": "3000"}, {"PORT": "plain"})
    sigillo = _runner(cli_server, project, tmp_path)
    token = sigillo.env["SIGILLO_TOKEN"]
    script = 'test -n "$SIGILLO_TOKEN" && echo present; echo "t=$SIGILLO_TOKEN"'
    script += '; echo "$SIGILLO_TOKEN" >&2'
    done = sigillo("run", "--keep-token", "--command", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"present\nt={MASKED}\n"
    assert done.stderr.endswith(f"{MASKED}\n")
    assert token not in done.stdout + done.stderr


def test_a_token_read_from_the_config_file_is_masked(cli_server: Server, tmp_path: Path) -> None:
    """Signed in through the config file, with no SIGILLO_TOKEN at all: a child that reads
    the config file still cannot print the token."""
    project = _project(cli_server)
    _put(cli_server, project, {"PORT": "3000"}, {"PORT": "plain"})
    sigillo = _runner(cli_server, project, tmp_path)
    token = sigillo.env.pop("SIGILLO_TOKEN")
    saved = sigillo("login", "--token", token, input="")
    assert saved.returncode == 0, saved.stderr
    config = sigillo.home / ".sigillo" / "config.json"
    assert token in config.read_text()
    done = sigillo("run", "--", "cat", str(config))
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr
    assert MASKED in done.stdout
