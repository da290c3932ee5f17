"""Where the master key comes from: SIGILLO_ENCRYPTION_KEY, else SHA-256 of SIGILLO_SECRET_KEY,
else (the embedded default) a random key file created once in the data directory."""

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

__all__ = ["KEY_FILE_NAME", "load_keyring"]

log = logging.getLogger("sigillo.keys")

KEY_FILE_NAME = "encryption.key"
_BAD_KEY = (
    "SIGILLO_ENCRYPTION_KEY must be the base64 encoding of exactly 32 bytes "
    "(generate one with: openssl rand -base64 32)"
)


def load_keyring(settings: Settings) -> Keyring:
    if settings.encryption_key:
        return Keyring([_decode(settings.encryption_key, _BAD_KEY)])
    if settings.secret_key:
        return Keyring([hashlib.sha256(settings.secret_key.encode("utf-8")).digest()])
    return Keyring([_key_file(settings.data_dir / KEY_FILE_NAME)])


def _decode(text: str, message: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise StartupError(message) from None
    if len(key) != KEY_BYTES:
        raise StartupError(message)
    return key


def _key_file(path: Path) -> bytes:
    bad = f"{path} does not hold a valid key (base64 of 32 bytes); restore it from your backup"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return _create_key_file(path)
    except OSError as error:
        raise StartupError(f"cannot read the key file {path}: {error.strerror}") from None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("the key file %s is readable by other users; run: chmod 600 %s", path, path)
    return _decode(text, bad)


def _create_key_file(path: Path) -> bytes:
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
            return _key_file(path)
        finally:
            temporary.unlink()
    except OSError as error:
        raise StartupError(f"cannot create the key file {path}: {error.strerror}") from None
    log.warning(
        "generated a new encryption key in %s. Back it up: without it no secret can be read. "
        "In production set SIGILLO_ENCRYPTION_KEY instead.",
        path,
    )
    return key
