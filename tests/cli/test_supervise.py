"""`sigillo run`'s process supervisor with real child processes (behaviour.md 12.2, 12.3).

Most tests call `run_child` in this process with pipes for Sigillo's stdout and stderr.
Signal and terminal tests run it in a small driver process: in a pseudo-terminal that is
the driver's controlling terminal (case a), or in a session of its own with no terminal,
signalled with `kill` only (case b).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sigillo.cli.run.supervise import ChildError, run_child, shell_command
from tests.cli.redactor_double import MASK, SECRET, Exploding, Masker

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
PY = sys.executable

DRIVER = """
import json, os, sys
sys.path.insert(0, {root!r})
from sigillo.cli.run.supervise import run_child
from tests.cli.redactor_double import Masker
argv, redact = json.loads(sys.argv[1]), sys.argv[2] == "1"
sys.exit(run_child(argv, dict(os.environ), Masker if redact else None))
"""


class Captured:
    def __init__(self, fd: int) -> None:
        self.data = bytearray()
        self.arrivals: list[tuple[float, bytes]] = []
        self.thread = threading.Thread(target=self._read, args=(fd,), daemon=True)
        self.thread.start()

    def _read(self, fd: int) -> None:
        while chunk := os.read(fd, 1 << 16):
            self.arrivals.append((time.monotonic(), chunk))
            self.data += chunk
        os.close(fd)


def run(
    argv: list[str],
    redactor: Callable[[], Masker] | None = Masker,
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, bytes, bytes, Captured]:
    """run_child with pipes as Sigillo's stdout and stderr (and stdin when given)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    out, err = Captured(out_r), Captured(err_r)
    stdin_fd = os.open(os.devnull, os.O_RDONLY)
    feeder = None
    if stdin is not None:
        os.close(stdin_fd)
        stdin_fd, in_w = os.pipe()
        feeder = threading.Thread(target=_feed, args=(in_w, stdin), daemon=True)
        feeder.start()
    try:
        code = run_child(
            argv, env or ENV, redactor, stdin_fd=stdin_fd, stdout_fd=out_w, stderr_fd=err_w
        )
    finally:
        for fd in (out_w, err_w, stdin_fd):
            os.close(fd)
        out.thread.join(30)
        err.thread.join(30)
    return code, bytes(out.data), bytes(err.data), out


def _feed(fd: int, data: bytes) -> None:
    with open(fd, "wb") as pipe:
        pipe.write(data)


def python(code: str, *args: str) -> list[str]:
    return [PY, "-c", code, *args]


# -- argv, environment, shell ------------------------------------------------------------

ARGS = ["a b", "it's", 'say "hi"', "", "ünïcødé ✓", "$HOME", "*", "--", "-c", "back\\slash"]


@pytest.mark.parametrize("redactor", [Masker, None])
def test_argv_is_passed_exactly(redactor: Callable[[], Masker] | None) -> None:
    code, out, _, _ = run(
        python("import json, sys; print(json.dumps(sys.argv[1:]))", *ARGS), redactor
    )
    assert code == 0
    assert json.loads(out) == ARGS


def test_environment_is_exactly_the_one_given() -> None:
    env = {**ENV, "GREETING": "hello world", "EMPTY": ""}
    code, out, _, _ = run(python("import json, os; print(json.dumps(dict(os.environ)))"), env=env)
    assert code == 0
    assert json.loads(out) == env


def test_shell_command_uses_known_shells_only() -> None:
    assert shell_command("echo hi", {"SHELL": "/bin/bash"}) == ["/bin/bash", "-c", "echo hi"]
    assert shell_command("x", {"SHELL": "/usr/local/bin/fish"})[0] == "/usr/local/bin/fish"
    for shell in ("/usr/bin/python3", "bash", "", "/bin/bashful"):
        argv = shell_command("echo hi", {"SHELL": shell, "PATH": os.environ["PATH"]})
        assert argv[0].endswith("/sh")
        assert argv[1:] == ["-c", "echo hi"]
    assert shell_command("x", {})[0].endswith("sh")


def test_shell_command_runs() -> None:
    argv = shell_command('printf "%s|" "$GREETING" a\\ b', {"PATH": os.environ["PATH"]})
    code, out, _, _ = run(argv, env={**ENV, "GREETING": "hi there"})
    assert (code, out) == (0, b"hi there|a b|")


