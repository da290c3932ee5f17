"""The files of the offline copies (cli/fallback.py decides when they are used and
forgotten): their names and keys, sealing and opening, and the helper process that writes
them.

Names are HMAC-SHA256 (truncated to 128 bits) under a key derived from the credential, of
the API URL, project and environment (and format), so they say nothing without it. A
file is MAGIC, a random salt and nonce, then AES-256-GCM of `{"fetched": <epoch s>}\\n`
and the body, under a key that HKDF-SHA256 derives from the credential (salt, and the
binding as `info`); the associated data is the header and the binding (the API URL,
project, environment and format), so a copy renamed or moved to another target, or
altered, does not open. Beside each copy, `<name>.seen` holds a keyed digest of the answer
in it, so that an unchanged answer is not written again for REFRESH_EVERY.

A copy is written by a helper process (`later`: a new interpreter, the job on its stdin,
never in its arguments or environment), which the CLI waits for before it exits, so that
`cryptography` never enters `sigillo run`'s process while online.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from sigillo.cli.config import ConfigError, config_path, fsync_directory

__all__ = [
    "MAX_BYTES",
    "binding",
    "credential_directory",
    "file_name",
    "forget_credential",
    "later",
    "open_sealed",
    "seal",
    "store",
]

MAGIC = b"SIGILLO-OFFLINE-COPY-1\n"
_SALT, _NONCE, _TAG = 16, 12, 16
MAX_BYTES = 64 * 1024 * 1024  # larger files are neither written nor read
_HELPER = "from sigillo.cli.fallback_files import _main; raise SystemExit(_main())"
HELPER_TIMEOUT = 60.0  # seconds the process waits at exit for a copy to be written
# An answer the copy already holds is not written again while the copy is younger than
# this (its file's time): most runs fetch what the last one did, and then no helper starts.
REFRESH_EVERY = 3600.0
SEEN = ".seen"  # beside a copy: a keyed digest of the answer it holds


# --- names and keys -----------------------------------------------------------------------


def _names_key(token: str) -> bytes:
    import hashlib  # hashlib and hmac (~3 ms) only where a name is needed: not on `run`'s way
    import hmac

    return hmac.new(token.encode(), b"sigillo offline copy: names", hashlib.sha256).digest()


def _mac(key: bytes, *parts: str) -> str:
    import hashlib
    import hmac

    return hmac.new(key, json.dumps(parts).encode(), hashlib.sha256).hexdigest()[:32]


def binding(api_url: str, project: str, environment: str, format: str) -> bytes:
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


def store(job: bytes) -> None:
    """Seal and write a copy described by Copies._job: 0700 directories (the config
    directory, `fallback/`, the credential's), then the file (_write)."""
    head, _, plaintext = job.partition(b"\n")
    root_text, token, *target = json.loads(head)
    data = seal(token, binding(*target), plaintext)
    root = Path(root_text)
    directory = credential_directory(root, token)
    for level in (root.parent, root, directory):
        if not level.is_dir():
            os.mkdir(level, 0o700)
            os.chmod(level, 0o700)  # exactly, whatever the umask
    name = file_name(token, *target)
    _write(directory, name, data)
    _write(directory, name + SEEN, _seen(token, plaintext).encode())


def _seen(token: str, plaintext: bytes) -> str:
    """A keyed digest of the answer in `plaintext` (without its header: the fetch time)."""
    return _mac(_names_key(token), "seen", plaintext.partition(b"\n")[2].hex())


def _unchanged(job: bytes) -> bool:
    """Whether the copy `job` describes holds this answer already and is younger than
    REFRESH_EVERY: then it is not written again (no helper process starts)."""
    head, _, plaintext = job.partition(b"\n")
    root_text, token, *target = json.loads(head)
    path = credential_directory(Path(root_text), token) / file_name(token, *target)
    try:
        fresh = time.time() - os.stat(path).st_mtime < REFRESH_EVERY
        with open(str(path) + SEEN, "rb") as handle:
            seen = handle.read(128).decode("ascii", "replace")
    except OSError:
        return False
    return fresh and seen == _seen(token, plaintext)


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
    fsync_directory(directory)


# --- writes in a helper process, and notes ----------------------------------------------

_pending: list[threading.Thread] = []
_lock = threading.Lock()


def later(job: bytes) -> None:
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

    if _unchanged(job):
        return

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
