"""WCAG 2.2 AA in real Chromium (issue 21): axe-core (tests/consumers/node_modules, installed
by .ci/run's `npm ci`) runs over every state of every page a person meets, at desktop
(1280x800) and the narrowest phone width (320x640: also 1280 px at 400 % zoom, WCAG
1.4.10's reflow width, where no page may scroll sideways), in the light and the dark theme.

One page per width and theme walks the states in order, the four pages at once. axe is put
into each document through the DevTools protocol (`page.evaluate`), which the page's CSP
(`script-src 'self'`) does not govern, so the harness's CSP check stays on. Any violation
fails the test with a list: page state, rule, impact and the offending elements' selectors.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.web.browser.harness import DESKTOP, Account, LiveServer, Pages, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

AXE = Path(__file__).resolve().parents[2] / "consumers" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
NARROWEST = {"width": 320, "height": 640}
# The page wider than the window (a data table may scroll inside its own box instead).
SIDEWAYS = """() => {
  const wide = document.documentElement.scrollWidth;
  return wide > window.innerWidth + 1 ? wide : null;
}"""
# Violations known and not fixed yet: (rule id, target selector). Empty: every one is fixed.
KNOWN: frozenset[tuple[str, str]] = frozenset()

RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}"""


@dataclass
class Team:
    server: LiveServer
    admin: Account
    org_id: str
    project_id: str

    def tab(self, suffix: str) -> str:
        return f"/dash/projects/{self.project_id}{suffix}"


def set_up_team(server: LiveServer) -> Team:
    admin = server.new_account("a11y", name="Ada Admin")
    member = server.new_account("a11y-member", name="Bob Member")
    with server.api(admin) as api:
        org = api.post("/api/v0/orgs", json={"name": "Acme Corp"}).json()
        project = api.post("/api/v0/projects", json={"name": "Payments", "orgId": org["id"]}).json()
        base = f"/api/v0/projects/{project['id']}/environments"
        envs = api.get(base).json()["environments"]
        env_ids = {env["slug"]: env["id"] for env in envs}
        values = {f"SECRET_{n:02d}": f"value-{n:02d}-a11y-check" for n in range(15)}
        for slug in ("dev", "prod"):
            done = api.put(f"{base}/{env_ids[slug]}/secrets", json={"secrets": values})
            assert done.status_code == 200, done.text
        extra = {"secrets": {"ONLY_IN_DEV": {"value": "dev-only-a11y", "kind": "plain"}}}
        assert api.put(f"{base}/{env_ids['dev']}/secrets", json=extra).status_code == 200
        made = api.post(
            f"/api/v0/projects/{project['id']}/tokens",
            json={"name": "CI", "environmentId": env_ids["prod"]},
        )
        assert made.status_code == 200, made.text
        invitation = api.post(f"/api/v0/orgs/{org['id']}/invitations", json={}).json()
    with server.api(member) as api:
        assert api.post(f"/api/v0/invitations/{invitation['token']}/accept").status_code == 200
    return Team(server, admin, org["id"], project["id"])


class Audit:
    """axe over one page's states; what it found, by state."""

    def __init__(self, page: Page, label: str) -> None:
        self.page = page
        self.label = label
        self.found: list[str] = []

    async def check(self, state: str) -> None:
        page = self.page
        await page.wait_for_load_state()
        if not await page.evaluate("() => typeof window.axe === 'object'"):
            await page.evaluate(AXE.read_text())
        violations = await page.evaluate(RUN, TAGS)
        wide = await page.evaluate(SIDEWAYS)
        if wide is not None:
            width = page.viewport_size["width"] if page.viewport_size else "?"
            self.found.append(f"[{self.label}] {state}: scrolls sideways ({wide} px in {width})")
        for v in violations:
            targets = [t for t in v["targets"] if (v["id"], t) not in KNOWN]
            if targets:
                self.found.append(
                    f"[{self.label}] {state}: {v['id']} ({v['impact']}) {v['help']}: "
                    + json.dumps(targets[:6])
                    + (f" and {len(targets) - 6} more" if len(targets) > 6 else "")
                )


