"""The dashboard's whole journey in real Chromium, as a new team walks it (issue 6).

One fresh server, SQLite, no account yet. The admin opens the first-run URL the server
logged, creates the org and a project, adds secrets with "Add Secret" rows, reveals one,
edits it, imports a pasted .env (a multi-line quoted value, an `export` prefix, comments),
saves to two environments, finds the missing keys in the third and syncs them, creates an
API token on the Tokens tab and downloads the values with the real CLI, invites a colleague
who signs up through the link in a second browser, who as a member may not delete the
project; the event log then shows all of it with who did it; last, a device login is
approved on /device.

Every page the journey visits is checked with `assert_no_secret` for every value that page
was not asked to show. The steps run in order in one test; the first that breaks fails the
test with its number and title in the message (`Step`), the rest do not run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.web.browser.harness import LiveServer, Pages, assert_no_secret

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "a long and honest passphrase"
ADMIN = ("Ada Admin", "ada@acme.example")
MEMBER = ("Bob Member", "bob@acme.example")
ORG = "Acme Corp"
PROJECT = "Payments API"
TOKEN_NAME = "CI pipeline"
DEVICE_ADDRESS = "127.0.0.1"  # the peer address the "CLI" asks from (never a forwarded one)

# Every value the journey stores. Each is distinctive, so that finding one in a page means
# it leaked; a page may hold only those it was asked to show.
STRIPE_KEY = "sk_live_journey_4f9Qx7Lm2Zp8"
STRIPE_KEY_ROTATED = "sk_live_rotated_Rt6W8kPz3N1q"
DATABASE_URL = "postgres://app:pw-Journey-81xQ@db.internal:5432/app"
SENTRY_DSN = "https://k3yJourney77@o1.ingest.sentry.io/42"
KEY_LINES = ("-----BEGIN KEY-----", "MIIBjourneyLine1xyzQ", "-----END KEY-----")
PRIVATE_KEY = "\n".join(KEY_LINES)
REDIS_URL = "redis://cache-journey-7:6379/0"
FEATURE_FLAGS = "beta-dash # journey flags"
WEBHOOK_SECRET = "whsec_journey_Zk29Lp4xV"
SECRETS = [
    STRIPE_KEY,
    STRIPE_KEY_ROTATED,
    DATABASE_URL,
    SENTRY_DSN,
    PRIVATE_KEY,
    KEY_LINES[1],  # a line of the multi-line value is a leak too
    REDIS_URL,
    FEATURE_FLAGS,
    WEBHOOK_SECRET,
]
ENV_FILE = f"""\
# Exported from the old host: a comment line, then every form the parser knows
export SENTRY_DSN={SENTRY_DSN}
PRIVATE_KEY="{KEY_LINES[0]}
{KEY_LINES[1]}
{KEY_LINES[2]}"
REDIS_URL = {REDIS_URL}   # the inline comment is not part of the value
FEATURE_FLAGS='{FEATURE_FLAGS}'

STRIPE_KEY="{STRIPE_KEY_ROTATED}"
"""
# What each environment holds at the end (Prod: everything, synced from Dev).
FINAL = {
    "STRIPE_KEY": STRIPE_KEY_ROTATED,
    "DATABASE_URL": DATABASE_URL,
    "SENTRY_DSN": SENTRY_DSN,
    "PRIVATE_KEY": PRIVATE_KEY,
    "REDIS_URL": REDIS_URL,
    "FEATURE_FLAGS": FEATURE_FLAGS,
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
}


@dataclass
class Journey:
    """What the steps share: the server, the two people's pages, what they made."""

    server: LiveServer
    setup_url: str
    pages: Pages
    tmp: Path
    admin: Page | None = None
    member: Page | None = None
    org_id: str = ""
    project_id: str = ""
    token_key: str = ""
    invite_url: str = ""

    @property
    def project_url(self) -> str:
        return f"/dash/projects/{self.project_id}"

    def env_url(self, slug: str, suffix: str = "") -> str:
        return f"{self.project_url}/envs/{slug}{suffix}"

    def admin_page(self) -> Page:
        assert self.admin is not None, "the admin's page is opened by the first step"
        return self.admin

    def member_page(self) -> Page:
        assert self.member is not None, "the member's page is opened by the invitation step"
        return self.member


