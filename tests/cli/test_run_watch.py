"""`sigillo run --watch` end to end (issue 18): the real executable against the real server,
its child a real process that prints a marker derived from its secret and sleeps.

A change made through the API restarts the child within 2 s with the new environment (its
value still masked in the output), also in a terminal, where Ctrl-C then ends everything; a
child that ignores SIGTERM is killed 5 s later; a change in another environment restarts
nothing; with `--watch-signal HUP` the child gets the signal and reads the rewritten mount,
without a restart, and the new value is masked too; the child's own exit status ends
Sigillo; a credential that stops working ends the watching, not the child; a server that
goes away is retried (said once) and followed again once back; the refusals of the options.
"""

from __future__ import annotations

import hashlib
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from sigillo.cli.run.redaction import MASK
from tests.cli.conftest import Project, Server, Sigillo, clean_environment, sigillo_command
from tests.cli.terminal import Terminal
from tests.live_server import create_user_and_sign_in, free_port, wait_healthy

CHILD = r"""
import hashlib, os, signal, sys, time

def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()[:12]

def mounted():
    with open(sys.argv[1]) as mount:
        for line in mount:
            name, _, value = line.strip().partition("=")
            if name == "WATCHED":
                return value.strip("'\"")
    return ""

def hup(number, frame):
    value = mounted()
    print(f"hup pid={os.getpid()} digest={digest(value)} value={value}", flush=True)

signal.signal(signal.SIGHUP, hup)
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
value = os.environ.get("WATCHED", "")
print(f"ready pid={os.getpid()} digest={digest(value)} value={value}", flush=True)
while True:
    time.sleep(0.1)
"""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def value(tag: str) -> str:
    return f"watched-{tag}-{uuid.uuid4().hex}"


def put(server: Server, project: Project, environment: str, **values: str) -> None:
    with server.api() as api:
        target = f"/api/v0/projects/{project.id}/environments/{environment}/secrets"
        response = api.put(target, json={"secrets": values})
        assert response.status_code == 200, response.text


class Running:
    """`sigillo run …` in the background: its stdout and stderr read line by line."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.seen_out: list[str] = []
        self.seen_err: list[str] = []
        for stream, into in ((process.stdout, self.out), (process.stderr, self.err)):
            threading.Thread(target=_pump, args=(stream, into), daemon=True).start()

    def line(self, starting: str, within: float = 10.0) -> str | None:
        """The next stdout line starting with `starting`, or None after `within` s."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.out.get(timeout=left)
            except queue.Empty:
                return None
            self.seen_out.append(line)
            if line.startswith(starting):
                return line
        return None

    def errors(self) -> str:
        while not self.err.empty():
            self.seen_err.append(self.err.get())
        return "".join(self.seen_err)

    def said(self, text: str, within: float = 5.0) -> bool:
        """Whether stderr says `text` within `within` seconds."""
        deadline = time.monotonic() + within
        while text not in self.errors():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def everything(self) -> str:
        while not self.out.empty():
            self.seen_out.append(self.out.get())
        return "".join(self.seen_out) + self.errors()


def _pump(stream: object, into: queue.Queue[str]) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        into.put(raw.decode("utf-8", "replace"))


