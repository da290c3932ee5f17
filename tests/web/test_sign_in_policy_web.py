"""The Access tab's sign-in requirements (issue 20), HTTP level on both databases: admins set
them, a policy an admin's own session would fail is refused beside the form, and a member
whose session falls short is refused in words on the org's pages."""

from __future__ import annotations

import re

import pytest

from sigillo.domain.projections.rows import OrgRow
from sigillo.services.sign_in_policy import TWO_FACTOR_REQUIRED
from sigillo.services.signed_in import SignedInWith
from tests.web.conftest import COOKIE, HOST, Browser, Web, join, org_with_project, text_of

pytestmark = pytest.mark.asyncio

HTMX = {"HX-Request": "true"}


def url(project_id: str, rest: str = "") -> str:
    return f"/dash/projects/{project_id}/access{rest}"


async def two_factor_browser(web: Web, who: Browser) -> Browser:
    """Another browser of the same user, whose session passed a second factor."""
    assert who.user is not None
    token, _ = await web.services.accounts.start_session(
        who.user, signed_in_with=SignedInWith(two_factor=True)
    )
    made = web.browser()
    made.client.cookies.set(COOKIE, token, domain=HOST, path="/")
    made.user, made.token = who.user, token
    return made


async def scene(web: Web) -> tuple[Browser, Browser, str, str]:
    admin = await web.signed_in(await web.account("Ada Admin", "ada@example.com"))
    member = await web.signed_in(await web.account("Mo Member", "mo@example.com"))
    org_id, project_id = await org_with_project(web, admin)
    await join(web, org_id, admin, member)
    return admin, member, org_id, project_id


async def policy(web: Web, org_id: str) -> tuple[bool, bool]:
    org = await web.services.store.get(OrgRow, (org_id,))
    assert org is not None
    return bool(org.require_sso), bool(org.require_two_factor)


async def test_admins_see_the_requirements_and_members_do_not(web: Web) -> None:
    admin, member, _, project_id = await scene(web)
    html = (await admin.get(url(project_id))).text
    assert "Sign-in requirements" in html
    assert '<label for="require-two-factor">Require two-factor authentication</label>' in html
    assert "no single sign-on provider configured" in html
    assert re.search(r'id="require-sso"[^>]*\bdisabled\b', html)  # no provider to require
    assert not re.search(r'id="require-two-factor"[^>]*\bdisabled\b', html)
    assert "Sign-in requirements" not in (await member.get(url(project_id))).text


async def test_an_admin_without_a_second_factor_is_told_why_not(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    for headers in (HTMX, {}):
        refused = await admin.post(
            url(project_id, "/sign-in-policy"), {"require_two_factor": "on"}, headers=headers
        )
        assert refused.status_code == 422
        assert "turn on two-factor authentication yourself" in text_of(refused.text)
    assert await policy(web, org_id) == (False, False)


async def test_requiring_two_factor_shuts_out_password_sessions_in_words(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    strong = await two_factor_browser(web, admin)
    saved = await strong.post(
        url(project_id, "/sign-in-policy"), {"require_two_factor": "on"}, headers=HTMX
    )
    assert saved.status_code == 200
    assert "Sign-in requirements saved." in saved.text
    assert 'name="require_two_factor" checked' in saved.text
    assert await policy(web, org_id) == (False, True)
    for who in (member, admin):  # the admin's own password session too
        page = await who.get(f"/dash/projects/{project_id}")
        assert page.status_code == 403
        assert TWO_FACTOR_REQUIRED in text_of(page.text)
    assert (await strong.get(url(project_id))).status_code == 200
    # and back: a plain form post answers with the tab
    cleared = await strong.post(url(project_id, "/sign-in-policy"), {})
    assert cleared.status_code == 303
    assert await policy(web, org_id) == (False, False)
    assert (await member.get(url(project_id))).status_code == 200


async def test_single_sign_on_needs_a_provider(web: Web) -> None:
    admin, _, org_id, project_id = await scene(web)
    strong = await two_factor_browser(web, admin)
    refused = await strong.post(
        url(project_id, "/sign-in-policy"), {"require_sso": "on"}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "offers no single sign-on provider" in text_of(refused.text)
    assert await policy(web, org_id) == (False, False)


async def test_members_and_forged_posts_change_nothing(web: Web) -> None:
    admin, member, org_id, project_id = await scene(web)
    strong_member = await two_factor_browser(web, member)
    refused = await strong_member.post(
        url(project_id, "/sign-in-policy"), {"require_two_factor": "on"}
    )
    assert refused.status_code == 403
    strong = await two_factor_browser(web, admin)
    forged = await strong.post(
        url(project_id, "/sign-in-policy"), {"require_two_factor": "on"}, csrf=False
    )
    assert forged.status_code == 403
    assert await policy(web, org_id) == (False, False)
