"""Issue 21 (WCAG 4.1.3, status messages): every page says what a change did through its
one live region (#toast, role=status), read through the accessibility tree, whether the
answer was an htmx fragment or a whole page (a plain form's); no page has a live region
of its own, which would arrive already filled and often not be announced. Where the
control that had focus is gone with the change, focus goes to the part that changed,
never to <body>.
"""

from __future__ import annotations

import re

import httpx
import pyotp
import pytest
from playwright.async_api import Dialog, Page, expect

from tests.web.browser.a11y import focused, make_team, said, settled
from tests.web.browser.harness import LiveServer, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


def accept_confirmations(page: Page) -> list[str]:
    """Say yes to every confirm(); the questions asked, in order."""
    questions: list[str] = []

    async def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    return questions


async def test_account_pages_say_what_happened(page: Page, live_server: LiveServer) -> None:
    me = live_server.new_account("status")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
        other = await client.post(
            "/api/auth/sign-in/email",
            json={"email": me.email, "password": me.password},
            headers={"User-Agent": "curl/8.5.0", "X-Forwarded-For": "198.51.100.77"},
        )
    assert other.status_code == 200, other.text
    await sign_in(page.context, live_server, me)

    # Sessions (htmx): the ended session's button is gone; focus goes to the heading.
    await page.goto("/account/sessions")
    ending = page.locator("table.session-table tbody tr").filter(has_text="198.51.100.77")
    await ending.get_by_role("button", name=re.compile("^End session")).focus()
    await page.keyboard.press("Enter")
    await said(page, "Session ended.")
    await settled(page)
    await focused(page, page.get_by_role("heading", name="Sessions", exact=True))

    # Security (plain forms: each answer is a whole page, read out once it is loaded).
    await page.goto("/account/security")
    await page.get_by_role("button", name="Set up two-factor authentication").press("Enter")
    key = (await page.get_by_label("Setup key").inner_text()).replace(" ", "")
    wrong = f"{(int(pyotp.TOTP(key).now()) + 500_000) % 1_000_000:06d}"
    await page.get_by_label("Code from the app").fill(wrong)
    await page.get_by_label("Code from the app").press("Enter")
    # Refused: the page comes back with focus on the field, which names its error.
    field = page.get_by_role("textbox", name=re.compile("^Code from the app"))
    await expect(field).to_be_focused()
    await expect(field).to_have_accessible_description(re.compile("code is not right"))
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    await page.get_by_label("Code from the app").press("Enter")
    await said(page, "Two-factor authentication is on.")


async def test_project_tabs_say_what_happened(page: Page, live_server: LiveServer) -> None:
    team = make_team(live_server, rows=1)
    with live_server.api(team.admin) as api:
        envs = api.get(f"/api/v0/projects/{team.project_id}/environments").json()
        dev = next(env["id"] for env in envs["environments"] if env["slug"] == "dev")
        changed = api.put(
            f"/api/v0/projects/{team.project_id}/environments/{dev}/secrets",
            json={"secrets": {"API_KEY": "sk_second_value"}},
        )
        assert changed.status_code == 200, changed.text
        made = api.post(
            f"/api/v0/projects/{team.project_id}/tokens",
            json={"name": "old ci"},
        )
        assert made.status_code in (200, 201), made.text
        invited = api.post(f"/api/v0/orgs/{team.org_id}/invitations", json={})
        assert invited.status_code in (200, 201), invited.text
    await sign_in(page.context, live_server, team.admin)
    questions = accept_confirmations(page)

    # Access: the requirements (refused, then saved), an invite link revoked, a member
    # removed; focus stays in the part that changed.
    await page.goto(team.tab("/access"))
    requirements = page.get_by_role("region", name="Sign-in requirements")
    await requirements.get_by_label("Require two-factor authentication").check()
    await requirements.get_by_role("button", name="Save requirements").press("Enter")
    await said(page, re.compile("two-factor", re.I))
    await settled(page)
    await requirements.get_by_label("Require two-factor authentication").uncheck()
    await requirements.get_by_role("button", name="Save requirements").press("Enter")
    await said(page, "Sign-in requirements saved.")

    invitations = page.get_by_role("region", name="Pending invitations")
    await invitations.get_by_role("button", name="Revoke").first.press("Enter")
    await said(page, "Invite link revoked.")
    await settled(page)
    await focused(page, page.get_by_role("heading", name="Pending invitations"))

    await page.get_by_role("button", name=f"Remove {team.colleague.name}").press("Enter")
    await said(page, re.compile(rf"^{re.escape(team.colleague.name)} removed from "))
    await settled(page)
    await focused(page, page.get_by_role("table", name=re.compile("^Members of ")))
    assert questions[-2:] == [
        "Revoke this invite link? Nobody will be able to join with it.",
        f"Remove {team.colleague.name} from this organization?",
    ]

    # Tokens: a revoke says which; focus goes to the table.
    await page.goto(team.tab("/tokens"))
    await page.get_by_role("button", name="Revoke token old ci").press("Enter")
    await said(page, 'Token "old ci" revoked.')
    await settled(page)
    await focused(page, page.get_by_role("table", name=re.compile("^API tokens of ")))

    # Event log: restoring a value (a plain form: the whole page answers).
    await page.goto(team.tab("/envs/dev/event-log"))
    await page.get_by_role("button", name="Restore this value of API_KEY").last.press("Enter")
    await said(page, re.compile(r"^Restored API_KEY to its value of event \w+\.$"))

    # Settings: a rename (a plain form, then the tab again).
    await page.goto(team.tab("/settings"))
    await page.get_by_label("Name", exact=True).fill("Renamed by status")
    await page.get_by_label("Name", exact=True).press("Enter")
    await said(page, "Project renamed.")