async def hidden(page: Page, *shown: str) -> None:
    """No stored value in the page but those it was asked to show (`shown`)."""
    await page.wait_for_load_state()
    await assert_no_secret(page, [value for value in SECRETS if value not in shown])


async def csrf_of(page: Page) -> str:
    """The session's CSRF token, as the page carries it for htmx (`hx-headers` on body)."""
    raw = await page.locator("body").get_attribute("hx-headers")
    assert raw, "the page carries no CSRF token: is it signed in?"
    token: str = json.loads(raw)["X-CSRF-Token"]
    return token


def secrets_status(page: Page) -> Locator:
    return page.locator("#secrets-status")


def value_cell(page: Page, name: str) -> Locator:
    return page.locator(f"#v-{name}")


async def save(page: Page, count: int, *, also: Iterable[str] = ()) -> None:
    """Save the table's changes ("Save N secrets") to the current environment and `also`."""
    also = list(also)
    button = page.get_by_role("button", name=re.compile(r"^Save( \d+ secrets?)?$"))
    await expect(button).to_have_text(f"Save {count} secret{'s' if count != 1 else ''}")
    await button.click()
    dialog = page.get_by_role("dialog", name="Save changes")
    await expect(dialog).to_be_visible()
    for name in also:
        await dialog.get_by_role("checkbox", name=name, exact=True).check()
    places = 1 + len(also)
    label = f"Save to {places} environment{'s' if places != 1 else ''}"
    await dialog.get_by_role("button", name=label).click()
    await expect(secrets_status(page)).to_have_text(
        f"Saved {count} secret{'s' if count != 1 else ''} to {places} "
        f"environment{'s' if places != 1 else ''}."
    )


async def add_rows(page: Page, rows: dict[str, str]) -> None:
    """Fill one "Add Secret" row per item."""
    for name, value in rows.items():
        await page.get_by_role("link", name="Add Secret").click()
        await page.get_by_role("textbox", name="New key").last.fill(name)
        await page.get_by_role("textbox", name="New value").last.fill(value)


async def keys(page: Page) -> list[str]:
    """The key inputs of the live rows, in table order."""
    names: list[str] = await page.locator('#secrets-rows input[name^="k:"]').evaluate_all(
        "inputs => inputs.map(i => i.value)"
    )
    return names


async def expect_keys(page: Page, expected: list[str]) -> None:
    """The table's live keys become `expected` (after htmx swapped the table in)."""
    await expect(page.locator('#secrets-rows input[name^="k:"]')).to_have_count(len(expected))
    assert sorted(await keys(page)) == sorted(expected), await keys(page)


async def tab(page: Page, label: str, suffix: str) -> None:
    """Open one of the project's tabs by its link."""
    await page.get_by_role("navigation", name="Project").get_by_role("link", name=label).click()
    await expect(page).to_have_url(re.compile(re.escape(suffix) + "$"))
    await expect(
        page.get_by_role("navigation", name="Project").get_by_role("link", name=label)
    ).to_have_attribute("aria-current", "page")


def logged(rows: list[list[str]], secret: str, action: str, who: str) -> bool:
    """Whether an event log row names `secret` with `action`, by `who`."""
    return any(secret in row[0] and row[1] == action and row[4] == who for row in rows)


async def environment(page: Page, name: str, suffix: str) -> None:
    """Switch to another environment with the picker at the top of the project page."""
    await (
        page.get_by_role("navigation", name="Environments")
        .get_by_role("link", name=name, exact=True)
        .click()
    )
    await expect(page).to_have_url(re.compile(re.escape(suffix) + "$"))


async def table_rows(page: Page, selector: str) -> list[list[str]]:
    """The text of each cell of each row of a table (`selector` names its body rows)."""
    rows: list[list[str]] = await page.locator(selector).evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.replace(/\\s+/g, ' ').trim()))"
    )
    return rows


# --- the steps ---------------------------------------------------------------------------


