"""/api/docs in Chromium (issue 13, item 10): the vendored Swagger UI renders this server's
operations; the harness's teardown fails the test on any request that leaves the server
and on any Content-Security-Policy violation or script error."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_api_docs_render_from_this_server_alone(page: Page) -> None:
    response = await page.goto("/api/docs")
    assert response is not None
    assert response.status == 200
    await expect(page).to_have_title("Sigillo API")
    await expect(page.locator(".opblock-summary-path").first).to_be_visible()
    paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/auth/sign-in/email" in path for path in paths)
