"""`sigillo run --watch` (issue 18): restart the child, or signal it, when its secrets change.

A watcher thread long-polls `GET …/environments/{env}/watch` (api/watch.py) over a
connection of its own: one request open at a time, answered when a secret of the
environment (or of one its values refer to) changes, or unchanged after 25 s. No event loop
(supervise.py says why): a thread and the CLI's own HTTP client.

On a change it waits DEBOUNCE seconds (a burst of writes is one change), takes the token of
now, fetches the secrets again (`_fetch` of commands/run.py: a recorded read) and then:

* by default, asks the supervisor (`supervise.Remote`) to stop the child: SIGTERM to its
  process group, SIGKILL after KILL_AFTER seconds. The main thread then rewrites the
  `--mount` (if any) and starts the command again with the new environment and a new
  redactor built from the new values (and Sigillo's credentials);
* with `--watch-signal SIG`, first gives each output stream a redactor over every value the
  child has been given so far, old and new (swapped in at its next chunk, `Swappable`),
  rewrites the mount, then sends SIG to the child's group. The child keeps running.

One line on stderr says each restart or signal; it names no value. When the child ends by
itself (or on a signal Sigillo forwarded: Ctrl-C, SIGTERM), Sigillo ends with its status as
without --watch. An unreachable server (or a 5xx) is retried with a growing pause, said once;
a 401, 403 or 404 ends the watching, said once, and the child runs on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from argparse import Namespace
from collections.abc import Callable
from typing import Any

from sigillo.cli.client import Client, path
from sigillo.cli.commands.run import (
    Fetched,
    _fetch,
    _redactors,
    _short_note,
    _without_credentials,
    mount_body,
    protected,
)
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable
from sigillo.cli.run.redaction import Redactor
from sigillo.cli.run.streams import RedactorLike
from sigillo.cli.run.supervise import Remote, run_child

__all__ = ["Swappable", "check_options", "first_token", "run_watching"]

POLL = 25  # seconds the server holds a poll open
DEBOUNCE = 0.3  # seconds after a change before fetching: a burst of changes is one
KILL_AFTER = 5.0  # seconds between SIGTERM and SIGKILL when restarting
RETRY_FIRST, RETRY_MOST = 1.0, 30.0  # seconds between attempts while the server fails
QUICKEST = 1.0  # seconds: an unchanged answer sooner than this waits before the next poll

Factory = Callable[[], RedactorLike] | None


def check_options(args: Namespace) -> int | None:
    """The refusals of `--watch` and `--watch-signal`; the signal's number, if given."""
    if args.watch_signal is not None and not args.watch:
        raise CliError("--watch-signal needs --watch", "  sigillo run --watch --watch-signal HUP …")
    if args.watch and getattr(args, "at", None) is not None:
        raise CliError(
            "--watch follows the present; --at reads the past, which does not change",
            "  leave out one of them",
        )
    if args.watch_signal is None:
        return None
    name = str(args.watch_signal).strip()
    try:
        if name.isdigit():
            return int(signal.Signals(int(name)))
        return int(signal.Signals["SIG" + name.upper().removeprefix("SIG")])
    except (KeyError, ValueError):
        raise CliError(
            f"unknown signal {printable(name)} for --watch-signal",
            "  use a signal name such as HUP, USR1 or USR2",
        ) from None


def _watch_path(ctx: Context, environment: str) -> str:
    return path("projects", ctx.resolved.project or "", "environments", environment, "watch")


def first_token(ctx: Context, environment: str) -> str | None:
    """The token of now, taken before the secrets are fetched (so that a change made
    between the two is not missed); None when the server does not say (the watcher says
    why once it runs)."""
    try:
        answer = ctx.client.get(_watch_path(ctx, environment), query={"timeout": "1"})
        token = answer.json().get("token") if answer.ok else None
    except (CliError, AttributeError):
        return None
    return token if isinstance(token, str) else None


class Swappable:
    """A RedactorLike whose redactor another thread can replace (`swap`); the new one takes
    over at the next call, that is at a chunk boundary, and is first fed what the old one
    still held back. The new redactor must protect every form the old one did."""

    def __init__(self, redactor: RedactorLike) -> None:
        self._current = redactor
        self._next: RedactorLike | None = None

    def swap(self, redactor: RedactorLike) -> None:
        self._next = redactor

    def _switch(self) -> bytes:
        following, self._next = self._next, None
        if following is None:
            return b""
        held = self._current.flush() if self._current.held else b""
        self._current = following
        return following.feed(held) if held else b""

    @property
    def held(self) -> int:
        return self._current.held

    def feed(self, data: bytes) -> bytes:
        head = self._switch()
        return head + self._current.feed(data)

    def flush(self) -> bytes:
        head = self._switch()
        return head + self._current.flush()

    def release_short_tail(self) -> bytes:
        head = self._switch()
        return head + self._current.release_short_tail()


