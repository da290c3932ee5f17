"""One pseudo-terminal for the whole child when Sigillo's stdin, stdout and stderr are one
terminal (behaviour.md 12.3; docs/redaction.md section 9).

As `script` does, the child runs in a session of its own whose controlling terminal is a
fresh PTY, its stdin, stdout and stderr: every way the child has of writing to "the
terminal" (fd 0, 1 or 2, `/dev/tty`) reaches the PTY, whose output Sigillo reads and
redacts, and every key typed reaches the child through the PTY (pagers read their keys from
`/dev/tty` or from stderr). The PTY starts with the real terminal's modes and window size;
its line discipline does the echo, line editing, output processing (LF to CR LF) and the
keys that signal (Ctrl-C, Ctrl-Z, Ctrl-\\), as the real one would have.

Sigillo relays the real terminal's input to the PTY with the real terminal in raw mode, and
only while Sigillo's job is the terminal's foreground (a background job reading the terminal
would be stopped); it restores the terminal's modes before it stops (job control) and on
every way out (`Console.leave_raw`, called from `finally`).

The session leader. A process group whose members all have their parents outside its
session is orphaned, and the kernel discards the SIGTSTP of Ctrl-Z sent to it (so under
`script -c cat`, Ctrl-Z does nothing). Hence the child is not the session's first process: a
small leader, Sigillo forked and never exec'd, opens the session, takes the PTY as its
controlling terminal, starts the program in a foreground process group of its own and waits
for it, as a shell runs one job:

* the program stops (Ctrl-Z, SIGTTIN, SIGTTOU): the leader stops itself with SIGSTOP, which
  Sigillo sees (`waitpid` with WUNTRACED); Sigillo restores its terminal and stops its own
  job, so the outer shell sees the job stopped, and once continued (`fg`, `bg`) continues
  the leader, which continues the program;
* the program exits: the leader makes its own group the PTY's foreground (so that processes
  the program left running get no SIGHUP when the leader goes) and exits with the program's
  status (128+N after signal N).

The leader reports the program's pid, or the errno that kept it from starting, on a pipe.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import subprocess
import termios
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from sigillo.cli.run.terminals import (
    ChildStream,
    new_foreground_group,
    same_terminal,
    sigttou_blocked,
)

__all__ = ["JOB_STOPS", "Console", "open_console"]

JOB_STOPS = frozenset({signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
INPUT_CHUNK = 4096
_OPEN_MAX = max(256, min(os.sysconf("SC_OPEN_MAX"), 1 << 20))  # -1 when unlimited


class Console:
    """The child's PTY and the real terminal it stands in for. `output.read_fd` is the PTY's
    master (read for output, written with input), `output.outer_fd` Sigillo's stdout."""

    def __init__(
        self, *, terminal: int, output: ChildStream, reader: int, own_reader: bool, saved: list[Any]
    ) -> None:
        self.terminal = terminal  # Sigillo's stdin: its modes are changed, its input relayed
        self.output = output
        self.reader = reader  # the terminal's input, non-blocking (our own descriptor if we can)
        self.own_reader = own_reader
        self.saved = saved  # the terminal's modes before raw mode
        self.raw = False
        self.leader = 0  # the session leader's pid: the process Sigillo waits for
        self.program = 0  # the program's pid, and its process group

    def start(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        """Fork the session leader, which starts `argv`; OSError when it cannot start."""
        report_r, report_w = os.pipe()  # close-on-exec
        # No handler of Sigillo's may run in the leader: signals wait until it has reset them.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            pid = os.fork()
            if pid == 0:
                _lead(list(argv), dict(env), self.output.child_fd, report_w, mask)
        except OSError:
            os.close(report_r)
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(report_w)
        self.leader = pid
        self.output.close_child_end()
        answer = bytearray()
        try:
            while chunk := os.read(report_r, 64):
                answer += chunk
        finally:
            os.close(report_r)
        if answer[:1] == b"P":
            self.program = int(answer[1:])
            return
        os.waitpid(pid, 0)  # the leader exits at once
        code = int(answer[1:]) if answer[:1] == b"E" else errno.EIO
        raise OSError(code, os.strerror(code))

    def foreground(self) -> bool:
        """True when Sigillo's job is the terminal's foreground, or when the terminal is not
        Sigillo's controlling terminal (no job control applies to it then)."""
        try:
            return os.tcgetpgrp(self.terminal) == os.getpgrp()
        except OSError:
            return True

    def enter_raw(self, *, again: bool = False) -> None:
        """Raw mode on the real terminal, when in the foreground (`again`: apply it even if
        done before, after someone else may have changed the modes while we were stopped)."""
        if (self.raw and not again) or not self.foreground():
            return
        with contextlib.suppress(termios.error):
            if not self.raw:
                self.saved = termios.tcgetattr(self.terminal)
            termios.tcsetattr(self.terminal, termios.TCSANOW, _raw(self.saved))
            self.raw = True

    def leave_raw(self) -> None:
        """The terminal's modes as they were (after the output written so far)."""
        if not self.raw:
            return
        self.raw = False
        with contextlib.suppress(termios.error), sigttou_blocked():
            termios.tcsetattr(self.terminal, termios.TCSADRAIN, self.saved)

    def read_input(self) -> bytes | None:
        """Keys typed: None when there are none now; b"" when the terminal is gone."""
        if not self.own_reader and not select.select([self.reader], [], [], 0)[0]:
            return None  # a blocking descriptor: read only what is there
        try:
            return os.read(self.reader, INPUT_CHUNK)
        except BlockingIOError:
            return None
        except OSError as error:
            if error.errno == errno.EIO:
                return b""
            raise

    def write_input(self, data: bytes) -> bytes | None:
        """Pass keys on to the PTY; what could not be written yet (the child is not reading),
        or None when the PTY is closed (the input is dropped)."""
        fd = self.output.read_fd
        if fd < 0:
            return None
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            return data
        except OSError:
            return None
        return data[written:]

    def close(self) -> None:
        self.leave_raw()
        if self.own_reader and self.reader >= 0:
            os.close(self.reader)
            self.reader = -1
        self.output.close()


def open_console(stdin_fd: int, stdout_fd: int, stderr_fd: int) -> Console | None:
    """A Console when Sigillo's three streams are one terminal and a PTY can be had."""
    if not same_terminal(stdin_fd, stdout_fd, stderr_fd):
        return None
    try:
        saved = termios.tcgetattr(stdin_fd)
        controller, terminal = os.openpty()  # both close-on-exec
    except (OSError, termios.error):
        return None
    output = ChildStream(read_fd=controller, child_fd=terminal, outer_fd=stdout_fd, is_pty=True)
    reader, own = stdin_fd, False
    with contextlib.suppress(OSError):  # a file description of our own can be non-blocking
        flags = os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC
        reader, own = os.open(os.ttyname(stdin_fd), flags), True
    console = Console(terminal=stdin_fd, output=output, reader=reader, own_reader=own, saved=saved)
    # The terminal's modes are the user's when our job is in the foreground; in the background
    # they are those of whatever has the terminal (a shell's line editor: no echo, no lines),
    # and the PTY keeps its own defaults (cooked, echo), as a new terminal window has.
    try:
        if console.foreground():
            termios.tcsetattr(terminal, termios.TCSANOW, saved)
    except termios.error:
        console.close()
        return None
    output.sync_size()
    return console


def _raw(attributes: list[Any]) -> list[Any]:
    """`cfmakeraw`, as `tty.setraw` does: keys pass as bytes, output as written."""
    raw = list(attributes)
    raw[6] = list(attributes[6])
    raw[0] &= ~(termios.BRKINT | termios.ICRNL | termios.INPCK | termios.ISTRIP | termios.IXON)
    raw[1] &= ~termios.OPOST
    raw[2] = (raw[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    raw[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
    raw[6][termios.VMIN] = 1
    raw[6][termios.VTIME] = 0
    return raw


# -- the session leader (runs in the forked process, never returns) ------------------------


def _lead(
    argv: list[str], env: dict[str, str], slave: int, report: int, mask: set[int]
) -> NoReturn:
    status = 127
    try:
        signal.set_wakeup_fd(-1)  # Sigillo's event loop is not ours
        for signum in signal.valid_signals():
            with contextlib.suppress(OSError, ValueError):
                if callable(signal.getsignal(signum)):
                    signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.closerange(3, report)  # Sigillo's descriptors: the PTY's master, the terminal...
        os.closerange(report + 1, _OPEN_MAX)
        try:
            process = subprocess.Popen(argv, env=env, preexec_fn=_program_in_foreground)
        except OSError as error:
            os.write(report, b"E%d" % (error.errno or errno.EIO))
            os._exit(status)
        process.returncode = 0  # waited for below, with os.waitpid
        # When the PTY hangs up (Sigillo closed it: output failed, Sigillo was killed), the
        # kernel signals the session's leader alone: as a shell does, it passes the hangup
        # on to the program and stays to report its status.
        signal.signal(signal.SIGHUP, lambda _signum, _frame: _hang_up(process.pid))
        os.write(report, b"P%d" % process.pid)
        os.close(report)
        status = _wait_as_a_shell(process.pid)
    except BaseException:  # noqa: S110  # nothing to tell anyone: the status says it
        pass
    os._exit(status)


def _hang_up(group: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(group, signal.SIGHUP)
        os.killpg(group, signal.SIGCONT)


def _program_in_foreground() -> None:
    new_foreground_group(0)


def _wait_as_a_shell(pid: int) -> int:
    while True:
        _, status = os.waitpid(pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            break
        if os.WSTOPSIG(status) in JOB_STOPS:  # stopped by job control: so is Sigillo's job
            os.kill(os.getpid(), signal.SIGSTOP)
            with contextlib.suppress(OSError), sigttou_blocked():
                os.tcsetpgrp(0, pid)
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGCONT)
    with contextlib.suppress(OSError), sigttou_blocked():  # no SIGHUP for what is left
        os.tcsetpgrp(0, os.getpgrp())
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code
