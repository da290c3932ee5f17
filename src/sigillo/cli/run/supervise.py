"""The child process of `sigillo run`: start it, stream its output through redaction, pass
signals on, return its exit status (behaviour.md 12.2, 12.3; security.md promise 12).

API
---
`run_child(argv, env, redactors)` runs `argv` exactly as given with environment `env` and
returns the exit status for Sigillo: the child's own code, 128+N when signal N killed it.
A command that cannot be started raises `ChildError` (exit code 127 when not found, 126
when not executable); a redaction failure raises `ChildError` (exit code 1) after output has
stopped and the child has been terminated; output never falls back to raw. `redactors` makes
one redactor per stream (anything shaped like `RedactorLike`); `None` means nothing to redact,
and then stdout and stderr are inherited directly: no PTY, no pipe. stdin is always
inherited. `shell_command(command, env)` is the argv for `--command`.

Output
------
Each of stdout and stderr gets a PTY when Sigillo's own stream is a terminal, else a pipe
(terminals.py). One anyio task per stream reads chunks of up to 64 KiB, feeds them to that
stream's redactor and writes the result to Sigillo's stream at once (`os.write`, from a
worker thread so a slow reader of one stream never holds up the other). After 50 ms without
input, a held tail shorter than 4 bytes is released (`release_short_tail`) so prompts
appear; at end of stream the redactor is flushed. EIO on a PTY is end of stream. When
Sigillo's stream is closed (EPIPE, e.g. `| head -1`), Sigillo stops reading that stream and
closes its end, so the child meets a closed pipe as it would without Sigillo.

Grandchildren: a backgrounded grandchild may keep the child's stdout or stderr open long
after the child exits. Sigillo's descriptors are close-on-exec, so only the child's own end
can leak to it; once the child has exited, each stream is read for at most `grace` seconds
(0.5 by default) more, then what is readable at that moment (up to 1 MiB) is drained,
flushed, and the stream is closed. So output the child wrote before exiting is never lost,
and Sigillo never hangs on a daemon.

Signals
-------
The child always runs in a process group of its own, and Sigillo forwards every SIGINT,
SIGTERM, SIGHUP and SIGQUIT it receives to that group. For signals to arrive exactly once:

* with a controlling terminal whose foreground group is Sigillo's (an interactive shell),
  the child's group is made the terminal's foreground group before the program starts
  (`tcsetpgrp` between fork and exec) and Sigillo's group is made foreground again
  afterwards. Keys such as Ctrl-C, Ctrl-\\ therefore signal only the child's group (once),
  and Sigillo, now in the background, only receives what is sent to it deliberately
  (`kill`), which it forwards (once). When the child stops on Ctrl-Z (or SIGTTIN/SIGTTOU),
  Sigillo takes the terminal back and stops its own job, so the shell sees the job stopped;
  on `fg` it hands the terminal back and continues the child.
* without one (CI, containers, `setsid`), or when Sigillo runs in the background, nothing
  but Sigillo's supervisor signals Sigillo, the child's group receives nothing else, and
  forwarding gives exactly one delivery (a `kill` of Sigillo's process group also reaches
  Sigillo alone).

Not covered: a supervisor that signals every process of a cgroup (systemd's default
`KillMode=control-group`) reaches the child directly and through Sigillo; use
`KillMode=mixed`. Python's `signal` module does not expose `si_pid`/`si_code`, so Sigillo
cannot tell such duplicates apart.

Window size: a PTY's size is copied from Sigillo's terminal at start and kept in step: on
SIGWINCH, and by a check every 0.2 s, since the terminal sends SIGWINCH to its foreground
group (the child's) and not to Sigillo. After a change the child's group receives SIGWINCH.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import select
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Protocol

import anyio
import anyio.to_thread

from sigillo.cli.errors import CliError
from sigillo.cli.run.terminals import (
    ChildStream,
    controlling_terminal,
    give_terminal,
    new_foreground_group,
    open_child_stream,
    take_terminal,
)

__all__ = ["SHELLS", "ChildError", "RedactorLike", "run_child", "shell_command"]

SHELLS = ("bash", "dash", "fish", "zsh", "ksh", "csh", "tcsh")
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_JOB_STOPS = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
CHUNK = 1 << 20  # as large as the child's pipe (terminals.PIPE_BYTES)
SILENCE = 0.05  # seconds without input before a short held tail is released
SHORT_TAIL = 4  # bytes: a held tail shorter than this may be released after SILENCE
GRACE = 0.5  # seconds a stream is still read after the child has exited
DRAIN_LIMIT = 1024 * 1024  # bytes read at most once the grace period is over
KILL_AFTER = 2.0  # seconds between SIGTERM and SIGKILL when output redaction failed
_SIZE_CHECK = 0.2  # seconds between checks of the terminal's window size
_CHILD_POLL = 0.5  # seconds: a fallback in case a SIGCHLD is missed


class RedactorLike(Protocol):
    """The streaming redactor of one output stream (cli/run/redaction.py)."""

    @property
    def held(self) -> int:
        """How many bytes are held back (might still become a secret)."""
        ...

    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...

    def release_short_tail(self) -> bytes: ...


class ChildError(CliError):
    """The child could not be run, or its output could not be redacted: `error: <message>`,
    then Sigillo exits with `exit_code`."""

    def __init__(self, message: str, *hint: str, exit_code: int) -> None:
        super().__init__(message, *hint)
        self.exit_code = exit_code


def shell_command(command: str, env: Mapping[str, str]) -> list[str]:
    """`$SHELL -c command` when `$SHELL` is one of SHELLS, else `sh -c command` (`sh` from
    PATH). `env` is Sigillo's own environment, not the child's: a secret named SHELL must
    not choose the shell."""
    shell = env.get("SHELL", "")
    if "/" in shell and shell.rsplit("/", 1)[1] in SHELLS:
        return [shell, "-c", command]
    return [shutil.which("sh", path=env.get("PATH")) or "/bin/sh", "-c", command]


def run_child(
    argv: Sequence[str],
    env: Mapping[str, str],
    redactors: Callable[[], RedactorLike] | None,
    *,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    stderr_fd: int = 2,
    grace: float = GRACE,
) -> int:
    """Run `argv` to completion; Sigillo's exit status (see the module docstring).

    Must be called from the main thread (it handles signals) outside any event loop.
    """
    if not argv:
        raise ValueError("argv must not be empty")
    supervisor = _Supervisor(
        list(argv), dict(env), redactors, (stdin_fd, stdout_fd, stderr_fd), grace
    )
    return anyio.run(supervisor.run)


class _Stop(Exception):
    """Sigillo's own stream is closed: stop reading the child's."""


class _Supervisor:
    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        redactors: Callable[[], RedactorLike] | None,
        fds: tuple[int, int, int],
        grace: float,
    ) -> None:
        self.argv = argv
        self.env = env
        self.redactors = redactors
        self.stdin_fd, self.stdout_fd, self.stderr_fd = fds
        self.grace = grace
        self.streams: list[tuple[ChildStream, RedactorLike]] = []
        self.terminal: int | None = None
        self.pid = 0
        self.status: int | None = None  # the raw wait status, once the child has exited
        self.deadline: float | None = None  # end of the grace period
        self.failure: str | None = None
        self.failed_at = 0.0
        self.wakers: set[anyio.CancelScope] = set()

    # -- the whole run ----------------------------------------------------------------

    async def run(self) -> int:
        self.child_changed = anyio.Event()
        self.pumps_done = anyio.Event()
        signals = (*FORWARDED, signal.SIGCHLD, signal.SIGWINCH)
        # Handlers first: a signal arriving while the child starts is forwarded, not lost.
        with anyio.open_signal_receiver(*signals) as received:
            try:
                self._spawn()
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(self._relay_signals, received)
                    if any(stream.is_pty for stream, _ in self.streams):
                        tasks.start_soon(self._follow_window_size)
                    tasks.start_soon(self._pump_all)
                    self.status = await self._wait_child()
                    self.deadline = anyio.current_time() + self.grace
                    for scope in list(self.wakers):
                        scope.cancel()
                    await self.pumps_done.wait()
                    tasks.cancel_scope.cancel()
            finally:
                for stream, _ in self.streams:
                    stream.close()
                if self.terminal is not None:
                    take_terminal(self.terminal, self.pid or None)
                    os.close(self.terminal)
        if self.failure is not None:
            raise ChildError(self.failure, exit_code=1)
        assert self.status is not None
        code = os.waitstatus_to_exitcode(self.status)
        return 128 - code if code < 0 else code

    def _spawn(self) -> None:
        if self.redactors is not None:
            for outer in (self.stdout_fd, self.stderr_fd):
                self.streams.append((open_child_stream(outer), self.redactors()))
        out = self.streams[0][0].child_fd if self.streams else self.stdout_fd
        err = self.streams[1][0].child_fd if self.streams else self.stderr_fd
        self.terminal = controlling_terminal()
        terminal = self.terminal
        try:
            if terminal is not None:
                process = subprocess.Popen(  # preexec_fn: before any thread
                    self.argv,
                    env=self.env,
                    stdin=self.stdin_fd,
                    stdout=out,
                    stderr=err,
                    preexec_fn=lambda: new_foreground_group(terminal),
                )
            else:
                process = subprocess.Popen(
                    self.argv,
                    env=self.env,
                    stdin=self.stdin_fd,
                    stdout=out,
                    stderr=err,
                    process_group=0,
                )
        except OSError as error:
            if terminal is not None:  # the failed child may have taken the terminal
                take_terminal(terminal, None)
            raise _start_failure(self.argv[0], error) from None
        # Sigillo waits for the child itself (os.waitpid, for stops too); Popen is only used
        # to start it. Mark it as reaped so that it never warns about a running process.
        process.returncode = 0
        self.pid = process.pid
        for stream, _ in self.streams:
            stream.close_child_end()

    # -- the child ----------------------------------------------------------------------

    async def _wait_child(self) -> int:
        while True:
            self.child_changed = anyio.Event()
            pid, status = os.waitpid(self.pid, os.WNOHANG | os.WUNTRACED)  # noqa: ASYNC222
            if pid:
                if not os.WIFSTOPPED(status):
                    return status
                self._child_stopped(os.WSTOPSIG(status))
                continue
            if self.failure is not None and anyio.current_time() > self.failed_at + KILL_AFTER:
                self._signal_child(signal.SIGKILL)
            with anyio.move_on_after(_CHILD_POLL):
                await self.child_changed.wait()

    def _signal_child(self, signum: int) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signum)

    def _child_stopped(self, signum: int) -> None:
        """Ctrl-Z: the terminal stopped the child's group (job control)."""
        if self.terminal is None or signum not in _JOB_STOPS:
            return  # stopped by someone's SIGSTOP: theirs to continue
        take_terminal(self.terminal, self.pid)
        os.killpg(os.getpgrp(), signal.SIGTSTP)  # stop our job, as the terminal would have
        # ... continued (`fg` or `bg`): the terminal goes back to the child if it is ours.
        with contextlib.suppress(OSError):
            if os.tcgetpgrp(self.terminal) == os.getpgrp():
                give_terminal(self.terminal, self.pid)
        self._signal_child(signal.SIGCONT)

    async def _relay_signals(self, received: AsyncIterator[int]) -> None:
        async for signum in received:
            if signum == signal.SIGCHLD:
                self.child_changed.set()
            elif signum == signal.SIGWINCH:
                self._sync_window_size()
            else:
                self._signal_child(signum)

    async def _follow_window_size(self) -> None:
        while True:
            await anyio.sleep(_SIZE_CHECK)
            self._sync_window_size()

    def _sync_window_size(self) -> None:
        changed = [stream.sync_size() for stream, _ in self.streams]
        if any(changed):
            self._signal_child(signal.SIGWINCH)

    # -- output -------------------------------------------------------------------------

    async def _pump_all(self) -> None:
        try:
            with anyio.CancelScope() as self.pump_scope:
                async with anyio.create_task_group() as pumps:
                    for stream, redactor in self.streams:
                        pumps.start_soon(self._pump, stream, redactor)
        finally:
            self.pumps_done.set()

    async def _pump(self, stream: ChildStream, redactor: RedactorLike) -> None:
        fd = stream.read_fd
        os.set_blocking(fd, False)
        try:
            while True:
                data = _read(fd)
                if data is None:  # nothing to read now
                    if await self._readable(fd, redactor):
                        continue
                    if self.deadline is not None and anyio.current_time() >= self.deadline:
                        await self._emit(stream, self._redact(redactor.feed, _drain(fd)))
                        break
                    if 0 < redactor.held < SHORT_TAIL:
                        await self._emit(stream, self._redact(redactor.release_short_tail))
                    continue
                if not data:
                    break
                await self._emit(stream, self._redact(redactor.feed, data))
            await self._emit(stream, self._redact(redactor.flush))
        except _Stop:
            pass
        finally:
            stream.close()

    async def _readable(self, fd: int, redactor: RedactorLike) -> bool:
        """Wait until `fd` is readable (True), or a short tail has been held for SILENCE,
        the grace period is over, or the child exits (False)."""
        timeout = SILENCE if 0 < redactor.held < SHORT_TAIL else math.inf
        if self.deadline is not None:
            timeout = min(timeout, max(0.0, self.deadline - anyio.current_time()))
        if timeout <= 0:
            return False
        with anyio.move_on_after(timeout) as scope:
            self.wakers.add(scope)
            try:
                await anyio.wait_readable(fd)
            finally:
                self.wakers.discard(scope)
        return not scope.cancel_called

    def _redact(self, step: Callable[..., bytes], *data: bytes) -> bytes:
        try:
            return step(*data)
        except Exception as error:
            self._fail(f"output redaction failed ({type(error).__name__}); output stopped")
            raise _Stop from None

    def _fail(self, message: str) -> None:
        """Fail closed: no more output of any stream; the child is terminated."""
        if self.failure is None:
            self.failure = message
            self.failed_at = anyio.current_time()
            self.pump_scope.cancel()
            for stream, _ in self.streams:
                stream.close()  # the child's next write fails instead of blocking
            self._signal_child(signal.SIGTERM)
            self.child_changed.set()

    async def _emit(self, stream: ChildStream, data: bytes) -> None:
        if not data:
            return
        if self.failure is not None:
            raise _Stop
        try:
            await anyio.to_thread.run_sync(_write_all, stream.outer_fd, data)
        except BrokenPipeError:
            raise _Stop from None


def _start_failure(program: str, error: OSError) -> ChildError:
    if isinstance(error, FileNotFoundError):
        return ChildError(f"command not found: {program}", exit_code=127)
    if isinstance(error, PermissionError):
        return ChildError(f"permission denied: {program}", exit_code=126)
    return ChildError(f"cannot run {program}: {error.strerror or error}", exit_code=126)


def _read(fd: int) -> bytes | None:
    """A chunk; b"" at end of stream (EIO on a PTY included); None when none is ready."""
    try:
        return os.read(fd, CHUNK)
    except BlockingIOError:
        return None
    except OSError as error:
        if error.errno == errno.EIO:  #: every slave end of the PTY is closed
            return b""
        raise


def _drain(fd: int) -> bytes:
    """What is readable right now, up to DRAIN_LIMIT bytes."""
    drained = bytearray()
    while len(drained) < DRAIN_LIMIT:
        chunk = _read(fd)
        if not chunk:
            break
        drained += chunk
    return bytes(drained)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:  # Sigillo's own stream is non-blocking: wait for room
            select.select([], [fd], [])
            continue
        view = view[written:]
