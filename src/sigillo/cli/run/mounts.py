"""`sigillo run --mount`: the secrets exposed as a file or a named pipe while the child runs.

behaviour.md 12.4. A mount is created before the child starts and removed when it ends
(`Mount.close`). File mode writes a new regular file with mode 0600; FIFO mode creates a
named pipe (0600) and a daemon thread writes the body to each reader that opens it, so the
content never reaches the disk.

**The registry** (sigillo.cli.run.mount_registry). Sigillo only ever removes or replaces a
path it created itself. Every mount is recorded in `<config dir>/mounts/` (next to
config.json; directory 0700), one small JSON record per mount (0600, written to a temporary
file, fsynced and renamed into place):

    {"path", "kind", "pid", "start", "boot", "host", "dev", "ino", "mtime"}

* `pid`, `start` and `boot` identify the owning run: `start` is the process start time
  (field 22 of /proc/<pid>/stat, clock ticks since boot) and `boot` the kernel's boot id,
  so a recycled pid, or a pid of an earlier boot, is not mistaken for the owner. Where /proc
  is missing both are null and the pid alone decides. A record written on another host
  (a HOME shared over the network) is never judged: its owner counts as alive.
* `dev` and `ino` are the identity of the file or pipe we created: it is removed only while
  the path still names that very inode (and of the same type), never a file that replaced it.
  While the run lives it holds a descriptor on that inode (the file itself; the FIFO through
  O_PATH on Linux), so its number cannot be freed and reused by a file that replaces ours.
  `mtime` (file mode; recorded once the body is written) is also checked before a stale
  mount is removed: its file may have been deleted long ago and the inode number reused.

A record file is only ever written by the run that owns it, under a unique name, so removing
one's own record is a single unlink. Decisions that read other runs' records (`sweep_stale`
and the refusal check of `Mount.create`) are made under an exclusive `fcntl.flock` on
`mounts/.lock`, so two runs cannot both take over the same stale mount or mount the same path.

**A run killed outright** (SIGKILL, crash, power loss) leaves its mount and record behind;
`sweep_stale`, called by the next `sigillo run` (and by `Mount.create`), removes the mount of
every dead owner whose identity still matches and drops the record either way.

**Signals.** `Mount.close` takes no lock of any kind (no flock, no threading lock), so it may
be called from a Python signal handler even while the interrupted code is inside
`Mount.create` or `sweep_stale`, and it may run twice at once (a handler interrupting a
`close`): every step is idempotent and tolerates the other having done it already. It does
block for up to about two seconds while stopping the FIFO thread. `Mount.create` is not
meant to be interrupted by a handler that exits without raising: a KeyboardInterrupt (or any
exception) raised inside it removes what it had created; the supervisor should install its
handlers after `create` returns, or treat a mount that does not exist yet as nothing to do.

Only the standard library is imported, and nothing slow: this module loads on every
`sigillo run` (`threading` is loaded by the CLI anyway; `fcntl` and `termios` are imported
only when needed).
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sigillo.cli.errors import CliError
from sigillo.cli.run.mount_registry import (
    CLOEXEC,
    NOFOLLOW,
    locked,
    owner,
    records,
    registry_dir,
    remove_if_same,
    same_inode,
    sweep,
    write_record,
)

__all__ = [
    "MOUNT_FORMATS",
    "MOUNT_MODES",
    "Mount",
    "check_format",
    "check_mode",
]

MOUNT_FORMATS = ("env", "env-no-quotes", "json", "yaml", "docker", "dotnet-json")
"""The formats a mount can be written in: every download format except `xargs` (12.4)."""

MOUNT_MODES = ("file", "fifo")
"""`--mount-mode`: a regular file (default) or a named pipe."""

_STOP_TIMEOUT = 2.0  # seconds `close` waits for the FIFO thread
_FIFO_GRACE = 0.05  # pause between two readers, so the last one sees its end of file


def check_format(fmt: str) -> str:
    """Answer `fmt` when a mount can be written in it; else the 12.4 error (exit 1)."""
    if fmt not in MOUNT_FORMATS:
        expected = ", ".join(MOUNT_FORMATS)
        raise CliError(f"invalid mount format '{fmt}' (expected: {expected})")
    return fmt


def check_mode(mode: str) -> str:
    """Answer `mode` when it is `file` or `fifo`; else an error naming both."""
    if mode not in MOUNT_MODES:
        raise CliError(f"invalid mount mode '{mode}' (expected: {', '.join(MOUNT_MODES)})")
    return mode


# --- a mount --------------------------------------------------------------------------


class Mount:
    """One mount, from `Mount.create` to `close` (also a context manager that closes)."""

    def __init__(self, path: str, mode: str, body: bytes, record: dict[str, Any]) -> None:
        self.path = path
        """The absolute path of the mount."""
        self.mode = mode
        self._body = body
        self._record = record
        self._record_path: str | None = None
        self._closed = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None  # pipe that wakes the FIFO thread
        self._handle: int | None = None  # pins our inode: the file, or the FIFO (O_PATH, Linux)

    # -- creating --

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        body: bytes,
        mode: str = "file",
        env: Mapping[str, str] | None = None,
    ) -> Mount:
        """Create the mount at `path` (relative to the current directory) holding `body`.

        Stale mounts of dead runs are swept first (so a stale mount at `path` is replaced).
        Raises CliError when `path` exists and is not a mount we may replace, or when it
        cannot be created; nothing is left behind on failure.
        """
        check_mode(mode)
        shown = os.fspath(path)
        absolute = os.path.abspath(shown)
        directory = registry_dir(os.environ if env is None else env)
        mount = cls(absolute, mode, bytes(body), {"path": absolute, "kind": mode, **owner()})
        try:
            with locked(directory):
                sweep(directory)
                mount._check_free(directory, shown)
                mount._make(shown)
                # Registered before any secret is written, so a mount is never untracked.
                mount._record_path = write_record(directory, mount._record)
                if mode == "file":
                    mount._fill(shown)
                    write_record(directory, mount._record, mount._record_path)
            if mode == "fifo":
                mount._serve()
        except BaseException:
            mount.close()
            raise
        return mount

    def _check_free(self, directory: Path, shown: str) -> None:
        if not os.path.lexists(self.path):
            return
        for _, record in records(directory):
            if record is not None and record["path"] == self.path and same_inode(self.path, record):
                raise CliError(
                    f"refusing to overwrite '{shown}': it is the mount of another running "
                    f"sigillo (pid {record.get('pid')})"
                )
        raise CliError(f"refusing to overwrite '{shown}': it is not a Sigillo mount")

    def _make(self, shown: str) -> None:
        try:
            if self.mode == "file":
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
                # Kept open until `close`: the inode cannot be freed and its number reused
                # by another file at our path while we hold it, so dev/ino stay exact.
                self._handle = os.open(self.path, flags, 0o600)
                if hasattr(os, "fchmod"):
                    os.fchmod(self._handle, 0o600)  # exactly 0600, whatever the umask
                made = os.fstat(self._handle)
            else:
                if not hasattr(os, "mkfifo"):
                    raise CliError("--mount-mode fifo is not supported on this system")
                os.mkfifo(self.path, 0o600)
                os.chmod(self.path, 0o600, follow_symlinks=False)
                if hasattr(os, "O_PATH"):  # Linux: holds the inode, as in file mode
                    self._handle = os.open(self.path, os.O_PATH | NOFOLLOW | CLOEXEC)
                    made = os.fstat(self._handle)
                else:
                    made = os.lstat(self.path)
                if not stat.S_ISFIFO(made.st_mode):
                    raise OSError(0, "the pipe was replaced while it was being created")
        except FileExistsError:
            raise CliError(f"refusing to overwrite '{shown}': it is not a Sigillo mount") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise CliError(f"failed to create mount file '{shown}': {reason}") from None
        self._record["dev"], self._record["ino"] = made.st_dev, made.st_ino

    def _fill(self, shown: str) -> None:
        """Write the body into the file we created (registered before any secret is in it)."""
        assert self._handle is not None
        try:
            view = memoryview(self._body)
            while view:
                view = view[os.write(self._handle, view) :]
            os.fsync(self._handle)
            self._record["mtime"] = os.fstat(self._handle).st_mtime_ns
        except OSError as error:
            reason = error.strerror or str(error)
            raise CliError(f"failed to create mount file '{shown}': {reason}") from None

    # -- serving a FIFO --

    def _serve(self) -> None:
        self._wake = os.pipe()
        for fd in self._wake:
            os.set_blocking(fd, False)
        self._thread = threading.Thread(
            target=self._serve_loop, name=f"sigillo-mount-{self.path}", daemon=True
        )
        self._thread.start()

    def _serve_loop(self) -> None:
        while not self._stopping:
            try:
                fd = os.open(self._reopen_target(), os.O_WRONLY | CLOEXEC)  # waits
            except OSError:
                return  # the pipe is gone
            try:
                if self._stopping:
                    return
                self._write_to_reader(fd)
            finally:
                os.close(fd)
            self._sleep(_FIFO_GRACE)

    def _reopen_target(self) -> str:
        """The FIFO itself even if its path was removed or replaced (Linux), else its path."""
        if self._handle is not None and hasattr(os, "O_PATH"):
            return f"/proc/self/fd/{self._handle}"
        return self.path

    def _write_to_reader(self, fd: int) -> None:
        """Write the whole body to the reader that opened the pipe; wait until it has read it
        all (or gone), so that closing now gives it its end of file."""
        assert self._wake is not None
        wake = self._wake[0]
        os.set_blocking(fd, False)
        poller = select.poll()
        poller.register(wake, select.POLLIN)
        poller.register(fd, select.POLLOUT)
        view = memoryview(self._body)
        while view:
            events = dict(poller.poll())
            if wake in events or self._stopping:
                return
            if events.get(fd, 0) & (select.POLLERR | select.POLLHUP):
                return  # the reader went away
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
            except OSError:
                return  # EPIPE: the reader closed early
        poller.modify(fd, 0)  # only POLLERR: the reader closed
        while not self._stopping and _unread(fd):
            events = dict(poller.poll(10))
            if wake in events or events.get(fd, 0) & (select.POLLERR | select.POLLHUP):
                return

    def _sleep(self, seconds: float) -> None:
        if self._wake is not None and not self._stopping:
            with contextlib.suppress(OSError, ValueError):
                select.select([self._wake[0]], [], [], seconds)

    def _stop_thread(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        if self._wake is not None:
            with contextlib.suppress(OSError):
                os.write(self._wake[1], b"x")
        if thread is threading.current_thread():
            return
        waited = 0.0
        while thread.is_alive() and waited < _STOP_TIMEOUT:
            # A writer blocked in open() is released by any reader: be one, without reading.
            try:
                fd = os.open(self._reopen_target(), os.O_RDONLY | os.O_NONBLOCK | CLOEXEC)
            except OSError:
                fd = None
            thread.join(0.05)
            waited += 0.05
            if fd is not None:
                os.close(fd)

    # -- closing --

    def close(self) -> None:
        """Remove the mount (only the very file or pipe we created) and its record.

        Idempotent, lock-free and safe from a signal handler (see the module docstring).
        """
        if self._closed:
            return
        self._stop_thread()
        if "ino" in self._record:
            remove_if_same(self.path, self._record)
        if self._record_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._record_path)
        thread = self._thread
        if thread is None or not thread.is_alive():
            for fd in (*(self._wake or ()), self._handle):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._wake = self._handle = None
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Mount:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Mount({self.path!r}, mode={self.mode!r}, closed={self._closed})"


def _unread(fd: int) -> bool:
    """Whether the pipe behind `fd` still holds bytes its reader has not read (Linux and
    the BSDs answer FIONREAD on either end; elsewhere assume it was read)."""
    try:
        import fcntl
        import termios

        buffer = bytearray(4)
        fcntl.ioctl(fd, termios.FIONREAD, buffer)
    except (ImportError, OSError, AttributeError):
        return False
    return int.from_bytes(buffer, sys.byteorder) != 0
