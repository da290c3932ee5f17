"""What browser tests share besides fixtures: the live server they drive, its accounts, the
Chromium launch options, the page log the teardown checks, screenshots and the no-secret check.

Why the async Playwright API: the sync API keeps its own event loop marked as *running* in
the main thread between calls (playwright/_impl/_greenlets.py, `wait_for_future`), so once a
session-scoped sync browser exists, every later `asyncio.run()` (tests/databases.py) and every
pytest-asyncio test in the same run fails with "cannot be called from a running event loop".
The async API runs on pytest-asyncio's session loop instead, which runs only while a browser
test or fixture runs; nothing leaks into other tests, and filterwarnings=error stays quiet.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response

from sigillo.http.credentials import SESSION_COOKIES
from tests.live_server import server

__all__ = [
    "CHROMIUM",
    "DEFAULT_TIMEOUT_MS",
    "DESKTOP",
    "PHONE",
    "SCREENSHOTS",
    "Account",
    "BrowserLog",
    "LiveServer",
    "Pages",
    "assert_no_secret",
    "browser_problem",
    "chromium_version",
    "dead_port",
    "launch_options",
    "new_context",
    "screenshot",
    "sign_in",
    "start_live_server",
]

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's own browsers are never fetched
DEFAULT_TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[3]
# docs/screenshots/ is what .ci/run asks for (the docs' pictures, and CI's artefacts); a
# local run writes elsewhere, so that running the tests leaves the work tree as it was.
SCREENSHOTS = Path(
    os.environ.get("SIGILLO_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "sigillo-screenshots"
)
PASSWORD = "correct horse battery staple"
SETUP_LINE = re.compile(r"create the first one at (\S+/setup\?token=[A-Za-z0-9_-]+)")
SCREENSHOT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MIN_SECRET_LENGTH = 8
# Each browser context and each account made here speaks from its own documentation address
# (RFC 3849) through X-Forwarded-For, which the test server believes from loopback only: one
# test's sign-ins never spend another's rate-limit budget, whatever order the tests run in.
_addresses = (f"2001:db8::{n:x}" for n in itertools.count(1))


def browser_problem() -> str | None:
    """None when the browser tests can run here, else why not."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: apt-get install chromium (Debian's package)"
    return None


def chromium_version() -> str:
    """`156.0.8078.114` from `chromium --version`, to compare with what Playwright drove."""
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"\d+(?:\.\d+){3}", out.stdout)
    assert found, out.stdout
    return found.group(0)


@contextmanager
def dead_port() -> Iterator[int]:
    """A loopback port that is bound but never listens: a connection to it is refused at
    once. Chromium gets it as its proxy, so nothing but the test server (loopback, which
    bypasses the proxy) is reachable: no CDN, no update check, no Google."""
    with socket.socket() as sink:
        sink.bind(("127.0.0.1", 0))
        yield sink.getsockname()[1]


def launch_options(proxy_port: int) -> dict[str, Any]:
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "proxy": {
            "server": f"http://127.0.0.1:{proxy_port}",
            "bypass": "127.0.0.1,localhost,[::1]",
        },
        # The flags the machine notes name: without them Chromium calls home at every start.
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    }


@dataclass(frozen=True)
class Account:
    email: str
    password: str = field(repr=False)
    name: str
    token: str = field(repr=False)  # a session token; also works as `Authorization: Bearer`


