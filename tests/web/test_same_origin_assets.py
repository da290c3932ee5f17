"""Nothing the server serves loads a script, style or image from another origin (issue 13,
item 10; security.md: "Nothing the server serves loads code, styles or images from another
origin").

Every GET page of the dashboard (for an admin of an org that has everything a path may
name, and signed out), an error page, the API docs page and every stylesheet they link is
read, and each URL it would make the browser load (script src, link href, img/source/
iframe src and srcset, CSS url() and @import, style attributes) must be on this origin:
a path, or a data: URL. The browser tests check the same from the other side: any request
that leaves the server fails them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import Web
from tests.web.world import web_routes, world

LOADING = {
    ("script", "src"), ("link", "href"), ("img", "src"), ("img", "srcset"),
    ("source", "src"), ("source", "srcset"), ("iframe", "src"), ("embed", "src"),
    ("object", "data"), ("video", "poster"), ("audio", "src"), ("video", "src"),
    ("input", "src"), ("image", "href"), ("use", "href"),
}  # fmt: skip
LINK_RELS_NOT_LOADED = {"canonical", "alternate", "help", "license", "author"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "link" and set(found.get("rel", "").split()) <= LINK_RELS_NOT_LOADED:
            return
        for name, value in found.items():
            if (tag, name) in LOADING and name == "srcset":
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]
            elif (tag, name) in LOADING:
                self.urls.append(value.strip())
            if name == "style":
                self.styles.append(value)
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def css_urls(css: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(css)]


def loaded_urls(html: str) -> tuple[list[str], list[str]]:
    """The URLs an HTML page makes the browser load, and its same-origin stylesheets."""
    parser = _Loads()
    parser.feed(html)
    urls = parser.urls + [url for style in parser.styles for url in css_urls(style)]
    sheets = [url for url in parser.urls if urlsplit(url).path.endswith(".css")]
    return urls, sheets


def elsewhere(urls: list[str]) -> list[str]:
    """The URLs that are not on this origin (a path, a fragment or data:)."""
    return [
        url
        for url in urls
        if not url.startswith("data:")
        and not url.startswith("#")
        and (urlsplit(url).scheme or urlsplit(url).netloc or not url.startswith("/"))
    ]


def test_the_scanner_finds_every_kind_of_foreign_load() -> None:
    page = (
        '<link rel="stylesheet" href="https://cdn.example/x.css"><script src="//cdn.example/a.js">'
        '</script><img srcset="/a.png 1x, https://img.example/b.png 2x"><div style="background:'
        'url(http://img.example/c.png)"></div><style>@import "https://fonts.example/f.css";'
        '</style><link rel="canonical" href="https://sigillo.example/"><img src="data:image/png;'
        'base64,AAAA"><script src="/static/app.js?v=1"></script>'
    )
    urls, _ = loaded_urls(page)
    assert elsewhere(urls) == [
        "https://cdn.example/x.css",
        "//cdn.example/a.js",
        "https://img.example/b.png",
        "http://img.example/c.png",
        "https://fonts.example/f.css",
    ]


@pytest.mark.asyncio
async def test_no_page_of_the_server_loads_anything_from_another_origin(web: Web) -> None:
    users = {who: await web.account(who.title()) for who in ("member", "admin", "removed")}
    made = await world(web, users)
    admin, anonymous = made.callers["admin"], web.browser()
    pages = [
        path.format(**made.values)
        for method, path in sorted(web_routes(web.app))
        if method == "GET" and not path.startswith(("/invite", "/setup"))
    ]
    invite = f"/invite/{made.values['token']}"
    read: dict[str, str] = {}
    for caller, paths in (
        (admin, [*pages, "/api/docs", "/no-such-page", invite]),
        (anonymous, ["/", "/login", "/setup", invite, "/api/docs", "/no-such-page"]),
    ):
        for path in paths:
            response = await caller.get(path)
            assert response.status_code < 500, path
            if "text/html" in response.headers.get("content-type", ""):
                read[path] = response.text
    assert "/api/docs" in read
    assert len(read) > 15
    foreign: dict[str, list[str]] = {}
    sheets: set[str] = set()
    for path, html in read.items():
        urls, linked = loaded_urls(html)
        sheets |= set(linked)
        if bad := elsewhere(urls):
            foreign[path] = bad
    for sheet in sorted(sheets):
        response = await anonymous.get(sheet)
        assert response.status_code == 200, sheet
        if bad := elsewhere(css_urls(response.text)):
            foreign[sheet] = bad
    assert len(sheets) >= 2  # the dashboard's own and Swagger UI's
    assert foreign == {}
