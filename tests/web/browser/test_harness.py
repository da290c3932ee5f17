"""The browser harness itself: Debian's Chromium drives real servers, nothing is fetched from
outside, screenshots are written, and `assert_no_secret` finds a value wherever a page holds it.
"""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route

from tests.web.browser.harness import (
    DESKTOP,
    PHONE,
    LiveServer,
    Pages,
    assert_no_secret,
    chromium_version,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECRET = "sk_live_4f9Qx7Lm2Zp8Rt6W"


async def test_chromium_loads_the_servers_health_page(page: Page, live_server: LiveServer) -> None:
    response = await page.goto("/health")
    assert response is not None
    assert (response.status, response.url) == (200, f"{live_server.url}/health")
    assert await response.json() == {"ok": True, "service": "sigillo-app"}


async def test_the_browser_is_debians_chromium_and_playwright_fetched_none(
    browser: Browser, page: Page, playwright_store: Path
) -> None:
    await page.goto("/health")
    assert browser.version == chromium_version()
    # no browser of Playwright's own, then or now
    assert not await asyncio.to_thread(playwright_store.exists)


@pytest.mark.browser_allows("offsite")
async def test_a_request_that_leaves_the_server_is_refused_and_logged(
    pages: Pages, live_server: LiveServer
) -> None:
    """The browser's dead proxy refuses any request to another origin at once (nothing is
    downloaded) and the log records it, which fails a test that did not expect it."""
    page = await pages.open(live_server)
    await page.goto("/health")  # JSON: no CSP of the dashboard's to refuse the fetch first
    async with page.expect_event("requestfailed") as failed:
        await page.evaluate("fetch('https://cdn.jsdelivr.net/npm/x').catch(() => null)")
    assert (await failed.value).url == "https://cdn.jsdelivr.net/npm/x"
    offsite = pages.log_of(page).offsite
    assert offsite == ["https://cdn.jsdelivr.net/npm/x"]


async def test_the_first_run_url_is_read_from_the_log_and_opens(
    pages: Pages, fresh_server: LiveServer, setup_url: str
) -> None:
    assert setup_url.startswith(f"{fresh_server.url}/setup?token=")
    page = await pages.open(fresh_server)
    response = await page.goto(setup_url)
    assert response is not None
    assert response.status < 500  # the page itself is the dashboard's; the teardown checks 5xx


async def test_a_signed_in_context_carries_the_session_cookie(
    page: Page, live_server: LiveServer
) -> None:
    account = live_server.new_account("ada", name="Ada Lovelace")
    await sign_in(page.context, live_server, account)
    response = await page.goto("/api/auth/session")
    assert response is not None
    assert (await response.json())["user"]["email"] == account.email


async def test_postgres_backed_server_smoke(pages: Pages, postgres_server: LiveServer) -> None:
    assert postgres_server.database_url
    assert postgres_server.database_url.startswith("postgresql://")
    page = await pages.open(postgres_server)
    health = await page.goto("/health")
    assert health is not None
    assert health.status == 200
    account = postgres_server.new_account("grace")
    await sign_in(page.context, postgres_server, account)
    me = await page.goto("/api/v0/me")
    assert me is not None
    assert (await me.json())["user"]["email"] == account.email


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_screenshot_writes_desktop_and_phone_pngs(page: Page, tmp_path: Path) -> None:
    await page.set_content("<main><h1>Secrets</h1><p>Nothing here yet.</p></main>")
    written = await screenshot(page, "harness-probe", tmp_path)
    assert [p.name for p in written] == ["harness-probe-desktop.png", "harness-probe-phone.png"]
    desktop, phone = (_png_size(p) for p in written)
    assert desktop[0] == DESKTOP["width"]
    assert desktop[1] >= DESKTOP["height"]
    assert phone[0] == PHONE["width"]
    assert phone[1] >= PHONE["height"]
    assert page.viewport_size == DESKTOP  # restored
    with pytest.raises(AssertionError, match="screenshot names"):
        await screenshot(page, "../escape", tmp_path)


async def test_assert_no_secret_passes_a_page_without_the_values(page: Page) -> None:
    await page.set_content(
        "<table><tr><td>STRIPE_KEY</td><td><button>Reveal</button></td></tr></table>"
    )
    await assert_no_secret(page, [SECRET, "another-secret-value"])


@pytest.mark.parametrize(
    ("markup", "where"),
    [
        (f"<p>{SECRET}</p>", "the DOM"),
        (f'<input type="hidden" name="v" value="{SECRET}">', "the DOM"),
        (f"<!-- {SECRET} -->", "the DOM"),
        (f'<iframe srcdoc="<p>{SECRET}</p>"></iframe>', "the DOM of frame"),
    ],
    ids=["text", "attribute", "comment", "iframe"],
)
async def test_assert_no_secret_finds_a_value_in_the_markup(
    page: Page, markup: str, where: str
) -> None:
    await page.set_content(f"<main>{markup}</main>")
    with pytest.raises(AssertionError, match=f"secret value #1 found in {where}") as caught:
        await assert_no_secret(page, ["absent-value-123", SECRET])
    assert SECRET not in str(caught.value)  # the message names it, never shows it


async def test_assert_no_secret_finds_an_html_escaped_value(page: Page) -> None:
    value = 'p<&>"q-Zx81mQ'
    await page.set_content("<p id=v></p>")
    await page.locator("#v").evaluate("(node, value) => { node.textContent = value }", value)
    with pytest.raises(AssertionError, match="entities decoded"):
        await assert_no_secret(page, [value])


async def test_assert_no_secret_finds_a_fragment_swapped_in_later(page: Page) -> None:
    """What htmx does: a response's HTML inserted into the live DOM after load."""
    await page.set_content("<div id=target>hidden</div>")
    await assert_no_secret(page, [SECRET])
    await page.locator("#target").evaluate(
        "(node, value) => { node.outerHTML = '<td class=value>' + value + '</td>' }", SECRET
    )
    with pytest.raises(AssertionError, match="the DOM"):
        await assert_no_secret(page, [SECRET])


async def test_assert_no_secret_finds_a_form_value_set_by_script(page: Page) -> None:
    """A control's live value is not in the serialised DOM: it is read separately."""
    await page.set_content("<textarea id=env></textarea>")
    await page.locator("#env").evaluate("(node, value) => { node.value = value }", SECRET)
    assert SECRET not in await page.content()
    with pytest.raises(AssertionError, match="form control value"):
        await assert_no_secret(page, [SECRET])


async def test_assert_no_secret_finds_a_value_in_the_url_and_in_storage(
    page: Page, live_server: LiveServer
) -> None:
    await page.goto(f"/health?leak={SECRET}")
    with pytest.raises(AssertionError, match="the URL"):
        await assert_no_secret(page, [SECRET])
    await page.goto("/health")
    await page.evaluate("value => sessionStorage.setItem('draft', value)", SECRET)
    with pytest.raises(AssertionError, match="web storage"):
        await assert_no_secret(page, [SECRET])


async def test_assert_no_secret_refuses_values_too_short_to_mean_anything(page: Page) -> None:
    await page.set_content("<p>ok</p>")
    with pytest.raises(ValueError, match="distinctive"):
        await assert_no_secret(page, ["abc"])


async def _serve(route: Route, status: int, body: str) -> None:
    headers = {"Content-Security-Policy": "script-src 'self'", "Content-Type": "text/html"}
    await route.fulfill(status=status, headers=headers, body=body)


async def test_the_teardown_check_reports_csp_violations_errors_5xx_and_offsite(
    browser: Browser, live_server: LiveServer
) -> None:
    """A page under a strict CSP with an inline script, an uncaught error, a 500 and a
    request to another origin: each is reported, and an allowance silences only its kind."""
    probe = Pages(browser)
    page = await probe.open(live_server)
    await page.route(
        "**/probe", lambda route: _serve(route, 200, "<script>document.title = 'ran'</script>")
    )
    await page.route("**/broken", lambda route: _serve(route, 500, "<p>down</p>"))
    await page.goto("/probe")
    assert await page.title() != "ran"  # the inline script was refused
    await page.evaluate("setTimeout(() => { throw new Error('boom') }, 0)")
    await page.evaluate("fetch('http://192.0.2.1/beacon').catch(() => null)")
    await page.goto("/broken")
    log = probe.log_of(page)
    for _ in range(100):  # events arrive from the driver on their own time
        if log.csp and log.page_errors and log.offsite:
            break
        await asyncio.sleep(0.05)
    problems = await probe.close(frozenset({"offsite"}))
    kinds = sorted({line.split(":", 1)[0] for line in problems})
    assert kinds == ["csp", "page_errors", "server_errors"], problems
    assert any("boom" in line for line in problems)
    broken = f"server_errors: 500 GET {live_server.url}/broken"
    assert any(line.startswith(broken) for line in problems), problems
