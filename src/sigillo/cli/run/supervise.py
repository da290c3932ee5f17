"""The child process of `sigillo run`: start it, stream its output through redaction, pass
signals on, return its exit status (behaviour.md 12.2, 12.3; security.md promise 12).

API
---
`run_child(argv, env, redactors)` runs `argv` exactly as given with environment `env` and
returns the exit status for Sigillo: the child's own code, 128+N when signal N killed it.
A command that cannot be started raises `ChildError` (exit code 127 when not found, 126
when not executable); so does a closed stdin, stdout or stderr of Sigillo's (`>&-`; exit
code 1: the child must not inherit whatever Sigillo opened in that slot since); a redaction
failure raises `ChildError` (exit code 1) after output has stopped and the child has been
terminated; output never falls back to raw. `redactors` makes one redactor per output
stream (anything shaped like `RedactorLike`); `None` means nothing to redact, and then
stdin, stdout and stderr are inherited directly: no PTY, no pipe. `shell_command(command,
env)` is the argv for `--command`.

Layout
------
* **One terminal** (stdin, stdout and stderr all the same terminal, the usual interactive
  case): the child gets one PTY for all three, as its controlling terminal, in a session of
  its own; Sigillo relays the terminal's input to it in raw mode (console.py). So writes to
  `/dev/tty` and to fd 0 are redacted too, and pagers and editors get their keys.
* **Otherwise** stdin is inherited, and stdout and stderr each get a PTY when Sigillo's
  stream is a terminal, else a pipe (terminals.py); when both go to the same place (`2>&1`,
  one file, one terminal: same device and inode, or same terminal device) they get one
  PTY or pipe between them, read by one redactor, so a value written half to stdout and
  half to stderr is still masked and the child's order of writes is kept.

No event loop
-------------
The supervisor is a plain `select` loop in the main thread (signals arrive on a wake-up
pipe) and each output stream is pumped by a thread of its own (streams.py). An asyncio or
anyio loop would cost more to import than the rest of Sigillo's start-up (about 70 ms of a
~100 ms start on the benchmark machine, bench/run_bench.py), and it would hop to a worker
thread for every blocking write anyway.

Output
------
streams.py: one thread per stream reads, redacts and writes out at once; a held tail shorter
than 4 bytes is released after 50 ms of silence so prompts appear; when Sigillo's stream is
closed or fails (EPIPE, `| head -1`; EIO, a terminal gone) Sigillo stops reading it and
closes its end, so the child meets a closed pipe (or a hung-up terminal) as it would
without Sigillo. Before Sigillo's job stops with the child's (Ctrl-Z), what the child wrote
is written out first.

Grandchildren: a backgrounded grandchild may keep the child's stdout or stderr open long
after the child exits. Sigillo's descriptors are close-on-exec, so only the child's own end
can leak to it; once the child has exited, each stream is read for at most `grace` seconds
(0.5 by default) more, then what is readable at that moment (up to 1 MiB) is drained,
flushed, and the stream is closed. So output the child wrote before exiting is never lost,
and Sigillo never hangs on a daemon. The grandchild keeps running: its later writes fail
(EPIPE and SIGPIPE on a pipe, EIO on a PTY). On the one-terminal layout the session's
leader hands the PTY's foreground to itself before it exits, so they get no SIGHUP, but they
lose their controlling terminal.

Signals
-------
Sigillo forwards every SIGINT, SIGTERM, SIGHUP and SIGQUIT it receives to the child's
process group (on the one-terminal layout, the program's group in its own session). For
signals to arrive exactly once:

* on the one-terminal layout, keys are bytes relayed to the PTY, whose line discipline
  signals the program's group (once); Sigillo itself only receives what is sent to it
  deliberately (`kill`), which it forwards (once). When the program stops (Ctrl-Z), the
  session leader stops, Sigillo restores its terminal and stops its own job, so the shell
  sees the job stopped; when continued (`fg`, `bg`) it continues the leader, which continues
  the program, and relays input again once it is in the foreground. Started in the
  background (`sigillo run -- cat &`), it relays output but reads no keys until `fg`.
* otherwise, the child runs in a process group of its own. With a controlling terminal
  whose foreground group is Sigillo's (an interactive shell), the child's group is made the
  terminal's foreground group before the program starts (`tcsetpgrp` between fork and exec)
  and Sigillo's group is made foreground again afterwards. Keys such as Ctrl-C, Ctrl-\\
  therefore signal only the child's group (once), and Sigillo, now in the background, only
  receives what is sent to it deliberately, which it forwards (once). When the child stops
  on Ctrl-Z (or SIGTTIN/SIGTTOU, e.g. reading the terminal while Sigillo's job is in the
  background), Sigillo takes the terminal back and stops its own job with the same signal,
  so the shell sees the job stopped; on `fg` (SIGCONT, and Sigillo's job in the foreground)
  it hands the terminal to the child and continues it.
* without a controlling terminal (CI, containers, `setsid`), or when Sigillo runs in the
  background, nothing but Sigillo's supervisor signals Sigillo, the child's group receives
  nothing else, and forwarding gives exactly one delivery (a `kill` of Sigillo's process
  group also reaches Sigillo alone).

Not covered: a supervisor that signals every process of a cgroup (systemd's default
`KillMode=control-group`) reaches the child directly and through Sigillo; use
`KillMode=mixed`. Python's `signal` module does not expose `si_pid`/`si_code`, so Sigillo
cannot tell such duplicates apart.

From another thread
-------------------
`run_child(..., remote=Remote())` lets another thread reach the child while it runs
(`sigillo run --watch`, run/watch.py): `remote.signal(N)` sends N to the child's group,
`remote.stop(grace)` terminates it (SIGTERM to its group, SIGKILL after `grace` seconds);
both are no-ops before the child started and once it has been reaped. `remote.forwarded`
lists the signals Sigillo itself received and forwarded meanwhile.

Window size: a PTY's size is copied from Sigillo's terminal at start and kept in step: on
SIGWINCH, and by a check every 0.2 s, since the terminal sends SIGWINCH to its foreground
group (the child's) and not to Sigillo. After a change the child's group receives SIGWINCH
(from Sigillo, or on the one-terminal layout from the PTY itself).
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from sigillo.cli.errors import CliError
from sigillo.cli.run.console import JOB_STOPS, Console, open_console
from sigillo.cli.run.streams import Output, RedactorLike
from sigillo.cli.run.terminals import (
    controlling_terminal,
    give_terminal,
    is_foreground,
    new_foreground_group,
    open_child_stream,
    same_destination,
    take_terminal,
)

__all__ = ["SHELLS", "ChildError", "RedactorLike", "Remote", "run_child", "shell_command"]

SHELLS = ("bash", "dash", "fish", "zsh", "ksh", "csh", "tcsh")
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
GRACE = 0.5  # seconds a stream is still read after the child has exited
KILL_AFTER = 2.0  # seconds between SIGTERM and SIGKILL when output redaction failed
_TERMINAL_CHECK = 0.2  # seconds between checks of the terminal's window size and foreground
_CHILD_POLL = 0.5  # seconds: a fallback in case a SIGCHLD is missed
_INPUT_RETRY = 0.01  # seconds between attempts to pass keys to a child that is not reading


class ChildError(CliError):
    """The child could not be run, or its output could not be redacted: `error: <message>`,
    then Sigillo exits with `exit_code`."""

    def __init__(self, message: str, *hint: str, exit_code: int) -> None:
        super().__init__(message, *hint)
        self.exit_code = exit_code


class Remote:
    """Another thread's hold on the child `run_child` supervises (see "From another
    thread" in the module docstring)."""

    def __init__(self) -> None:
        self.forwarded: list[int] = []  # signals Sigillo received and forwarded
        self._lock = threading.Lock()
        self._supervisor: _Supervisor | None = None  # while the child runs

    def signal(self, signum: int) -> bool:
        """Send `signum` to the child's process group; False when no child runs."""
        with self._lock:
            supervisor = self._supervisor
            if supervisor is None or supervisor.status is not None:
                return False
            supervisor._signal_child(signum)
            return True

    def stop(self, grace: float) -> bool:
        """SIGTERM to the child's group now, SIGKILL after `grace` seconds unless it has
        exited; False when no child runs."""
        with self._lock:
            supervisor = self._supervisor
            if supervisor is None or supervisor.status is not None:
                return False
            supervisor.kill_at = time.monotonic() + grace
            supervisor._signal_child(signal.SIGTERM)
            supervisor._wake()
            return True

    def _attach(self, supervisor: _Supervisor | None) -> None:
        with self._lock:
            self._supervisor = supervisor


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
    remote: Remote | None = None,
) -> int:
    """Run `argv` to completion; Sigillo's exit status (see the module docstring).

    Must be called from the main thread (it handles signals) outside any event loop.
    """
    if not argv:
        raise ValueError("argv must not be empty")
    closed = _closed_stream(stdin_fd, stdout_fd, stderr_fd)
    if closed is not None:
        raise ChildError(
            f"{closed} is closed: give sigillo run a {closed} (/dev/null instead of closing it)",
            exit_code=1,
        )
    supervisor = _Supervisor(
        list(argv), dict(env), redactors, (stdin_fd, stdout_fd, stderr_fd), grace
    )
    supervisor.remote = remote
    return supervisor.run()


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
        self.output = Output(on_failure=self._output_failed)
        self.console: Console | None = None  # the one-terminal layout
        self.terminal: int | None = None  # otherwise, Sigillo's controlling terminal
        self.pid = 0  # the process waited for: the child, or the console's session leader
        self.group = 0  # the process group signals are forwarded to
        self.status: int | None = None  # the raw wait status, once the child has exited
        self.received: deque[int] = deque()  # signals not handled yet
        self.waker_r, self.waker_w = os.pipe()  # signals and the output threads wake the loop
        self.relaying = False  # keys are passed to the console's PTY
        self.keys = b""  # keys read from the terminal, not yet passed on
        self.remote: Remote | None = None  # another thread's hold on the child
        self.kill_at = math.inf  # when a stop asked from another thread becomes a SIGKILL

    # -- the whole run ----------------------------------------------------------------

    def run(self) -> int:
        for fd in (self.waker_r, self.waker_w):
            os.set_blocking(fd, False)
        signals = (*FORWARDED, signal.SIGCHLD, signal.SIGWINCH, signal.SIGCONT)
        # Handlers first: a signal arriving while the child starts is forwarded, not lost.
        previous = {number: signal.signal(number, self._received) for number in signals}
        wakeup = signal.set_wakeup_fd(self.waker_w, warn_on_full_buffer=False)
        try:
            self._spawn()
            self.relaying = self.console is not None
            self.output.start(ended=self._wake)
            if self.remote is not None:
                self.remote._attach(self)
            self._supervise()
        finally:
            if self.remote is not None:
                self.remote._attach(None)  # before the waker pipe is closed
            self.output.close()
            if self.console is not None:
                self.console.close()  # the terminal's modes as they were
            if self.terminal is not None:
                if self.pid:
                    take_terminal(self.terminal, self.pid)
                os.close(self.terminal)
            signal.set_wakeup_fd(wakeup)
            for number, handler in previous.items():
                signal.signal(number, handler)
            os.close(self.waker_r)
            os.close(self.waker_w)
        if self.output.failure is not None:
            raise ChildError(self.output.failure, exit_code=1)
        assert self.status is not None
        code = os.waitstatus_to_exitcode(self.status)
        return 128 - code if code < 0 else code

    def _received(self, signum: int, _frame: object) -> None:
        self.received.append(signum)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full: the loop is awake already
            os.write(self.waker_w, b"!")

    def _supervise(self) -> None:
        """The loop: signals, the child's state, keys, the terminal, until the child has
        exited and every output stream has ended."""
        now = time.monotonic()
        follow_at = now + _TERMINAL_CHECK if self.output.has_pty else math.inf
        poll_child_at = now
        while True:
            while self.received:
                self._handle_signal(self.received.popleft())
            now = time.monotonic()
            if self.status is None and now >= poll_child_at:
                self._check_child()
                poll_child_at = now + _CHILD_POLL
            if self.status is not None and self.output.deadline is None:
                self.relaying = False  # keys typed from now on are the shell's
                self.output.finish_within(self.grace)
            if self.status is not None and self.output.done:
                return
            if self.output.failure is not None and now > self.output.failed_at + KILL_AFTER:
                self._signal_child(signal.SIGKILL)
            if now >= self.kill_at:
                self._signal_child(signal.SIGKILL)  # a stop from another thread, unheeded
                self.kill_at = math.inf
            if now >= follow_at:
                self._follow_terminal()
                follow_at = now + _TERMINAL_CHECK
            if self.keys:
                self._pass_keys()
            wait = min(follow_at, poll_child_at, self.kill_at) - time.monotonic()
            if self.keys:
                wait = min(wait, _INPUT_RETRY)
            if self.output.failure is not None and self.status is None:
                wait = min(wait, max(0.0, self.output.failed_at + KILL_AFTER - now) + 0.01)
            readers = [self.waker_r]
            listening = self._listening()
            if listening is not None:
                readers.append(listening)
            try:
                ready = select.select(readers, [], [], max(0.0, wait))[0]
            except InterruptedError:  # pragma: no cover - PEP 475 retries select
                continue
            if self.waker_r in ready:
                with contextlib.suppress(OSError):
                    os.read(self.waker_r, 4096)
                poll_child_at = time.monotonic()  # a SIGCHLD, or output ended or failed
            if listening is not None and listening in ready:
                self._read_keys()

    def _spawn(self) -> None:
        if self.redactors is not None:
            self.console = open_console(self.stdin_fd, self.stdout_fd, self.stderr_fd)
        if self.console is not None:
            self._spawn_in_console(self.console)
        else:
            self._spawn_with_streams()

    def _spawn_in_console(self, console: Console) -> None:
        assert self.redactors is not None
        self.output.add(console.output, self.redactors())
        try:
            console.start(self.argv, self.env)
        except OSError as error:
            raise _start_failure(self.argv[0], error) from None
        self.pid, self.group = console.leader, console.program
        console.enter_raw()

    def _spawn_with_streams(self) -> None:
        if self.redactors is not None:
            outer = [self.stdout_fd]
            if not same_destination(self.stdout_fd, self.stderr_fd):
                outer.append(self.stderr_fd)
            for fd in outer:
                self.output.add(open_child_stream(fd), self.redactors())
        streams = [stream for stream, _ in self.output.streams]
        out = streams[0].child_fd if streams else self.stdout_fd
        err = streams[-1].child_fd if streams else self.stderr_fd
        self.terminal = controlling_terminal()
        terminal = self.terminal
        if terminal is not None and not is_foreground(terminal):
            terminal = None  # in the background: the terminal is the shell's to give
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
        self.pid = self.group = process.pid
        for stream in streams:
            stream.close_child_end()

    # -- the child ----------------------------------------------------------------------

    def _check_child(self) -> None:
        """Reap the child once it has exited; follow it when job control stopped it."""
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG | os.WUNTRACED)
            if not pid:
                return
            if not os.WIFSTOPPED(status):
                self.status = status
                return
            if os.WSTOPSIG(status) in (*JOB_STOPS, signal.SIGSTOP):
                self.output.settle()
            if self.console is not None:
                self._console_stopped(os.WSTOPSIG(status))
            else:
                self._child_stopped(os.WSTOPSIG(status))

    def _output_failed(self) -> None:
        """Called from an output thread: the child is terminated, the loop woken."""
        self._signal_child(signal.SIGTERM)
        self._wake()

    def _signal_child(self, signum: int) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.group, signum)

    def _child_stopped(self, signum: int) -> None:
        """The terminal stopped the child's group (job control)."""
        if self.terminal is None or signum not in JOB_STOPS:
            return  # stopped by someone's SIGSTOP: theirs to continue
        if signum != signal.SIGTSTP and is_foreground(self.terminal):
            give_terminal(self.terminal, self.pid)  # it wanted the terminal, which is ours
        else:
            take_terminal(self.terminal, self.pid)
            os.killpg(os.getpgrp(), signum)  # stop our job, as the terminal would have
            # ... continued (`fg` or `bg`)
            self._resume()
        self._signal_child(signal.SIGCONT)

    def _console_stopped(self, signum: int) -> None:
        """The session leader stopped: its program was stopped by job control (Ctrl-Z)."""
        if signum != signal.SIGSTOP or self.console is None:
            return
        self.console.leave_raw()
        os.killpg(os.getpgrp(), signal.SIGTSTP)  # stop our job; the shell sees it stopped
        # ... continued (`fg` or `bg`; at once if our job is orphaned: nobody to continue it)
        self._resume()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)  # the leader continues the program

    def _resume(self) -> None:
        """Sigillo was continued: in the foreground, the terminal is the child's again."""
        if self.console is not None:
            self.console.enter_raw(again=True)
            self._sync_window_size()
        elif self.terminal is not None and self.status is None and is_foreground(self.terminal):
            give_terminal(self.terminal, self.pid)

    def _handle_signal(self, signum: int) -> None:
        if signum == signal.SIGCHLD:
            self._check_child()
        elif signum == signal.SIGWINCH:
            self._sync_window_size()
        elif signum == signal.SIGCONT:
            self._resume()
        else:
            if self.remote is not None:
                self.remote.forwarded.append(signum)
            self._signal_child(signum)

    def _follow_terminal(self) -> None:
        self._sync_window_size()
        if self.console is not None and not self.console.raw:
            self.console.enter_raw()  # brought to the foreground without a SIGCONT

    def _sync_window_size(self) -> None:
        if self.output.sync_sizes() and self.console is None:  # a controlling PTY signals
            self._signal_child(signal.SIGWINCH)

    # -- the terminal's keys, on the one-terminal layout ----------------------------------

    def _listening(self) -> int | None:
        """The terminal's input descriptor while keys are to be relayed now: Sigillo's job
        is in the foreground (reading the terminal from the background would stop Sigillo),
        the child runs, and the keys read before have been passed on."""
        console = self.console
        if console is None or not self.relaying or self.keys or console.reader < 0:
            return None
        if not console.foreground():
            return None  # looked at again within _TERMINAL_CHECK, or on SIGCONT
        console.enter_raw()  # in the foreground since the last check
        return console.reader

    def _read_keys(self) -> None:
        assert self.console is not None
        keys = self.console.read_input()
        if keys is None:
            return
        if not keys:
            self.relaying = False  # the terminal is gone
            return
        self.keys = keys
        self._pass_keys()

    def _pass_keys(self) -> None:
        """Keys to the child's PTY; what it does not take now is retried after
        _INPUT_RETRY (the child is not reading); dropped once the PTY is closed."""
        assert self.console is not None
        with self.output.lock:  # the PTY's descriptor is not closed meanwhile
            pending = self.console.write_input(self.keys)
        if pending is None:
            self.relaying = False  # the PTY is closed: the child is gone
        self.keys = pending or b""


def _closed_stream(stdin_fd: int, stdout_fd: int, stderr_fd: int) -> str | None:
    """The name of a closed stream of Sigillo's. Python sets sys.__stdout__ to None when
    fd 1 was closed at start; the descriptor may have been reused since."""
    for name, fd, default, stream in (
        ("stdin", stdin_fd, 0, sys.__stdin__),
        ("stdout", stdout_fd, 1, sys.__stdout__),
        ("stderr", stderr_fd, 2, sys.__stderr__),
    ):
        if fd == default and stream is None:
            return name
        try:
            os.fstat(fd)
        except OSError:
            return name
    return None


def _start_failure(program: str, error: OSError) -> ChildError:
    if isinstance(error, FileNotFoundError):
        return ChildError(f"command not found: {program}", exit_code=127)
    if isinstance(error, PermissionError):
        return ChildError(f"permission denied: {program}", exit_code=126)
    return ChildError(f"cannot run {program}: {error.strerror or error}", exit_code=126)
