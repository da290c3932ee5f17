"""stdout and stderr that go to the same place are one stream (issue 12 item 5; behaviour.md
12.3; docs/redaction.md section 9).

When Sigillo's stdout and stderr are one pipe, one file or one terminal (`2>&1`, `>f 2>&1`,
`>>f 2>>f`, a terminal), the child gets one pipe or PTY for both: one redactor sees the whole
stream, so a value written half to stdout and half to stderr is masked, and the child's own
order of writes is kept. When they go to different places, they stay two streams. Real
child processes, run by `run_child` in this process, or by a driver in a PTY; and once end to
end through the `sigillo run` executable and a server.
"""

from __future__ import annotations

import os
import pty
import select
import shlex
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from sigillo.cli.run.redaction import MASK as SIGILLO_MASK
from sigillo.cli.run.supervise import run_child
from tests.cli.conftest import Server, sigillo_command
from tests.cli.redactor_double import MASK, SECRET, Masker
from tests.cli.terminal import in_terminal, supervised
from tests.cli.test_run_kinds import _environment

ENV = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
HEAD_HALF, TAIL_HALF = SECRET[:10], SECRET[10:]  # b"hunter2-SE", b"CRET-value"

# 40 blocks of 200 KB, each ending on stdout with the first half of the secret, whose second
# half starts the next write, on stderr.
SPLIT = """
import os, sys
secret = sys.argv[1].encode()
for block in range(40):
    os.write(1, b"%03d:" % block + b"." * 200_000 + secret[:10])
    os.write(2, secret[10:] + b"\\n")
"""

# 2,000 lines, one write each, alternately on stdout and stderr.
LINES = """
import os
for number in range(2000):
    os.write(1 + number % 2, b"line %04d\\n" % number)
"""
IN_ORDER = b"".join(b"line %04d\n" % number for number in range(2000))


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def _collect(fd: int, into: bytearray) -> threading.Thread:
    def read() -> None:
        while chunk := os.read(fd, 1 << 16):
            into.extend(chunk)
        os.close(fd)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _through_one_pipe(argv: list[str], *, duplicated: bool) -> bytes:
    """Sigillo's stdout and stderr the same pipe: one descriptor given twice (as `2>&1`
    leaves it, when `duplicated`, two descriptors of it)."""
    read_end, write_end = os.pipe()
    output = bytearray()
    reader = _collect(read_end, output)
    second = os.dup(write_end) if duplicated else write_end
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        code = run_child(argv, ENV, Masker, stdin_fd=stdin, stdout_fd=write_end, stderr_fd=second)
    finally:
        os.close(stdin)
        os.close(write_end)
        if duplicated:
            os.close(second)
        reader.join(30)
    assert code == 0
    return bytes(output)


