"""The live audit sink (SIGILLO_AUDIT_SINK): every committed event, as it is committed, as
one JSON line (sigillo.audit_lines, the lines `sigillo admin audit export` writes) to

- `file:/path/audit.jsonl`: appended; created with mode 0600; reopened when the path no
  longer names the file it has open (after logrotate moved it away);
- `syslog`: the local syslog socket, /dev/log; `syslog://host:port`: a syslog server over
  UDP. Facility `auth`, ident `sigillo`, one message per event.

The services tell the sink after each commit (services.committed, the AuditSink port). It
never blocks a request: lines go to a queue that one thread writes out. A sink that fails
(a full disk, a syslog server away) never fails a write: the problem is logged in words at
most once a minute, and the lines it could not take are lost to the sink (never to the
database: `sigillo admin audit export --since` fills the gap). So is a queue that overflows
(100,000 lines behind).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from sigillo.audit_lines import audit_line
from sigillo.domain.errors import StartupError
from sigillo.domain.events import RecordedEvent

__all__ = ["FileSink", "QueuedSink", "SyslogSink", "open_audit_sink"]

log = logging.getLogger("sigillo.audit")
LOG_EVERY = 60.0  # seconds between two log lines about the same trouble
QUEUE_LINES = 100_000
LOCAL_SYSLOG = "/dev/log"
USAGE = "SIGILLO_AUDIT_SINK must be file:/absolute/path, syslog or syslog://host:port"


def open_audit_sink(spec: str | None) -> QueuedSink | None:
    """The sink the setting names, opened (None when unset); StartupError when it cannot be."""
    if spec is None or not spec.strip():
        return None
    spec = spec.strip()
    if spec.startswith("file:"):
        path = Path(spec.removeprefix("file:"))
        if not path.is_absolute():
            raise StartupError(USAGE)
        return FileSink(path)
    if spec == "syslog":
        if not os.path.exists(LOCAL_SYSLOG):
            raise StartupError(
                f"SIGILLO_AUDIT_SINK=syslog: there is no {LOCAL_SYSLOG} here; "
                "name a syslog server with syslog://host:port"
            )
        return SyslogSink(LOCAL_SYSLOG)
    if spec.startswith("syslog://"):
        parts = urlsplit(spec)
        try:
            port = parts.port or 514
        except ValueError:
            raise StartupError(USAGE) from None
        if not parts.hostname or parts.path not in ("", "/"):
            raise StartupError(USAGE)
        return SyslogSink((parts.hostname, port))
    raise StartupError(USAGE)


class QueuedSink:
    """Lines go to a bounded queue; one thread writes them out, batch by batch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=QUEUE_LINES)
        self._logged_at: dict[str, float] = {}
        self._dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"audit-sink {name}", daemon=True)
        self._thread.start()

    def committed(self, events: Sequence[RecordedEvent], actors: Mapping[str, str]) -> None:
        lines = [audit_line(recorded, actors) for recorded in events]
        try:
            self._queue.put_nowait(lines)
        except queue.Full:
            self._dropped += len(lines)
            self._report(
                "behind",
                f"{self._dropped} events not delivered so far: the sink is "
                f"{QUEUE_LINES} batches behind",
            )

    def flush(self) -> None:
        """Wait until every line told so far has been written (or failed)."""
        self._queue.join()

    def close(self) -> None:
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=5)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            lines = self._queue.get()
            try:
                if lines is None:
                    self._closed()
                    return
                self._write(lines)
            except Exception as error:  # reported, never raised: the write has committed
                self._report("write", f"{len(lines or [])} events not delivered ({error})")
            finally:
                self._queue.task_done()

    def _write(self, lines: list[bytes]) -> None:
        raise NotImplementedError

    def _closed(self) -> None:
        pass

    def _report(self, trouble: str, problem: str) -> None:
        now = time.monotonic()
        last = self._logged_at.get(trouble)
        if last is None or now - last >= LOG_EVERY:
            self._logged_at[trouble] = now
            log.error(
                "audit sink %s: %s; writes go on, the database keeps every event",
                self.name,
                problem,
            )


class FileSink(QueuedSink):
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd: int | None = self._open()
        except OSError as error:
            raise StartupError(
                f"SIGILLO_AUDIT_SINK: cannot open {path} for appending ({error.strerror})"
            ) from None
        super().__init__(f"file:{path}")

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)
        return fd

    def _current_fd(self) -> int:
        """The open file, or the file at the path now when that is another one (rotated)."""
        if self._fd is not None:
            try:
                moved = not os.path.samestat(os.stat(self.path), os.fstat(self._fd))
            except FileNotFoundError:
                moved = True
            if not moved:
                return self._fd
            os.close(self._fd)
            self._fd = None
        self._fd = self._open()
        return self._fd

    def _write(self, lines: list[bytes]) -> None:
        data = b"".join(lines)
        fd = self._current_fd()
        while data:
            written = os.write(fd, data)
            data = data[written:]

    def _closed(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _Handler(logging.handlers.SysLogHandler):
    """Raises what went wrong instead of printing a traceback to stderr."""

    def handleError(self, record: logging.LogRecord) -> None:
        raise


class SyslogSink(QueuedSink):
    def __init__(self, address: str | tuple[str, int]) -> None:
        try:
            self._handler = _Handler(
                address=address, facility=logging.handlers.SysLogHandler.LOG_AUTH
            )
        except OSError as error:
            raise StartupError(
                f"SIGILLO_AUDIT_SINK: cannot reach syslog at {address} ({error.strerror})"
            ) from None
        self._handler.ident = "sigillo: "
        self._handler.append_nul = False
        where = address if isinstance(address, str) else f"{address[0]}:{address[1]}"
        super().__init__(f"syslog {where}")

    def _write(self, lines: list[bytes]) -> None:
        for line in lines:
            text = line.decode("utf-8").rstrip("\n")
            record = logging.LogRecord("sigillo.audit", logging.INFO, "", 0, text, None, None)
            self._handler.emit(record)

    def _closed(self) -> None:
        self._handler.close()
