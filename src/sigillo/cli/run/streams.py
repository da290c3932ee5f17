"""The child's output under `sigillo run`: each stream read, redacted and written out, byte
for byte (behaviour.md 12.3; docs/redaction.md sections 4 and 5; used by supervise.py).

`Output` runs one thread per stream (the standard library's, not an event loop: see
supervise.py): it waits for input with `poll`, reads chunks of up to 1 MiB, feeds them to
that stream's redactor and writes the result to Sigillo's stream at once with a plain
blocking write, so a slow reader of one stream never holds up the other and no chunk waits
for a scheduler. After 50 ms without input, a held tail shorter than 4 bytes is released
(`release_short_tail`) so prompts appear; at end of stream the redactor is flushed. EIO on
a PTY is end of stream. When Sigillo's stream is closed or fails (EPIPE, e.g. `| head -1`;
EIO, a terminal gone), Sigillo stops reading that stream and closes its end, so the child
meets a closed pipe (or a hung-up terminal) as it would without Sigillo.

Once the child has exited (`finish_within`), each stream is read for at most `grace`
seconds more, then what is readable at that moment (up to 1 MiB) is drained, flushed, and
the stream is closed: a grandchild holding it open never makes Sigillo hang.

A redactor that fails stops all output at once (failing closed): every thread stops writing
and closes its stream, so the child's next write fails instead of blocking, and `on_failure`
is called for the supervisor to terminate the child. Output never falls back to raw.

Each thread is woken from its `poll` through a pipe of its own (`_Waker`) when the child
exits or output fails. Descriptors a thread may close are closed under `lock`, which the
supervisor also holds while it writes keys to a PTY or resizes one, so that no descriptor
is used after it was closed (and its number perhaps reused).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Protocol

from sigillo.cli.run.terminals import ChildStream

__all__ = ["CHUNK", "DRAIN_LIMIT", "SHORT_TAIL", "SILENCE", "Output", "RedactorLike"]

CHUNK = 1 << 20  # as large as the child's pipe (terminals.PIPE_BYTES)
DRAIN_LIMIT = 1024 * 1024  # bytes read at most once the grace period is over
SILENCE = 0.05  # seconds without input before a short held tail is released
SHORT_TAIL = 4  # bytes: a held tail shorter than this may be released after SILENCE
SETTLE = 0.2  # seconds at most for the output to be written out before Sigillo stops


class RedactorLike(Protocol):
    """The streaming redactor of one output stream (cli/run/redaction.py)."""

    @property
    def held(self) -> int:
        """How many bytes are held back (might still become a secret)."""
        ...

    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...

    def release_short_tail(self) -> bytes: ...


class _Stop(Exception):
    """Sigillo's own stream is closed, or output failed: stop reading the child's."""


class _Waker:
    """A pipe that interrupts one thread's `poll` (its read end is polled too)."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()  # close-on-exec
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # full (already woken) or closed
            os.write(self.write_fd, b"!")

    def drain(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self.read_fd, 512)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class Output:
    """The child's output streams, each with its redactor (see the module docstring)."""

    def __init__(self, on_failure: Callable[[], None]) -> None:
        self.streams: list[tuple[ChildStream, RedactorLike]] = []
        self.on_failure = on_failure
        self.deadline: float | None = None  # end of the grace period (time.monotonic)
        self.failure: str | None = None
        self.failed_at = 0.0
        self.lock = threading.Lock()  # see the module docstring
        self.writing = 0  # writes to Sigillo's streams under way
        self._wakers: list[_Waker] = []
        self._threads: list[threading.Thread] = []
        self._running = 0

    def add(self, stream: ChildStream, redactor: RedactorLike) -> None:
        self.streams.append((stream, redactor))

    @property
    def has_pty(self) -> bool:
        return any(stream.is_pty for stream, _ in self.streams)

    def sync_sizes(self) -> bool:
        """Copy the window size of Sigillo's terminal to every PTY; True when one changed."""
        changed = False
        with self.lock:
            for stream, _ in self.streams:
                changed = stream.sync_size() or changed
        return changed

    def close(self) -> None:
        with self.lock:
            for stream, _ in self.streams:
                stream.close()
        for waker in self._wakers:
            waker.close()

    def start(self, ended: Callable[[], None]) -> None:
        """One thread per stream, pumping until the stream ends; `ended` is called (from
        the last thread) once every stream has ended, at once when there is none."""
        self._running = len(self.streams)
        if not self.streams:
            ended()
            return
        for stream, redactor in self.streams:
            waker = _Waker()
            self._wakers.append(waker)
            thread = threading.Thread(
                target=self._pump, args=(stream, redactor, waker, ended), daemon=True
            )
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    @property
    def done(self) -> bool:
        return self._running == 0

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def finish_within(self, grace: float) -> None:
        """The child has exited: end each stream within `grace` seconds."""
        self.deadline = time.monotonic() + grace
        self._wake_all()

    def settle(self) -> None:
        """What the child wrote until now is written out (for at most SETTLE seconds):
        before Sigillo's job stops with the child's."""
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline:
            with self.lock:
                fds = [stream.read_fd for stream, _ in self.streams if stream.read_fd >= 0]
                readable = bool(fds) and bool(select.select(fds, [], [], 0)[0])
            if not self.writing and not readable:
                return
            time.sleep(SETTLE / 40)

    def _wake_all(self) -> None:
        for waker in self._wakers:
            waker.wake()

    # -- one stream, in its own thread ----------------------------------------------------

    def _pump(
        self, stream: ChildStream, redactor: RedactorLike, waker: _Waker, ended: Callable[[], None]
    ) -> None:
        fd = stream.read_fd
        try:
            os.set_blocking(fd, False)
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.register(waker.read_fd, select.POLLIN)
            while True:
                if self.failure is not None:  # another stream failed
                    raise _Stop
                data = read_chunk(fd)
                if data is None:  # nothing to read now
                    if self._readable(poller, fd, waker, redactor):
                        continue
                    if self.deadline is not None and time.monotonic() >= self.deadline:
                        self._emit(stream, self._redact(redactor.feed, drain(fd)))
                        break
                    if 0 < redactor.held < SHORT_TAIL:
                        self._emit(stream, self._redact(redactor.release_short_tail))
                    continue
                if not data:
                    break
                self._emit(stream, self._redact(redactor.feed, data))
            self._emit(stream, self._redact(redactor.flush))
        except _Stop:
            pass
        except Exception as error:  # an I/O error of ours: fail closed, say what it was
            self._fail(f"output failed ({type(error).__name__}); output stopped")
        finally:
            with self.lock:
                stream.close()
                self._running -= 1
                last = self._running == 0
            if last:
                ended()

    def _readable(
        self, poller: select.poll, fd: int, waker: _Waker, redactor: RedactorLike
    ) -> bool:
        """Wait until `fd` is readable (True), or a short tail has been held for SILENCE,
        the grace period is over, or the thread was woken (False)."""
        timeout = SILENCE if 0 < redactor.held < SHORT_TAIL else None
        if self.deadline is not None:
            left = max(0.0, self.deadline - time.monotonic())
            timeout = left if timeout is None else min(timeout, left)
        if timeout is not None and timeout <= 0:
            return False
        ready = poller.poll(None if timeout is None else max(1, round(timeout * 1000)))
        woken = False
        for ready_fd, _ in ready:
            if ready_fd == waker.read_fd:
                waker.drain()
                woken = True
        return bool(ready) and not woken

    def _redact(self, step: Callable[..., bytes], *data: bytes) -> bytes:
        try:
            return step(*data)
        except Exception as error:
            self._fail(f"output redaction failed ({type(error).__name__}); output stopped")
            raise _Stop from None

    def _fail(self, message: str) -> None:
        """Fail closed: no more output of any stream; the child is terminated."""
        with self.lock:
            if self.failure is not None:
                return
            self.failure = message
            self.failed_at = time.monotonic()
        self._wake_all()  # every other thread stops and closes its stream
        self.on_failure()

    def _emit(self, stream: ChildStream, data: bytes) -> None:
        if not data:
            return
        if self.failure is not None:
            raise _Stop
        with self.lock:
            self.writing += 1
        try:
            write_all(stream.outer_fd, data)
        except OSError:  # EPIPE (`| head -1`), EIO (the terminal is gone), ENOSPC...
            raise _Stop from None
        finally:
            with self.lock:
                self.writing -= 1


def read_chunk(fd: int) -> bytes | None:
    """A chunk; b"" at end of stream (EIO on a PTY included); None when none is ready."""
    try:
        return os.read(fd, CHUNK)
    except BlockingIOError:
        return None
    except OSError as error:
        if error.errno == errno.EIO:  #: every slave end of the PTY is closed
            return b""
        raise


def drain(fd: int) -> bytes:
    """What is readable right now, up to DRAIN_LIMIT bytes."""
    drained = bytearray()
    while len(drained) < DRAIN_LIMIT:
        chunk = read_chunk(fd)
        if not chunk:
            break
        drained += chunk
    return bytes(drained)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:  # Sigillo's own stream is non-blocking: wait for room
            select.select([], [fd], [])
            continue
        view = view[written:]
