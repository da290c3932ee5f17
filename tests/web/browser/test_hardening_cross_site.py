"""Issue 13, findings 1 and 4, as real Chromium meets them: a page of another site (served
by a small server of its own at `http://localhost:PORT`, another site than the Sigillo
server at `http://127.0.0.1:PORT`) tries to

1. sign the browser into the attacker's account with an auto-submitted
   `enctype="text/plain"` form whose body is JSON (login CSRF);
2. read the victim's values by sending the browser to the API's value URLs, where the
   session cookie (`SameSite=Lax`) goes along on a top-level navigation.

Both are refused (security.md, "The API"), on SQLite and PostgreSQL; refused reads are
not recorded. The same reads from the server's own pages still work.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import Page

from tests.web.browser.harness import LiveServer, Pages, assert_no_secret, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

ATTACKER_PASSWORD = "attacker pass=word 12345"  # one `=`: text/plain puts it between name and value
VALUE = "cross-site-value-5c81e0d2"


class Attacker:
    """Another site: serves the pages a test gives it, at http://localhost:PORT."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def page(self, path: str, markup: str) -> str:
        self.pages[path] = f"<!doctype html><html><body>{markup}</body></html>"
        return self.url + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(params=["live_server", "postgres_server"])
def server(request: pytest.FixtureRequest) -> LiveServer:
    """The session's SQLite server, then its PostgreSQL one."""
    found: LiveServer = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    site = Attacker()
    yield site
    site.close()


def attacker_account(server: LiveServer) -> str:
    """The attacker's own account, made as an operator makes one: its email."""
    email = f"mallory-{uuid.uuid4().hex[:8]}@example.com"
    command = [sys.executable, "-m", "sigillo", "admin", "create-user", email, "--password-stdin"]
    command += ["--name", "Mallory", "--data-dir", str(server.data_dir)]
    if server.database_url:
        command += ["--database-url", server.database_url]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    made = subprocess.run(
        command, input=ATTACKER_PASSWORD, capture_output=True, text=True, env=clean, check=False
    )
    assert made.returncode == 0, made.stderr
    return email


async def session_cookies(page: Page, server: LiveServer) -> list[str]:
    return [c["name"] for c in await page.context.cookies(server.url) if "session" in c["name"]]


@pytest.mark.browser_allows("offsite")  # the attacker's page is another site, on purpose
async def test_a_text_plain_form_of_another_site_does_not_sign_the_browser_in(
    pages: Pages, attacker: Attacker, server: LiveServer
) -> None:
    email = attacker_account(server)
    name, value = f'{{"email":"{email}","password":"{ATTACKER_PASSWORD}"}}'.split("=", 1)
    url = attacker.page(
        "/prize",
        f'<form id="f" method="post" enctype="text/plain" '
        f'action="{server.url}/api/auth/sign-in/email">'
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}"></form>'
        "<script>document.getElementById('f').submit()</script>",
    )
    page = await pages.open(server)
    async with page.expect_response(lambda r: r.url.endswith("/api/auth/sign-in/email")) as sent:
        await page.goto(url)
    answer = await sent.value
    assert answer.request.method == "POST"
    assert answer.request.headers["content-type"].startswith("text/plain")
    assert answer.status in (403, 415), await answer.text()
    assert await session_cookies(page, server) == []
    await page.goto("/dash")
    assert "/login" in page.url  # not signed in, as anyone


@pytest.mark.browser_allows("offsite")
async def test_another_site_cannot_send_the_browser_to_read_values(
    pages: Pages, attacker: Attacker, server: LiveServer
) -> None:
    victim = server.new_account("victim")
    with server.api(victim) as api:
        org = api.post("/api/v0/orgs", json={"name": "Victim Co"}).json()["id"]
        project = api.post("/api/v0/projects", json={"name": "App", "orgId": org}).json()["id"]
        base = f"/api/v0/projects/{project}/environments/dev"
        assert api.post(f"{base}/secrets", json={"name": "API_KEY", "value": VALUE}).is_success

        def reads() -> list[dict[str, Any]]:
            events = api.get(f"{base}/events").json()["events"]
            return [event for event in events if event["type"] == "secrets.read"]

        targets = [f"{base}/secrets/download?format=env", f"{base}/secrets/API_KEY"]
        page = await pages.open(server)
        await sign_in(page.context, server, victim)
        for number, target in enumerate(targets):
            lure = attacker.page(
                f"/lure{number}", f'<a id="go" href="{server.url}{target}">See your prize</a>'
            )
            await page.goto(lure)
            async with page.expect_navigation(url=f"{server.url}{target}") as landed:
                await page.click("#go")
            answer = await landed.value
            assert answer is not None
            assert answer.status == 403, await answer.text()
            assert VALUE not in await answer.text()
            await assert_no_secret(page, [VALUE])
        assert reads() == []

        # This server's own pages still read them with the cookie (same-origin requests).
        await page.goto("/dash")
        for target in targets:
            status, text = await page.evaluate(
                "async url => { const r = await fetch(url); return [r.status, await r.text()]; }",
                target,
            )
            assert status == 200
            assert VALUE in text
        assert [event["how"] for event in reads()] == ["get", "download"]
