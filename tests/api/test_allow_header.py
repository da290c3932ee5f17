"""`Allow` lists exactly the methods a path has: in the 204 answer to OPTIONS, and in the
405 answer to any other method, for every route of the app (api/allow.py)."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.routes import HTTPRoute

from sigillo.server import create_app, open_services
from sigillo.settings import Settings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> AsyncIterator[Litestar]:
    """The app on a new SQLite database (the routes are the same on either kind)."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'sigillo.db'}",
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
        allowed_hosts=("testserver",),
    )
    services = await open_services(settings)
    try:
        yield create_app(settings, services=services)
    finally:
        await services.close()


def routes(app: Litestar) -> dict[str, set[str]]:
    """Each path template with the methods its handlers declare (Litestar's own OPTIONS
    handler left out), plus OPTIONS."""
    found: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.http_methods != {"OPTIONS"}:
                    found.setdefault(route.path_format, {"OPTIONS"}).update(handler.http_methods)
    return found


def url(path_template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path_template)


def allowed(response: httpx.Response) -> list[str]:
    return [method.strip() for method in response.headers["allow"].split(",")]


@pytest.mark.asyncio
async def test_options_and_405_list_exactly_the_methods_of_each_path(app: Litestar) -> None:
    table = routes(app)
    assert {"GET", "POST", "OPTIONS"} == table["/api/v0/orgs"]  # two handler functions
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for path, methods in table.items():
            expected = sorted(methods)
            options = await client.options(url(path))
            assert options.status_code == 204, path
            assert allowed(options) == expected, path
            for method in sorted(set(METHODS) - methods):
                refused = await client.request(method, url(path))
                assert refused.status_code == 405, (method, path)
                assert allowed(refused) == expected, (method, path)
                assert refused.json() == {"error": "method not allowed"}


@pytest.mark.asyncio
async def test_options_lists_the_methods_the_document_gives_each_path(app: Litestar) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        document = (await client.get("/api/openapi.json")).json()
        assert document["paths"]
        for path, item in document["paths"].items():
            documented = {method.upper() for method in item if method.upper() in METHODS}
            options = await client.options(url(path))
            assert set(allowed(options)) == documented | {"OPTIONS"}, path