@dataclass(frozen=True)
class LiveServer:
    """A running `sigillo server` process."""

    url: str  # origin, http://127.0.0.1:PORT
    data_dir: Path
    log: Path
    database_url: str | None = None

    def setup_url(self) -> str:
        """The first-run URL this server logged at start ("create the first one at …").
        Only a server that started with no account logs one, and it is void once any
        account exists (behaviour.md 5.1)."""
        found = SETUP_LINE.findall(self.log.read_text(errors="replace"))
        assert found, f"{self.log} holds no setup URL: an account existed at start"
        url: str = found[-1]
        assert url.startswith(f"{self.url}/setup?token="), url
        return url

    def new_account(self, prefix: str = "user", *, name: str | None = None) -> Account:
        """A fresh account made as an operator makes one (`sigillo admin create-user` beside
        the running server), signed in through the API: its session token."""
        email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
        name = name or prefix.title()
        command = [sys.executable, "-m", "sigillo", "admin", "create-user", email]
        command += ["--password-stdin", "--name", name, "--data-dir", str(self.data_dir)]
        if self.database_url:
            command += ["--database-url", self.database_url]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
        made = subprocess.run(
            command, input=PASSWORD, capture_output=True, text=True, env=clean, check=False
        )
        assert made.returncode == 0, made.stderr
        signed = httpx.post(
            f"{self.url}/api/auth/sign-in/email",
            json={"email": email, "password": PASSWORD},
            headers={"X-Forwarded-For": next(_addresses)},
            timeout=10,
        )
        assert signed.status_code == 200, signed.text
        return Account(email, PASSWORD, name, signed.json()["token"])

    def api(self, account: Account) -> httpx.Client:
        """The JSON API as that account (bearer), for arranging what a test then views."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {account.token}"}, timeout=10
        )

    def project_with(
        self, account: Account, org_name: str, values: dict[str, str], name: str = "Project"
    ) -> tuple[str, str]:
        """A new org of `account` with a project whose dev environment holds `values`:
        (org id, project id)."""
        with self.api(account) as api:
            org = api.post("/api/v0/orgs", json={"name": org_name}).json()
            project = api.post("/api/v0/projects", json={"name": name, "orgId": org["id"]}).json()
            envs = api.get(f"/api/v0/projects/{project['id']}/environments").json()
            dev = next(env["id"] for env in envs["environments"] if env["slug"] == "dev")
            done = api.put(
                f"/api/v0/projects/{project['id']}/environments/{dev}/secrets",
                json={"secrets": values},
            )
            assert done.status_code == 200, done.text
        return org["id"], project["id"]


@contextmanager
def start_live_server(
    root: Path, *, database_url: str | None = None, name: str = "server"
) -> Iterator[LiveServer]:
    """`sigillo server` on a new data directory (SQLite there unless `database_url`), with
    no account yet, so it logs its first-run setup URL. Loopback is its one trusted proxy
    (see `_addresses`)."""
    data_dir, log = root / f"{name}-data", root / f"{name}.log"
    env = {"SIGILLO_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}
    with server(data_dir, log, database_url=database_url, env=env) as port:
        yield LiveServer(f"http://127.0.0.1:{port}", data_dir, log, database_url)


@dataclass
class BrowserLog:
    """What one browser context did that a test did not ask about: requests that left the
    test server, Content-Security-Policy violations, uncaught script errors, 5xx answers."""

    origin: str
    requests: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._request)
        context.on("response", self._response)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and (
            f"{parts.scheme}://{parts.netloc}" != self.origin
        ):
            self.offsite.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp.append(message.text)

    def problems(self, allowed: Iterable[str] = ()) -> list[str]:
        """Each kind of trouble not in `allowed` ("offsite", "csp", "page_errors",
        "server_errors"), as one line per event."""
        kinds = ("offsite", "csp", "page_errors", "server_errors")
        return [f"{k}: {e}" for k in kinds if k not in allowed for e in getattr(self, k)]


async def new_context(browser: Browser, server: LiveServer, **options: Any) -> BrowserContext:
    """A fresh context (own cookies and storage) whose base_url is the server."""
    context = await browser.new_context(
        base_url=server.url,
        viewport=options.pop("viewport", DESKTOP),
        locale="en-US",
        timezone_id="UTC",
        extra_http_headers={"X-Forwarded-For": next(_addresses)},
        **options,
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return context


class Pages:
    """Opens pages in fresh contexts and checks each context's log when the test ends."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self._opened: list[tuple[BrowserContext, BrowserLog]] = []

    async def open(self, server: LiveServer, **options: Any) -> Page:
        """A page in a new context on `server` (options go to `browser.new_context`)."""
        context = await new_context(self.browser, server, **options)
        log = BrowserLog(server.url)
        log.attach(context)
        self._opened.append((context, log))
        return await context.new_page()

    def log_of(self, page: Page) -> BrowserLog:
        return next(log for context, log in self._opened if context is page.context)

    async def close(self, allowed: frozenset[str]) -> list[str]:
        problems = []
        for context, log in self._opened:
            await context.close()
            problems += log.problems(allowed)
        return problems


