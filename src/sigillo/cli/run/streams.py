"""The child's output under `sigillo run`: each stream read, redacted and written out, byte
for byte (behaviour.md 12.3; docs/redaction.md sections 4 and 5; used by supervise.py).

`Output` runs one anyio task per stream: it reads chunks of up to 1 MiB, feeds them to that
stream's redactor and writes the result to Sigillo's stream at once (`os.write`, from a
worker thread so a slow reader of one stream never holds up the other). After 50 ms without
input, a held tail shorter than 4 bytes is released (`release_short_tail`) so prompts
appear; at end of stream the redactor is flushed. EIO on a PTY is end of stream. When
Sigillo's stream is closed or fails (EPIPE, e.g. `| head -1`; EIO, a terminal gone),
Sigillo stops reading that stream and closes its end, so the child meets a closed pipe (or
a hung-up terminal) as it would without Sigillo.

Once the child has exited (`finish_within`), each stream is read for at most `grace`
seconds more, then what is readable at that moment (up to 1 MiB) is drained, flushed, and
the stream is closed: a grandchild holding it open never makes Sigillo hang.

A redactor that fails stops all output at once (failing closed): every stream is closed,
so the child's next write fails instead of blocking, and `on_failure` is called for the
supervisor to terminate the child. Output never falls back to raw.
"""

from __future__ import annotations

import errno
import math
import os
import select
from collections.abc import Callable
from typing import Protocol

import anyio
import anyio.to_thread

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


class Output:
    """The child's output streams, each with its redactor (see the module docstring)."""

    def __init__(self, on_failure: Callable[[], None]) -> None:
        self.streams: list[tuple[ChildStream, RedactorLike]] = []
        self.on_failure = on_failure
        self.deadline: float | None = None  # end of the grace period
        self.failure: str | None = None
        self.failed_at = 0.0
        self.wakers: set[anyio.CancelScope] = set()
        self.writing = 0  # writes to Sigillo's streams under way

    def add(self, stream: ChildStream, redactor: RedactorLike) -> None:
        self.streams.append((stream, redactor))

    @property
    def has_pty(self) -> bool:
        return any(stream.is_pty for stream, _ in self.streams)

    def sync_sizes(self) -> bool:
        """Copy the window size of Sigillo's terminal to every PTY; True when one changed."""
        changed = False
        for stream, _ in self.streams:
            changed = stream.sync_size() or changed
        return changed

    def close(self) -> None:
        for stream, _ in self.streams:
            stream.close()

    async def run(self, done: anyio.Event) -> None:
        """Pump every stream until each has ended; then set `done`."""
        try:
            with anyio.CancelScope() as self.scope:
                async with anyio.create_task_group() as pumps:
                    for stream, redactor in self.streams:
                        pumps.start_soon(self._pump, stream, redactor)
        finally:
            done.set()

    def finish_within(self, grace: float) -> None:
        """The child has exited: end each stream within `grace` seconds."""
        self.deadline = anyio.current_time() + grace
        for scope in list(self.wakers):
            scope.cancel()

    async def settle(self) -> None:
        """What the child wrote until now is written out (for at most SETTLE seconds):
        before Sigillo's job stops with the child's."""
        deadline = anyio.current_time() + SETTLE
        while anyio.current_time() < deadline:
            fds = [stream.read_fd for stream, _ in self.streams if stream.read_fd >= 0]
            if not self.writing and not (fds and select.select(fds, [], [], 0)[0]):
                return
            await anyio.sleep(SETTLE / 40)

    async def _pump(self, stream: ChildStream, redactor: RedactorLike) -> None:
        fd = stream.read_fd
        os.set_blocking(fd, False)
        try:
            while True:
                if self.failure is not None:  # another stream failed and closed every fd
                    raise _Stop
                data = read_chunk(fd)
                if data is None:  # nothing to read now
                    if await self._readable(fd, redactor):
                        continue
                    if self.deadline is not None and anyio.current_time() >= self.deadline:
                        await self._emit(stream, self._redact(redactor.feed, drain(fd)))
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
            self.scope.cancel()
            self.close()  # the child's next write fails instead of blocking
            self.on_failure()

    async def _emit(self, stream: ChildStream, data: bytes) -> None:
        if not data:
            return
        if self.failure is not None:
            raise _Stop
        self.writing += 1
        try:
            await anyio.to_thread.run_sync(write_all, stream.outer_fd, data)
        except OSError:  # EPIPE (`| head -1`), EIO (the terminal is gone), ENOSPC...
            raise _Stop from None
        finally:
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
