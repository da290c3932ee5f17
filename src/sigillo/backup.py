"""`sigillo admin backup` and `sigillo admin verify-backup`: a private, consistent copy of
the database, and the proof that a copy restores: its log replays into the read models it
holds, and the configured key opens what it sealed. Verifying never writes to the copy it
checks (a SQLite backup is opened from a private temporary copy) and never makes a key."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import msgspec

from sigillo.crypto.envelope import Envelope
from sigillo.crypto.keyring import Keyring
from sigillo.crypto.keys import KeySources
from sigillo.domain.codec import decode_event
from sigillo.domain.events import SecretSet
from sigillo.settings import Settings
from sigillo.store.backup import (
    BackupError,
    backup_sqlite,
    check_pg_dump,
    pg_dump_command,
    private_copy,
    url_without_password,
)
from sigillo.store.database import Database, open_database, sqlite_path

__all__ = ["BackupError", "VerifyReport", "backup", "verify_backup"]

# Tables every Sigillo database has, whatever its migration.
_SIGILLO_TABLES = {"events", "encryption_keys", "current_secrets", "environments"}


class VerifyReport(msgspec.Struct, frozen=True):
    events: int
    environments: int
    secrets: int
    keys: list[str]
    opened: int  # sealed values opened with the configured key


def backup(settings: Settings, path: Path, *, force: bool) -> list[str]:
    """Makes the copy (SQLite) or says how (PostgreSQL); answers the lines to print."""
    source = sqlite_path(settings.database_url)
    if source is not None:
        size = backup_sqlite(Path(source), path, force=force)
        return [f"backed up {source} to {path.absolute()} ({size} bytes, mode 0600)"]
    _, had_password = url_without_password(settings.database_url)
    lines = [
        "PostgreSQL is backed up with pg_dump; run:",
        f"  {pg_dump_command(settings.database_url, path)}",
    ]
    if had_password:
        lines.append(
            "  (the password is left out: set PGPASSWORD for the command, or put it in ~/.pgpass)"
        )
    if path.exists():
        entries = check_pg_dump(path)
        lines.append(f"{path} is a readable pg_dump archive ({entries} entries, mode 0600)")
    else:
        lines.append(f"then run this command again to check {path} with pg_restore --list")
    return lines


async def verify_backup(settings: Settings, path: Path | None) -> VerifyReport:
    """Checks a SQLite backup file at `path`, or (no path) the database the settings name,
    such as a scratch PostgreSQL database a dump was restored into."""
    keys = KeySources(settings).load()
    if keys is None:
        raise BackupError(f"no key to check the backup with: {KeySources(settings).missing()}")
    if path is None:
        return await _verify(settings.database_url, keys, migrate_first=False)
    with tempfile.TemporaryDirectory(prefix="sigillo-verify-") as scratch:
        copy = private_copy(path, Path(scratch))
        _check_sqlite_file(copy, path)
        return await _verify(f"sqlite:///{copy}", keys, migrate_first=True)


def _check_sqlite_file(copy: Path, path: Path) -> None:
    try:
        connection = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
        try:
            problem = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} is damaged: {error}") from None
    if problem != "ok":
        raise BackupError(f"{path} is damaged: {problem}")
    if not tables >= _SIGILLO_TABLES:
        raise BackupError(f"{path} is a SQLite database, but not a Sigillo one")


async def _verify(url: str, keyring: Keyring, *, migrate_first: bool) -> VerifyReport:
    from sigillo.store.data_keys import SqlDataKeys
    from sigillo.store.event_store import SqlEventStore
    from sigillo.store.key_registry import SqlKeyRegistry
    from sigillo.store.migrate import migrate

    database = await open_database(url)
    try:
        if migrate_first:  # a backup of an older release: its private copy is brought up to date
            await migrate(url)
        report = await SqlEventStore(database).rebuild_projections(check_only=True)
        if not report.identical:
            differing = ", ".join(t for t, n in report.differences.items() if n)
            raise BackupError(
                f"the read models differ from a replay of the event log ({differing})"
            )
        registered = await SqlKeyRegistry(database).registered()
        cipher = Envelope(keyring)
        for key_id, check in sorted(registered.items()):
            if key_id not in cipher.key_ids:
                raise BackupError(
                    f"the backup was written with encryption key {key_id}, which is not the "
                    "configured key"
                )
            if not cipher.verify_check(check):
                raise BackupError(
                    f"the configured key failed the known-value check of key {key_id}"
                )
        unopened = cipher.learn(await SqlDataKeys(database).wrapped_keys())
        if unopened:
            wrappers = ", ".join(sorted({key.wrapped.key_id for key in unopened}))
            raise BackupError(
                f"the backup's data keys are wrapped by key {wrappers}, not configured"
            )
        opened = await _open_latest(database, cipher)
        environments = await _count(database, "environments")
        secrets = await _count(database, "current_secrets")
    finally:
        await database.close()
    return VerifyReport(report.events, environments, secrets, sorted(registered), opened)


async def _open_latest(database: Database, cipher: Envelope) -> int:
    """Opens the newest sealed value in the log; 0 when the log holds none."""
    rows = await database.fetch(
        "SELECT data FROM events WHERE event_type = $1 ORDER BY position DESC LIMIT 1",
        "secret.set",
    )
    if not rows:
        return 0
    event = decode_event(rows[0][0])
    if not isinstance(event, SecretSet):  # pragma: no cover - the query names the type
        raise BackupError("the event log holds a malformed secret.set event")
    value = event.value
    try:
        cipher.open(value, environment_id=event.environment_id, name=event.name)
    except Exception:  # any failure to open is the finding
        raise BackupError(
            f"the configured key cannot open the newest secret value (key {value.key_id})"
        ) from None
    return 1


async def _count(database: Database, table: str) -> int:
    rows = await database.fetch(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
    return int(rows[0][0])
