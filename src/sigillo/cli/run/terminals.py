"""Descriptors for the child's stdout and stderr under `sigillo run` (behaviour.md 12.3).

When Sigillo's own stream is a terminal the child gets a fresh pseudo-terminal for it, so
`isatty()`, colours, progress bars and line buffering behave as without Sigillo; otherwise a
plain pipe. Either way Sigillo keeps the reading end (close-on-exec, so grandchildren cannot
hold it open) and hands the writing end to the child. When stdout and stderr go to the same
place (`same_destination`: one file, pipe or terminal) the child gets one descriptor for
both, so that one redactor sees the whole stream in the child's own order.

Such a PTY is never anyone's controlling terminal (the child keeps Sigillo's session and
only gets the slave as a descriptor), output post-processing (OPOST) is off so a line feed
stays a line feed, and its window size follows the terminal it stands in for
(`sync_size`). When stdin is that terminal too, console.py gives the child one PTY for all
three instead, as its controlling terminal.

Also here: handing the controlling terminal's foreground to the child's process group and
taking it back (`give_terminal`, `take_terminal`), used by the supervisor for signals.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import stat
import struct
import termios
from collections.abc import Iterator

__all__ = [
    "ChildStream",
    "controlling_terminal",
    "give_terminal",
    "is_foreground",
    "new_foreground_group",
    "open_child_stream",
    "same_destination",
    "same_terminal",
    "sigttou_blocked",
    "take_terminal",
    "window_size",
]

_WINSIZE = struct.Struct("HHHH")


class ChildStream:
    """One of the child's output streams: `child_fd` goes to the child as its stdout or
    stderr (Sigillo closes it once the child is started), Sigillo reads `read_fd`.
    `outer_fd` is Sigillo's own stream whose window size a PTY copies. (A plain class: the
    dataclasses module costs `sigillo run` more start-up than this whole module.)"""

    def __init__(self, *, read_fd: int, child_fd: int, outer_fd: int, is_pty: bool) -> None:
        self.read_fd, self.child_fd, self.outer_fd = read_fd, child_fd, outer_fd
        self.is_pty = is_pty
        self.size = b""  # the window size last copied to the PTY

    def close_child_end(self) -> None:
        if self.child_fd >= 0:
            os.close(self.child_fd)
            self.child_fd = -1

    def close(self) -> None:
        self.close_child_end()
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1

    def sync_size(self) -> bool:
        """Copy the window size of `outer_fd` to the PTY; True when it changed."""
        if not self.is_pty or self.read_fd < 0:
            return False
        size = window_size(self.outer_fd)
        if size is None or size == self.size:
            return False
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.read_fd, termios.TIOCSWINSZ, size)
            self.size = size
            return True
        return False


def window_size(fd: int) -> bytes | None:
    """The packed `struct winsize` of the terminal `fd`, or None when it has none."""
    try:
        return fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(_WINSIZE.size))
    except OSError:
        return None


PIPE_BYTES = 1 << 20  # a child flooding its output wakes sigillo once per MiB, not per 64 KiB


def open_child_stream(outer_fd: int) -> ChildStream:
    """A PTY when `outer_fd` is a terminal (a pipe if no PTY can be had), else a pipe."""
    if os.isatty(outer_fd):
        with contextlib.suppress(OSError):
            return _open_pty(outer_fd)
    read_fd, write_fd = os.pipe()  # both close-on-exec (PEP 446)
    _grow_pipe(write_fd)
    with contextlib.suppress(OSError):
        if stat.S_ISFIFO(os.fstat(outer_fd).st_mode):
            _grow_pipe(outer_fd)  # so that one write passes a whole chunk on (`| cat`)
    return ChildStream(read_fd=read_fd, child_fd=write_fd, outer_fd=outer_fd, is_pty=False)


def _grow_pipe(fd: int) -> None:
    """Linux: a pipe buffer of PIPE_BYTES (never shrunk; a no-op where refused)."""
    with contextlib.suppress(OSError, AttributeError):
        if fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) < PIPE_BYTES:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _open_pty(outer_fd: int) -> ChildStream:
    controller, terminal = os.openpty()  # both close-on-exec (PEP 446)
    try:
        attributes = termios.tcgetattr(terminal)
        attributes[1] &= ~termios.OPOST  # oflag: no "\n" -> "\r\n", no tab expansion
        termios.tcsetattr(terminal, termios.TCSANOW, attributes)
    except BaseException:
        os.close(controller)
        os.close(terminal)
        raise
    stream = ChildStream(read_fd=controller, child_fd=terminal, outer_fd=outer_fd, is_pty=True)
    stream.sync_size()
    return stream


def same_destination(first: int, second: int) -> bool:
    """True when output written to either descriptor ends up in the same place: the same
    file, pipe or socket (device and inode), or the same terminal device."""
    try:
        one, other = os.fstat(first), os.fstat(second)
    except OSError:
        return False
    if (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino):
        return True
    return (
        stat.S_ISCHR(one.st_mode)
        and stat.S_ISCHR(other.st_mode)
        and one.st_rdev == other.st_rdev
        and os.isatty(first)
    )


def same_terminal(*fds: int) -> bool:
    """True when every one of `fds` is a terminal, and the same one."""
    return all(os.isatty(fd) for fd in fds) and all(same_destination(fds[0], fd) for fd in fds)


def controlling_terminal() -> int | None:
    """Sigillo's controlling terminal (close-on-exec), whether Sigillo's job is its
    foreground (`is_foreground`) or not; None without one (CI, containers, `setsid`)."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        os.tcgetpgrp(fd)
    except OSError:
        os.close(fd)
        return None
    return fd


def is_foreground(terminal_fd: int) -> bool:
    """True when Sigillo's process group is the terminal's foreground group, i.e. when keys
    typed there (Ctrl-C) signal Sigillo, and it may read the terminal."""
    try:
        return os.tcgetpgrp(terminal_fd) == os.getpgrp()
    except OSError:
        return False


@contextlib.contextmanager
def sigttou_blocked() -> Iterator[None]:
    """`tcsetpgrp` from a background process group would stop us with SIGTTOU."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def give_terminal(terminal_fd: int, group: int) -> None:
    """Make `group` the terminal's foreground process group."""
    with contextlib.suppress(OSError), sigttou_blocked():
        os.tcsetpgrp(terminal_fd, group)


def new_foreground_group(terminal_fd: int) -> None:
    """Run in the child between fork and exec (`preexec_fn`): a process group of its own,
    made the terminal's foreground group before the program can touch the terminal."""
    os.setpgid(0, 0)
    with sigttou_blocked():
        os.tcsetpgrp(terminal_fd, os.getpgrp())


def take_terminal(terminal_fd: int, from_group: int | None) -> None:
    """Make Sigillo's process group the foreground again, unless the terminal has moved on
    to a group other than `from_group` (a shell put the job in the background meanwhile).
    `from_group=None`: whatever group has it."""
    with contextlib.suppress(OSError), sigttou_blocked():
        if from_group is None or os.tcgetpgrp(terminal_fd) == from_group:
            os.tcsetpgrp(terminal_fd, os.getpgrp())
