"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, headless; Playwright
never downloads a browser of its own) against real `sigillo server` processes.

How to write one (see test_harness.py):

    pytestmark = pytest.mark.asyncio(loop_scope="session")   # required, see below

    async def test_x(page: Page, live_server: LiveServer) -> None:
        account = live_server.new_account("ada")
        await sign_in(page.context, live_server, account)
        await page.goto("/dash")                              # base_url is the server
        await expect(page.get_by_role("heading", name="…")).to_be_visible()
        await assert_no_secret(page, [value])                 # on every page of a journey
        await screenshot(page, "secrets-tab")                 # docs/screenshots/*.png

Fixtures:
- `live_server`: one SQLite-backed server for the session; make accounts with
  `live_server.new_account()`. `postgres_server`: the same on a PostgreSQL database made for
  this run and dropped at its end. `fresh_server`: a new, empty server for one test, whose
  `setup_url` fixture is the first-run URL it logged (for walking the real first-run page).
- `browser`: one Chromium for the session. `page`: a fresh context and page on `live_server`
  for each test (desktop viewport, base_url, 10 s default timeouts, also for `expect`).
  `pages.open(server)` opens more (a second user, another server).
- At teardown every context is checked: a request that left the server's origin, a
  Content-Security-Policy violation, an uncaught script error or a 5xx answer fails the
  test. A test that expects one says so: `@pytest.mark.browser_allows("offsite", "csp",
  "page_errors", "server_errors")`.

Why every module needs `pytestmark = pytest.mark.asyncio(loop_scope="session")`: the browser
lives on pytest-asyncio's session event loop, and its objects only work on that loop (why
async at all: harness.py's docstring). Collection stops with a message when it is missing.

Where /usr/bin/chromium is missing the browser tests are skipped with a red line in the
summary; with SIGILLO_REQUIRE_BROWSER=1 (as .ci/run sets) they fail instead.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.databases import Databases, skip_without_postgres
from tests.web.browser.harness import (
    DEFAULT_TIMEOUT_MS,
    LiveServer,
    Pages,
    browser_problem,
    dead_port,
    launch_options,
    start_live_server,
)

HERE = Path(__file__).parent
REQUIRE_BROWSER = os.environ.get("SIGILLO_REQUIRE_BROWSER") == "1"
ALLOWANCES = frozenset({"offsite", "csp", "page_errors", "server_errors"})
_skipped: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser_allows(*kinds): this browser test expects offsite requests, CSP violations, "
        "page errors or 5xx answers (tests/web/browser/conftest.py)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.path.is_relative_to(HERE):
            continue
        function = getattr(item, "obj", None)
        if not inspect.iscoroutinefunction(function):
            continue
        marker = item.get_closest_marker("asyncio")
        if marker is None or marker.kwargs.get("loop_scope") != "session":
            raise pytest.UsageError(
                f"{item.nodeid}: browser tests run on the browser's event loop; put "
                '`pytestmark = pytest.mark.asyncio(loop_scope="session")` in the module'
            )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped:
        terminalreporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_skipped[0], red=True)
        terminalreporter.write_line("CI (SIGILLO_REQUIRE_BROWSER=1) fails on this.", red=True)


# --- servers -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One SQLite-backed server for the whole session."""
    with start_live_server(tmp_path_factory.mktemp("browser-sqlite")) as running:
        yield running


@pytest.fixture(scope="session")
def postgres_server(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Iterator[LiveServer]:
    """One server on an empty PostgreSQL database (the server migrates it at start); the
    database is dropped with the run's others by the `databases` fixture."""
    skip_without_postgres("postgresql")
    url = databases.fresh("postgresql", migrated=False)
    root = tmp_path_factory.mktemp("browser-postgres")
    with start_live_server(root, database_url=url) as running:
        yield running


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A new server with no account yet, for this test alone (about 1 s to start)."""
    with start_live_server(tmp_path) as running:
        yield running


@pytest.fixture
def setup_url(fresh_server: LiveServer) -> str:
    """The first-run URL `fresh_server` logged: `http://127.0.0.1:PORT/setup?token=…`."""
    return fresh_server.setup_url()


# --- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where Playwright would keep browsers it downloaded: it must stay absent."""
    return tmp_path_factory.mktemp("playwright") / "browsers"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(playwright_store: Path) -> AsyncIterator[Browser]:
    problem = browser_problem()
    if problem:
        if REQUIRE_BROWSER:
            pytest.fail(f"the browser is required (SIGILLO_REQUIRE_BROWSER=1) but {problem}")
        _skipped.append(problem)
        pytest.skip(problem)
    with pytest.MonkeyPatch.context() as patch:  # read once, by the driver process it starts
        patch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(playwright_store))
        playwright = await async_playwright().start()
    try:
        expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
        with dead_port() as proxy_port:
            launched = await playwright.chromium.launch(**launch_options(proxy_port))
            yield launched
            await launched.close()
    finally:
        await playwright.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def pages(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    allowed: set[str] = set()
    for marker in request.node.iter_markers("browser_allows"):
        unknown = set(marker.args) - ALLOWANCES
        assert not unknown, f"browser_allows knows {sorted(ALLOWANCES)}, not {sorted(unknown)}"
        allowed.update(marker.args)
    opened = Pages(browser)
    yield opened
    problems = await opened.close(frozenset(allowed))
    if problems:
        pytest.fail("the browser saw what the test did not expect:\n" + "\n".join(problems))


@pytest_asyncio.fixture(loop_scope="session")
async def page(pages: Pages, live_server: LiveServer) -> Page:
    """A page in a fresh context on the session's SQLite server, at desktop size."""
    return await pages.open(live_server)
