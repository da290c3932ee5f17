"""The CLI starts fast: client commands never import the server's stack.

`sigillo --version` and `sigillo secrets` (signed in, against the real server) are run
under `python -X importtime`, which lists every module the process imported; none of the
server's frameworks, drivers or layers may be among them. bench/cli_start.py measures
what this buys in wall time.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.conftest import Project, Server, Sigillo

# The server stack (and libraries the CLI deliberately does without: httpx and msgspec cost
# more to import than a whole `sigillo secrets` round trip; http.client, with the `email`
# package it parses headers with, doubles the import time of the CLI's own HTTP client).
FORBIDDEN = (
    "litestar", "piccolo", "asyncpg", "aiosqlite", "jinja2", "uvicorn", "anyio", "httpx",
    "msgspec", "cryptography", "http.client", "email", "sigillo.store", "sigillo.api",
    "sigillo.web", "sigillo.services", "sigillo.domain", "sigillo.crypto", "sigillo.server",
    "sigillo.settings",
)  # fmt: skip


# `-X importtime` does not see modules loaded through importlib.import_module (main.py
# loads the command's module that way), so sys.modules is also listed when the CLI exits.
MODULES_AT_EXIT = """
import atexit, runpy, sys
atexit.register(lambda: print("modules at exit:", *sorted(sys.modules), file=sys.stderr))
sys.argv[0] = "sigillo"
runpy.run_module("sigillo", run_name="__main__", alter_sys=True)
"""


def imported(sigillo: Sigillo, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime -m sigillo ARGS`, then the same with sys.modules listed at
    exit; answers the first run and every module either way saw imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sigillo", *args],
        capture_output=True,
        text=True,
        env=sigillo.env,
        cwd=sigillo.cwd,
        timeout=60,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "sigillo" in modules, done.stderr[-2000:]  # importtime did report
    again = subprocess.run(
        [sys.executable, "-c", MODULES_AT_EXIT, *args],
        capture_output=True,
        text=True,
        env=sigillo.env,
        cwd=sigillo.cwd,
        timeout=60,
        check=False,
    )
    listed = [line for line in again.stderr.splitlines() if line.startswith("modules at exit:")]
    assert listed, again.stderr[-2000:]
    modules.update(listed[0].split()[3:])
    return done, modules


def heavy(modules: set[str], forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    return sorted(
        module
        for module in modules
        if any(module == name or module.startswith(name + ".") for name in forbidden)
    )


def test_version_imports_nothing_of_the_server(sigillo: Sigillo) -> None:
    done, modules = imported(sigillo, "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("sigillo ")
    assert heavy(modules) == []
    assert "sigillo.cli.client" not in modules  # not even the HTTP client
    assert "http.client" not in modules


def test_listing_secrets_imports_nothing_of_the_server(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    with cli_server.api() as api:
        dev = project.environments["dev"]
        body = {"secrets": {"FAST_START": "value"}}
        assert api.put(f"/api/v0/projects/{project.id}/environments/{dev}/secrets", json=body)
    done, modules = imported(signed_in, "secrets")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "FAST_START\n"
    assert heavy(modules) == []
    assert "sigillo.cli.commands.secrets" in modules  # seen at exit: the command did run
    assert "ssl" not in modules  # an http:// server: TLS is loaded for https only


@pytest.mark.parametrize(
    "args", [("me",), ("completion", "bash"), ("setup", "--project", "P", "--env", "dev")]
)
def test_other_client_commands_import_nothing_of_the_server(
    signed_in: Sigillo, args: tuple[str, ...]
) -> None:
    _, modules = imported(signed_in, *args)
    assert heavy(modules) == []
    assert "sigillo.cli.main" in modules


def _imported_by(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_the_check_would_catch_a_heavy_import(sigillo: Sigillo) -> None:
    """The detection itself works: the server command does import its stack, and
    http.client brings the email package."""
    assert "httpx" in heavy(_imported_by("import sigillo.server_commands, httpx"))
    standard = heavy(_imported_by("import http.client"))
    assert {"http.client", "email", "email.parser"} <= set(standard)
    assert "http" not in standard  # the package itself (HTTPStatus) is not forbidden


# `sigillo run` needs the matcher; the server's stack, never, and no event loop: asyncio
# alone costs more to import than the rest of its start-up (run/supervise.py).
RUN_FORBIDDEN = (*FORBIDDEN, "asyncio")


def test_run_imports_nothing_of_the_server(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    with cli_server.api() as api:
        dev = project.environments["dev"]
        body = {"secrets": {"FAST_RUN": "sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890"}}
        assert api.put(f"/api/v0/projects/{project.id}/environments/{dev}/secrets", json=body)
    done, modules = imported(signed_in, "run", "--", "true")
    assert done.returncode == 0, done.stderr[-2000:]
    assert heavy(modules, RUN_FORBIDDEN) == []
    assert "sigillo.cli.commands.run" in modules