async def first_run_setup(j: Journey) -> None:
    """The URL the server logged opens the first-run page; the account it makes is
    signed in and sent on to make an organization."""
    j.admin = page = await j.pages.open(j.server)
    response = await page.goto(j.setup_url)
    assert response is not None
    assert response.status == 200, response.status
    await expect(page.get_by_role("heading", name="Welcome to Sigillo")).to_be_visible()
    await hidden(page)
    await page.get_by_label("Name").fill(ADMIN[0])
    await page.get_by_label("Email").fill(ADMIN[1])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r"/dash/new-org$"))
    await expect(page.get_by_role("heading", name="New Organization")).to_be_visible()
    await hidden(page)


async def create_org(j: Journey) -> None:
    page = j.admin_page()
    await page.get_by_label("Name").fill(ORG)
    await page.get_by_role("button", name="Create Organization").click()
    await expect(page).to_have_url(re.compile(r"/dash/orgs/[^/]+$"))
    j.org_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_role("heading", name="No projects yet")).to_be_visible()
    sidebar = page.get_by_role("navigation", name="Organizations and projects")
    await expect(sidebar).to_contain_text(ORG)
    await expect(sidebar).to_contain_text("admin")
    await hidden(page)


async def create_project(j: Journey) -> None:
    page = j.admin_page()
    await page.get_by_role("link", name="Create project").click()
    dialog = page.get_by_role("dialog", name="New Project")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Project name").fill(PROJECT)
    await dialog.get_by_role("button", name="Create Project").click()
    await expect(page).to_have_url(re.compile(r"/dash/projects/[^/]+/envs/dev$"))
    j.project_id = page.url.split("/dash/projects/", 1)[1].split("/", 1)[0]
    await expect(page.get_by_role("heading", name=PROJECT, level=1)).to_be_visible()
    picker = page.get_by_role("navigation", name="Environments")
    await expect(picker.get_by_role("link")).to_have_text(["Dev", "Preview", "Prod"])
    await expect(page.get_by_role("heading", name="No secrets yet")).to_be_visible()
    await hidden(page)


async def add_secrets(j: Journey) -> None:
    """Two "Add Secret" rows, saved here: the table then shows them masked."""
    page = j.admin_page()
    await add_rows(page, {"STRIPE_KEY": STRIPE_KEY, "DATABASE_URL": DATABASE_URL})
    await save(page, 2)
    await expect_keys(page, ["DATABASE_URL", "STRIPE_KEY"])
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(2)
    await hidden(page)  # the values typed are gone from the page with the rows
    await page.reload()
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(2)
    await hidden(page)


async def reveal_one(j: Journey) -> None:
    """One value comes to the page, and only that one."""
    page = j.admin_page()
    await value_cell(page, "STRIPE_KEY").get_by_role("button", name="Reveal value").click()
    area = page.get_by_role("textbox", name="Value of STRIPE_KEY")
    await expect(area).to_have_value(STRIPE_KEY)
    mask = value_cell(page, "DATABASE_URL").get_by_role("button", name="Reveal value")
    drawn = await mask.evaluate("button => getComputedStyle(button, '::before').content")
    assert drawn == '"••••••••••••"'  # the twelve bullets of a hidden value (secrets.css)
    await hidden(page, STRIPE_KEY)


async def edit_it(j: Journey) -> None:
    """The revealed value, edited in place and saved: the row is marked unsaved, then
    saved, and the new value is hidden again in the fresh table."""
    page = j.admin_page()
    area = page.get_by_role("textbox", name="Value of STRIPE_KEY")
    await area.fill(STRIPE_KEY_ROTATED)
    await expect(page.locator("#secrets-rows tr.changed")).to_contain_text("unsaved")
    await save(page, 1)
    await expect(
        value_cell(page, "STRIPE_KEY").get_by_role("button", name="Reveal value")
    ).to_be_visible()
    await hidden(page)


