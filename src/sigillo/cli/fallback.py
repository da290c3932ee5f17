"""The offline copies of `sigillo run` and `sigillo secrets download` (issue 18).

After each successful fetch, the answer is kept, encrypted, under the user's config
directory; when the server cannot be reached (client.Unreachable: connection refused, a
name that does not resolve, a timeout, a connection closed before an answer), the copy
stands in for it, with a note on stderr saying so and how old it is, if it is no older
than `--fallback-max-age` (24 h by default). Never in place of an answer: a 5xx, a 401,
403 or 404 is the server speaking. 401 (a revoked token, a signed-out session) deletes
every copy of the credential; 403 and 404 delete the target's copies; `sigillo logout`
deletes the copies of the credential it forgets. `--no-fallback` or SIGILLO_NO_FALLBACK=1
neither use nor keep a copy (and delete the target's); `--at` reads never touch them.

What is kept: the server's answer as it came, per format (`run` reads `json-kinds`, so
each value keeps its kind and redaction stays as it was; `download --format env` keeps
`env`; both share `json-kinds`), so nothing is rendered here that the server did not.

Layout, under the directory of config.json (0700 directories, 0600 files, written as
config.py writes: a temporary file, fsync, rename):

    fallback/<credential>/<target>-<format>

The file alone is useless: its key comes from the token (fallback_files.py: names, keys,
sealing, and the helper process that writes copies, so that online `sigillo run` never
loads `cryptography`). An answer the copy already holds is not written again for an hour,
so most runs start no helper at all; the time a copy says it was fetched can then be up to
an hour before the last fetch that confirmed it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigillo.cli.client import Response, Unreachable
from sigillo.cli.config import ConfigError, config_path
from sigillo.cli.errors import CliError
from sigillo.cli.fallback_files import (
    MAX_BYTES,
    binding,
    credential_directory,
    file_name,
    forget_credential,
    later,
    open_sealed,
    store,
)
from sigillo.cli.output import printable, quote

if TYPE_CHECKING:
    from sigillo.cli.context import Context

__all__ = ["DEFAULT_MAX_AGE", "Copies", "age_text", "disabled", "forget_credential", "max_age"]

DEFAULT_MAX_AGE = 24 * 3600
_DURATION = r"([0-9]{1,9})([smhd])"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ON = ("1", "true", "yes", "on")


# --- settings -----------------------------------------------------------------------------


def max_age(text: str | None) -> int:
    """`--fallback-max-age` in seconds: a whole number and a unit (90s, 30m, 24h, 7d)."""
    if text is None:
        return DEFAULT_MAX_AGE
    match = re.fullmatch(_DURATION, text.strip(), re.ASCII)
    if match is None or int(match[1]) == 0:
        raise CliError(
            f"invalid --fallback-max-age {quote(text)}",
            "  expected a duration such as 90s, 30m, 24h or 7d",
        )
    return int(match[1]) * _UNITS[match[2]]


def disabled(args: Any, env: Mapping[str, str]) -> bool:
    """`--no-fallback`, or SIGILLO_NO_FALLBACK set to 1 (true, yes, on)."""
    variable = env.get("SIGILLO_NO_FALLBACK", "").strip().lower()
    return bool(getattr(args, "no_fallback", False)) or variable in _ON


def age_text(seconds: float) -> str:
    """`45 s`, `12 min`, `2 h 5 min`, `3 d 4 h`."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60 % 60, whole // 3600 % 24, whole // 86400
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{days} d {hours} h" if hours else f"{days} d"


