"""How this server is reached: its settings, HTTPS or not, and its own host names.

`create_app` puts the settings into the app's state (`state.settings`), so code that only
has the connection (guards, the credential lookup) decides as the handlers do."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection

from sigillo.settings import Settings

__all__ = ["host_of", "over_https", "own_hosts", "settings_of"]


def settings_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings | None:
    found = connection.app.state.get("settings")
    return found if isinstance(found, Settings) else None


def over_https(
    connection: ASGIConnection[Any, Any, Any, Any], settings: Settings | None = None
) -> bool:
    """HTTPS when the public URL is https (a proxy terminates TLS) or the request came so.
    `settings` defaults to the app's."""
    settings = settings or settings_of(connection)
    public = (settings.public_url if settings else None) or ""
    return public.startswith("https://") or connection.scope.get("scheme") == "https"


def host_of(url: str) -> str:
    """The `host[:port]` of a URL, lower case; empty for anything that is not one."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def own_hosts(connection: ASGIConnection[Any, Any, Any, Any]) -> frozenset[str]:
    """This server's `host[:port]` names: the request's Host (already checked against the
    allowed hosts) and the public URL's."""
    names = {connection.headers.get("host", "").lower()}
    settings = settings_of(connection)
    if settings and settings.public_url:
        names.add(host_of(settings.public_url))
    return frozenset(names - {""})
