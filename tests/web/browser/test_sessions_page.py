"""The Sessions page (issue 20) in real Chromium: another session of the account is ended
from the page (htmx swaps the page's main block, the status says so) and its token stops
working at once. The harness fails the test on any CSP violation, script error or 5xx."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.web.browser.harness import LiveServer, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


async def test_end_another_session_from_the_page(page: Page, live_server: LiveServer) -> None:
    ada = live_server.new_account("sessions")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
        other = await client.post(
            "/api/auth/sign-in/email",
            json={"email": ada.email, "password": ada.password},
            headers={"User-Agent": FIREFOX, "X-Forwarded-For": "198.51.100.23"},
        )
    assert other.status_code == 200, other.text
    other_token = other.json()["token"]
    await sign_in(page.context, live_server, ada)
    await page.goto("/dash")
    await page.get_by_role("link", name="Sessions").click()
    await expect(page.get_by_role("heading", name="Sessions", exact=True)).to_be_visible()
    rows = page.locator("table.session-table tbody tr")
    await expect(rows).to_have_count(2)  # this one (the cookie) and Firefox
    await expect(page.get_by_text("This device")).to_have_count(1)

    firefox = rows.filter(has_text="Firefox on Linux")
    await firefox.get_by_role("button", name="End session").click()
    await expect(page.locator("#sessions-status")).to_have_text("Session ended.")
    await expect(rows).to_have_count(1)
    await expect(page.get_by_text("Firefox on Linux")).to_have_count(0)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
        gone = await client.get("/api/v0/me", headers={"Authorization": f"Bearer {other_token}"})
    assert gone.status_code == 401
    await page.reload()
    await expect(page.get_by_text("This device")).to_have_count(1)