async def test_every_page_state_passes_axe(
    pages: Pages, fresh_server: LiveServer, setup_url: str
) -> None:
    assert AXE.is_file(), f"{AXE} is missing: cd tests/consumers && npm ci"
    server = fresh_server
    audits: list[Audit] = []
    for size_name, size in (("desktop", DESKTOP), ("phone", NARROWEST)):
        for theme in ("light", "dark"):
            page = await pages.open(server, viewport=size)
            await page.context.add_cookies(
                [{"name": "color-theme", "value": theme, "url": server.url}]
            )
            audits.append(Audit(page, f"{size_name} {theme}"))

    # Before any account exists: the first-run page.
    for audit in audits:
        await audit.page.goto(setup_url)
        await expect(audit.page.get_by_role("heading", name="Welcome to Sigillo")).to_be_visible()
        await audit.check("first-run setup")

    team = set_up_team(server)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        grant = (
            await client.post("/api/auth/device/code", json={"client_id": "sigillo-cli"})
        ).json()

    async def walk(audit: Audit) -> None:
        page, check = audit.page, audit.check
        await page.goto("/login")
        await check("/login")
        await page.get_by_label("Email").fill(team.admin.email)
        await page.get_by_label("Password").fill("not the password at all")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator(".alert, .error-text").first).to_be_visible()
        await check("/login with an error")

        await sign_in(page.context, server, team.admin)
        await page.goto("/dash/projects/no-such-project")
        await check("404 page")
        await page.goto("/dash/new-org")
        await check("/dash/new-org")
        await page.goto(f"/dash/orgs/{team.org_id}/new-project")
        await check("new project dialog")

        await page.goto(team.tab("/envs/dev"))
        await expect(
            page.get_by_role("button", name=re.compile("^Reveal value"))
        ).not_to_have_count(0)
        await check("secrets tab")
        await page.get_by_role("button", name="Reveal value of SECRET_00").click()
        await expect(page.get_by_role("textbox", name="Value of SECRET_00")).to_be_visible()
        await check("secrets tab, a value revealed")
        await page.get_by_role("button", name="Show all").click()
        await expect(page.get_by_role("button", name=re.compile("^Reveal value"))).to_have_count(0)
        await check("secrets tab, all shown")
        await page.goto(team.tab("/envs/dev?dialog=sync"))
        await check("secrets tab, sync dialog")
        await page.goto(team.tab("/envs/dev?dialog=import"))
        await check("secrets tab, import dialog")

        await page.goto(team.tab("/environments"))
        await check("environments tab")
        await page.goto(team.tab("/tokens"))
        await check("tokens tab")
        await page.goto(team.tab("/tokens?dialog=create"))
        await check("create token dialog")
        await page.goto(team.tab("/access"))
        await check("access tab (admin)")
        await page.goto(team.tab("/access?dialog=invite"))
        await check("invite dialog")
        await page.goto(team.tab("/envs/dev/event-log"))
        await check("event log tab")
        await page.goto(team.tab("/settings"))
        await check("settings tab")
        await page.goto(team.tab("/settings?dialog=delete-project"))
        await check("delete project dialog")

        await page.goto("/account/sessions")
        await check("/account/sessions")
        await page.goto("/account/security")
        await check("/account/security (off)")
        enrol = page.get_by_role("button", name="Set up two-factor authentication")
        if await enrol.count():  # the first page's enrolment is still pending for the others
            await enrol.click()
        await expect(page.get_by_role("textbox", name="Code from the app")).to_be_visible()
        await check("/account/security (enrolling, QR code)")
        await page.goto(grant["verification_uri_complete"])
        await check("/device")

    # The four pages walk at once: each waits mostly on the server and the renderer.
    await asyncio.gather(*(walk(audit) for audit in audits))

    found = [line for audit in audits for line in audit.found]
    assert not found, f"{len(found)} axe violations:\n" + "\n".join(found)
