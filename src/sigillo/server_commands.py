"""What `sigillo server` and `sigillo admin …` do once their arguments are parsed."""

from __future__ import annotations

import argparse
import asyncio
import sys

from sigillo import logs
from sigillo.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    StartupError,
    StorageUnavailable,
)
from sigillo.settings import Settings

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    try:
        logs.configure()
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        settings = Settings.load(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            metrics_address=getattr(args, "metrics_address", None),
            data_dir=args.data_dir,
            database_url=args.database_url,
        )
    except ValueError as error:  # a setting's own message names it; int() of the port's not
        named = str(error).startswith("SIGILLO_")
        print(
            f"error: {error if named else 'SIGILLO_PORT must be a whole number'}", file=sys.stderr
        )
        return 2
    try:
        if args.command == "server":
            from sigillo.server import serve

            asyncio.run(serve(settings))
            return 0
        if args.task == "migrate":
            asyncio.run(_migrate(settings))
            return 0
        if args.task == "create-user":
            password = _password_from_stdin()
            return asyncio.run(_create_user(settings, args.email, args.name, password))
        if args.task == "reset-two-factor":
            return asyncio.run(_reset_two_factor(settings, args.email))
        if args.task == "sign-in-failures":
            return asyncio.run(_sign_in_failures(settings, args.email, args.limit))
        if args.task in ("backup", "verify-backup"):
            return _backup(settings, args)
        if args.task == "rotate-key":
            from sigillo.key_rotation import rotate_key

            lines = asyncio.run(
                rotate_key(settings, status_only=args.status, activate_after=args.activate_after)
            )
            print("\n".join(lines))
            return 0
        if args.task == "audit":
            return _audit_export(settings, args)
        if args.task == "verify":
            return _verify_log(settings, args)
        return asyncio.run(_rebuild(settings, check_only=args.check))
    except (StartupError, StorageUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except InvalidInput as error:  # names the field and the rule, never the value
        print(f"error: {error.field} {error.message}", file=sys.stderr)
        return 1
    except Conflict as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _migrate(settings: Settings) -> None:
    from sigillo.store.database import open_database
    from sigillo.store.migrate import migrate

    database = await open_database(settings.database_url)
    try:
        await migrate(settings.database_url)
    finally:
        await database.close()
    print("database is up to date")


async def _rebuild(settings: Settings, *, check_only: bool) -> int:
    from sigillo.store.database import open_database
    from sigillo.store.event_store import SqlEventStore
    from sigillo.store.migrate import migrate

    database = await open_database(settings.database_url)
    try:
        await migrate(settings.database_url)
        report = await SqlEventStore(database).rebuild_projections(check_only=check_only)
    finally:
        await database.close()
    verb = "compared" if check_only else "rebuilt"
    print(f"{verb} read models from {report.events} events")
    for table, count in report.rows.items():
        print(f"  {table}: {count} rows, {report.differences[table]} differing")
    if check_only and not report.identical:
        print("error: the stored read models differ from a replay of the log", file=sys.stderr)
        return 1
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from sigillo.backup import BackupError, backup, verify_backup

    try:
        if args.task == "backup":
            print("\n".join(backup(settings, Path(args.path), force=args.force)))
            return 0
        path = Path(args.path) if args.path else None
        report = asyncio.run(verify_backup(settings, path))
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    opened = "a sealed value opened" if report.opened else "no sealed value to open"
    print(
        f"backup is sound: {report.events} events replay into its read models; "
        f"{report.environments} environments, {report.secrets} live secrets; "
        f"key {', '.join(report.keys) or '(none registered)'} checked, {opened}"
    )
    return 0


def _audit_export(settings: Settings, args: argparse.Namespace) -> int:
    """JSON lines to stdout or to a new private file; 2 for a bad --since or --org."""
    from pathlib import Path

    from sigillo.audit_export import ExportError, export, open_private, parse_since

    try:
        since = None if args.since is None else parse_since(args.since)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = None if args.output is None else Path(args.output)
    try:
        out = sys.stdout.buffer if path is None else open_private(path)
    except OSError as error:
        print(f"error: cannot write {path}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        count = asyncio.run(export(settings, out, since=since, org=args.org))
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        if path is not None:
            out.close()
            path.unlink()
        return 2
    finally:
        if path is not None:
            out.close()
    if path is not None:
        print(f"wrote {count} events to {path} (mode 0600)", file=sys.stderr)
    return 0


def _verify_log(settings: Settings, args: argparse.Namespace) -> int:
    """0 when every link holds, 1 at the first broken link (said in words), 2 for a bad
    --head or an unknown --org."""
    from sigillo.log_check import describe, parse_head, verify

    try:
        head = None if args.head is None else parse_head(args.head)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(verify(settings, org=args.org, head=head))
    except LookupError as error:  # an unknown --org
        print(f"error: {error}", file=sys.stderr)
        return 2
    if report.intact:
        print("\n".join(describe(report)))
        return 0
    print(f"error: the log does not verify: {report.problem}", file=sys.stderr)
    return 1


def _password_from_stdin() -> str:
    """All of stdin, less one trailing newline (what `echo` or a here-string adds)."""
    text = sys.stdin.read()
    return text[:-1] if text.endswith("\n") else text


async def _create_user(settings: Settings, email: str, name: str | None, password: str) -> int:
    from sigillo.server import open_services

    services = await open_services(settings)
    try:
        user = await services.accounts.register(email, name or email.split("@")[0], password)
    finally:
        await services.close()
    print(f"created {user.email} ({user.id})")
    return 0


async def _reset_two_factor(settings: Settings, email: str) -> int:
    """A lost device: the account's second factor removed and its sessions ended, recorded
    in its stream as `user.two_factor_reset` by the system. 1 for an unknown email."""
    from sigillo.server import open_services

    services = await open_services(settings)
    try:
        user, was_on = await services.two_factor.reset(email)
    except NotFound:
        print("error: no account has this email address", file=sys.stderr)
        return 1
    finally:
        await services.close()
    if not was_on:
        print(f"{user.email} ({user.id}) has no two-factor authentication: nothing changed")
        return 0
    print(f"reset two-factor authentication of {user.email} ({user.id}); its sessions ended")
    return 0


async def _sign_in_failures(settings: Settings, email: str | None, limit: int) -> int:
    """The audit of failed sign-ins: one line each, `time  address  email-hash`. The email
    was never stored; `--email` finds its entries by the same hash."""
    from datetime import UTC, datetime

    from sigillo.server import open_services

    services = await open_services(settings)
    try:
        failures = await services.accounts.failed_sign_ins(
            address=email, limit=max(1, min(limit, 10_000))
        )
    finally:
        await services.close()
    for failure in failures:
        when = datetime.fromtimestamp(failure.at / 1000, tz=UTC).isoformat(timespec="seconds")
        print(f"{when}  {failure.ip_address or '-'}  {failure.email_hash}")
    return 0
