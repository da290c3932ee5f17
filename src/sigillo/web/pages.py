"""Every HTML answer of the dashboard comes from here.

`render(request, template, context)` is the one helper that decides between a full page
and a fragment: a plain request gets the whole page; an htmx request (`HX-Request: true`,
not a boosted navigation) gets only the template's `main` block (or the block named by
`fragment=`), rendered with the same context, ready to swap into `<main id="main">`. A
template without that block is a fragment already and is rendered whole. The answer
always carries `Vary: HX-Request`, so no cache hands a fragment to a full-page load, and
`Cache-Control: no-store`: pages hold names, roles and (once revealed) values.

`redirect(request, url)` sends the browser on: `303 See Other` for a plain request, and
for an htmx request an empty answer with `HX-Redirect`, which makes htmx load the whole
page instead of swapping the target page into a fragment's place.

`SecurityHeaders` is the web router's middleware: it stamps every answer of a web route
(pages, redirects, error pages alike) with a strict Content-Security-Policy (scripts and
styles only from this origin: no inline code, handlers or style attributes anywhere),
`X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` and a refusal to be framed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary

from jinja2 import Environment, Template, nodes
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType, ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from markupsafe import Markup, escape

from sigillo.http.credentials import credential
from sigillo.http.csrf import csrf_token
from sigillo.web.csrf import CSRF_FIELD

__all__ = [
    "CSP",
    "PAGE_HEADERS",
    "SECURITY_HEADERS",
    "THEME_COOKIE",
    "SecurityHeaders",
    "is_htmx",
    "redirect",
    "render",
]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PAGE_HEADERS: Mapping[str, str] = {"Vary": "HX-Request", "Cache-Control": "no-store"}
THEME_COOKIE = "color-theme"
THEMES = frozenset({"light", "dark"})  # no cookie: follow the system


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """An htmx request for a fragment (a boosted link or form wants the whole page)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"


def _csrf_field(token: str) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


def _common(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What every template may use: the session's CSRF token (derived from the cookie, no
    database read), the theme the `color-theme` cookie chose, the year, the path."""
    found = credential(request)
    token = csrf_token(found[0]) if found and found[1] == "cookie" else ""
    theme = request.cookies.get(THEME_COOKIE, "")
    return {
        "csrf": token,
        "csrf_field": lambda: _csrf_field(token),
        "theme": theme if theme in THEMES else "system",
        "year": dt.datetime.now(dt.UTC).year,
        "path": request.url.path,
    }


_PARENTS: WeakKeyDictionary[Environment, dict[str, str | None]] = WeakKeyDictionary()


def _parent(env: Environment, name: str) -> str | None:
    """The template `name` extends, if any (read once per environment from its source)."""
    known = _PARENTS.setdefault(env, {})
    if name not in known:
        assert env.loader is not None
        source, _, _ = env.loader.get_source(env, name)
        extends = env.parse(source).find(nodes.Extends)
        literal = extends is not None and isinstance(extends.template, nodes.Const)
        known[name] = str(extends.template.value) if literal else None  # type: ignore[union-attr]
    return known[name]


def _render_block(env: Environment, template: Template, block: str, values: dict[str, Any]) -> str:
    """One block of a template, with the blocks of its whole inheritance chain in reach
    (as Jinja gathers them when it renders the full page); the whole template when no
    template of the chain defines the block. A page's `main` comes with the page's
    <title> in front, which htmx takes out and makes the document's title."""
    context = template.new_context(values)
    name: str | None = template.name
    while name is not None and (name := _parent(env, name)) is not None:
        for block_name, function in env.get_template(name).blocks.items():
            context.blocks.setdefault(block_name, []).append(function)
    functions = context.blocks.get(block)
    if not functions:
        return template.render(values)
    html: str = env.concat(functions[0](context))
    title = context.blocks.get("document_title")
    if block == "main" and title:
        html = f"<title>{env.concat(title[0](context))}</title>\n{html}"
    return html


def render(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    fragment: str = "main",
    headers: Mapping[str, str] | None = None,
    cookies: list[Cookie] | None = None,
) -> Response[str]:
    """A full page, or for an htmx request its `fragment` block; see the module's doc."""
    engine = request.app.template_engine
    assert engine is not None  # create_app configures the template engine
    env: Environment = engine.engine
    values = _common(request) | dict(context or {}) | {"htmx": is_htmx(request)}
    page = env.get_template(template)
    html = _render_block(env, page, fragment, values) if is_htmx(request) else page.render(values)
    return Response(
        html,
        status_code=status,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **(headers or {})},
        cookies=cookies,
    )


def redirect(
    request: Request[Any, Any, Any],
    url: str,
    *,
    cookies: list[Cookie] | None = None,
    status: int = 303,
) -> Response[str]:
    """Go to `url` (a path of this server): 303, or `HX-Redirect` for htmx."""
    if request.headers.get("hx-request") == "true":
        status, where = 200, {"HX-Redirect": url}
    else:
        where = {"Location": url}
    return Response(
        "",
        status_code=status,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **where},
        cookies=cookies,
    )


class SecurityHeaders:
    """ASGI middleware of the web routers: the headers of SECURITY_HEADERS on every answer,
    and for pages `Vary`/`Cache-Control` where the handler did not set its own (static
    files, `page=False`, keep their long cache)."""

    def __init__(self, app: ASGIApp, page: bool = True) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, **(PAGE_HEADERS if page else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in self.headers.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped)
