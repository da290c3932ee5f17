"""Server settings: flags over environment variables over defaults, read once at start.

Nothing reads the environment at import time; `Settings.load()` is called by the entry
point and the result is passed to the composition root.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["OidcProvider", "Settings"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class OidcProvider:
    """One OpenID Connect provider people may sign in with (docs/self-hosting.md).

    `name` is its id in URLs (`/login/sso/<name>`) and in sessions; the client secret is
    kept out of every repr, so a logged Settings never shows it."""

    name: str
    issuer: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    # Email domains allowed to sign in through it (lower case); empty: any.
    allowed_domains: tuple[str, ...] = ()
    label: str = ""

    @property
    def button(self) -> str:
        """The sign-in button's text."""
        return self.label or f"Sign in with {self.name.replace('-', ' ').title()}"


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
    # OpenID Connect providers (SIGILLO_OIDC_<NAME>_*, or the TOML file SIGILLO_OIDC_FILE).
    oidc_providers: tuple[OidcProvider, ...] = ()

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
            oidc_providers=oidc_providers(env),
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


# -- OpenID Connect providers -------------------------------------------------------------
# Errors are ValueErrors whose message starts with the setting's name: `sigillo server`
# prints it and refuses to start (server_commands.py), rather than offering a button that
# can only fail.

PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_OIDC_ENV = re.compile(r"^SIGILLO_OIDC_(?P<name>.+?)_(?P<key>ISSUER|CLIENT_ID|CLIENT_SECRET|"
                       r"ALLOWED_DOMAINS|LABEL)$")  # fmt: skip
_FILE_KEYS = frozenset({"issuer", "client_id", "client_secret", "allowed_domains", "label"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def oidc_providers(env: Mapping[str, str]) -> tuple[OidcProvider, ...]:
    """The providers of `SIGILLO_OIDC_<NAME>_<KEY>` variables and of the `SIGILLO_OIDC_FILE`
    TOML file (`[providers.<name>]`), checked; a name given by both is refused."""
    found: dict[str, dict[str, Any]] = {}
    for variable, value in env.items():
        if not variable.startswith("SIGILLO_OIDC_") or variable == "SIGILLO_OIDC_FILE":
            continue
        matched = _OIDC_ENV.match(variable)
        if matched is None:
            raise ValueError(
                f"{variable} is not a setting: use SIGILLO_OIDC_<NAME>_ISSUER, _CLIENT_ID, "
                "_CLIENT_SECRET, _ALLOWED_DOMAINS or _LABEL"
            )
        name = matched["name"].lower().replace("_", "-")
        found.setdefault(name, {})[matched["key"].lower()] = value
    made = [_provider(name, entries, f"SIGILLO_OIDC_{name.upper().replace('-', '_')}")
            for name, entries in sorted(found.items())]  # fmt: skip
    path = (env.get("SIGILLO_OIDC_FILE") or "").strip()
    for provider in _file_providers(Path(path).expanduser()) if path else ():
        if provider.name in found:
            raise ValueError(
                f"SIGILLO_OIDC_FILE: provider {provider.name!r} is also set by environment "
                "variables; configure it in one place"
            )
        made.append(provider)
    return tuple(made)


def _file_providers(path: Path) -> list[OidcProvider]:
    where = f"SIGILLO_OIDC_FILE ({path})"
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{where} cannot be read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{where} is not valid TOML: {error}") from None
    providers = document.get("providers", {})
    if not isinstance(providers, dict) or set(document) - {"providers"}:
        raise ValueError(f"{where} must hold only [providers.<name>] tables")
    made = []
    for name, entries in providers.items():
        if not isinstance(entries, dict):
            raise ValueError(f"{where}: providers.{name} must be a table")
        unknown = set(entries) - _FILE_KEYS
        if unknown:
            raise ValueError(f"{where}: providers.{name} has unknown keys {sorted(unknown)}")
        domains = entries.get("allowed_domains", [])
        if isinstance(domains, list):
            domains = ",".join(str(item) for item in domains)
        made.append(_provider(str(name), {**entries, "allowed_domains": domains},
                              f"{where}: providers.{name}"))  # fmt: skip
    return made


def _provider(name: str, entries: Mapping[str, Any], where: str) -> OidcProvider:
    if not PROVIDER_NAME.match(name):
        raise ValueError(f"{where}: the provider's name must be letters, digits and dashes")
    for key, value in entries.items():
        if not isinstance(value, str):
            raise ValueError(f"{where}: {key} must be a string")
    issuer = entries.get("issuer", "").strip()
    client_id = entries.get("client_id", "").strip()
    if not issuer:
        raise ValueError(f"{where}: the issuer is missing (ISSUER / issuer)")
    if not client_id:
        raise ValueError(f"{where}: the client id is missing (CLIENT_ID / client_id)")
    _check_issuer(issuer, where)
    domains = tuple(
        item.strip().lower().lstrip("@") for item in entries.get("allowed_domains", "").split(",")
    )
    return OidcProvider(
        name=name,
        issuer=issuer,
        client_id=client_id,
        client_secret=entries.get("client_secret", "").strip(),
        allowed_domains=tuple(domain for domain in domains if domain),
        label=entries.get("label", "").strip()[:100],
    )


def _check_issuer(issuer: str, where: str) -> None:
    """An https URL without query or fragment; plain http only on this machine (tests,
    a provider beside the server), where nobody can read or change the traffic."""
    try:
        parts = urlsplit(issuer)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if parts is None or not host or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{where}: the issuer must be a URL such as https://accounts.example.com")
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return
    raise ValueError(
        f"{where}: the issuer must be an https URL (plain http only for 127.0.0.1 or localhost)"
    )
