"""Identity for teams (issue 20) in real Chromium, end to end against a real OpenID Connect
provider (tests/sso/provider.mjs: the certified `oidc-provider` on this machine's node) and a
real `sigillo server` configured with it through its environment, as an operator would:

sign in with the provider's button (the account is made: its domain is allowed), make an
org and a project, turn on two-factor authentication with a code computed from the key the
page shows, keep the recovery codes, require single sign-on and two-factor for the org,
sign out, sign in again through the provider and finish with a recovery code, and see the
session on the Sessions page. The provider is another origin, so leaving for it is allowed
(`offsite`); everything else the harness checks (CSP, script errors, 5xx) still applies.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest
from playwright.async_api import Page, expect

from tests.live_server import free_port, server
from tests.sso.provider import oidc_provider
from tests.web.browser.harness import LiveServer, Pages, assert_no_secret

pytestmark = pytest.mark.asyncio(loop_scope="session")

CLIENT_SECRET = "journey-secret-" + "Q7w" * 10
ORG, PROJECT = "Corp Identity", "Gateway"


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A provider that knows this server's callback, then the server, configured with it."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    root = tmp_path_factory.mktemp("identity")
    data_dir, log = root / "data", root / "server.log"
    with oidc_provider(origin, CLIENT_SECRET) as issuer:
        env = {
            "SIGILLO_TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
            "SIGILLO_OIDC_DOMAINS_ISSUER": issuer,
            "SIGILLO_OIDC_DOMAINS_CLIENT_ID": "sigillo",
            "SIGILLO_OIDC_DOMAINS_CLIENT_SECRET": CLIENT_SECRET,
            "SIGILLO_OIDC_DOMAINS_ALLOWED_DOMAINS": "allowed.test",
            "SIGILLO_OIDC_DOMAINS_LABEL": "Sign in with Corp",
        }
        with server(data_dir, log, env=env, port=port):
            yield LiveServer(origin, data_dir, log)
    assert CLIENT_SECRET not in log.read_text(errors="replace")


async def sign_in_with_corp(page: Page) -> None:
    await page.goto("/login")
    await page.get_by_role("link", name="Sign in with Corp").click()


@pytest.mark.browser_allows("offsite")
async def test_single_sign_on_two_factor_and_the_orgs_requirements(
    pages: Pages, sso_server: LiveServer
) -> None:
    page = await pages.open(sso_server)

    # 1. The provider's button: the account is made (allowed.test is an allowed domain).
    await sign_in_with_corp(page)
    await expect(page).to_have_url(re.compile(r"/dash/new-org$"))
    await page.get_by_label("Name").fill(ORG)
    await page.get_by_role("button", name="Create Organization").click()
    await expect(page).to_have_url(re.compile(r"/dash/orgs/[^/]+$"))
    await page.get_by_role("link", name="Create project").click()
    dialog = page.get_by_role("dialog", name="New Project")
    await dialog.get_by_label("Project name").fill(PROJECT)
    await dialog.get_by_role("button", name="Create Project").click()
    await expect(page).to_have_url(re.compile(r"/dash/projects/[^/]+/envs/dev$"))
    project_url = page.url.split("/envs/", 1)[0]

    # 2. Two-factor authentication, with the key the page shows typed into "an app".
    await page.goto("/account/security")
    await page.get_by_role("button", name="Set up two-factor authentication").click()
    await expect(page.locator(".qr svg")).to_be_visible()  # rendered by the server
    key = (await page.get_by_label("Setup key").inner_text()).replace(" ", "")
    totp = pyotp.TOTP(key)
    await page.get_by_label("Code from the app").fill(totp.now())
    await page.get_by_role("button", name="Turn on").click()
    codes = page.locator(".recovery-codes code")
    await expect(codes).to_have_count(10)
    recovery = (await codes.all_inner_texts())[0]
    await expect(page.get_by_text("On", exact=True)).to_be_visible()
    await page.reload()  # shown once: gone with the next page
    await expect(page.locator(".recovery-codes")).to_have_count(0)
    await assert_no_secret(page, [key, recovery])

    # 3. The org requires both; this session has both, so it stays in.
    await page.goto(f"{project_url}/access")
    section = page.get_by_role("region", name="Sign-in requirements")
    await section.get_by_label("Require single sign-on").check()
    await section.get_by_label("Require two-factor authentication").check()
    await section.get_by_role("button", name="Save requirements").click()
    await expect(page.get_by_role("status")).to_have_text("Sign-in requirements saved.")
    await page.reload()
    await expect(section.get_by_label("Require single sign-on")).to_be_checked()
    await expect(section.get_by_label("Require two-factor authentication")).to_be_checked()

    # 4. Out, and in again through the provider: the second step asks for a code; a lost
    #    device is what recovery codes are for.
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await sign_in_with_corp(page)
    await expect(page).to_have_url(re.compile(r"/login/code$"))
    await expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    await page.get_by_text("Lost your device? Use a recovery code").click()
    await page.get_by_label("Recovery code").fill(recovery)
    await page.get_by_role("button", name="Use recovery code").click()
    await expect(page).to_have_url(re.compile(r"/dash"))
    await page.goto(f"{project_url}/access")
    await expect(page.get_by_role("heading", name="Members")).to_be_visible()

    # 5. The same recovery code never works twice.
    await page.get_by_role("button", name="Log out").click()
    await sign_in_with_corp(page)
    await expect(page).to_have_url(re.compile(r"/login/code$"))
    await page.get_by_text("Lost your device? Use a recovery code").click()
    await page.get_by_label("Recovery code").fill(recovery)
    await page.get_by_role("button", name="Use recovery code").click()
    await expect(page.get_by_role("alert")).to_contain_text("Invalid code")
    # a code from the app does: the next time step's (this step's code was used to turn
    # two-factor on, and a code is never taken twice)
    code = totp.at(int(time.time()) + 30)
    await page.get_by_label("Authentication code").fill(code)
    await page.get_by_role("button", name="Verify").click()
    await expect(page).to_have_url(re.compile(r"/dash"))

    # 6. The Sessions page lists this session.
    await page.goto("/account/sessions")
    await expect(page.get_by_text("This device")).to_have_count(1)
    await assert_no_secret(page, [key, recovery, CLIENT_SECRET])