def _moment(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


# --- the copies of one target -------------------------------------------------------------


class Copies:
    """The copies of one target (API URL, project, environment) made with one credential."""

    def __init__(self, ctx: Context, root: Path, environment: str, limit: int, doing: str) -> None:
        self._ctx, self._root, self._limit, self._doing = ctx, root, limit, doing
        self._token = ctx.resolved.token or ""
        self._api_url = ctx.resolved.api_url.rstrip("/")
        self._project = ctx.resolved.project or ""
        self._environment = environment

    def __repr__(self) -> str:
        return "Copies(…)"  # never the token, nor a name that depends on it

    @classmethod
    def of(cls, ctx: Context, environment: str, doing: str) -> Copies | None:
        """The target's copies, or None when none may be used or kept: with `--at`, or
        turned off (then the target's copies are deleted). `--fallback-max-age` is
        checked first, whatever the rest."""
        limit = max_age(getattr(ctx.args, "fallback_max_age", None))
        if getattr(ctx.args, "at", None) is not None or not ctx.resolved.token:
            return None
        try:
            root = config_path(ctx.env).parent / "fallback"
        except ConfigError:
            return None
        copies = cls(ctx, root, environment, limit, doing)
        if disabled(ctx.args, ctx.env):
            copies.forget_target()
            return None
        return copies

    def answered(self, format: str, response: Response) -> None:
        """After the server answered: keep a success (in a helper, see _later); a 401 forgets
        every copy of the credential, a 403 or 404 those of the target."""
        if response.ok:
            job = self._job(format, response.body, time.time())
            if job is not None:
                later(job)
        elif response.status == 401:
            forget_credential(self._ctx.env, self._token)
        elif response.status in (403, 404):
            self.forget_target()

    def use(self, format: str, failure: Unreachable) -> Response:
        """The copy in `format` as a 200 answer, with the note saying so; `failure` again
        when there is none, and an error naming its age when it is older than the limit."""
        found = self._read(format)
        if found is None:
            raise failure
        fetched, body = found
        age = max(0.0, time.time() - fetched)
        if age > self._limit:
            raise CliError(
                f"{failure.message}; the offline copy of {printable(self._environment)} is"
                f" {age_text(age)} old ({_moment(fetched)}), older than --fallback-max-age"
                f" ({age_text(self._limit)})",
                *failure.hint,
                "  to use it anyway: --fallback-max-age 7d (or longer)",
            )
        _say_once(
            self._ctx,
            f"sigillo: server unreachable ({printable(failure.reason)}); {self._doing} the"
            f" offline copy of {_moment(fetched)} ({age_text(age)} old)",
        )
        return Response(200, body)

    def forget_target(self) -> None:
        prefix = self._name("").partition("-")[0] + "-"
        directory = credential_directory(self._root, self._token)
        with contextlib.suppress(OSError):
            for entry in os.listdir(directory):
                if entry.startswith(prefix):
                    with contextlib.suppress(OSError):
                        os.unlink(directory / entry)

    def _name(self, format: str) -> str:
        return file_name(self._token, self._api_url, self._project, self._environment, format)

    def _binding(self, format: str) -> bytes:
        return binding(self._api_url, self._project, self._environment, format)

    def _read(self, format: str) -> tuple[float, bytes] | None:
        path = credential_directory(self._root, self._token) / self._name(format)
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError:
            return None
        plaintext = open_sealed(self._token, self._binding(format), data)
        header, _, body = (plaintext or b"").partition(b"\n")
        try:
            fetched = json.loads(header)["fetched"]
        except (ValueError, KeyError, TypeError):
            fetched = None
        if plaintext is None or not isinstance(fetched, int | float):
            with contextlib.suppress(OSError):
                os.unlink(path)
            self._ctx.out.note("note: the offline copy could not be read (damaged); removed")
            return None
        return float(fetched), body

    def _job(self, format: str, body: bytes, fetched: float) -> bytes | None:
        """What `store` needs to keep `body` (see _later), None when it is too large. Names
        are derived there: hashlib is not loaded on `run`'s way to the child."""
        if len(body) > MAX_BYTES - 1024:
            return None
        job = [str(self._root), self._token, self._api_url, self._project, self._environment]
        header = json.dumps({"fetched": fetched}).encode()
        return json.dumps([*job, format]).encode() + b"\n" + header + b"\n" + body

    def _keep(self, format: str, body: bytes, fetched: float) -> None:
        """Keep `body` now, in this process (`answered` keeps it in a helper's)."""
        job = self._job(format, body, fetched)
        if job is not None:
            store(job)


_said: set[str] = set()
_said_lock = threading.Lock()


def _say_once(ctx: Context, text: str) -> None:
    with _said_lock:
        if text in _said:
            return
        _said.add(text)
    ctx.out.note(text, "yellow")
