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

Names are HMAC-SHA256 (truncated to 128 bits) under a key derived from the credential, of
the API URL, project and environment (and format), so they say nothing without it. A
file is MAGIC, a random salt and nonce, then AES-256-GCM of `{"fetched": <epoch s>}\\n`
and the body, under a key that HKDF-SHA256 derives from the credential (salt, and the
binding below as `info`); the associated data is the header and the binding (the API URL,
project, environment and format), so a copy renamed or moved to another target, or
altered, does not open. The file alone is useless: the key comes from the token.

`cryptography` is loaded in this process only to read a copy (offline). A copy is written
by a helper process (`_later`), started as soon as the answer is here and niced, that the
CLI waits for before it exits: online, `sigillo run` imports nothing heavy
(tests/cli/test_fast_start.py) and starts the child no later than before; a command that
ends at once (`sigillo run -- true`) waits for the helper's start-up at its exit.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigillo.cli.client import Response, Unreachable
from sigillo.cli.config import ConfigError, config_path
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote

if TYPE_CHECKING:
    from sigillo.cli.context import Context

__all__ = [
    "DEFAULT_MAX_AGE",
    "Copies",
    "age_text",
    "credential_directory",
    "disabled",
    "file_name",
    "forget_credential",
    "max_age",
    "open_sealed",
    "seal",
    "store",
]

MAGIC = b"SIGILLO-OFFLINE-COPY-1\n"
_SALT, _NONCE, _TAG = 16, 12, 16
DEFAULT_MAX_AGE = 24 * 3600
MAX_BYTES = 64 * 1024 * 1024  # larger files are neither written nor read
_HELPER = "from sigillo.cli.fallback import _main; raise SystemExit(_main())"
HELPER_TIMEOUT = 60.0  # seconds the process waits at exit for a copy to be written
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


# --- names and keys -----------------------------------------------------------------------


def _names_key(token: str) -> bytes:
    import hashlib  # hashlib and hmac (~3 ms) only where a name is needed: not on `run`'s way
    import hmac

    return hmac.new(token.encode(), b"sigillo offline copy: names", hashlib.sha256).digest()


def _mac(key: bytes, *parts: str) -> str:
    import hashlib
    import hmac

    return hmac.new(key, json.dumps(parts).encode(), hashlib.sha256).hexdigest()[:32]


def _binding(api_url: str, project: str, environment: str, format: str) -> bytes:
    return json.dumps(["sigillo offline copy 1", api_url, project, environment, format]).encode()


def credential_directory(root: Path, token: str) -> Path:
    return root / _mac(_names_key(token), "credential")


def file_name(token: str, api_url: str, project: str, environment: str, format: str) -> str:
    """`<target>-<format>`: keyed hashes, the same for every format of one target."""
    key = _names_key(token)
    target = _mac(key, "target", api_url, project, environment)
    return f"{target}-{_mac(key, 'format', api_url, project, environment, format)}"


def _key(token: str, salt: bytes, binding: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    info = b"sigillo offline copy key\x00" + binding
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(token.encode())


def seal(token: str, binding: bytes, plaintext: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    head = MAGIC + salt + nonce
    return head + AESGCM(_key(token, salt, binding)).encrypt(nonce, plaintext, head + binding)


def open_sealed(token: str, binding: bytes, data: bytes) -> bytes | None:
    """The plaintext, or None when the data was not sealed for this token and binding, or
    was altered."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    size = len(MAGIC) + _SALT + _NONCE
    if not data.startswith(MAGIC) or len(data) < size + _TAG:
        return None
    head, salt = data[:size], data[len(MAGIC) : len(MAGIC) + _SALT]
    try:
        return AESGCM(_key(token, salt, binding)).decrypt(
            head[-_NONCE:], data[size:], head + binding
        )
    except InvalidTag:
        return None


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
                _later(job)
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
        return _binding(self._api_url, self._project, self._environment, format)

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


def store(job: bytes) -> None:
    """Seal and write a copy described by Copies._job: 0700 directories (the config
    directory, `fallback/`, the credential's), then the file (_write)."""
    head, _, plaintext = job.partition(b"\n")
    root_text, token, *target = json.loads(head)
    data = seal(token, _binding(*target), plaintext)
    root = Path(root_text)
    directory = credential_directory(root, token)
    for level in (root.parent, root, directory):
        if not level.is_dir():
            os.mkdir(level, 0o700)
            os.chmod(level, 0o700)  # exactly, whatever the umask
    _write(directory, file_name(token, *target), data)


def forget_credential(env: Mapping[str, str], token: str | None) -> None:
    """Delete every copy made with `token` (a 401, `sigillo logout`)."""
    if not token:
        return
    try:
        directory = credential_directory(config_path(env).parent / "fallback", token)
    except ConfigError:
        return
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            with contextlib.suppress(OSError):
                os.unlink(directory / entry)
        os.rmdir(directory)


def _write(directory: Path, name: str, data: bytes) -> None:
    """`data` as `directory/name`, 0600, atomically (as config.Config.save)."""
    import tempfile

    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- writes in a helper process, and notes ----------------------------------------------

_pending: list[threading.Thread] = []
_said: set[str] = set()
_lock = threading.Lock()


def _later(job: bytes) -> None:
    """Keep a copy in a helper process (`_main` in a new interpreter, the job on its
    stdin, never in its arguments or environment), fed by a thread of its own, so that
    neither `cryptography` nor the work enters this process: `sigillo run` starts and
    runs as it did (tests/cli/test_fast_start.py). The helper is niced, and the process
    waits for it before exiting (atexit). A failure is a note, never an error."""
    thread = threading.Thread(target=_helper, args=(job,), name="sigillo-offline-copy")
    thread.daemon = True  # joined by _finish, which atexit runs
    with _lock:
        if not _pending:
            atexit.register(_finish)
        _pending.append(thread)
    thread.start()


def _helper(job: bytes) -> None:
    import subprocess

    # Isolated and without `site` (a third of its start-up), on this process's path.
    code = f"import sys; sys.path[:0] = {json.dumps(sys.path)}; {_HELPER}"
    try:
        helper = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "SIGILLO_TOKEN"},
            start_new_session=True,  # a Ctrl-C meant for the child does not cut the write
        )
    except OSError as error:
        _stderr(f"note: the offline copy was not kept: {error.strerror or error}")
        return
    try:
        helper.communicate(job, timeout=HELPER_TIMEOUT)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()
        _stderr("note: the offline copy was not kept: its writer did not finish")


def _finish() -> None:
    for thread in _pending:
        thread.join()


def _main() -> int:
    """The helper: a job on stdin, kept; a failure said in one line on stderr (never a
    traceback: nothing of the job may reach it)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # after what the user is waiting for
    try:
        store(sys.stdin.buffer.read(MAX_BYTES + 65536))
    except Exception as error:  # said in one line, whatever it is
        message = getattr(error, "strerror", None) or type(error).__name__
        _stderr(f"note: the offline copy was not kept: {message}")
        return 1
    return 0


def _stderr(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def _say_once(ctx: Context, text: str) -> None:
    with _lock:
        if text in _said:
            return
        _said.add(text)
    ctx.out.note(text, "yellow")
