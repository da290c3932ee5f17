"""The Jinja environment of the dashboard, and the helpers every template may call.

Templates and static files are package data (`templates/`, `static/`), so they ship in the
wheel and are found wherever the package is installed. Autoescaping is on for every
template and undefined names are errors: a typo fails the test that renders the page,
instead of rendering an empty string that could hide a missing authorization check.
Static URLs carry a digest of the file (`/static/app.css?v=…`), so browsers may cache
them for a year and still see a new file the moment it changes.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from sigillo.settings import Settings

__all__ = [
    "HTMX",
    "STATIC_DIR",
    "environment",
    "exact_time",
    "initials",
    "iso_time",
    "relative_time",
    "static_url",
    "template_config",
]

STATIC_DIR = Path(str(files("sigillo.web") / "static"))
HTMX = "vendor/htmx-2.0.11.min.js"


@cache
def _digest(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """`/static/<name>?v=<digest>`; an unknown file is a template error, found by tests."""
    return f"/static/{name}?v={_digest(name)}"


def initials(name: str) -> str:
    """The first letters of up to two words of a name or email (behaviour.md 14.3)."""
    words = name.replace("@", " ").replace(".", " ").split()
    return "".join(word[0] for word in words[:2]).upper() or "?"


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_time(ms: int) -> str:
    """For `<time datetime>`: the browser turns it into a relative time (app.js)."""
    return _moment(ms).isoformat(timespec="seconds").replace("+00:00", "Z")


def exact_time(ms: int) -> str:
    return _moment(ms).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative_time(ms: int, now_ms: int | None = None) -> str:
    """Behaviour.md 14.1: "just now", "{m}m ago", "{h}h ago", else a date ("Jan 5, 2026").
    Rendered by the server too, so the page reads right before (or without) app.js."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    seconds = max(0, (now_ms - ms) // 1000)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    moment = _moment(ms)
    return f"{moment:%b} {moment.day}, {moment.year}"


def environment(settings: Settings | None = None) -> Environment:
    """The dashboard's Jinja environment. `sso_providers()` answers the configured single
    sign-on providers as (name, button text) pairs, for the sign-in page's buttons."""
    providers = [(p.name, p.button) for p in (settings.oidc_providers if settings else ())]
    env = Environment(
        loader=PackageLoader("sigillo.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        static=static_url, htmx_url=static_url(HTMX), sso_providers=lambda: list(providers)
    )
    env.filters.update(
        initials=initials, iso_time=iso_time, exact_time=exact_time, relative_time=relative_time
    )
    macros = env.get_template("macros.html").module
    env.globals.update(field=macros.field, timestamp=macros.timestamp)  # type: ignore[attr-defined]
    return env


def template_config(settings: Settings | None = None) -> TemplateConfig[JinjaTemplateEngine]:
    """Litestar's template configuration around our environment (`app.template_engine`)."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment(settings)))
