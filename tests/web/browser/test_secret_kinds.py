"""Secret kinds [D18] in real Chromium, with the keyboard: a row's kind button marks a secret
plain and its value appears in the table (the focus stays on the button), two ticked rows
are marked plain at once; a kind answer keeps a value being edited or revealed; the Event
Log shows the changes and filters them by secret. The harness fails the test on any
Content-Security-Policy violation, script error or 5xx answer on the way.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from tests.web.browser.harness import LiveServer, assert_no_secret, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_kinds_with_the_keyboard(page: Page, live_server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    values = {
        "APP_URL": f"https://zq-kinds-{tag}.example.com",
        "LOG_LEVEL": "debug",
        "WORKERS": "4",
        "API_KEY": f"sk_kinds_browser_{tag}_Zr7Q",
    }
    admin = live_server.new_account("kinds")
    _, project_id = live_server.project_with(admin, f"Kinds {tag}", values, name="Kinds")
    await sign_in(page.context, live_server, admin)
    tab = f"/dash/projects/{project_id}/envs/dev"
    await page.goto(tab)
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(4)
    await assert_no_secret(page, [values["APP_URL"], values["API_KEY"]])

    # From the key to its kind button with Tab, then Space: APP_URL becomes plain.
    await page.get_by_role("textbox", name="Key").and_(page.locator('[name="k:APP_URL"]')).focus()
    await page.keyboard.press("Tab")
    kind = page.locator("#v-APP_URL").get_by_role("button", name="Plain")
    await expect(kind).to_be_focused()
    await expect(kind).to_have_attribute("aria-pressed", "false")
    await page.keyboard.press("Space")
    await expect(page.locator("#secrets-status")).to_have_text("Marked 1 secret as plain.")
    kind = page.locator("#v-APP_URL").get_by_role("button", name="Plain")
    await expect(kind).to_have_attribute("aria-pressed", "true")
    await expect(kind).to_be_focused()  # the focus stays where the keyboard left it
    await expect(page.get_by_role("textbox", name="Value of APP_URL")).to_have_value(
        values["APP_URL"]
    )
    await assert_no_secret(page, [values["API_KEY"]])

    # Two rows ticked with Space, then "Mark as plain" with Enter.
    marks = page.get_by_role("group", name="Selected secrets")
    await expect(marks).to_be_hidden()
    for name in ("LOG_LEVEL", "WORKERS"):
        await page.get_by_role("checkbox", name=f"Select {name}").focus()
        await page.keyboard.press("Space")
    await expect(marks).to_be_visible()
    await expect(marks).to_contain_text("2 selected")
    await marks.get_by_role("button", name="Mark as plain").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#secrets-status")).to_have_text("Marked 2 secrets as plain.")
    await expect(page.get_by_role("textbox", name="Value of LOG_LEVEL")).to_have_value("debug")
    await expect(page.get_by_role("textbox", name="Value of WORKERS")).to_have_value("4")
    await expect(page.get_by_role("button", name="Reveal value")).to_have_count(1)
    await assert_no_secret(page, [values["API_KEY"]])

    # A kind answer never takes away what is being edited, nor a value revealed on purpose:
    # only the kind button changes there.
    await page.get_by_role("textbox", name="Value of WORKERS").fill("8")
    await page.locator("#v-WORKERS").get_by_role("button", name="Plain").click()
    await expect(page.locator("#v-WORKERS").get_by_role("button", name="Plain")).to_have_attribute(
        "aria-pressed", "false"
    )
    await expect(page.get_by_role("textbox", name="Value of WORKERS")).to_have_value("8")
    await page.locator("#v-API_KEY").get_by_role("button", name="Reveal value").click()
    await expect(page.get_by_role("textbox", name="Value of API_KEY")).to_have_value(
        values["API_KEY"]
    )
    for name in ("LOG_LEVEL", "WORKERS"):
        await page.get_by_role("checkbox", name=f"Select {name}").uncheck()
    await expect(marks).to_be_hidden()
    await page.get_by_role("checkbox", name="Select API_KEY").check()
    await expect(marks).to_contain_text("1 selected")
    await marks.get_by_role("button", name="Mark as secret").click()
    await expect(page.locator("#secrets-status")).to_have_text("Nothing changed: already secret.")
    await expect(page.get_by_role("textbox", name="Value of API_KEY")).to_have_value(
        values["API_KEY"]
    )

    # A fresh page shows the same: plain values in the table, the secret masked.
    await page.reload()
    await expect(page.get_by_role("textbox", name="Value of APP_URL")).to_have_value(
        values["APP_URL"]
    )
    await expect(page.locator("#v-API_KEY").get_by_role("button", name="Plain")).to_have_attribute(
        "aria-pressed", "false"
    )
    await assert_no_secret(page, [values["API_KEY"]])

    # The Event Log, filtered by secret as the other secret events are.
    await (
        page.get_by_role("navigation", name="Project").get_by_role("link", name="Event Log").click()
    )
    rows = page.locator("tr.tone-kind")
    await expect(rows).to_have_count(4)
    await expect(rows.first).to_contain_text(re.compile(r"WORKERS\s*marked secret \(was plain\)"))
    await expect(page.locator("tr.tone-kind", has_text="APP_URL")).to_contain_text(
        "marked plain (was secret)"
    )
    await page.get_by_role("searchbox", name="Secret").fill("APP_URL")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"secret=APP_URL"))
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("APP_URL")
    await assert_no_secret(page, [values["API_KEY"], values["APP_URL"]])
