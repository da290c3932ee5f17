"""Running the CLI in a pseudo-terminal, as a user at a terminal does.

`in_terminal(argv, env, cwd, keys)` gives the child a PTY on stdin, stdout and stderr,
types `keys` (after the first output appears, when `wait_for` is given) and returns all it
wrote, with its exit code. `steps` is a dialogue instead: each (expected, keys) pair types
its keys once `expected` has appeared in what was written since the previous step.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["in_terminal"]


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
            process.kill()
            raise AssertionError(f"timed out; output so far: {bytes(output)!r}")
        return process.wait(timeout=5), bytes(output)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