def run_watching(
    ctx: Context,
    environment: str,
    argv: list[str],
    child_env: dict[str, str],
    redactors: Factory,
    fetched: Fetched,
    mount: Any,
    token: str | None,
    watch_signal: int | None,
) -> int:
    """Run the child as `run_child` does, restarting or signalling it on changes (see the
    module docstring); Sigillo's exit status. `mount` is the run's Mount or None: a
    replacement of it is closed here, the first one by the caller too."""
    watching = _Watching(ctx, environment, argv, child_env, mount, watch_signal)
    watching.start(redactors, fetched)
    watcher = threading.Thread(target=watching.watch, args=(token,), daemon=True)
    watcher.start()
    try:
        return watching.supervise()
    finally:
        watching.end()


class _Watching:
    def __init__(
        self,
        ctx: Context,
        environment: str,
        argv: list[str],
        child_env: dict[str, str],
        mount: Any,
        watch_signal: int | None,
    ) -> None:
        self.ctx, self.environment, self.argv = ctx, environment, argv
        self.child_env = child_env
        self.signal = watch_signal
        self.lock = threading.Lock()
        self.ending = False
        self.stopped = threading.Event()  # Sigillo is ending: the watcher's pauses end
        self.remote: Remote | None = None
        self.pending: tuple[dict[str, str], Factory, bytes | None] | None = None
        self.mount = mount
        self.known: Fetched | None = None  # the child's values
        self.short: list[str] | None = None  # the secrets too short to mask, once said
        self.streams: list[Swappable] = []  # with --watch-signal: each stream's redactor
        self.forms: list[bytes] = []  # with --watch-signal: every form protected so far
        self.redactors: Factory = None

    def start(self, redactors: Factory, fetched: Fetched) -> None:
        """The redactors of the first run: with --watch-signal, replaceable ones over the
        values given at start (even when none is protected yet: later ones may be)."""
        self.redactors, self.known = redactors, fetched._replace(as_json=None)
        if self.ctx.args.disable_redaction:
            return
        forms, self.short = protected(self.ctx, fetched)  # run() said the short ones
        if self.signal is not None:
            self.forms = forms
            base = redactors or Redactor(self.forms).twin

            def make() -> RedactorLike:
                stream = Swappable(base())
                self.streams.append(stream)
                return stream

            self.redactors = make

    # -- the main thread ------------------------------------------------------------------

    def supervise(self) -> int:
        while True:
            remote = Remote()
            with self.lock:
                self.remote = remote
            status = run_child(self.argv, self.child_env, self.redactors, remote=remote)
            with self.lock:
                self.remote = None
                following, self.pending = self.pending, None
                if following is None or remote.forwarded:
                    self.ending = True
                    return status
            self.child_env, self.redactors, body = following
            if body is not None:
                self._remount(body)

    def end(self) -> None:
        with self.lock:
            self.ending = True
            mount, self.mount = self.mount, None
        self.stopped.set()
        if mount is not None:
            mount.close()

    # -- the watcher thread ---------------------------------------------------------------

    def watch(self, token: str | None) -> None:
        """The watcher thread: long polls until Sigillo ends or the watching must stop.
        Without a first token (the server did not give one at start, when it may have been
        unreachable) the secrets are fetched again once it answers, and compared."""
        client = Client(self.ctx.resolved.api_url, self.ctx.resolved.token, timeout=POLL + 15)
        target = _watch_path(self.ctx, self.environment)
        pause, trouble, unsure = RETRY_FIRST, False, token is None
        try:
            while not self.stopped.is_set():
                asked = time.monotonic()
                query = {"timeout": str(POLL), **({"since": token} if token else {})}
                try:
                    answer = client.get(target, query=query)
                except CliError as error:
                    answer, reason = None, error.message
                if answer is not None and answer.ok:
                    if trouble:
                        trouble = False
                        _say("watching for changes again")
                    pause = RETRY_FIRST
                    document = answer.json()
                    if (token is not None and document.get("changed")) or unsure:
                        unsure = False
                        token = self._changed(client, target, token)
                        continue
                    token = str(document.get("token") or "") or None
                    if time.monotonic() - asked < QUICKEST:  # never a busy loop
                        self.stopped.wait(QUICKEST)
                    continue
                if answer is not None and answer.status in (401, 403, 404):
                    _say(
                        f"stopped watching for changes: {printable(answer.message())} "
                        f"({answer.status}); the command keeps running"
                    )
                    return
                if answer is not None:
                    reason = f"{answer.status}: {printable(answer.message())}"
                if not trouble:
                    trouble = True
                    _say(f"cannot watch for changes ({reason}); retrying, the command runs on")
                self.stopped.wait(pause)
                pause = min(pause * 2, RETRY_MOST)
        except Exception as error:  # the watcher's own fault: say it, the child runs on
            _say(f"stopped watching for changes ({type(error).__name__}); the command runs on")
        finally:
            client.close()

    def _changed(self, client: Client, target: str, token: str | None) -> str | None:
        """A change: after DEBOUNCE, the token of now and the secrets of now, applied when
        they differ from the child's. The token to wait on next: the old one when the server
        could not be reached (asked again), the new one otherwise (a fetch the server
        refused is said once, and the child runs on as it is until the next change)."""
        from sigillo.cli.client import Unreachable

        if self.stopped.wait(DEBOUNCE):
            return token
        try:
            now = client.get(target, query={"timeout": "1"})
            latest = now.json().get("token") if now.ok else None
        except CliError:
            latest = None
        if not isinstance(latest, str):  # asked again by the next poll, with the old token
            self.stopped.wait(RETRY_FIRST)
            return token
        try:
            fetched = _fetch(self.ctx, self.environment)._replace(as_json=None)
            if fetched == self.known:
                return latest  # nothing the command sees has changed
            body = None if self.mount is None else mount_body(self.ctx, fetched)
        except Unreachable:
            self.stopped.wait(RETRY_FIRST)
            return token
        except CliError as error:
            _say(f"secrets changed, but {error.message}; the command runs on as it is")
            return latest
        try:
            if self.signal is None:
                self._restart(fetched, body)
            else:
                self._signal(fetched, body)
        except CliError as error:  # --show or --redact name a secret that is gone, say
            _say(f"secrets changed, but {error.message}; the command runs on as it is")
        self.known = fetched
        return latest

    def _restart(self, fetched: Fetched, body: bytes | None) -> None:
        redactors = None
        if not self.ctx.args.disable_redaction:
            redactors, short = _redactors(self.ctx, fetched)
            self._note_short(short)
        env = {**_without_credentials(self.ctx), **fetched.secrets, "SIGILLO": "1"}
        said = False
        while not self.stopped.is_set():
            with self.lock:
                if self.ending:
                    return
                if self.remote is not None:
                    if not said:  # before the child's own last words
                        said = True
                        _say("secrets changed; restarting the command")
                    self.pending = env, redactors, body
                    if self.remote.stop(KILL_AFTER):
                        return
                    self.pending = None
            self.stopped.wait(0.1)  # the child is starting: ask again

    def _signal(self, fetched: Fetched, body: bytes | None) -> None:
        assert self.signal is not None
        if not self.ctx.args.disable_redaction:
            forms, short = protected(self.ctx, fetched)
            self._note_short(short)
            self.forms = sorted(dict.fromkeys([*self.forms, *forms]), key=len, reverse=True)
            first = Redactor(self.forms)
            for stream in self.streams:
                stream.swap(first.twin())
        said = False
        while not self.stopped.is_set():
            with self.lock:
                if self.ending:
                    return
                if body is not None:
                    self._remount(body)
                    body = None
                if self.remote is not None:
                    if not said:  # before what the child writes on the signal
                        said = True
                        _say(f"secrets changed; sending {signal.Signals(self.signal).name}")
                    if self.remote.signal(self.signal):
                        return
            self.stopped.wait(0.1)  # the child is starting: ask again

    # -- redaction and the mount ----------------------------------------------------------

    def _note_short(self, short: list[str]) -> None:
        """The start-up note naming the secrets too short to mask, again when they change."""
        if short and short != self.short:
            _say(_short_note(short))
        self.short = short

    def _remount(self, body: bytes) -> None:
        """The mount again, with `body` (a new file or pipe at the same path)."""
        from sigillo.cli.run import mounts

        old = self.mount
        if old is None:
            return
        old.close()
        self.mount = None
        try:
            self.mount = mounts.Mount.create(old.path, body, old.mode, self.ctx.env)
        except CliError as error:
            _say(f"could not write the mount again: {error.message}")


def _say(text: str) -> None:
    """One line on Sigillo's stderr (a terminal in raw mode needs its carriage return)."""
    end = "\r\n" if os.isatty(2) else "\n"
    with contextlib.suppress(OSError):
        os.write(2, f"sigillo: {text}{end}".encode())
