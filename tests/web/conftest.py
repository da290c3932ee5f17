"""The dashboard as a browser meets it, over HTTP: a real app on a fresh SQLite or
PostgreSQL database, and "browsers" (HTTP clients with their own cookie jars) that send
what a browser sends (`Origin` on POSTs, the session cookie, the page's CSRF token).

Fixtures here are named `web`/`make_browser`, never `page` or `browser`: the Chromium
tests under tests/web/browser/ own those names.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from litestar import Litestar

from sigillo.domain.events import Actor
from sigillo.domain.projections.rows import UserRow
from sigillo.http.csrf import csrf_token
from sigillo.server import open_services
from sigillo.services.container import Services
from sigillo.settings import Settings
from tests.apps import app_for
from tests.passwords import OneHashPerPassword

PASSWORD = "correct horse battery staple"
HOST = "testserver.local"
ORIGIN = f"http://{HOST}"
COOKIE = "sigillo_session"
_emails = itertools.count(1)


@dataclass
class Browser:
    """One browser: its own cookies. `csrf` is the session's token, as pages embed it."""

    client: httpx.AsyncClient
    user: UserRow | None = None
    token: str | None = None

    @property
    def csrf(self) -> str:
        return csrf_token(self.token) if self.token else ""

    @property
    def actor(self) -> Actor:
        assert self.user is not None
        return Actor("user", self.user.id)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(url, **kwargs)

    async def post(
        self, url: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """A form submission, with the page's CSRF field unless `csrf=False`."""
        form = dict(data or {})
        if csrf and self.token:
            form.setdefault("csrf", self.csrf)
        return await self.client.post(url, data=form, **kwargs)


@dataclass
class Web:
    app: Litestar
    services: Services
    transport: httpx.ASGITransport
    browsers: list[Browser] = field(default_factory=list)

    def browser(self, **headers: str) -> Browser:
        """A new browser without a session. It sends `Origin` like a real one; pass
        headers to change that."""
        client = httpx.AsyncClient(
            transport=self.transport,
            base_url=ORIGIN,
            headers={"Origin": ORIGIN, **headers},
            follow_redirects=False,
        )
        made = Browser(client)
        self.browsers.append(made)
        return made

    async def account(self, name: str = "Test User", email: str | None = None) -> UserRow:
        return await self.services.accounts.register(
            email or f"web{next(_emails)}@example.com", name, PASSWORD
        )

    async def signed_in(self, user: UserRow | None = None, name: str = "Test User") -> Browser:
        """A browser with a live session of `user` (a new account unless given)."""
        user = user or await self.account(name)
        token, _ = await self.services.accounts.start_session(user)
        made = self.browser()
        made.client.cookies.set(COOKIE, token, domain=HOST, path="/")
        made.user, made.token = user, token
        return made

    async def close(self) -> None:
        for made in self.browsers:
            await made.client.aclose()


def settings_for(database_url: str, data_dir: Path, **extra: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
        allowed_hosts=(HOST,),
        **extra,
    )


@pytest_asyncio.fixture
async def web(database_url: str, tmp_path: Path) -> AsyncIterator[Web]:
    """The app and its services on this test's own event loop (tests may call services
    directly to set the scene, on the same connections)."""
    settings = settings_for(database_url, tmp_path)
    services = await open_services(settings, passwords=OneHashPerPassword())
    app = app_for(settings, services)
    made = Web(app, services, httpx.ASGITransport(app=app))
    try:
        yield made
    finally:
        await made.close()
        await services.close()


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:300])
    return response.headers["location"]


def text_of(html: str) -> str:
    """The page's text, tags removed and spaces folded (for "the page says …")."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


async def org_with_project(
    web: Web, admin: Browser, org: str = "Acme Corp", project: str = "My App"
) -> tuple[str, str]:
    """An org of `admin` with one project (Dev, Preview, Prod): (org id, project id)."""
    made = await web.services.catalog.create_org(org, admin.actor)
    created = await web.services.catalog.create_project(made.id, project, admin.actor)
    return made.id, created.id


async def join(web: Web, org_id: str, admin: Browser, who: Browser) -> None:
    _, invite = await web.services.access.create_invitation(org_id, admin.actor)
    await web.services.access.accept_invitation(invite, who.actor)
