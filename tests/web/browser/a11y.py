"""Keyboard and screen-reader checks shared by the accessibility tests (issue 21): where
focus is, whether the sticky Save bar covers it, what the page's one live region (#toast,
role=status) says, and a team of two with a project of secrets to try them on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect

from tests.web.browser.harness import Account, LiveServer

# Where focus is, and whether the sticky Save bar covers it: null when all is well.
COVERED = """() => {
  const active = document.activeElement;
  if (!active || active === document.body) return "focus is on <body>";
  const bar = document.querySelector("#secrets .secrets-bar");
  if (!bar || bar.contains(active) || active.closest("dialog")) return null;
  if (getComputedStyle(bar).position !== "sticky") return null;
  const a = active.getBoundingClientRect(), b = bar.getBoundingClientRect();
  const across = a.right > b.left + 0.5 && a.left < b.right - 0.5;
  if (across && a.bottom > b.top + 0.5 && a.top < b.bottom - 0.5) {
    return `${active.outerHTML.slice(0, 80)} at ${a.top}-${a.bottom} is under the bar at ` +
      `${b.top}-${b.bottom}`;
  }
  return null;
}"""

NARROW = {"width": 853, "height": 600}  # 1280x900 at 150 % zoom


@dataclass
class Team:
    admin: Account
    project_id: str
    org_id: str
    colleague: Account
    values: dict[str, str]

    def tab(self, rest: str) -> str:
        return f"/dash/projects/{self.project_id}{rest}"

    @contextmanager
    def api_members(self, server: LiveServer) -> Iterator[dict[str, str]]:
        """The org's roles by email, as the API has them."""
        with server.api(self.admin) as api:
            members = api.get(f"/api/v0/orgs/{self.org_id}/members").json()["members"]
        yield {member["email"]: member["role"] for member in members}


def make_team(server: LiveServer, rows: int = 30) -> Team:
    tag = uuid.uuid4().hex[:8]
    values = {f"KEY_{i:02d}": f"value-{i:02d}-{tag}" for i in range(rows)}
    values["API_KEY"] = f"sk_keyboard_{tag}"
    admin = server.new_account("keys", name=f"Kay Board {tag}")
    org_id, project_id = server.project_with(admin, f"Keyboard {tag}", values, name="Keys")
    with server.api(admin) as api:
        invitation = api.post(f"/api/v0/orgs/{org_id}/invitations", json={}).json()
    colleague = server.new_account("mate", name=f"Mo Mate {tag}")
    with server.api(colleague) as api:
        joined = api.post(f"/api/v0/invitations/{invitation['token']}/accept")
        assert joined.status_code == 200, joined.text
    return Team(admin, project_id, org_id, colleague, values)


async def focused(page: Page, locator: Locator) -> None:
    """Focus is on `locator` and nothing sticky covers it."""
    try:
        await expect(locator).to_be_focused()
    except AssertionError as error:
        active = await page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
        raise AssertionError(f"focus is on {active}") from error
    assert await page.evaluate(COVERED) is None, await page.evaluate(COVERED)


async def settled(page: Page) -> None:
    """htmx has finished: no request in flight, nothing swapping or settling (the status
    can arrive, by HX-Trigger, before the swap that follows it)."""
    await page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


async def said(page: Page, text: str | re.Pattern[str]) -> None:
    await expect(page.get_by_role("status")).to_have_text(text)
    await expect(page.locator("[role=status]")).to_have_count(1)  # the one live region


async def tab_to(page: Page, locator: Locator, limit: int = 200) -> int:
    """Tab until `locator` has focus; every stop on the way must be uncovered. The count."""
    for count in range(1, limit + 1):
        await page.keyboard.press("Tab")
        problem = await page.evaluate(COVERED)
        assert problem is None, f"Tab stop {count}: {problem}"
        if await locator.evaluate("element => element === document.activeElement"):
            return count
    raise AssertionError(f"{locator} never got focus in {limit} Tab presses")
