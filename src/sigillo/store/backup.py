"""Copies of the database: SQLite's online backup into a private file, and the `pg_dump`
command (and `pg_restore --list` check) for PostgreSQL. Nothing here reads a secret."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "SQLITE_HEADER",
    "BackupError",
    "backup_sqlite",
    "check_pg_dump",
    "pg_dump_command",
    "private_copy",
    "url_without_password",
]

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
BUSY_TIMEOUT_SECONDS = 30.0


class BackupError(Exception):
    """A backup could not be made or checked; the message says why (never a value)."""


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> int:
    """A consistent copy of the live database `source` at `target`, mode 0600 from its first
    byte, fsynced, self-contained (rollback journal, no -wal file needed); answers its size.
    SQLite's online backup copies one snapshot while servers keep writing. An existing
    `target` is kept unless `force`; the copy appears there whole or not at all."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    target = target.absolute()
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; pass --force to replace it")
    if target.is_dir():
        raise BackupError(f"{target} is a directory")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)  # mkstemp makes it 0600; SQLite writes into the empty file
    try:
        _copy(source, Path(temporary))
        if force:
            os.replace(temporary, target)
        else:
            try:
                os.link(temporary, target)  # never replaces a file made meanwhile
            except FileExistsError:
                raise BackupError(f"{target} already exists; pass --force to replace it") from None
            os.unlink(temporary)
        _fsync_directory(target.parent)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target.stat().st_size


def _copy(source: Path, target: Path) -> None:
    # mode=rw: never create a database that is not there.
    live = sqlite3.connect(
        f"{source.absolute().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_SECONDS
    )
    try:
        copy = sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            live.backup(copy)  # every page in one step: one read snapshot of the live file
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            problem = copy.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise BackupError(f"the copy failed its integrity check: {problem}")
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BackupError(f"the backup failed: {error}") from None
    finally:
        live.close()
    with target.open("rb+") as written:
        os.fsync(written.fileno())


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_copy(path: Path, directory: Path) -> Path:
    """`path` copied into `directory` (to open without writing a byte to `path`), after
    checking it is a SQLite file at all."""
    try:
        with path.open("rb") as original:
            header = original.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror}") from None
    if header.startswith(PG_DUMP_HEADER):
        raise BackupError(
            f"{path} is a PostgreSQL dump: restore it into a scratch database "
            "(createdb sigillo_verify && pg_restore --no-owner --dbname sigillo_verify "
            f"{shlex.quote(str(path))}), then run `sigillo admin verify-backup "
            "--database-url postgresql://…/sigillo_verify`"
        )
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not a SQLite database (nor a Sigillo backup)")
    copy = directory / "backup.db"
    shutil.copyfile(path, copy)
    os.chmod(copy, 0o600)
    return copy


def url_without_password(url: str) -> tuple[str, bool]:
    """The URL with any password removed, and whether there was one."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, False
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}@{host}" if user else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), True


def pg_dump_command(url: str, path: Path) -> str:
    """The shell command that dumps the database at `url` into `path`, private (umask 077),
    in pg_dump's custom format; the URL's password is left out."""
    bare, _ = url_without_password(url)
    bare = "postgresql://" + bare.split("://", 1)[1]  # pg_dump does not read postgres+…
    return (
        f"(umask 077 && pg_dump --format=custom --file {shlex.quote(str(path))} "
        f"{shlex.quote(bare)})"
    )


def check_pg_dump(path: Path) -> int:
    """`pg_restore --list` on a dump: answers how many entries its table of contents lists.
    A dump others could read is made private (0600)."""
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError("pg_restore is not installed here: cannot check the dump")
    with path.open("rb") as dump:
        if not dump.read(len(PG_DUMP_HEADER)).startswith(PG_DUMP_HEADER):
            raise BackupError(f"{path} is not a pg_dump custom-format dump")
    listed = subprocess.run(
        [pg_restore, "--list", str(path)], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        reason = listed.stderr.strip().splitlines()[-1:] or ["unknown error"]
        raise BackupError(f"pg_restore cannot read {path}: {reason[0]}")
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return sum(1 for line in listed.stdout.splitlines() if line and not line.startswith(";"))
