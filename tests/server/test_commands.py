"""`sigillo` as a real process: help, version, and bad input to the server commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from sigillo import __version__
from tests.live_server import create_user_and_sign_in, server


def sigillo(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigillo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version_and_help() -> None:
    assert sigillo("--version").stdout.strip() == f"sigillo {__version__}"
    for args in [(), ("--help",), ("server", "--help")]:
        result = sigillo(*args)
        assert result.returncode == 0
        assert "sigillo server" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("frobnicate",), "invalid choice"),
        (("admin",), "the following arguments are required"),
        (("server", "--port", "eighty"), "invalid int value"),
        (("server", "--bogus"), "unrecognized arguments"),
    ],
)
def test_bad_arguments_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = sigillo(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://localhost/db", "must start with sqlite:/// or postgresql://"),
        ("sqlite://relative", "SQLite URLs look like"),
        ("postgresql://postgres@127.0.0.1:1/nowhere", "cannot be reached"),
    ],
)
def test_bad_database_urls_fail_clearly(tmp_path: Path, url: str, message: str) -> None:
    result = sigillo("admin", "migrate", "--database-url", url, "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_port_variable_is_reported(tmp_path: Path) -> None:
    result = sigillo("server", "--data-dir", str(tmp_path), env={"SIGILLO_PORT": "http"})
    assert result.returncode == 2
    assert "SIGILLO_PORT must be a whole number" in result.stderr


def test_migrate_creates_a_private_database_and_is_idempotent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for _ in range(2):
        result = sigillo("admin", "migrate", "--data-dir", str(data))
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "sigillo.db").stat().st_mode & 0o777 == 0o600


def create_user(
    data: Path, email: str, password: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigillo", "admin", "create-user", email, "--password-stdin",
         "--data-dir", str(data), *extra],
        input=password, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_create_user_reads_the_password_from_stdin_only(tmp_path: Path) -> None:
    password = "correct horse battery staple"
    made = create_user(tmp_path, "Ada@Example.com", password + "\n", "--name", "Ada")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("created ada@example.com (")
    assert password not in made.stdout + made.stderr
    again = create_user(tmp_path, "ada@example.com", password)
    assert (again.returncode, again.stderr.strip()) == (
        1,
        "error: an account with this email already exists",
    )
    weak = create_user(tmp_path, "bob@example.com", "hunter2")
    assert weak.returncode == 1
    assert weak.stderr.strip() == "error: password must be at least 12 characters"
    assert "hunter2" not in weak.stderr
    bad = create_user(tmp_path, "not-an-email", password)
    assert (bad.returncode, bad.stderr.strip()) == (1, "error: email must be an email address")
    no_flag = sigillo("admin", "create-user", "x@example.com", "--data-dir", str(tmp_path))
    assert no_flag.returncode == 2
    assert "--password-stdin" in no_flag.stderr


async def _enrol_two_factor(data: Path, email: str) -> tuple[str, str]:
    """Turn on the account's 2FA in the data dir's database: (user id, a session token)."""
    from sigillo.server import open_services
    from sigillo.settings import Settings

    services = await open_services(Settings.load(data_dir=data))
    try:
        user = await services.accounts.user_by_email(email)
        assert user is not None
        totp = pyotp.TOTP((await services.two_factor.begin(user)).secret)
        token, session = await services.accounts.start_session(user)
        await services.two_factor.confirm(user.id, totp.now(), session_id=session.id)
        return user.id, token
    finally:
        await services.close()


async def _after_reset(data: Path, user_id: str, token: str) -> tuple[bool, bool, Any]:
    from sigillo.domain.streams import user_stream
    from sigillo.server import open_services
    from sigillo.settings import Settings

    services = await open_services(Settings.load(data_dir=data))
    try:
        stream = await services.store.read_stream(user_stream(user_id))
        return (
            await services.two_factor.enabled(user_id),
            await services.accounts.authenticate(token) is not None,
            stream[-1],
        )
    finally:
        await services.close()


def test_reset_two_factor_turns_it_off_ends_sessions_and_is_audited(tmp_path: Path) -> None:
    from sigillo.domain.events import Actor, UserTwoFactorReset

    password = "correct horse battery staple"
    assert create_user(tmp_path, "ada@example.com", password).returncode == 0
    user_id, token = asyncio.run(_enrol_two_factor(tmp_path, "ada@example.com"))
    reset = sigillo("admin", "reset-two-factor", "Ada@Example.com", "--data-dir", str(tmp_path))
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.strip() == (
        f"reset two-factor authentication of ada@example.com ({user_id}); its sessions ended"
    )
    enabled, signed_in, last = asyncio.run(_after_reset(tmp_path, user_id, token))
    assert (enabled, signed_in) == (False, False)
    assert last.event == UserTwoFactorReset(user_id)
    assert last.actor == Actor("system", "sigillo")
    again = sigillo("admin", "reset-two-factor", "ada@example.com", "--data-dir", str(tmp_path))
    assert again.returncode == 0
    assert "has no two-factor authentication: nothing changed" in again.stdout
    unknown = sigillo(
        "admin", "reset-two-factor", "nobody@example.com", "--data-dir", str(tmp_path)
    )
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1,
        "error: no account has this email address",
    )
    missing = sigillo("admin", "reset-two-factor", "--data-dir", str(tmp_path))
    assert missing.returncode == 2
    assert "email" in missing.stderr


def test_admin_commands_beside_a_running_server_leave_its_reads_intact(tmp_path: Path) -> None:
    """Another process writing the SQLite database while the server runs (create-user is
    the usual one) must not disturb the server's readers: the server once dropped its own
    file locks at start, and the admin process then reset the WAL under it."""
    data = tmp_path / "data"
    password = "correct horse battery staple"
    with server(data, tmp_path / "server.log") as port:
        base = f"http://127.0.0.1:{port}"
        for email in ("a@example.com", "b@example.com", "c@example.com"):
            token = create_user_and_sign_in(base, data, email, password)
            session = {"Authorization": f"Bearer {token}"}
            for _ in range(5):  # every reader connection of the server reads
                me = httpx.get(f"{base}/api/v0/me", headers=session, timeout=10)
                assert me.status_code == 200, me.text
    assert "unhandled" not in (tmp_path / "server.log").read_text()
