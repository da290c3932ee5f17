"""Sign-up (open, or by invitation) and first-run setup over REST ([D17], behaviour.md 5.1),
on SQLite and PostgreSQL. Sign-up and setup share a budget of 5 requests a minute per
client, so each test here makes at most five of them."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from sigillo.server import create_app, open_services
from sigillo.settings import Settings
from tests.api.conftest import PASSWORD, Api
from tests.api.org_helpers import INVITATION_GONE, ok, org, send

SIGN_UP = "/api/auth/sign-up/email"
SETUP = "/api/auth/setup"
SIGN_IN = "/api/auth/sign-in/email"
CLOSED = {"error": "sign-up is by invitation only"}
TAKEN = {"error": "an account with this email already exists"}
SETUP_DONE = {"error": "setup is already complete: an account exists"}
SETUP_REFUSED = {"error": "invalid setup token"}


@pytest_asyncio.fixture
async def open_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """Like `api`, on a server started with SIGILLO_ALLOW_SIGNUP=1."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
        allowed_hosts=("testserver",),
        allow_signup=True,
    )
    services = await open_services(settings)
    transport = httpx.ASGITransport(app=create_app(settings, services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, services)
    finally:
        await services.close()


def body(email: Any = "new@example.com", **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "name": "New Person", **extra}


async def signs_in(api: Api, email: str) -> bool:
    response = await api.client.post(SIGN_IN, json={"email": email, "password": PASSWORD})
    return response.status_code == 200


def assert_signed_in(response: httpx.Response, email: str, name: str) -> dict[str, str]:
    """The answer is sign-in's: token, user, CSRF token and the session cookie."""
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    assert {"token", "user"} <= set(answer)
    assert set(answer["user"]) == {"id", "name", "email"}
    assert (answer["user"]["email"], answer["user"]["name"]) == (email, name)
    assert not answer["token"].startswith("sig_")
    [cookie] = response.headers.get_list("set-cookie")
    assert f"sigillo_session={answer['token']};" in cookie
    assert "httponly" in cookie.lower()
    return {"Authorization": f"Bearer {answer['token']}"}


# -- sign-up ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_closed_sign_up_is_403_without_a_live_invitation(api: Api) -> None:
    made = await org(api)
    link = await ok(api, "POST", made.invitations, made.admin, {})
    await ok(api, "DELETE", f"{made.invitations}/{link['id']}", made.admin)  # revoked
    for extra in ({}, {"invitation": "not-a-real-token"}, {"invitation": link["token"]}):
        response = await send(api, "POST", SIGN_UP, {}, body(**extra))
        assert (response.status_code, response.json()) == (403, CLOSED), extra
        assert "set-cookie" not in response.headers
    assert not await signs_in(api, "new@example.com")  # no account was made


@pytest.mark.asyncio
async def test_an_invitation_opens_sign_up_and_joins_its_org(api: Api) -> None:
    made = await org(api)
    link = await ok(api, "POST", made.invitations, made.admin, {})
    response = await send(api, "POST", SIGN_UP, {}, body(invitation=link["token"]))
    headers = assert_signed_in(response, "new@example.com", "New Person")
    assert (await ok(api, "GET", "/orgs", headers))["orgs"][0]["id"] == made.id
    me = await ok(api, "GET", "/me", headers)
    assert me["orgs"] == [{"id": made.id, "name": "Acme Corp", "role": "member"}]
    assert me["user"]["id"] == response.json()["user"]["id"]
    assert (await ok(api, "GET", f"/projects/{made.project}", headers))["id"] == made.project
    assert await signs_in(api, "new@example.com")  # the password works from now on
    # the link stays multi-use, but an email has one account
    again = await send(api, "POST", SIGN_UP, {}, body(invitation=link["token"]))
    assert (again.status_code, again.json()) == (409, TAKEN)


@pytest.mark.asyncio
async def test_open_sign_up_needs_no_invitation(open_api: Api) -> None:
    response = await send(open_api, "POST", SIGN_UP, {}, body(email="Someone@Example.com"))
    headers = assert_signed_in(response, "someone@example.com", "New Person")
    assert (await ok(open_api, "GET", "/orgs", headers))["orgs"] == []
    taken = await send(open_api, "POST", SIGN_UP, {}, body(email="someone@example.com"))
    assert (taken.status_code, taken.json()) == (409, TAKEN)
    # an invitation that is not live is refused (the caller asked to join an org)
    refused = await send(open_api, "POST", SIGN_UP, {}, body("b@example.com", invitation="nope"))
    assert (refused.status_code, refused.json()) == (404, INVITATION_GONE)
    assert not await signs_in(open_api, "b@example.com")


@pytest.mark.asyncio
async def test_open_sign_up_with_an_invitation_joins_its_org(open_api: Api) -> None:
    made = await org(open_api)
    link = await ok(open_api, "POST", made.invitations, made.admin, {})
    response = await send(open_api, "POST", SIGN_UP, {}, body(invitation=link["token"]))
    headers = assert_signed_in(response, "new@example.com", "New Person")
    [joined] = (await ok(open_api, "GET", "/orgs", headers))["orgs"]
    assert (joined["id"], joined["role"]) == (made.id, "member")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (b'{"email": "new@example.com"', "body"),
        (b"[]", None),
        ({"password": PASSWORD, "name": "N"}, None),  # no email
        ({"email": "new@example.com", "name": "N"}, None),  # no password
        ({"email": "new@example.com", "password": PASSWORD}, None),  # no name
        (body(email=5), None),
        (body(invitation=5), None),
        (body(admin=True), None),
        (body(email="not-an-email"), "email"),
        (body(password="short"), "password"),
        (body(name="   "), "name"),
    ],
)
async def test_malformed_sign_up_is_422(open_api: Api, bad: Any, field: str | None) -> None:
    response = await send(open_api, "POST", SIGN_UP, {}, bad)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "validation failed"
    assert answer["detail"]
    assert all(set(item) == {"field", "message"} for item in answer["detail"])
    if field is not None:
        assert [item["field"] for item in answer["detail"]] == [field]
    assert PASSWORD not in response.text
    assert "short" not in response.text
    assert not await signs_in(open_api, "new@example.com")


# -- first-run setup -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_setup_makes_the_first_account_once(api: Api) -> None:
    token = await api.services.accounts.issue_setup_token()
    assert token is not None
    assert len(token) >= 22  # at least 128 bits
    # one character off: the first, which carries six bits of the token (the last of a
    # base64 text may carry padding bits only); when the token ended with "A", the old
    # test sent the right token as the wrong one and failed once in 64 runs
    other = ("B" if token[0] == "A" else "A") + token[1:]
    wrong = await send(api, "POST", SETUP, {}, {**body(), "token": other})
    assert (wrong.status_code, wrong.json()) == (403, SETUP_REFUSED)

    response = await send(api, "POST", SETUP, {}, {**body("root@example.com"), "token": token})
    headers = assert_signed_in(response, "root@example.com", "New Person")
    assert (await ok(api, "GET", "/me", headers))["user"]["email"] == "root@example.com"
    assert await api.services.accounts.issue_setup_token() is None  # no more tokens

    for attempt in (token, "anything"):
        again = await send(api, "POST", SETUP, {}, {**body("two@example.com"), "token": attempt})
        assert (again.status_code, again.json()) == (409, SETUP_DONE)
    assert not await signs_in(api, "two@example.com")


@pytest.mark.asyncio
async def test_setup_is_refused_once_any_account_exists(api: Api) -> None:
    token = await api.services.accounts.issue_setup_token()
    assert token is not None
    await api.user("Someone")  # e.g. made by `sigillo admin create-user`
    response = await send(api, "POST", SETUP, {}, {**body(), "token": token})
    assert (response.status_code, response.json()) == (409, SETUP_DONE)
    assert not await signs_in(api, "new@example.com")


@pytest.mark.asyncio
async def test_bad_values_do_not_use_up_the_setup_token(api: Api) -> None:
    token = await api.services.accounts.issue_setup_token()
    assert token is not None
    for bad in ({"password": "short"}, {"email": "nope"}, {"extra": 1}):
        response = await send(api, "POST", SETUP, {}, {**body(), "token": token, **bad})
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation failed"
        assert token not in response.text
    response = await send(api, "POST", SETUP, {}, {**body(), "token": token})
    assert_signed_in(response, "new@example.com", "New Person")


@pytest.mark.asyncio
async def test_every_token_a_start_logged_works_until_setup(api: Api) -> None:
    """Each server start (or replica) issues its own token; any of them makes the first
    account, and that voids the others."""
    first = await api.services.accounts.issue_setup_token()
    second = await api.services.accounts.issue_setup_token()
    assert first is not None
    assert second is not None
    assert first != second
    response = await send(api, "POST", SETUP, {}, {**body(), "token": second})
    assert_signed_in(response, "new@example.com", "New Person")
    again = await send(api, "POST", SETUP, {}, {**body("b@example.com"), "token": first})
    assert (again.status_code, again.json()) == (409, SETUP_DONE)


@pytest.mark.asyncio
async def test_racing_setups_make_one_account(api: Api) -> None:
    token = await api.services.accounts.issue_setup_token()
    assert token is not None
    responses = await asyncio.gather(
        *(
            send(api, "POST", SETUP, {}, {**body(f"r{i}@example.com"), "token": token})
            for i in range(4)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 200
    assert statuses.count(200) == 1, [r.text for r in responses]
    for response in responses:
        if response.status_code != 200:
            assert (response.status_code, response.json()) in (
                (409, SETUP_DONE),
                (403, SETUP_REFUSED),
            )
    made = [i for i in range(4) if await signs_in(api, f"r{i}@example.com")]
    assert len(made) == 1


@pytest.mark.asyncio
async def test_an_api_token_or_session_does_not_help_sign_up(api: Api) -> None:
    made = await org(api)
    _, key = await api.services.access.create_token(made.project, made.admin_actor, name="ci")
    for headers in ({"Authorization": f"Bearer {key}"}, made.admin):
        response = await send(api, "POST", SIGN_UP, headers, body())
        assert (response.status_code, response.json()) == (403, CLOSED)
    no_token = await send(api, "POST", SETUP, made.admin, {**body(), "token": "x"})
    assert (no_token.status_code, no_token.json()) == (409, SETUP_DONE)