def _into_one_file(argv: list[str], path: Path, *, how: str) -> bytes:
    """`>f 2>&1` (one open file, `same`), `>>f 2>>f` (the file opened twice, `append`)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if how == "append" else os.O_TRUNC)
    out = os.open(path, flags, 0o600)
    err = os.open(path, flags, 0o600) if how == "append" else out
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        assert run_child(argv, ENV, Masker, stdin_fd=stdin, stdout_fd=out, stderr_fd=err) == 0
    finally:
        for fd in {out, err, stdin}:
            os.close(fd)
    return path.read_bytes()


def _into_one_terminal(argv: list[str], tmp_path: Path) -> bytes:
    """The driver with stdout and stderr one PTY and stdin /dev/null (not the console
    layout: stdin is not that terminal). OPOST is off, so bytes arrive as written."""
    controller, terminal = pty.openpty()
    attributes = termios.tcgetattr(terminal)
    attributes[1] &= ~termios.OPOST
    termios.tcsetattr(terminal, termios.TCSANOW, attributes)
    process = subprocess.Popen(
        supervised(argv, tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env=ENV,
        start_new_session=True,
    )
    os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([controller], [], [], 0.1)[0]:
                try:
                    chunk = os.read(controller, 1 << 16)
                except OSError:  # EIO: the PTY's last user is gone
                    break
                if not chunk:
                    break
                output += chunk
        assert process.wait(timeout=30) == 0, bytes(output[-2000:])
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    return bytes(output)


def _at_the_console(argv: list[str], tmp_path: Path) -> bytes:
    """The driver with stdin, stdout and stderr one terminal (the console layout)."""
    code, output = in_terminal(supervised(argv, tmp_path), ENV, tmp_path, timeout=60)
    assert code == 0, output[-2000:]
    return output.replace(b"\r\n", b"\n")  # the child's PTY maps LF to CR LF, as a tty does


DESTINATIONS = ["pipe", "pipe-duplicated", "file", "file-opened-twice", "terminal", "console"]


def _run(destination: str, argv: list[str], tmp_path: Path) -> bytes:
    if destination.startswith("pipe"):
        return _through_one_pipe(argv, duplicated=destination == "pipe-duplicated")
    if destination.startswith("file"):
        how = "append" if destination == "file-opened-twice" else "same"
        return _into_one_file(argv, tmp_path / "out.log", how=how)
    if destination == "terminal":
        return _into_one_terminal(argv, tmp_path)
    return _at_the_console(argv, tmp_path)


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_a_value_split_across_stdout_and_stderr_is_masked(destination: str, tmp_path: Path) -> None:
    output = _run(destination, _python(SPLIT, SECRET.decode()), tmp_path)
    assert HEAD_HALF not in output
    assert TAIL_HALF not in output
    assert output.count(MASK) == 40
    expected = b"".join(b"%03d:" % n + b"." * 200_000 + MASK + b"\n" for n in range(40))
    assert output == expected  # the child's order, every byte


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_alternating_lines_keep_their_order(destination: str, tmp_path: Path) -> None:
    assert _run(destination, _python(LINES), tmp_path) == IN_ORDER


def test_different_destinations_stay_two_streams() -> None:
    """stdout and stderr to two pipes: each gets its own lines, in order, as before."""
    outputs = {1: bytearray(), 2: bytearray()}
    pipes = {fd: os.pipe() for fd in outputs}
    readers = [_collect(pipes[fd][0], outputs[fd]) for fd in outputs]
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        code = run_child(
            _python(LINES), ENV, Masker, stdin_fd=stdin,
            stdout_fd=pipes[1][1], stderr_fd=pipes[2][1],
        )  # fmt: skip
    finally:
        os.close(stdin)
        for _, write_end in pipes.values():
            os.close(write_end)
        for reader in readers:
            reader.join(30)
    assert code == 0
    lines = IN_ORDER.splitlines(keepends=True)
    assert bytes(outputs[1]) == b"".join(lines[0::2])
    assert bytes(outputs[2]) == b"".join(lines[1::2])


def test_a_split_value_on_two_destinations_is_not_joined() -> None:
    """The limit: written half to stdout and half to stderr that go to two places, each
    half is only a piece of the value, shown on its own (docs/redaction.md section 9)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    out, err = bytearray(), bytearray()
    readers = [_collect(out_r, out), _collect(err_r, err)]
    stdin = os.open(os.devnull, os.O_RDONLY)
    child = "import os, sys; s = sys.argv[1].encode(); os.write(1, s[:10]); os.write(2, s[10:])"
    try:
        code = run_child(
            _python(child, SECRET.decode()), ENV, Masker,
            stdin_fd=stdin, stdout_fd=out_w, stderr_fd=err_w,
        )  # fmt: skip
    finally:
        for fd in (stdin, out_w, err_w):
            os.close(fd)
        for reader in readers:
            reader.join(30)
    assert (code, bytes(out), bytes(err)) == (0, HEAD_HALF, TAIL_HALF)


# -- end to end ---------------------------------------------------------------------------

E2E_VALUE = "sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890merge"


def test_sigillo_run_joins_stdout_and_stderr_under_2_and_1(
    cli_server: Server, tmp_path: Path
) -> None:
    runner = _environment(cli_server, tmp_path, {"SPLIT_KEY": E2E_VALUE}, [])
    child = (
        "import os\n"
        "value = os.environ['SPLIT_KEY'].encode()\n"
        "for number in range(2000):\n"
        "    if number % 50 == 0:\n"
        "        os.write(1, b'k=' + value[:20]); os.write(2, value[20:] + b'\\n')\n"
        "    os.write(1 + number % 2, b'line %04d\\n' % number)\n"
    )
    command = shlex.join([*sigillo_command(), "run", "--", "python3", "-c", child])
    done = subprocess.run(
        ["sh", "-c", command + " 2>&1"],
        capture_output=True, env=runner.env, cwd=runner.cwd, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert E2E_VALUE[:20].encode() not in done.stdout
    assert E2E_VALUE[20:].encode() not in done.stdout
    expected = bytearray()
    for number in range(2000):
        if number % 50 == 0:
            expected += b"k=" + SIGILLO_MASK + b"\n"
        expected += b"line %04d\n" % number
    assert done.stdout == bytes(expected)