async def import_env(j: Journey) -> None:
    """A pasted .env: the preview names what changes (names only), then the import."""
    page = j.admin_page()
    await page.get_by_role("link", name="Import .env").click()
    dialog = page.get_by_role("dialog", name="Import .env")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("textbox", name=".env contents").fill(ENV_FILE)
    await dialog.get_by_role("button", name="Preview changes").click()
    summary = dialog.locator(".import-summary")
    await expect(summary).to_contain_text("5 keys found: 4 to add, 0 to change, 1 unchanged.")
    added = dialog.get_by_role("list", name="Added")
    await expect(added).to_have_text(
        re.compile(r"SENTRY_DSN\s*plain\s*PRIVATE_KEY\s*plain\s*REDIS_URL\s*plain\s*FEATURE_FLAGS")
    )
    # Each key has its "plain" box [D18]; none of these looks like configuration.
    await expect(added.get_by_role("checkbox", checked=True)).to_have_count(0)
    await expect(dialog.get_by_role("list", name="Unchanged")).to_have_text("STRIPE_KEY")
    # The pasted text is in the textarea (the user's own); the preview holds no value.
    markup = await summary.inner_html()
    assert not [value for value in SECRETS if value in markup], "the preview shows a value"
    await hidden(page, *FINAL.values(), KEY_LINES[1])
    await dialog.get_by_role("button", name="Import 4 secrets").click()
    await expect(secrets_status(page)).to_have_text("Imported 4 secrets (1 unchanged).")
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(6)
    await expect(dialog).to_be_hidden()
    await hidden(page)


async def save_to_two_environments(j: Journey) -> None:
    """A new row saved to Dev and, ticked in the dialog, to Preview."""
    page = j.admin_page()
    await add_rows(page, {"WEBHOOK_SECRET": WEBHOOK_SECRET})
    await save(page, 1, also=["Preview"])
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(7)
    await hidden(page)
    await environment(page, "Preview", "/envs/preview")
    await expect_keys(page, ["WEBHOOK_SECRET"])
    await expect(page.locator("#secrets-rows tr.missing")).to_have_count(6)
    await hidden(page)


async def sync_missing_in_prod(j: Journey) -> None:
    """Prod has none of Dev's keys: each is a red "missing" row; "Sync 7 missing" copies
    them from Dev, and the rows become live ones."""
    page = j.admin_page()
    await environment(page, "Prod", "/envs/prod")
    missing = page.locator("#secrets-rows tr.missing")
    await expect(missing).to_have_count(7)
    await expect(missing.first).to_contain_text("missing")
    await expect(page.get_by_role("textbox", name="Value of STRIPE_KEY")).to_have_attribute(
        "placeholder", "Missing — add a value"
    )
    await hidden(page)
    await page.get_by_role("link", name="Sync 7 missing").click()
    dialog = page.get_by_role("dialog", name="Sync missing secrets")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Copy 7 missing secrets from another environment")
    source = dialog.get_by_label("Source environment")
    await expect(source.locator("option")).to_have_text(["Dev (7 of 7)", "Preview (1 of 7)"])
    await source.select_option(label="Dev (7 of 7)")
    await dialog.get_by_role("button", name="Sync from environment").click()
    await expect(secrets_status(page)).to_have_text("Copied 7 missing secrets from Dev.")
    await expect(missing).to_have_count(0)
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(7)
    await hidden(page)