@contextmanager
def running(sigillo: Sigillo | Any, *args: str) -> Iterator[Running]:
    """`sigillo run ARGS` with the environment and directory of `sigillo` (its env, cwd)."""
    process = subprocess.Popen(
        [*sigillo_command(), "run", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sigillo.env,
        cwd=sigillo.cwd,
    )
    try:
        yield Running(process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def child(tmp_path: Path) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return ["python3", str(script)]


def test_a_change_restarts_the_child_within_2_s(
    signed_in: Sigillo, cli_server: Server, project: Project, child: list[str]
) -> None:
    first, second = value("first"), value("second")
    put(cli_server, project, "dev", WATCHED=first)
    with running(signed_in, "--watch", "--", *child, "unused") as run:
        ready = run.line("ready")
        assert ready is not None, run.everything()
        assert f"digest={digest(first)} value={MASK.decode()}" in ready
        changed_at = time.monotonic()
        put(cli_server, project, "dev", WATCHED=second)
        again = run.line("ready", within=5)
        took = time.monotonic() - changed_at
        assert again is not None, run.everything()
        assert took < 2, run.everything()
        assert f"digest={digest(second)} value={MASK.decode()}" in again
        assert again.split()[1] != ready.split()[1]  # another process
        assert run.said("sigillo: secrets changed; restarting the command\n")
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(timeout=10) == 128 + signal.SIGTERM
        output = run.everything()
    assert first not in output
    assert second not in output


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(
    signed_in: Sigillo, cli_server: Server, project: Project, child: list[str]
) -> None:
    put(cli_server, project, "dev", WATCHED=value("first"), IGNORE_TERM="yes-ignore-it")
    with running(signed_in, "--watch", "--", *child, "unused") as run:
        ready = run.line("ready")
        assert ready is not None, run.everything()
        changed_at = time.monotonic()
        second = value("second")
        put(cli_server, project, "dev", WATCHED=second)
        again = run.line("ready", within=15)
        took = time.monotonic() - changed_at
        assert again is not None, run.everything()
        assert 4.5 < took < 10, run.everything()  # SIGKILL 5 s after the SIGTERM
        assert f"digest={digest(second)}" in again
        # the child ignores the SIGTERM Sigillo forwards: it is ended here, by its pid
        os.kill(int(again.split()[1].removeprefix("pid=")), signal.SIGKILL)
        assert run.process.wait(timeout=10) == 128 + signal.SIGKILL


def test_a_change_elsewhere_does_not_restart_it(
    signed_in: Sigillo, cli_server: Server, project: Project, child: list[str]
) -> None:
    put(cli_server, project, "dev", WATCHED=value("dev"))
    with running(signed_in, "--watch", "--", *child, "unused") as run:
        assert run.line("ready") is not None, run.everything()
        put(cli_server, project, "prod", WATCHED=value("prod"))
        put(cli_server, project, "preview", OTHER=value("preview"))
        assert run.line("ready", within=2.5) is None
        assert run.process.poll() is None
        assert "restarting" not in run.errors()


def test_watch_signal_sends_it_and_masks_the_new_value(
    signed_in: Sigillo, cli_server: Server, project: Project, child: list[str]
) -> None:
    first, second = value("first"), value("second")
    put(cli_server, project, "dev", WATCHED=first)
    args = ("--watch", "--watch-signal", "HUP", "--mount", "secrets.env", "--", *child)
    with running(signed_in, *args, "secrets.env") as run:
        ready = run.line("ready")
        assert ready is not None, run.everything()
        put(cli_server, project, "dev", WATCHED=second)
        hup = run.line("hup", within=5)
        assert hup is not None, run.everything()
        assert f"digest={digest(second)} value={MASK.decode()}" in hup
        assert hup.split()[1] == ready.split()[1]  # the same process: not restarted
        assert run.process.poll() is None
        assert run.said("sigillo: secrets changed; sending SIGHUP\n")
        output = run.everything()
    assert "restarting" not in output
    assert first not in output
    assert second not in output
    assert not (signed_in.cwd / "secrets.env").exists()  # the mount is gone afterwards


def test_the_childs_own_exit_status_ends_sigillo(signed_in: Sigillo) -> None:
    started = time.monotonic()
    done = signed_in("run", "--watch", "--", "sh", "-c", "sleep 0.5; exit 7", timeout=30)
    assert done.returncode == 7, done.stderr
    assert time.monotonic() - started < 10
    assert "sigillo:" not in done.stderr


def test_a_credential_that_stops_working_ends_the_watching_not_the_child(
    signed_in: Sigillo, cli_server: Server, project: Project, child: list[str]
) -> None:
    put(cli_server, project, "dev", WATCHED=value("dev"))
    with cli_server.api() as api:
        made = api.post(f"/api/v0/projects/{project.id}/tokens", json={"name": "watch"}).json()
    signed_in.env["SIGILLO_TOKEN"] = made["key"]
    with running(signed_in, "--watch", "--", *child, "unused") as run:
        ready = run.line("ready")
        assert ready is not None, run.everything()
        with cli_server.api() as api:
            revoked = api.delete(f"/api/v0/projects/{project.id}/tokens/{made['id']}")
            assert revoked.status_code in (200, 204), revoked.text
        put(cli_server, project, "dev", WATCHED=value("later"))  # wakes the pending poll
        deadline = time.monotonic() + 10
        while "stopped watching" not in run.errors() and time.monotonic() < deadline:
            time.sleep(0.1)
        errors = run.errors()
        assert "sigillo: stopped watching for changes:" in errors, run.everything()
        assert "(401); the command keeps running" in errors
        assert "restarting" not in errors
        assert run.process.poll() is None  # the child runs on
        assert run.line("ready", within=0.5) is None


@contextmanager
def own_server(data_dir: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `sigillo server` of this test's own on `port` (SQLite in `data_dir`), killed at
    the end if still running."""
    clean = {k: v for k, v in clean_environment(data_dir, "").items() if k != "SIGILLO_API_URL"}
    command = [*sigillo_command(), "server", "--data-dir", str(data_dir), "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=clean)
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}", log)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_an_unreachable_server_is_retried_and_the_child_runs_on(
    tmp_path: Path, home: Path, child: list[str]
) -> None:
    data, port, log = tmp_path / "data", free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    with own_server(data, port, log) as server:
        session = create_user_and_sign_in(
            base, data, "ops@example.com", "a-long-passw0rd", command=sigillo_command()
        )
        headers = {"Authorization": f"Bearer {session}"}
        org = httpx.post(f"{base}/api/v0/orgs", json={"name": "A"}, headers=headers).json()
        made = httpx.post(
            f"{base}/api/v0/projects", json={"name": "App", "orgId": org["id"]}, headers=headers
        ).json()
        secrets = f"{base}/api/v0/projects/{made['id']}/environments/dev/secrets"
        first = value("first")
        assert httpx.put(secrets, json={"secrets": {"WATCHED": first}}, headers=headers).is_success
        env = clean_environment(home, base) | {
            "SIGILLO_TOKEN": session, "SIGILLO_PROJECT": made["id"], "SIGILLO_ENVIRONMENT": "dev",
        }  # fmt: skip
        work = tmp_path / "work"
        work.mkdir()
        with running(SimpleNamespace(env=env, cwd=work), "--watch", "--", *child, "x") as run:
            ready = run.line("ready")
            assert ready is not None, run.everything()
            server.kill()
            server.wait(timeout=10)
            deadline = time.monotonic() + 10
            while "cannot watch" not in run.errors() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(2.5)  # several attempts meanwhile
            errors = run.errors()
            assert errors.count("sigillo: cannot watch for changes (") == 1, errors
            assert "; retrying, the command runs on\n" in errors
            assert run.process.poll() is None
            with own_server(data, port, log):
                second = value("second")
                changed = httpx.put(secrets, json={"secrets": {"WATCHED": second}}, headers=headers)
                assert changed.is_success
                again = run.line("ready", within=30)
                assert again is not None, run.everything()
                assert f"digest={digest(second)}" in again
                assert run.said("sigillo: watching for changes again\n")
                assert run.said("sigillo: secrets changed; restarting the command\n")
                output = run.everything()
    assert first not in output
    assert second not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--watch-signal", "HUP"), "error: --watch-signal needs --watch\n"),
        (
            ("--watch", "--at", "2026-01-01T00:00:00Z"),
            "error: --watch follows the present; --at reads the past, which does not change\n",
        ),
        (
            ("--watch", "--watch-signal", "NOPE"),
            "error: unknown signal NOPE for --watch-signal\n",
        ),
    ],
)
def test_option_errors(signed_in: Sigillo, args: tuple[str, ...], message: str) -> None:
    done = signed_in("run", *args, "--", "true")
    assert done.returncode == 1
    assert done.stderr.startswith(message), done.stderr


def test_in_a_terminal_a_restart_keeps_the_terminal_and_ctrl_c_ends_all(
    signed_in: Sigillo, cli_server: Server, project: Project, child: list[str]
) -> None:
    first, second = value("first"), value("second")
    put(cli_server, project, "dev", WATCHED=first)
    terminal = Terminal([*sigillo_command(), "run", "--watch", "--", *child, "x"], signed_in.env)
    try:
        after = terminal.wait_for(b"ready pid=")
        terminal.wait_for_raw_mode()
        put(cli_server, project, "dev", WATCHED=second)
        after = terminal.wait_for(b"sigillo: secrets changed; restarting the command\r\n", after)
        terminal.wait_for(f"digest={digest(second)} value={MASK.decode()}".encode(), after)
        terminal.wait_for_raw_mode()
        terminal.type(b"\x03")  # Ctrl-C: the child's, through its PTY; no restart follows
        code = terminal.finish()
    finally:
        Terminal.close_all()
    text = bytes(terminal.output).decode("utf-8", "replace")
    assert code == 128 + signal.SIGINT, text  # the child died of the SIGINT: no restart
    assert terminal.final_modes == terminal.initial_modes
    assert text.count("restarting") == 1
    assert first not in text
    assert second not in text
