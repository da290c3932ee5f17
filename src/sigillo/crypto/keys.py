"""Where the master key comes from, in this order:

1. SIGILLO_ENCRYPTION_KEY (the base64 of 32 bytes) or SIGILLO_ENCRYPTION_KEY_FILE (a file
   holding the same, as container secrets are mounted); setting both is refused;
   while a key is being rotated, several keys, newest first, separated by commas or
   whitespace (one per line in a file): the first seals, the others only open;
2. SIGILLO_SECRET_KEY: the key is its SHA-256 (ignored, with a warning, under 1);
3. none of them: the key file `encryption.key` in the data directory.

`KeySources` reads what is configured and never writes. A key file is created only for a
database that has no registered key at all: `services.keys.open_keys` decides that after
the database is opened and migrated, under its writer lock, and refuses to start a
database whose key is missing instead of generating a new one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import stat
from pathlib import Path

from sigillo.crypto.aead import KEY_BYTES
from sigillo.crypto.keyring import Keyring
from sigillo.domain.errors import StartupError
from sigillo.settings import Settings

__all__ = ["KEY_FILE_NAME", "KeySources"]

log = logging.getLogger("sigillo.keys")

KEY_FILE_NAME = "encryption.key"
_BAD_KEY = (
    "SIGILLO_ENCRYPTION_KEY must be the base64 encoding of exactly 32 bytes, or several such "
    "keys separated by commas, newest first (generate one with: openssl rand -base64 32)"
)
# A key is 44 base64 characters; anything much longer is not a key file (and is not read
# whole: the variable could name /dev/zero).
_MAX_KEY_FILE_BYTES = 4096


class KeySources:
    """The key the settings name (implements services.keys.KeySource). Building it checks
    the configuration (a bad key, an unreadable key file: StartupError); it writes nothing."""

    def __init__(self, settings: Settings) -> None:
        self._key_file = settings.data_dir / KEY_FILE_NAME
        self._configured = _configured(settings)
        self._found: Keyring | None = None
        if self._configured is None:
            keys = _read_key_file(self._key_file)
            self._found = None if keys is None else Keyring(keys)

    def load(self) -> Keyring | None:
        """The configured key, or the data directory's key file; None when there is neither."""
        if self._configured is not None:
            return self._configured
        if self._found is None:  # another process may have created it since
            keys = _read_key_file(self._key_file)
            self._found = None if keys is None else Keyring(keys)
        return self._found

    def create(self) -> Keyring:
        """A new key in the data directory's key file, for a database that has none (or the
        key a process racing to create it wrote)."""
        if self._configured is not None:  # pragma: no cover - load() never answers None then
            return self._configured
        self._found = Keyring(_create_key_file(self._key_file))
        return self._found

    def missing(self) -> str:
        """Where load() looked and found nothing, for the refusal to start."""
        return (
            "no key is configured (SIGILLO_ENCRYPTION_KEY, SIGILLO_ENCRYPTION_KEY_FILE and "
            f"SIGILLO_SECRET_KEY are unset) and the key file {self._key_file} does not exist"
        )


def _configured(settings: Settings) -> Keyring | None:
    """The key the environment names; None when only the data directory's key file is left."""
    if settings.encryption_key and settings.encryption_key_file:
        raise StartupError(
            "SIGILLO_ENCRYPTION_KEY and SIGILLO_ENCRYPTION_KEY_FILE are both set: "
            "set only one of them"
        )
    if settings.encryption_key:
        keys = _decode(settings.encryption_key, _BAD_KEY)
        chosen = "SIGILLO_ENCRYPTION_KEY"
    elif settings.encryption_key_file:
        keys = _read_variable_file(settings.encryption_key_file)
        chosen = "SIGILLO_ENCRYPTION_KEY_FILE"
    elif settings.secret_key:
        return Keyring([hashlib.sha256(settings.secret_key.encode("utf-8")).digest()])
    else:
        return None
    if settings.secret_key:
        log.warning("SIGILLO_SECRET_KEY is ignored: %s is set", chosen)
    return Keyring(keys)


def _decode(text: str, message: str) -> list[bytes]:
    """One key or several (newest first), separated by commas or whitespace."""
    keys = []
    for part in text.replace(",", " ").split():
        try:
            key = base64.b64decode(part, validate=True)
        except (binascii.Error, ValueError):
            raise StartupError(message) from None
        if len(key) != KEY_BYTES:
            raise StartupError(message)
        keys.append(key)
    if not keys or len(set(keys)) != len(keys):
        raise StartupError(message)
    return keys


def _read_variable_file(path: Path) -> list[bytes]:
    """The key in the file SIGILLO_ENCRYPTION_KEY_FILE names; never created."""
    where = f"SIGILLO_ENCRYPTION_KEY_FILE names {path}"
    try:
        text = _read_small(path)
    except FileNotFoundError:
        raise StartupError(f"{where}, which does not exist") from None
    except OSError as error:
        raise StartupError(f"{where}, which cannot be read: {error.strerror}") from None
    if text is None:
        raise StartupError(_bad_file(where))
    return _decode(text, _bad_file(where))


def _read_key_file(path: Path) -> list[bytes] | None:
    """The key in the data directory's key file; None when there is no such file."""
    try:
        text = _read_small(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StartupError(f"cannot read the key file {path}: {error.strerror}") from None
    bad = f"{path} does not hold a valid key (base64 of 32 bytes); restore it from your backup"
    if text is None:
        raise StartupError(bad)
    return _decode(text, bad)


def _bad_file(where: str) -> str:
    return (
        f"{where}, which does not hold a valid key: it must hold the base64 encoding of "
        "exactly 32 bytes (generate one with: openssl rand -base64 32)"
    )


def _read_small(path: Path) -> str | None:
    """A key file's text (None when it is too long or not ASCII), warning when other users
    may read it. The mode is the opened file's, so a swapped path cannot mislead it."""
    with path.open("rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    if stat.S_IMODE(mode) & 0o077:
        log.warning("the key file %s is readable by other users; run: chmod 600 %s", path, path)
    if len(data) > _MAX_KEY_FILE_BYTES:
        return None
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return None


def _create_key_file(path: Path) -> list[bytes]:
    """Write a new key to a private temporary file, then link it into place atomically."""
    key = os.urandom(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(key).decode("ascii") + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process won the race: use its key
            theirs = _read_key_file(path)
            if theirs is None:  # it vanished again at once: refuse rather than guess
                raise StartupError(f"the key file {path} appeared and vanished") from None
            return theirs
        finally:
            temporary.unlink()
    except OSError as error:
        raise StartupError(f"cannot create the key file {path}: {error.strerror}") from None
    log.warning(
        "generated a new encryption key in %s. Back it up: without it no secret can be read. "
        "In production set SIGILLO_ENCRYPTION_KEY or SIGILLO_ENCRYPTION_KEY_FILE instead.",
        path,
    )
    return [key]