async def create_token_and_use_it(j: Journey) -> None:
    """A read-only token for Prod, made on the Tokens tab and shown once, works for the
    real CLI: `sigillo secrets download` gets exactly the synced values."""
    page = j.admin_page()
    await tab(page, "Tokens", "/tokens")
    await expect(page.get_by_role("heading", name="No API tokens yet")).to_be_visible()
    await hidden(page)
    await page.get_by_role("link", name="Create token").click()
    dialog = page.get_by_role("dialog", name="Create API token")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Name").fill(TOKEN_NAME)
    await dialog.get_by_label("Environment scope").select_option(label="Prod")
    await expect(dialog.get_by_role("radio", name=re.compile("^Read list"))).to_be_checked()
    await dialog.get_by_role("button", name="Create token").click()
    created = page.get_by_role("dialog", name="Token created")
    await expect(created).to_be_visible()
    await expect(created).to_contain_text("Copy this token now")
    key = (await created.locator("code").first.inner_text()).strip()
    assert re.fullmatch(r"sig_[0-9a-f]{64}", key), "the dialog shows no sig_ key"
    j.token_key = key
    await hidden(page)
    await created.get_by_role("link", name="Done").click()
    await expect(created).to_be_hidden()
    row = page.get_by_role("row", name=re.compile(TOKEN_NAME))
    await expect(row).to_contain_text(f"sig_{key[4:16]}••••")
    await expect(row).to_contain_text("Prod")
    await expect(row).to_contain_text("read")
    assert key not in await page.content(), "the token's key is still in the page after Done"
    await hidden(page)

    home = j.tmp / "cli-home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "SIGILLO_TOKEN": key,
        "SIGILLO_API_URL": j.server.url,
        "SIGILLO_PROJECT": j.project_id,
        "SIGILLO_ENVIRONMENT": "prod",
    }
    command = [sys.executable, "-m", "sigillo", "secrets", "download", "--format", "json"]
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=home,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, f"sigillo secrets download failed: {err.decode()}"
    assert json.loads(out) == FINAL, "the CLI downloaded other values than the ones synced"


async def invite_a_member(j: Journey) -> None:
    """The Access tab makes an invite link; a colleague opens it in another browser,
    creates an account there and lands in the project as a member."""
    page = j.admin_page()
    await tab(page, "Access", "/access")
    await expect(page.get_by_label(f"Role of {ADMIN[0]}")).to_have_value("admin")
    await hidden(page)
    await page.get_by_role("link", name="Invite member").click()
    dialog = page.get_by_role("dialog", name="Invite member")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("all projects")
    await dialog.get_by_role("button", name="Generate invite link").click()
    link = page.get_by_role("dialog", name="Invite member").get_by_label("Invite link")
    await expect(link).to_have_value(re.compile(r"/invite/[A-Za-z0-9_-]+$"))
    j.invite_url = await link.input_value()
    assert j.invite_url.startswith(f"{j.server.url}/invite/"), j.invite_url
    await hidden(page)
    await page.get_by_role("dialog", name="Invite member").get_by_role("link", name="Done").click()
    await expect(page.get_by_role("dialog", name="Invite member")).to_be_hidden()

    j.member = member = await j.pages.open(j.server)
    await member.goto(j.invite_url)
    await expect(member.get_by_role("heading", name=f"Join {ORG}")).to_be_visible()
    await expect(member.get_by_text(f"{ADMIN[0]} invited you")).to_be_visible()
    await hidden(member)
    await member.get_by_label("Name").fill(MEMBER[0])
    await member.get_by_label("Email").fill(MEMBER[1])
    await member.get_by_label("Password").fill(PASSWORD)
    await member.get_by_role("button", name="Create account and join").click()
    await expect(member).to_have_url(re.compile(rf"{j.project_url}/envs/dev$"))
    await expect(member.get_by_role("heading", name=PROJECT, level=1)).to_be_visible()
    sidebar = member.get_by_role("navigation", name="Organizations and projects")
    await expect(sidebar).to_contain_text("member")
    await expect(member.get_by_role("button", name="Reveal value")).to_have_count(7)
    await hidden(member)
    # A member may read: one reveal, recorded under the member's name (see the event log).
    await value_cell(member, "DATABASE_URL").get_by_role("button", name="Reveal value").click()
    await expect(member.get_by_role("textbox", name="Value of DATABASE_URL")).to_have_value(
        DATABASE_URL
    )
    await hidden(member, DATABASE_URL)

    await page.reload()
    await expect(page.get_by_label(f"Role of {MEMBER[0]}")).to_have_value("member")
    await hidden(page)


