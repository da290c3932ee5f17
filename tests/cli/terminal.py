"""Running the CLI in a pseudo-terminal, as a user at a terminal does.

`in_terminal(argv, env, cwd, keys)` gives the child a PTY on stdin, stdout and stderr,
types `keys` (after the first output appears, when `wait_for` is given) and returns all it
wrote, with its exit code. `steps` is a dialogue instead: each (expected, keys) pair types
its keys once `expected` has appeared in what was written since the previous step. With
`controlling=True` the PTY is also the child's controlling terminal (`/dev/tty`).

`Terminal(argv, env)` is the same as an object to drive step by step, the PTY always the
controlling terminal of the process (a session of its own, as a terminal emulator starts a
shell): `type`, `wait_for`, `resize`, `modes` (the terminal's termios attributes, to check
they are restored), `finish`. `supervised(argv, tmp_path)` is the argv of a small program
running `argv` under `sigillo.cli.run.supervise.run_child` with the test redactor (which
masks `redactor_double.SECRET`), for tests that need no server.

Nothing here uses the terminal of the test runner.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["Terminal", "in_terminal", "supervised"]

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import json, os, sys
sys.path[:0] = [{root!r} + "/src", {root!r}]  # this tree's code, whatever is installed
from sigillo.cli.run.supervise import ChildError, run_child
from tests.cli.redactor_double import Exploding, Masker
argv = json.loads(sys.argv[1])
redactor = {{"masker": Masker, "exploding": Exploding, "none": None}}[sys.argv[2]]
try:
    code = run_child(argv, dict(os.environ), redactor)
except ChildError as error:
    sys.stderr.write("error: " + error.message + "\\n")
    code = error.exit_code
sys.exit(code)
"""


def supervised(argv: Sequence[str], tmp_path: Path, *, redactor: str = "masker") -> list[str]:
    """`python driver.py ARGV`: runs `argv` under run_child, as `sigillo run` would, with
    the redactor `masker` (masks SECRET), `exploding` (fails on `boom`) or `none`."""
    driver = tmp_path / "supervised.py"
    driver.write_text(DRIVER.format(root=str(ROOT)))
    return [sys.executable, str(driver), json.dumps(list(argv)), redactor]


def _kill_session(session: int) -> None:
    """SIGKILL every process of a session (Linux: found in /proc), jobs of a shell and
    processes in sessions of their own under it included."""
    found = {session}
    for _ in range(3):  # sessions started from within the session, such as Sigillo's PTY
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) in found or int(fields[1]) in found:  # session, or parent
                found.add(int(stat.parent.name))
    for pid in found - {os.getpid()}:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _make_controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def in_terminal(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    *,
    keys: Sequence[bytes] = (),
    wait_for: bytes | None = None,
    steps: Sequence[tuple[bytes, bytes]] = (),
    timeout: float = 30,
    columns: int = 100,
    controlling: bool = False,
) -> tuple[int, bytes]:
    controller, terminal = pty.openpty()
    os.set_blocking(controller, False)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(
        list(argv),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**env, "TERM": "xterm-256color"},
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_make_controlling_terminal if controlling else None,
    )
    os.close(terminal)
    output = bytearray()
    pending = list(keys)
    dialogue = list(steps)
    since = 0  # where the output after the last step begins
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if pending and (wait_for is None or wait_for in output):
                os.write(controller, pending.pop(0))
                wait_for = None
                time.sleep(0.05)
            if dialogue and dialogue[0][0] in output[since:]:
                since = len(output)
                os.write(controller, dialogue.pop(0)[1])
            ready, _, _ = select.select([controller], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: every terminal end in the child is closed
                    chunk = b""
                if not chunk and process.poll() is not None:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        else:
            _kill_session(process.pid)
            process.kill()
            raise AssertionError(f"timed out; output so far: {bytes(output)!r}")
        return process.wait(timeout=5), bytes(output)
    finally:
        os.close(controller)
        if process.poll() is None:
            _kill_session(process.pid)
            process.kill()


class Terminal:
    """`argv` in a PTY that is its controlling terminal; what it writes is collected by a
    thread. `output_processing=False` turns OPOST off, so that any CR seen was written.
    `Terminal.close_all()` after a test (a fixture) ends what a failed test left running."""

    opened: ClassVar[list[Terminal]] = []

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cwd: Path | None = None,
        rows: int = 24,
        columns: int = 80,
        output_processing: bool = True,
    ) -> None:
        self.controller, self.terminal = pty.openpty()
        self.resize(rows, columns)
        if not output_processing:
            attributes = termios.tcgetattr(self.terminal)
            attributes[1] &= ~termios.OPOST
            termios.tcsetattr(self.terminal, termios.TCSANOW, attributes)
        self.initial_modes = self.modes()
        self.process = subprocess.Popen(
            list(argv),
            stdin=self.terminal,
            stdout=self.terminal,
            stderr=self.terminal,
            env={**env, "TERM": "xterm-256color"},
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_make_controlling_terminal,
        )
        self.finished = False
        Terminal.opened.append(self)
        self.output = bytearray()
        self.arrivals: list[tuple[float, int]] = []  # (time, length of the output then)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.controller, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk
            self.arrivals.append((time.monotonic(), len(self.output)))

    def arrived(self, text: bytes) -> float:
        """When `text` had arrived whole (it must have)."""
        end = self.output.find(text) + len(text)
        assert end >= len(text), bytes(self.output)
        return next(at for at, length in self.arrivals if length >= end)

    def type(self, keys: bytes) -> None:
        os.write(self.controller, keys)

    def resize(self, rows: int, columns: int) -> None:
        fcntl.ioctl(self.terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def modes(self) -> list[Any]:
        """The terminal's termios attributes now."""
        return termios.tcgetattr(self.terminal)

    def wait_for_raw_mode(self, timeout: float = 30) -> None:
        """Wait until the terminal is in raw mode (no canonical input, no echo)."""
        deadline = time.monotonic() + timeout
        while self.modes()[3] & (termios.ICANON | termios.ECHO):
            assert time.monotonic() < deadline, f"never raw: {bytes(self.output)!r}"
            time.sleep(0.02)

    def wait_for(self, text: bytes, after: int = 0, timeout: float = 30) -> int:
        """Wait until `text` appears after offset `after`; where it ends."""
        deadline = time.monotonic() + timeout
        while (found := self.output.find(text, after)) < 0:
            assert time.monotonic() < deadline, f"{text!r} never came: {bytes(self.output)!r}"
            assert self.process.poll() is None or self.reader.is_alive(), bytes(self.output)
            time.sleep(0.02)
        return found + len(text)

    def steps(self, dialogue: Sequence[tuple[bytes, bytes]], after: int = 0) -> int:
        """For each (expected, keys): wait for `expected`, then type `keys`."""
        for expected, keys in dialogue:
            after = self.wait_for(expected, after)
            if keys:
                self.type(keys)
        return after

    def finish(self, timeout: float = 30) -> int:
        """The exit code; `final_modes` are then the terminal's modes at the end."""
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:  # a failed test: nothing of it may stay behind
                _kill_session(self.process.pid)
                self.process.kill()
                self.process.wait()
            self.final_modes = self.modes()
            os.close(self.terminal)
            self.reader.join(5)
            os.close(self.controller)
            self.finished = True
        return code

    @classmethod
    def close_all(cls) -> None:
        while cls.opened:
            terminal = cls.opened.pop()
            if not terminal.finished:
                with contextlib.suppress(Exception):
                    terminal.finish(timeout=0.1)
