"""The Sessions page (issue 20) over HTTP: the list, ending one or the others, and the
password form, with and without htmx."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD, Web

PAGE = "/account/sessions"
NEW = "a brand new passphrase"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
HTMX = {"HX-Request": "true"}


async def alive(web: Web, token: str | None) -> bool:
    return await web.services.accounts.authenticate(token or "") is not None


@pytest.mark.asyncio
async def test_the_page_lists_sessions_and_marks_this_device(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    await web.services.accounts.start_session(me.user, ip_address="203.0.113.7", user_agent=FIREFOX)
    page = await me.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert '<h1 id="sessions-title" tabindex="-1" data-focus-after-swap>Sessions</h1>' in html
    assert "Firefox on Linux" in html
    assert "203.0.113.7" in html
    assert html.count("This device") == 1
    assert html.count(">End session</button>") == 2
    assert "End all other sessions" in html
    assert '<th scope="col">Last used</th>' in html
    assert 'role="status"' in html
    assert 'href="/account/sessions"' in html  # the user box links here
    for label in ("Current password", "New password", "Confirm new password"):
        assert f"<span>{label}</span>" in html
    assert me.token not in html


@pytest.mark.asyncio
async def test_anonymous_goes_to_sign_in_and_back(web: Web) -> None:
    page = await web.browser().get(PAGE)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?redirect=%2Faccount%2Fsessions"


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True])
async def test_ending_another_session(web: Web, htmx: bool) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    other, session = await web.services.accounts.start_session(me.user, user_agent=FIREFOX)
    headers = HTMX if htmx else {}
    done = await me.post(f"{PAGE}/{session.id}/end", headers=headers)
    assert done.status_code == 200
    assert "Session ended." in done.text
    assert ("<html" in done.text) is not htmx  # htmx gets the main block only
    assert "Firefox on Linux" not in done.text
    assert not await alive(web, other)
    assert await alive(web, me.token)


@pytest.mark.asyncio
async def test_another_users_session_is_a_404_and_lives_on(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    bob = await web.signed_in(name="Bob")
    session = await web.services.accounts.authenticate(bob.token or "")
    assert session is not None
    done = await me.post(f"{PAGE}/{session[0].id}/end")
    assert done.status_code == 404
    assert await alive(web, bob.token)


@pytest.mark.asyncio
async def test_ending_this_device_signs_out(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    session = await web.services.accounts.authenticate(me.token or "")
    assert session is not None
    done = await me.post(f"{PAGE}/{session[0].id}/end")
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert not await alive(web, me.token)


@pytest.mark.asyncio
async def test_end_all_others_keeps_this_one(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    others = [(await web.services.accounts.start_session(me.user))[0] for _ in range(2)]
    done = await me.post(f"{PAGE}/end-others", headers=HTMX)
    assert done.status_code == 200
    assert "Ended 2 other sessions." in done.text
    assert await alive(web, me.token)
    assert not any([await alive(web, token) for token in others])


@pytest.mark.asyncio
async def test_unsafe_requests_need_the_csrf_token(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    other, _ = await web.services.accounts.start_session(me.user)
    refused = await me.post(f"{PAGE}/end-others", csrf=False)
    assert refused.status_code == 403
    assert await alive(web, other)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"current_password": "wrong password!", "new_password": NEW}, "current_password",
         "The current password is not right"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password",
         "New password must be at least 12 characters"),
        ({"current_password": PASSWORD, "new_password": "x" * 1025}, "new_password",
         "New password must be at most 1024 characters"),
        ({"current_password": PASSWORD, "new_password": NEW, "confirm_password": "other"},
         "confirm_password", "The new passwords do not match"),
        ({"current_password": "", "new_password": NEW}, "current_password",
         "Current password is required"),
    ],
)  # fmt: skip
async def test_a_refused_password_change_says_why_and_changes_nothing(
    web: Web, form: dict[str, str], field: str, message: str
) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    other, _ = await web.services.accounts.start_session(me.user)
    form = {"confirm_password": form["new_password"], **form}
    done = await me.post("/account/password", form, headers=HTMX)
    assert done.status_code == 422
    assert f'id="error-{field}">{message}<' in done.text
    assert 'aria-invalid="true"' in done.text
    assert await alive(web, other)
    assert "x" * 100 not in done.text
    assert "wrong password!" not in done.text


@pytest.mark.asyncio
async def test_changing_the_password_ends_the_others_and_says_so(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    other, _ = await web.services.accounts.start_session(me.user)
    form = {"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}
    done = await me.post("/account/password", form)
    assert done.status_code == 200
    assert "Password changed. Ended 1 other session." in done.text
    assert NEW not in done.text
    assert PASSWORD not in done.text
    assert await alive(web, me.token)
    assert not await alive(web, other)
    with pytest.raises(Exception, match="unauthorized"):
        await web.services.accounts.sign_in(me.user.email, PASSWORD)
    await web.services.accounts.sign_in(me.user.email, NEW)


@pytest.mark.asyncio
async def test_a_device_flow_session_shows_the_cli_and_its_client(web: Web) -> None:
    me = await web.signed_in(name="Ada")
    assert me.user is not None
    codes = await web.services.device.request("sigillo-cli", "", ip_address="198.51.100.4")
    await web.services.device.approve(codes.user_code, me.user.id)
    await web.services.device.exchange(
        codes.device_code, "sigillo-cli", ip_address="198.51.100.4", user_agent="sigillo-cli/1"
    )
    html = (await me.get(PAGE)).text
    assert "sigillo CLI" in html
    assert "· sigillo-cli" in html
    assert "198.51.100.4" in html
