"""Server settings: flags over environment variables over defaults, read once at start.

Nothing reads the environment at import time; `Settings.load()` is called by the entry
point and the result is passed to the composition root.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    encryption_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    # A file holding the key (SIGILLO_ENCRYPTION_KEY_FILE), as container secrets are mounted.
    encryption_key_file: Path | None = field(default=None, repr=False)
    # Host names the server answers to; a request for any other host gets 400. Empty means
    # the loopback names, which is all the embedded default listens on.
    allowed_hosts: tuple[str, ...] = ()
    # Proxies whose X-Forwarded-For is believed (rate limits key on the client address).
    trusted_proxies: tuple[str, ...] = ()
    # The URL users reach the server at (links in device flow and invitations); an https
    # URL also makes the session cookie `__Host-` and `Secure`.
    public_url: str | None = None
    # Anyone may create an account (POST /api/auth/sign-up/email); off, sign-up needs an
    # invitation.
    allow_signup: bool = False
    # Where Prometheus scrapes /metrics (SIGILLO_METRICS_ADDRESS, host:port), a listener
    # apart from the public port; unset, no metrics are served (sigillo.metrics).
    metrics_address: str | None = None
    # Seconds `sigillo server` keeps retrying a PostgreSQL it cannot reach at start-up
    # (SIGILLO_DATABASE_STARTUP_TIMEOUT); 0 tries once. SQLite is never retried.
    database_startup_timeout: float = 30.0
    # Seconds one database operation may take while serving (SIGILLO_DATABASE_TIMEOUT):
    # opening a pooled connection, waiting for a free one, one statement. Past it the
    # request answers 503 and the server recovers by itself when the database does.
    database_timeout: float = 5.0
    # Where every committed event is also written as a JSON line (SIGILLO_AUDIT_SINK):
    # file:/path/audit.jsonl, syslog or syslog://host:port (sigillo.audit_sink); None: nowhere.
    audit_sink: str | None = None

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        data_dir: str | Path | None = None,
        database_url: str | None = None,
        metrics_address: str | None = None,
    ) -> Settings:
        env = os.environ if env is None else env
        directory = Path(
            data_dir or env.get("SIGILLO_DATA_DIR") or Path.home() / ".sigillo" / "server"
        ).expanduser()
        url = (
            database_url
            or env.get("SIGILLO_DATABASE_URL")
            or f"sqlite:///{directory / 'sigillo.db'}"
        )
        return cls(
            data_dir=directory,
            database_url=url,
            host=host or env.get("SIGILLO_HOST") or DEFAULT_HOST,
            port=port if port is not None else int(env.get("SIGILLO_PORT") or DEFAULT_PORT),
            encryption_key=env.get("SIGILLO_ENCRYPTION_KEY") or None,
            secret_key=env.get("SIGILLO_SECRET_KEY") or None,
            encryption_key_file=_path(env.get("SIGILLO_ENCRYPTION_KEY_FILE")),
            allowed_hosts=_items(env.get("SIGILLO_ALLOWED_HOSTS")),
            trusted_proxies=_items(env.get("SIGILLO_TRUSTED_PROXIES")),
            public_url=(env.get("SIGILLO_PUBLIC_URL") or "").rstrip("/") or None,
            allow_signup=(env.get("SIGILLO_ALLOW_SIGNUP") or "").strip().lower()
            in {"1", "true", "yes", "on"},
            metrics_address=(metrics_address or env.get("SIGILLO_METRICS_ADDRESS") or "").strip()
            or None,
            database_startup_timeout=_seconds(env, "SIGILLO_DATABASE_STARTUP_TIMEOUT", 30.0),
            database_timeout=_seconds(env, "SIGILLO_DATABASE_TIMEOUT", 5.0, positive=True),
            audit_sink=(env.get("SIGILLO_AUDIT_SINK") or "").strip() or None,
        )


def _path(text: str | None) -> Path | None:
    """A path setting; unset or blank is None."""
    return Path(text.strip()).expanduser() if text and text.strip() else None


def _items(text: str | None) -> tuple[str, ...]:
    """A comma-separated setting as its non-empty items."""
    return tuple(item.strip() for item in (text or "").split(",") if item.strip())


def _seconds(env: Mapping[str, str], name: str, default: float, *, positive: bool = False) -> float:
    """A duration setting in seconds, 0 or more (more than 0 if `positive`); unset or
    blank is `default`."""
    text = env.get(name)
    if not text or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):  # negative, not a number, infinite
        raise ValueError(f"{name} must be a number of seconds, 0 or more")
    if positive and value == 0:
        raise ValueError(f"{name} must be a number of seconds, more than 0")
    return value