async def member_cannot_delete_the_project(j: Journey) -> None:
    """Settings shows the member a disabled "Delete project" and no dialog to confirm
    in; a POST forced past it is refused (403) and the project is still there."""
    member = j.member_page()
    await tab(member, "Settings", "/settings")
    await hidden(member)
    await expect(member.get_by_role("button", name="Delete project")).to_be_disabled()
    await expect(member.get_by_text("Only admins can delete this project.")).to_be_visible()
    await expect(member.locator("form[action$='/delete-project']")).to_have_count(0)
    action = f"{j.project_url}/settings/delete-project"
    forced = await member.request.post(action, form={"csrf": await csrf_of(member)})
    assert forced.status == 403, f"a member's POST {action} answered {forced.status}"

    admin = j.admin_page()
    await tab(admin, "Settings", "/settings")
    await expect(admin.get_by_role("link", name="Delete project")).to_be_enabled()
    await admin.get_by_role("link", name="Delete project").click()
    confirm = admin.get_by_role("dialog", name=f"Delete {PROJECT}?")
    await expect(confirm).to_contain_text("The following 3 environments will be deleted:")
    await expect(confirm).to_contain_text(TOKEN_NAME)
    await hidden(admin)
    await confirm.get_by_role("link", name="Cancel").click()
    await expect(confirm).to_be_hidden()
    response = await admin.goto(j.env_url("prod"))
    assert response is not None
    assert response.status == 200, "the project is gone after the member's forced POST"
    await expect(admin.get_by_role("button", name="Reveal value")).to_have_count(7)
    await hidden(admin)


async def event_log_shows_it_all(j: Journey) -> None:
    """Dev's log: the sets and reveals, by the admin and by the member; Prod's: the sync
    by the admin and the CLI's download by the token, named."""
    page = j.admin_page()
    await tab(page, "Event Log", "/envs/prod/event-log")  # the environment last seen
    await hidden(page)
    await environment(page, "Dev", "/envs/dev/event-log")
    await expect(page.locator(".log-table")).to_be_visible()
    await hidden(page)
    rows = await table_rows(page, ".log-table tbody tr")
    for secret, action, who in [
        ("DATABASE_URL", "set", ADMIN[0]),  # Add Secret rows
        ("STRIPE_KEY", "reveal", ADMIN[0]),
        ("STRIPE_KEY", "set", ADMIN[0]),  # the edit
        ("PRIVATE_KEY", "set", ADMIN[0]),  # the import
        ("WEBHOOK_SECRET", "set", ADMIN[0]),  # saved to two environments
        ("DATABASE_URL", "reveal", MEMBER[0]),
    ]:
        assert logged(rows, secret, action, who), (
            f"Dev's event log has no {action} of {secret} by {who}: {rows}"
        )
    assert logged(rows[:1], "DATABASE_URL", "reveal", MEMBER[0]), f"not newest first: {rows}"
    hidden_cells = ("•••••••••••• Reveal value", "—")
    assert all(row[2] in hidden_cells for row in rows), f"a value cell is not hidden: {rows}"

    await page.get_by_role("combobox", name="User").select_option(label=MEMBER[0])
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator(".log-table tbody tr")).to_have_count(1)
    await expect(page.locator(".log-table tbody tr")).to_contain_text(MEMBER[0])
    await hidden(page)

    await environment(page, "Prod", "/envs/prod/event-log")
    await expect(page.locator(".log-table")).to_be_visible()
    await hidden(page)
    await page.get_by_role("searchbox", name="Secret").fill("STRIPE_KEY")
    await page.get_by_role("button", name="Filter").click()
    await expect(page).to_have_url(re.compile(r"secret=STRIPE_KEY"))
    await expect(page.locator(".log-table tbody tr")).to_have_count(2)
    rows = await table_rows(page, ".log-table tbody tr")
    assert logged(rows[:1], "STRIPE_KEY", "download", f"{TOKEN_NAME} token"), (
        f"the CLI's download, by the token, should be newest in Prod: {rows}"
    )
    assert logged(rows[1:], "STRIPE_KEY", "set", ADMIN[0]), f"the sync into Prod: {rows}"
    await hidden(page)

    # The value the sync wrote, on request: this one row, recorded like any reveal.
    set_row = page.locator(".log-table tbody tr.tone-set")
    await set_row.get_by_role("button", name="Reveal value of STRIPE_KEY").click()
    await expect(set_row.locator(".log-revealed code")).to_have_text(STRIPE_KEY_ROTATED)
    await hidden(page, STRIPE_KEY_ROTATED)
    await page.reload()
    await expect(page.locator(".log-table tbody tr")).to_have_count(3)
    rows = await table_rows(page, ".log-table tbody tr")
    assert logged(rows[:1], "STRIPE_KEY", "reveal", ADMIN[0]), f"the reveal's record: {rows}"
    await hidden(page)