async def sign_in(context: BrowserContext, server: LiveServer, account: Account) -> None:
    """Gives the context the account's session cookie, as the API's sign-in sets it (plain
    name over http). Tests of the sign-in page itself sign in through that page instead."""
    cookie = {"name": SESSION_COOKIES[1], "value": account.token, "url": server.url}
    await context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Lax"}])


async def screenshot(page: Page, name: str, directory: Path | None = None) -> list[Path]:
    """The whole page at desktop (1280x800) and phone (390x844) widths, as
    `<name>-desktop.png` and `<name>-phone.png` in $SIGILLO_SCREENSHOT_DIR (docs/screenshots/
    under .ci/run; else a directory in /tmp); the page's own viewport is restored afterwards."""
    assert SCREENSHOT_NAME.fullmatch(name), f"screenshot names are [a-z0-9-]: {name!r}"
    target = directory or SCREENSHOTS
    target.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    written = []
    try:
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(size)
            # Sticky and fixed parts (an action bar, a modal's backdrop) are laid out for the
            # viewport, and a full-page capture leaves them there, over the page's middle:
            # a viewport as tall as the page puts them where a reader scrolling would.
            height = await page.evaluate("() => document.documentElement.scrollHeight")
            await page.set_viewport_size(
                {"width": size["width"], "height": max(size["height"], height)}
            )
            path = target / f"{name}-{label}.png"
            await page.screenshot(path=path, full_page=True, animations="disabled", caret="initial")
            written.append(path)
    finally:
        if before:
            await page.set_viewport_size(before)
    return written


_FORM_VALUES = (
    "() => Array.from(document.querySelectorAll('input, textarea, select'), e => e.value)"
)
# about:blank and data: documents have no storage: reading it throws there.
_STORAGE = """() => {
  try {
    return [localStorage, sessionStorage].flatMap(
      s => Array.from({length: s.length}, (_, i) => s.key(i) + '=' + s.getItem(s.key(i))));
  } catch (error) { return []; }
}"""


async def assert_no_secret(page: Page, values: Sequence[str]) -> None:
    """Fails when any of `values` is in what the page holds now: the current DOM of every
    frame (so every fragment htmx swapped in), read both as serialised and with entities
    decoded; every form control's live value; the URL; local and session storage.
    The message names the value's index and where it was found, never the value."""
    for index, value in enumerate(values):
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"value #{index} is shorter than {MIN_SECRET_LENGTH} characters: use distinctive "
                "test secrets, so that finding one means it leaked"
            )
    places: list[tuple[str, str]] = [("the URL", page.url)]
    for frame in page.frames:
        where = f"frame {frame.url[:80]!r}"
        markup = await frame.content()
        places.append((f"the DOM of {where}", markup))
        places.append((f"the DOM of {where} (entities decoded)", html.unescape(markup)))
        fields = await frame.evaluate(_FORM_VALUES)
        places.append((f"a form control value in {where}", "\0".join(fields)))
        stored = await frame.evaluate(_STORAGE)
        places.append((f"web storage of {where}", "\0".join(stored)))
    leaks = [
        f"secret value #{index} found in {place}"
        for index, value in enumerate(values)
        for place, text in places
        if value in text
    ]
    if leaks:
        raise AssertionError("; ".join(leaks))
