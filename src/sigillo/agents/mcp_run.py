"""The MCP tools that run a command with the environment's secrets: `run_command` (the
values as environment variables) and `run_with_mount` (also as a file the command reads).

Like `sigillo run` (cli/commands/run.py), and built from the same parts: one read of the
values as `json-kinds` (recorded as `mcp`), the same choice of what to protect
(run/protected.py: every secret of 4 bytes or more, the parts of compound values and of
values built through references, Sigillo's own token) and the same redactor
(run/redaction.py) over stdout and stderr. Unlike it: pipes only (no terminal, stdin is
empty), a time limit after which the command's process group is killed, and the output
kept in memory (its last 64 KiB per stream, after redaction) and returned with the exit
status. A mounted file is 0600 in a private 0700 directory and removed afterwards; its
content is never returned. Blocking: mcp_server.py runs this in a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from sigillo.agents.operations import Values, fetch_values
from sigillo.agents.scope import acting_on
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError

__all__ = ["DEFAULT_TIMEOUT", "MAX_TIMEOUT", "MOUNT_VARIABLE", "OUTPUT_CAP", "run_command"]

DEFAULT_TIMEOUT = 60.0  # seconds
MAX_TIMEOUT = 600.0
OUTPUT_CAP = 64 * 1024  # bytes kept of each stream (the last ones), after redaction
KILL_AFTER = 2.0  # seconds between SIGTERM and SIGKILL of the process group
DRAIN = 0.5  # seconds the pipes are still read once the command's group was killed
MOUNT_VARIABLE = "SIGILLO_MOUNT"
CREDENTIALS = ("SIGILLO_TOKEN",)  # never passed to the command (as `sigillo run` does)
EXTENSIONS = {"json": ".json", "dotnet-json": ".json", "yaml": ".yaml"}  # else .env
WITHHELD = "(output withheld: redaction failed, so nothing of it is shown)"


class _Redacting(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


def run_command(
    ctx: Context, command: str, timeout: float, cwd: str | None, mount_format: str | None = None
) -> dict[str, Any]:
    if os.name != "posix":
        raise CliError("running commands needs Linux or macOS (on Windows, run it under WSL)")
    if not command.strip():
        raise CliError("command is empty")
    where = cwd or ctx.cwd
    if not os.path.isdir(where):
        raise CliError("cwd is not a directory")
    limit = min(max(float(timeout), 0.1), MAX_TIMEOUT)
    environment = ctx.environment()
    values = fetch_values(ctx, environment)
    place = acting_on(ctx, environment)
    ctx.client.close()  # nothing more to ask the server while the command runs
    redactors, short = _redactors(values, ctx.resolved.token, ctx.env, mount_format)
    from sigillo.cli.run.supervise import shell_command

    env = {k: v for k, v in ctx.env.items() if k not in CREDENTIALS}
    env.update(values.secrets)
    env["SIGILLO"] = "1"
    answer: dict[str, Any] = {"actingOn": place}
    with _mounted(values, mount_format) as mount:
        if mount is not None:
            env[MOUNT_VARIABLE] = mount
            answer["mount"] = {"format": mount_format, "variable": MOUNT_VARIABLE, "path": mount}
        outcome = _run(shell_command(command, ctx.env), env, where, limit, redactors)
    if mount is not None:
        answer["mount"]["removed"] = not os.path.exists(mount)
    answer.update(outcome)
    answer["timeoutSeconds"] = limit
    if short:
        answer["notRedacted"] = {
            "names": short,
            "why": "secrets shorter than 4 bytes cannot be masked without masking innocent "
            "text: make them longer or mark them plain",
        }
    answer["redaction"] = "every protected value, in all its encodings, reads ********"
    return answer


def _redactors(
    values: Values, token: str | None, env: Mapping[str, str], mount_format: str | None
) -> tuple[Callable[[], _Redacting] | None, list[str]]:
    """One redactor per stream over every form of every protected value, as `sigillo run`
    builds it (None when nothing is protected), and the secrets too short to protect."""
    from sigillo.cli.run.protected import all_forms, protected_values
    from sigillo.cli.run.redaction import Redactor, protect

    forms, short = protect(values.secrets, plain=values.plain)
    parts = [found for part in values.parts for found in protected_values(part)]
    own = {token or "", *(env.get(name, "") for name in CREDENTIALS)}
    extra = all_forms([*parts, *sorted(t for t in own if len(t) >= 4)])
    extra += _as_mounted(values, mount_format)
    forms = sorted(dict.fromkeys([*forms, *extra]), key=len, reverse=True)
    if not forms:
        return None, short
    first = Redactor(forms)  # built before the command starts: a matcher error stops here
    return first.twin, short


def _as_mounted(values: Values, format: str | None) -> list[bytes]:
    """Each secret value as the mounted file writes it, for a command that prints the
    file: a format may write a value in a form the redactor's list lacks (`env` writes a
    line feed as `\\n` beside a raw tab). It is the bytes by which the file of that one
    value differs from the file of the empty value (quotes included: a longer mask)."""
    if format is None:
        return []
    from sigillo.cli.run.protected import MIN_DERIVED_FORM, MIN_SECRET
    from sigillo.domain.errors import SigilloError
    from sigillo.domain.formats import render

    found: list[bytes] = []
    for name, value in values.secrets.items():
        if name in values.plain or len(value.encode("utf-8", "surrogateescape")) < MIN_SECRET:
            continue
        try:
            full = render(format, [(name, value)]).body
            empty = render(format, [(name, "")]).body
        except SigilloError:
            continue
        start = 0
        while start < min(len(full), len(empty)) and full[start] == empty[start]:
            start += 1
        end = 0
        while end < min(len(full), len(empty)) - start and full[-1 - end] == empty[-1 - end]:
            end += 1
        middle = full[start : len(full) - end]
        if len(middle) >= MIN_DERIVED_FORM:
            found.append(middle)
    return found


@contextlib.contextmanager
def _mounted(values: Values, format: str | None) -> Iterator[str | None]:
    """The values rendered in `format` as a 0600 file in a private directory, removed on
    the way out whatever happens; None when no mount is asked for."""
    if format is None:
        yield None
        return
    from sigillo.domain.errors import SigilloError
    from sigillo.domain.formats import MOUNT_FORMATS, render

    if format not in MOUNT_FORMATS:
        raise CliError(f"format must be one of {', '.join(MOUNT_FORMATS)}")
    try:
        body = render(format, list(values.secrets.items())).body
    except SigilloError as error:  # a dotnet-json conflict names names, never values
        raise CliError(f"cannot write the secrets as {format}: {error}") from None
    directory = tempfile.mkdtemp(prefix="sigillo-mcp-")  # 0700
    try:
        target = os.path.join(directory, "secrets" + EXTENSIONS.get(format, ".env"))
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(body)
        yield target
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class _Stream:
    """One output stream: redacted as it arrives, its last OUTPUT_CAP bytes kept."""

    def __init__(self, redactor: _Redacting | None) -> None:
        self.redactor = redactor
        self.kept = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        self._keep(self.redactor.feed(data) if self.redactor else data)

    def finish(self) -> None:
        if self.redactor is not None:
            self._keep(self.redactor.flush())

    def _keep(self, data: bytes) -> None:
        self.kept += data
        excess = len(self.kept) - OUTPUT_CAP
        if excess > 0:
            del self.kept[:excess]
            self.dropped += excess


def _run(
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    limit: float,
    redactors: Callable[[], _Redacting] | None,
) -> dict[str, Any]:
    """Run `argv` in a process group of its own with pipes, until it ends or `limit`
    seconds pass (then the group is killed); its exit status and redacted output."""
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as error:
        raise CliError(f"cannot start the command: {error.strerror}") from None
    assert process.stdout is not None
    assert process.stderr is not None
    streams = {
        process.stdout.fileno(): _Stream(redactors() if redactors else None),
        process.stderr.fileno(): _Stream(redactors() if redactors else None),
    }
    timed_out = failed = False
    deadline = time.monotonic() + limit
    try:
        with selectors.DefaultSelector() as selector:
            for descriptor in streams:
                selector.register(descriptor, selectors.EVENT_READ)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if timed_out:
                        break  # a descendant that left the group still holds a pipe
                    timed_out = True
                    _kill_group(process)
                    deadline = time.monotonic() + DRAIN
                    continue
                for key, _events in selector.select(remaining):
                    data = os.read(key.fd, 65536)
                    if data:
                        streams[key.fd].feed(data)
                    else:
                        selector.unregister(key.fd)
        for stream in streams.values():
            stream.finish()
    except Exception:  # the redactor failed: nothing of the output may be shown
        failed = True
        _kill_group(process)
    finally:
        process.stdout.close()
        process.stderr.close()
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0.05))
    except subprocess.TimeoutExpired:  # it closed its output but goes on running
        timed_out = True
        _kill_group(process)
    return _outcome(process, list(streams.values()), timed_out, failed, limit)


def _outcome(
    process: subprocess.Popen[bytes],
    streams: list[_Stream],
    timed_out: bool,
    failed: bool,
    limit: float,
) -> dict[str, Any]:
    stdout, stderr = streams
    code = process.returncode
    status = None if code is None else 128 - code if code < 0 else code
    answer: dict[str, Any] = {
        "exitStatus": status,
        "timedOut": timed_out,
        "stdout": WITHHELD if failed else stdout.kept.decode("utf-8", "replace"),
        "stderr": WITHHELD if failed else stderr.kept.decode("utf-8", "replace"),
    }
    dropped = {
        name: stream.dropped
        for name, stream in (("stdout", stdout), ("stderr", stderr))
        if stream.dropped and not failed
    }
    if dropped:
        answer["truncated"] = {
            name: f"only its last {OUTPUT_CAP} bytes are shown ({count} bytes before them dropped)"
            for name, count in dropped.items()
        }
    if timed_out:
        answer["note"] = (
            f"the command ran past its time limit of {limit:g} s: its process group was killed"
        )
    return answer


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group, SIGKILL KILL_AFTER seconds later if the
    command has not ended by then (and to the group in any case, for its descendants)."""
    for number, wait in ((signal.SIGTERM, KILL_AFTER), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, number)
        try:
            process.wait(timeout=wait)
            if number == signal.SIGTERM:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue
