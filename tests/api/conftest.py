"""The API as clients meet it: a real app on a fresh SQLite or PostgreSQL database."""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from sigillo.server import open_services
from sigillo.services.container import Services
from sigillo.settings import Settings
from tests.apps import app_for
from tests.passwords import OneHashPerPassword

PASSWORD = "correct horse battery staple"
_emails = itertools.count(1)


@dataclass
class Api:
    client: httpx.AsyncClient
    services: Services

    async def user(self, name: str = "Test User", email: str | None = None) -> dict[str, str]:
        """A new account with a session, as a password sign-in starts one: its Authorization
        header. The session is started by the accounts service, not through the sign-in
        endpoint (tests/api/test_sessions.py and others sign in there), which would spend a
        second Argon2 hash (~100 ms) on every account of every test."""
        address = email or f"user{next(_emails)}@example.com"
        user = await self.services.accounts.register(address, name, PASSWORD)
        token, _ = await self.services.accounts.start_session(user)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        """A request whose answer must be JSON (every answer of this API is, errors too)."""
        response = await self.client.request(method, path, headers=headers or {}, **kwargs)
        assert response.headers["content-type"].startswith("application/json"), response.text
        return response


@pytest_asyncio.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app and its services on this test's own event loop, so a test may also call
    services directly (to make accounts, say) on the same connections."""
    key = base64.b64encode(os.urandom(32)).decode()
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        encryption_key=key,
        allowed_hosts=("testserver",),
    )
    services = await open_services(settings, passwords=OneHashPerPassword())
    transport = httpx.ASGITransport(app=app_for(settings, services))
    try:
        # Cookies are not kept: a test authenticates explicitly, by header or by cookie.
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=jar
        ) as client:
            yield Api(client, services)
    finally:
        await services.close()