async def approve_a_device_login(j: Journey) -> None:
    """A CLI asks for a device code; the admin opens its URL, sees who asks from where,
    approves; the CLI's next poll gets a session that works on the API."""
    page = j.admin_page()
    async with httpx.AsyncClient(base_url=j.server.url, timeout=10) as client:
        started = await client.post("/api/auth/device/code", json={"client_id": "sigillo-cli"})
        assert started.status_code == 200, started.text
        grant = started.json()
        user_code = grant["user_code"]  # as the CLI prints it: WDJB-7Q2K

        await page.goto(grant["verification_uri_complete"])
        await expect(page.get_by_role("heading", name="Device Login")).to_be_visible()
        await expect(page.get_by_label("Enter the code shown on your CLI or agent:")).to_have_value(
            user_code
        )
        await hidden(page)
        await page.get_by_role("button", name="Verify Code").click()
        await expect(page.get_by_role("heading", name="Approve this device?")).to_be_visible()
        facts = page.locator("dl.facts")
        await expect(facts).to_contain_text(user_code)
        await expect(facts).to_contain_text("sigillo-cli")
        await expect(facts).to_contain_text(DEVICE_ADDRESS)
        await expect(facts).to_contain_text(f"{ADMIN[0]} <{ADMIN[1]}>")
        await hidden(page)

        poll = {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": grant["device_code"],
            "client_id": "sigillo-cli",
        }
        await page.get_by_role("button", name="Approve").click()
        await expect(page.get_by_role("heading", name="Device Approved")).to_be_visible()
        await hidden(page)
        token = await client.post("/api/auth/device/token", json=poll)
        assert token.status_code == 200, token.text
        session = token.json()["access_token"]
        assert not session.startswith("sig_")
        me = await client.get("/api/v0/me", headers={"Authorization": f"Bearer {session}"})
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == ADMIN[1]


STEPS: list[tuple[str, Callable[[Journey], Awaitable[None]]]] = [
    ("first-run setup from the logged URL", first_run_setup),
    ("create an organization", create_org),
    ("create a project", create_project),
    ("add secrets with Add Secret rows", add_secrets),
    ("reveal one value", reveal_one),
    ("edit it", edit_it),
    ("import a .env", import_env),
    ("save to two environments", save_to_two_environments),
    ("see the missing keys in Prod and sync them", sync_missing_in_prod),
    ("create a token and use it from the CLI", create_token_and_use_it),
    ("invite a second user who signs up through the link", invite_a_member),
    ("the member cannot delete the project", member_cannot_delete_the_project),
    ("the event log shows all of it with actors", event_log_shows_it_all),
    ("approve a device login on /device", approve_a_device_login),
]


class StepFailed(AssertionError):
    """A step of the journey broke: which one, why (first line), and where each person's
    page was. The step's own error, with its full message, follows as the cause."""


def _failure(journey: Journey, number: int, title: str, error: Exception) -> StepFailed:
    first_line = (str(error).splitlines() or [""])[0]
    where = "".join(
        f"\n  {who}'s page was at {page.url}"
        for who, page in (("the admin", journey.admin), ("the member", journey.member))
        if page is not None and not page.is_closed()
    )
    return StepFailed(
        f"journey step {number}/{len(STEPS)} ({title}) failed: "
        f"{type(error).__name__}: {first_line}{where}"
    )


async def test_a_team_from_first_run_to_device_login(
    pages: Pages, fresh_server: LiveServer, setup_url: str, tmp_path: Path
) -> None:
    journey = Journey(fresh_server, setup_url, pages, tmp_path)
    for number, (title, step) in enumerate(STEPS, 1):
        try:
            await step(journey)
        except Exception as error:
            raise _failure(journey, number, title, error) from error
