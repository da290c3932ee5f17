"""The pictures of docs/dashboard-tour.md: the main pages at desktop and phone widths.

One fresh server, so that the pictures show the same names every run: its first-run page,
then a team set up through the API (an org, a project with values in Dev and Prod, a
colleague, a token, a little history), then each page as its users see it. Dark variants
(the `color-theme` cookie) of a few pages show the other theme.

The PNGs go to $SIGILLO_SCREENSHOT_DIR (docs/screenshots/ under .ci/run; a directory in
/tmp otherwise): `<name>-desktop.png` and `<name>-phone.png`. Every picture but the one of
a value revealed on purpose is checked with `assert_no_secret` first: docs pictures are
public.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.live_server import create_user_and_sign_in
from tests.web.browser.harness import (
    PASSWORD,
    SCREENSHOTS,
    Account,
    LiveServer,
    Pages,
    assert_no_secret,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

ORG = "Acme Corp"
PROJECT = "Payments API"
DEV = {
    "DATABASE_URL": "postgres://payments:Hq83vLx0@db.internal:5432/payments",
    "STRIPE_SECRET_KEY": "sk_live_51Hs8Z2eZvKYlo2C9pQ3r",
    "SENTRY_DSN": "https://f3a9e21c@o1.ingest.sentry.io/4507",
    "WEBHOOK_SIGNING_SECRET": "whsec_7Qm2Lx9Rt4Vb8Nc1",
    "REDIS_URL": "redis://cache.internal:6379/0",
}
# Plain configuration [D18]: shown in the table as it is (so not among the values checked).
DEV_PLAIN = {"NODE_ENV": "development", "PORT": "4000"}
PROD = {name: f"{value}-prod" for name, value in DEV.items() if name != "SENTRY_DSN"}
PROD["FEATURE_FLAGS_KEY"] = "ff_prod_2b9c7e1d5a"
VALUES = [*DEV.values(), *PROD.values()]
IMPORT_TEXT = """\
# pasted from the old host
export STRIPE_SECRET_KEY=sk_live_51Hs8Z2eZvKYlo2C9pQ3r
MAILER_API_KEY="mg-key-5f2a9c81d7e4"
TLS_CERT="-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUExample
-----END CERTIFICATE-----"
LOG_LEVEL=info
"""


@dataclass
class Team:
    server: LiveServer
    admin: Account
    member: Account
    org_id: str
    project_id: str
    env_ids: dict[str, str]

    def tab(self, suffix: str) -> str:
        return f"/dash/projects/{self.project_id}{suffix}"


def account(server: LiveServer, email: str, name: str) -> Account:
    token = create_user_and_sign_in(server.url, server.data_dir, email, PASSWORD, name=name)
    return Account(email, PASSWORD, name, token)


def set_up_team(server: LiveServer) -> Team:
    """What the pictures show, made through the API as a team would have made it."""
    admin = account(server, "ada@acme.example", "Ada Lovelace")
    member = account(server, "grace@acme.example", "Grace Hopper")
    with server.api(admin) as api:
        org = api.post("/api/v0/orgs", json={"name": ORG}).json()
        project = api.post("/api/v0/projects", json={"name": PROJECT, "orgId": org["id"]}).json()
        envs = api.get(f"/api/v0/projects/{project['id']}/environments").json()["environments"]
        env_ids = {env["slug"]: env["id"] for env in envs}
        base = f"/api/v0/projects/{project['id']}/environments"
        for slug, values in (("dev", DEV), ("prod", PROD)):
            done = api.put(f"{base}/{env_ids[slug]}/secrets", json={"secrets": values})
            assert done.status_code == 200, done.text
        plain = {"secrets": {n: {"value": v, "kind": "plain"} for n, v in DEV_PLAIN.items()}}
        done = api.put(f"{base}/{env_ids['dev']}/secrets", json=plain)
        assert done.status_code == 200, done.text
        token = api.post(
            f"/api/v0/projects/{project['id']}/tokens",
            json={"name": "GitHub Actions", "environmentId": env_ids["prod"]},
        ).json()
        invitation = api.post(f"/api/v0/orgs/{org['id']}/invitations", json={}).json()
    with server.api(member) as api:
        assert api.post(f"/api/v0/invitations/{invitation['token']}/accept").status_code == 200
        # a little history: the colleague reads one value, a deploy downloads Prod
        got = api.get(f"{base}/{env_ids['dev']}/secrets/DATABASE_URL")
        assert got.status_code == 200, got.text
    deploy = httpx.get(
        f"{server.url}{base}/{env_ids['prod']}/secrets/download",
        params={"format": "json"},
        headers={"Authorization": f"Bearer {token['key']}"},
        timeout=10,
    )
    assert deploy.status_code == 200, deploy.text
    return Team(server, admin, member, org["id"], project["id"], env_ids)


async def shoot(page: Page, name: str, *, revealed: tuple[str, ...] = ()) -> None:
    """Both widths of the page as it is now, after checking it shows no value but
    `revealed`."""
    await page.wait_for_load_state()
    await assert_no_secret(page, [value for value in VALUES if value not in revealed])
    await screenshot(page, name)


async def dark(page: Page, server: LiveServer) -> None:
    await page.context.add_cookies([{"name": "color-theme", "value": "dark", "url": server.url}])


async def light(page: Page) -> None:
    await page.context.clear_cookies(name="color-theme")


async def test_the_docs_screenshots(pages: Pages, fresh_server: LiveServer, setup_url: str) -> None:
    server = fresh_server
    visitor = await pages.open(server)

    # Before anyone has an account: first-run setup; then the sign-in page, both themes.
    await visitor.goto(setup_url)
    await expect(visitor.get_by_role("heading", name="Welcome to Sigillo")).to_be_visible()
    await shoot(visitor, "first-run-setup")
    team = set_up_team(server)
    await visitor.goto("/login")
    await expect(visitor.get_by_role("heading", name="Sign in")).to_be_visible()
    await shoot(visitor, "sign-in")
    await dark(visitor, server)
    await visitor.reload()
    await expect(visitor.locator("html")).to_have_class(re.compile("theme-dark"))
    await shoot(visitor, "sign-in-dark")

    page = await pages.open(server)
    await sign_in(page.context, server, team.admin)

    # Secrets: values hidden, with Prod's missing key as a red row; then one revealed.
    await page.goto(team.tab("/envs/dev"))
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(len(DEV))
    await expect(page.get_by_role("textbox", name="Value of PORT")).to_have_value("4000")
    await expect(page.locator("#secrets-rows tr.missing")).to_have_count(1)
    await shoot(page, "secrets-tab")
    cell = page.locator("#v-STRIPE_SECRET_KEY")
    await cell.get_by_role("button", name="Reveal value").click()
    await expect(page.get_by_role("textbox", name="Value of STRIPE_SECRET_KEY")).to_have_value(
        DEV["STRIPE_SECRET_KEY"]
    )
    await shoot(page, "secrets-revealed", revealed=(DEV["STRIPE_SECRET_KEY"],))
    await page.reload()  # every value hidden again
    await dark(page, server)
    await page.reload()
    await expect(page.locator("html")).to_have_class(re.compile("theme-dark"))
    await shoot(page, "secrets-tab-dark")
    await light(page)
    await page.reload()

    # Import .env: the preview of what a pasted file changes, by name only.
    await page.get_by_role("link", name="Import .env").click()
    dialog = page.get_by_role("dialog", name="Import .env")
    await dialog.get_by_role("textbox", name=".env contents").fill(IMPORT_TEXT)
    await dialog.get_by_role("button", name="Preview changes").click()
    await expect(dialog.locator(".import-summary")).to_contain_text("4 keys found")
    await expect(
        dialog.get_by_role("checkbox", name=re.compile("^LOG_LEVEL plain"))
    ).to_be_checked()
    await shoot(page, "import-preview", revealed=(DEV["STRIPE_SECRET_KEY"],))

    # The project's other tabs.
    await page.goto(team.tab("/environments"))
    await expect(page.get_by_role("textbox", name="Name of environment Preview")).to_be_visible()
    await shoot(page, "environments")

    await page.goto(team.tab("/tokens"))
    await expect(page.get_by_role("row", name=re.compile("GitHub Actions"))).to_be_visible()
    await (
        page.get_by_role("button", name="Create token")
        .or_(page.get_by_role("link", name="Create token"))
        .first.click()
    )
    create = page.get_by_role("dialog", name="Create API token")
    await create.get_by_label("Name").fill("Nightly backup")
    await create.get_by_role("button", name="Create token").click()
    created = page.get_by_role("dialog", name="Token created")
    await expect(created).to_be_visible()
    await shoot(page, "token-created")  # a new key, shown once: not one of the values
    await created.get_by_role("link", name="Done").click()
    await expect(created).to_be_hidden()
    await shoot(page, "tokens")

    await page.goto(team.tab("/access"))
    await expect(page.get_by_role("row", name=re.compile("Grace Hopper"))).to_be_visible()
    await shoot(page, "access")

    await page.goto(team.tab("/envs/dev/event-log"))
    await expect(page.locator(".log-table")).to_be_visible()
    await shoot(page, "event-log")
    await dark(page, server)
    await page.reload()
    await shoot(page, "event-log-dark")
    await light(page)

    await page.goto(team.tab("/settings"))
    await expect(page.get_by_role("heading", name="Delete project")).to_be_visible()
    await shoot(page, "settings")

    # A device login: the consent screen a CLI's `sigillo login` leads to.
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        grant = (
            await client.post("/api/auth/device/code", json={"client_id": "sigillo-cli"})
        ).json()
    await page.goto(grant["verification_uri_complete"])
    await shoot(page, "device-login")
    await page.get_by_role("button", name="Verify Code").click()
    await expect(page.get_by_role("heading", name="Approve this device?")).to_be_visible()
    await shoot(page, "device-consent")
    await dark(page, server)
    await page.reload()
    await shoot(page, "device-consent-dark")

    written = sorted(path.name for path in SCREENSHOTS.glob("*.png"))
    for name in ("secrets-tab", "device-consent", "event-log", "tokens"):
        assert f"{name}-desktop.png" in written, written
        assert f"{name}-phone.png" in written, written
