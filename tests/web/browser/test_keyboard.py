"""Issue 21 (WCAG 2.2 AA): the dashboard with the keyboard alone, in real Chromium. Every
step is a key press (the first focus of a journey is put on a control as a person would
Tab to it); after each one the test asserts where focus is (`document.activeElement`, never
`<body>` after a fragment swap), that the focused element is not under the sticky Save bar
(at 1280x900 and at a window as narrow as 150 % zoom, where the bar wraps), and what the
page's one live region (#toast, role=status) says.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Dialog, Page, expect

from tests.web.browser.a11y import NARROW, focused, make_team, said, settled, tab_to
from tests.web.browser.harness import LiveServer, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, NARROW])
async def test_no_tab_stop_is_under_the_save_bar(
    page: Page, live_server: LiveServer, viewport: dict[str, int]
) -> None:
    team = make_team(live_server)
    await page.set_viewport_size(viewport)
    await sign_in(page.context, live_server, team.admin)
    await page.goto(team.tab("/envs/dev"))
    footer_select = page.locator("select[data-theme-select]")
    stops = await tab_to(page, footer_select, limit=400)
    assert stops > 60  # every row's key, kind and reveal on the way


async def test_secrets_with_the_keyboard(page: Page, live_server: LiveServer) -> None:
    team = make_team(live_server)
    await page.set_viewport_size(NARROW)
    await sign_in(page.context, live_server, team.admin)
    await page.goto(team.tab("/envs/dev"))
    rows = page.locator("#secrets-rows")

    # The CLI banner's long commands scroll by keyboard: each takes focus.
    banner = page.locator("#cli-banner")
    await page.locator(".skip-link").focus()
    await tab_to(page, banner.get_by_role("region").first)

    # Reveal: focus goes to "Hide value" of the revealed row, and the page says so.
    reveal = page.locator("#v-API_KEY button[form=s-rv]")
    await reveal.focus()
    await page.keyboard.press("Enter")
    await focused(page, page.locator("#v-API_KEY a[data-hide]"))
    await said(page, "Value of API_KEY shown")
    await expect(page.locator('textarea[name="v:API_KEY"]')).to_have_value(team.values["API_KEY"])

    # Hide: focus goes back to the Reveal button.
    await page.keyboard.press("Enter")
    await focused(page, reveal)
    await said(page, "Value of API_KEY hidden")

    # Edit and save: reveal, Shift+Tab into the value, type, Enter in the key input opens
    # the Save dialog, Tab to its button, Enter.
    await page.keyboard.press("Enter")
    await focused(page, page.locator("#v-API_KEY a[data-hide]"))
    await page.keyboard.press("Shift+Tab")
    value = page.locator('textarea[name="v:API_KEY"]')
    await focused(page, value)
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("sk_changed_by_keyboard")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Shift+Tab")
    await focused(page, page.locator('input[name="k:API_KEY"]'))
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Save changes")
    await expect(dialog).to_be_visible()
    await tab_to(page, dialog.get_by_role("button", name=re.compile(r"^Save to")))
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await said(page, "Saved 1 secret to 1 environment.")
    await focused(page, page.locator('input[name="k:API_KEY"]'))

    # Show all: focus stays on the button, the page says so.
    show_all = page.get_by_role("button", name="Show all")
    await tab_to(page, show_all)
    await page.keyboard.press("Enter")
    await said(page, "All values shown")
    await focused(page, show_all)
    await expect(page.locator('textarea[name="v:KEY_00"]')).to_have_value(team.values["KEY_00"])

    # Add a secret: Space on the "Add Secret" link (a link styled as a button).
    add = page.get_by_role("link", name="Add Secret")
    await add.focus()
    await page.keyboard.press(" ")
    new_key = rows.locator('input[name^="nk"]')
    await focused(page, new_key)
    await page.keyboard.type("ADDED_BY_KEYS")
    await tab_to(page, rows.locator('textarea[name^="nv"]'))
    await page.keyboard.type("typed value")
    await new_key.focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await tab_to(page, dialog.get_by_role("button", name=re.compile(r"^Save to")))
    await page.keyboard.press("Enter")
    await said(page, "Saved 1 secret to 1 environment.")
    await focused(page, page.locator('input[name="k:ADDED_BY_KEYS"]'))

    # Delete one: its trash button opens the dialog; after, focus is in the table.
    await page.locator('#secrets-rows button[form="s-del"][value="KEY_05"]').focus()
    await page.keyboard.press("Enter")
    delete = page.locator("#delete-dialog")
    await expect(delete).to_be_visible()
    await tab_to(page, delete.get_by_role("button", name=re.compile(r"^Delete from")))
    await page.keyboard.press("Enter")
    await expect(delete).to_be_hidden()
    await said(page, 'Deleted "KEY_05" from 1 environment.')
    await expect(page.locator('input[name="k:KEY_05"]')).to_have_count(0)
    await focused(page, rows.locator('input[name^="k:"]').first)

    # Dismiss the CLI banner: focus goes to what came after it.
    await banner.get_by_role("button", name=re.compile("Dismiss")).focus()
    await page.keyboard.press("Enter")
    await expect(banner).to_have_count(0)
    await focused(page, page.locator("#secrets :focus"))

    # Switch environment and tab with Enter on the links.
    await page.locator('nav.env-picker a[href$="/envs/prod"]').focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/envs/prod$"))
    await (
        page.get_by_role("navigation", name="Project")
        .get_by_role("link", name="Environments")
        .focus()
    )
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/environments$"))


async def test_other_tabs_with_the_keyboard(page: Page, live_server: LiveServer) -> None:
    team = make_team(live_server, rows=1)
    await sign_in(page.context, live_server, team.admin)

    # Environments: a rename says so; Escape in a rename puts the name back and keeps focus.
    await page.goto(team.tab("/environments"))
    name = page.locator("input[data-inline-edit][name=name]").first
    before = await name.input_value()
    await name.focus()
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("Renamed by keys")
    await page.keyboard.press("Enter")
    await said(page, "Environment renamed to Renamed by keys")
    await settled(page)
    renamed = page.locator("input[data-inline-edit][name=name]").first
    await expect(renamed).to_have_value("Renamed by keys")
    await focused(page, renamed)
    await page.keyboard.type(" and more")
    await page.keyboard.press("Escape")
    await focused(page, renamed)
    await expect(renamed).to_have_value("Renamed by keys")
    assert before != "Renamed by keys"

    # The org switcher closes on Escape and focus goes back to its toggle.
    switcher = page.locator("details.org-switcher")
    toggle = switcher.locator("summary")
    await toggle.focus()
    await page.keyboard.press("Enter")
    await expect(switcher).to_have_attribute("open", "")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Escape")
    await expect(switcher).not_to_have_attribute("open", "")
    await focused(page, toggle)

    # Tokens: "Create token" (a link styled as a button) opens the dialog with Space.
    await page.goto(team.tab("/tokens"))
    await page.get_by_role("link", name="Create token").focus()
    await page.keyboard.press(" ")
    dialog = page.get_by_role("dialog", name="Create API token")
    await expect(dialog).to_be_visible()
    await focused(page, dialog.locator("#token-name"))
    await page.keyboard.type("keyboard token")
    await page.keyboard.press("Enter")
    created = page.get_by_role("dialog", name=re.compile("Token created|created", re.I))
    await expect(created).to_be_visible()
    await expect(created.get_by_role("button", name="Copy")).to_be_focused()

    # Access: arrow keys on the role select change nothing; "Change role" does, after a
    # confirmation when it makes an admin.
    await page.goto(team.tab("/access"))
    select = page.get_by_label(f"Role of {team.colleague.name}")
    await expect(select).to_have_value("member")
    await select.focus()
    await page.keyboard.press("ArrowUp")
    await expect(select).to_have_value("admin")
    await page.wait_for_timeout(300)
    with team.api_members(live_server) as roles:
        assert roles[team.colleague.email] == "member", "the arrow key changed the role"
    questions: list[str] = []

    async def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    change = page.get_by_role("button", name=f"Change role for {team.colleague.name}")
    await page.keyboard.press("Tab")
    await focused(page, change)
    await page.keyboard.press("Enter")
    await said(page, f"{team.colleague.name} is now an admin.")
    await expect(page.get_by_label(f"Role of {team.colleague.name}")).to_have_value("admin")
    assert questions == [
        f"Make {team.colleague.name} an admin? Admins manage members, roles and the organization."
    ]
    await settled(page)
    await focused(page, change)  # the same button, in the members table swapped in
    with team.api_members(live_server) as roles:
        assert roles[team.colleague.email] == "admin"