# -- exit status -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [0, 1, 2, 42, 255])
@pytest.mark.parametrize("redactor", [Masker, None])
def test_exit_status_is_the_childs(status: int, redactor: Callable[[], Masker] | None) -> None:
    assert run(["sh", "-c", f"exit {status}"], redactor)[0] == status


@pytest.mark.parametrize("name", ["KILL", "TERM", "SEGV"])
def test_death_by_signal_is_128_plus_n(name: str) -> None:
    code = run(["sh", "-c", f"kill -{name} $$"])[0]
    assert code == 128 + signal.Signals[f"SIG{name}"]


@pytest.mark.parametrize("redactor", [Masker, None])
def test_command_not_found_is_127(redactor: Callable[[], Masker] | None) -> None:
    with pytest.raises(ChildError) as raised:
        run(["no-such-command-sigillo"], redactor)
    assert raised.value.exit_code == 127
    assert raised.value.message == "command not found: no-such-command-sigillo"


def test_not_executable_is_126(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(ChildError) as raised:
        run([str(script)])
    assert raised.value.exit_code == 126


# -- streams -----------------------------------------------------------------------------


def test_stdin_is_passed_through() -> None:
    data = os.urandom(1_000_000)
    code, out, _, _ = run(["cat"], stdin=data)
    assert code == 0
    assert out == data


def test_without_redaction_streams_are_inherited() -> None:
    child = "import os, sys; print(os.readlink('/proc/self/fd/1')); print('x', file=sys.stderr)"
    out_r, out_w = os.pipe()
    captured = Captured(out_r)
    try:
        assert run_child(python(child), ENV, None, stdout_fd=out_w, stderr_fd=out_w) == 0
        own = os.readlink(f"/proc/self/fd/{out_w}")
    finally:
        os.close(out_w)
        captured.thread.join(10)
    assert sorted(captured.data.decode().split()) == sorted([own, "x"])


FLOOD = """
import os
out, err = b"o" * 65536, b"e" * 65536
for _ in range(320):
    os.write(1, out)
    os.write(2, err)
"""


def test_flooding_both_streams_does_not_deadlock() -> None:
    started = time.monotonic()
    code, out, err, _ = run(python(FLOOD))
    assert code == 0
    assert len(out) == len(err) == 320 * 65536
    assert out == b"o" * len(out)
    assert err == b"e" * len(err)
    assert time.monotonic() - started < 20


def test_twenty_million_bytes_pass_unchanged() -> None:
    code, out, _, _ = run(python("import sys; sys.stdout.buffer.write(b'x' * 20_000_000)"))
    assert code == 0
    assert len(out) == 20_000_000
    assert out == b"x" * 20_000_000


def test_output_arrives_as_it_is_written() -> None:
    child = "import sys, time; print('first', flush=True); time.sleep(2); print('second')"
    code, out, _, captured = run(python(child))
    done = time.monotonic()
    assert code == 0
    assert out == b"first\nsecond\n"
    first = next(at for at, chunk in captured.arrivals if b"first" in chunk)
    assert done - first > 1.5


def test_secret_written_byte_by_byte_is_masked() -> None:
    child = (
        "import os, sys, time\n"
        "for byte in sys.argv[1].encode():\n"
        "    os.write(1, bytes([byte])); time.sleep(0.01)\n"
        "os.write(1, b' and stderr ' + sys.argv[1].encode()); os.write(2, sys.argv[1].encode())\n"
    )
    code, out, err, _ = run(python(child, SECRET.decode()))
    assert code == 0
    assert out == MASK + b" and stderr " + MASK
    assert err == MASK


def test_short_held_tail_is_released_after_silence() -> None:
    prompt = b"enter: " + SECRET[:2]  # might still become the secret: held back at first
    child = f"import os, time; os.write(1, {prompt!r}); time.sleep(1.5)"
    code, out, _, captured = run(python(child))
    done = time.monotonic()
    assert (code, out) == (0, prompt)
    shown = next(at for at, chunk in captured.arrivals if chunk.endswith(SECRET[:2]))
    assert done - shown > 1.0


def test_redaction_failure_stops_output_and_the_child() -> None:
    child = (
        "import os, time\n"
        "os.write(1, b'before\\n'); time.sleep(0.3)\n"
        "os.write(1, b'boom ' + b'raw' * 10); time.sleep(0.3)\n"
        "for _ in range(100):\n"
        "    os.write(2, b'after\\n'); time.sleep(0.1)\n"
    )
    started = time.monotonic()
    with pytest.raises(ChildError) as raised:
        run(python(child), Exploding)
    assert time.monotonic() - started < 5
    assert raised.value.exit_code == 1
    assert "redaction failed" in raised.value.message


def test_redaction_failure_never_falls_back_to_raw_output() -> None:
    out_r, out_w = os.pipe()
    captured = Captured(out_r)
    try:
        with pytest.raises(ChildError):
            run_child(python("print('x boom raw-value')"), ENV, Exploding, stdout_fd=out_w)
    finally:
        os.close(out_w)
        captured.thread.join(10)
    assert b"raw" not in captured.data


def test_backgrounded_grandchild_holding_stdout_does_not_hang() -> None:
    started = time.monotonic()
    code, out, _, _ = run(["sh", "-c", "sleep 4 & echo done"])
    assert time.monotonic() - started < 2.5
    assert (code, out) == (0, b"done\n")


# -- signals -----------------------------------------------------------------------------

RECORDER = """
import os, signal, sys, time
record, got = sys.argv[1], []
def on(signum, frame):
    with open(record, "a") as file:
        file.write(signal.Signals(signum).name + "\\n")
    got.append(signum)
for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"):
    signal.signal(getattr(signal, name), on)
open(record + ".ready", "w").close()
deadline = time.monotonic() + 20
while not got and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(0.5)  # a second delivery would be recorded too
"""


def _driver(tmp_path: Path) -> Path:
    path = tmp_path / "driver.py"
    path.write_text(DRIVER.format(root=str(ROOT)))
    return path


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while not path.exists():
        assert process.poll() is None, "sigillo exited early"
        assert time.monotonic() < deadline, "child never got ready"
        time.sleep(0.02)


def _make_controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """The driver in a pseudo-terminal that is its controlling terminal (OPOST off, so
    any CR seen comes from Sigillo's side)."""

    def __init__(
        self, argv: list[str], tmp_path: Path, *, redact: bool, leader: list[str] | None = None
    ) -> None:
        """The driver runs `argv`; `leader`, when given, runs instead of the driver (an
        interactive shell, which then starts the driver as a job)."""
        self.controller, terminal = pty.openpty()
        self.terminal = terminal
        self.resize(24, 80)
        attributes = termios.tcgetattr(terminal)
        attributes[1] &= ~termios.OPOST
        termios.tcsetattr(terminal, termios.TCSANOW, attributes)
        command = [PY, str(_driver(tmp_path)), json.dumps(argv), "1" if redact else "0"]
        self.process = subprocess.Popen(
            leader or command,
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env={**ENV, "TERM": "xterm-256color"},
            start_new_session=True,
            preexec_fn=_make_controlling_terminal,
        )
        self.output = bytearray()
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

    def resize(self, rows: int, columns: int) -> None:
        fcntl.ioctl(self.terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def wait_for(self, text: bytes, after: int = 0) -> int:
        """Wait until `text` appears after offset `after`; where it ends."""
        deadline = time.monotonic() + 15
        while (found := self.output.find(text, after)) < 0:
            assert time.monotonic() < deadline, bytes(self.output)
            time.sleep(0.02)
        return found + len(text)

    def finish(self) -> int:
        try:
            code = self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        os.close(self.terminal)
        self.reader.join(5)
        os.close(self.controller)
        return code


KEYS = {"SIGINT": b"\x03", "SIGQUIT": b"\x1c"}


@pytest.mark.parametrize("redact", [False, True], ids=["inherited", "own-pty"])
@pytest.mark.parametrize("name", ["SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP"])
def test_signal_reaches_child_once_in_a_terminal(name: str, redact: bool, tmp_path: Path) -> None:
    """Streams inherited (nothing to redact), or the child's own PTY as its controlling
    terminal, where typed keys are bytes Sigillo relays and the PTY signals the child."""
    record = tmp_path / "record"
    terminal = Terminal(python(RECORDER, str(record)), tmp_path, redact=redact)
    _wait_for(tmp_path / "record.ready", terminal.process)
    if name in KEYS:  # typed: the terminal signals its foreground process group
        os.write(terminal.controller, KEYS[name])
    else:  # sent to sigillo alone, while it runs in a terminal
        os.kill(terminal.process.pid, signal.Signals[name])
    assert terminal.finish() == 0
    assert record.read_text().split() == [name]


@pytest.mark.parametrize("name", ["SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("target", ["process", "group"])
def test_signal_reaches_child_once_without_a_terminal(
    name: str, target: str, tmp_path: Path
) -> None:
    record = tmp_path / "record"
    command = [PY, str(_driver(tmp_path)), json.dumps(python(RECORDER, str(record))), "1"]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
        start_new_session=True,  # no controlling terminal, as under CI or in a container
    )
    try:
        _wait_for(tmp_path / "record.ready", process)
        if target == "process":
            os.kill(process.pid, signal.Signals[name])
        else:  # a supervisor signalling sigillo's process group
            os.killpg(process.pid, signal.Signals[name])
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert record.read_text().split() == [name]


# -- terminals ---------------------------------------------------------------------------

TERMINAL_CHILD = """
import os, signal, sys, time
print("tty", os.isatty(0), os.isatty(1), os.isatty(2), flush=True)
print("foreground", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
sys.stdout.write("\\x1b[31mred\\x1b[0m\\nline2\\n"); sys.stdout.flush()
print("size %d %d" % tuple(os.get_terminal_size(1)), flush=True)
sys.stderr.write("err-size %d %d\\n" % tuple(os.get_terminal_size(2))); sys.stderr.flush()
changed = []
signal.signal(signal.SIGWINCH, lambda signum, frame: changed.append(signum))
print("secret:", sys.argv[1], flush=True)
print("waiting", flush=True)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    if changed:
        changed.clear()
        size = tuple(os.get_terminal_size(1))
        print("resized %d %d" % size, flush=True)
        if size == (132, 50):
            break
    time.sleep(0.02)
"""


def test_child_gets_a_terminal_with_size_and_resizes(tmp_path: Path) -> None:
    terminal = Terminal(python(TERMINAL_CHILD, SECRET.decode()), tmp_path, redact=True)
    terminal.wait_for(b"waiting")
    terminal.resize(50, 132)
    assert terminal.finish() == 0
    output = bytes(terminal.output)
    assert b"tty True True True\n" in output
    assert b"foreground True\n" in output  # Ctrl-C goes to the child's group only
    assert b"\x1b[31mred\x1b[0m\nline2\n" in output
    assert b"\r" not in output
    assert b"size 80 24\n" in output
    assert b"err-size 80 24\n" in output
    assert b"secret: " + MASK + b"\n" in output
    assert SECRET not in output
    assert b"resized 132 50\n" in output


JOB = """
import sys
print("-".join(["job", "started"]), flush=True)  # not a text of the typed command line
line = sys.stdin.readline()  # a background job reading the terminal would be stopped
print("-".join(["got", line.strip()]), flush=True)
"""


def test_ctrl_z_stops_the_job_and_fg_resumes_it(tmp_path: Path) -> None:
    """In an interactive shell with job control, Ctrl-Z stops the child and Sigillo's job
    (the shell reports it stopped and gets its prompt back); `fg` continues both, and the
    child owns the terminal again: it reads what is typed without being stopped."""
    driver = [PY, str(_driver(tmp_path)), json.dumps(python(JOB)), "1"]
    shell = ["env", "PS1=ready> ", "bash", "--norc", "--noprofile", "-i"]
    terminal = Terminal([], tmp_path, redact=True, leader=shell)
    typed = " ".join(f"'{part}'" for part in driver) + "\n"
    seen = 0
    for expected, keys in [
        (b"ready> ", typed.encode()),
        (b"job-started", b"\x1a"),  # Ctrl-Z
        (b"Stopped", b"fg\n"),  # the job list says so, then the prompt returns
        (b"ready> ", b""),
        (b"python", b"hello\n"),  # fg echoes the job's command line
        (b"got-hello", b""),
        (b"ready> ", b"exit\n"),  # typed ahead before, it would be the child's
    ]:
        seen = terminal.wait_for(expected, after=seen)
        os.write(terminal.controller, keys)
    assert terminal.finish() == 0


def test_piped_streams_stay_pipes() -> None:
    child = "import os; print(os.isatty(1), os.isatty(2))"
    assert run(python(child))[1] == b"False False\n"
