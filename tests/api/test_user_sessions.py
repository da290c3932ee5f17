"""A user's own sessions and password change (issue 20), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PASSWORD, Api
from tests.api.helpers import bearer, create_token, project

SESSIONS = "/api/v0/sessions"
END_OTHERS = "/api/v0/sessions/end-others"
PASSWORD_URL = "/api/v0/me/password"
NEW_PASSWORD = "a brand new passphrase"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


async def sign_in(api: Api, email: str, password: str = PASSWORD, agent: str = "") -> Any:
    headers = {"User-Agent": agent} if agent else {}
    return await api.call(
        "POST",
        "/api/auth/sign-in/email",
        json={"email": email, "password": password},
        headers=headers,
    )


async def second(api: Api, email: str, agent: str = FIREFOX) -> dict[str, str]:
    response = await sign_in(api, email, agent=agent)
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


async def listed(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.call("GET", SESSIONS, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    sessions: list[dict[str, Any]] = response.json()["sessions"]
    return sessions


async def alive(api: Api, headers: dict[str, str]) -> bool:
    response = await api.call("GET", "/api/v0/me", headers=headers)
    assert response.status_code in (200, 401)
    return bool(response.status_code == 200)


@pytest.mark.asyncio
async def test_the_list_flags_the_current_session_and_shows_a_second_sign_in(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    [only] = await listed(api, ada)
    assert only["current"] is True
    assert set(only) == {
        "id", "createdAt", "lastSeenAt", "expiresAt", "ipAddress", "userAgent", "device",
        "clientName", "current",
    }  # fmt: skip
    assert only["clientName"] == ""
    other = await second(api, "ada@example.com")
    sessions = await listed(api, ada)
    assert len(sessions) == 2
    [mine] = [s for s in sessions if s["current"]]
    [theirs] = [s for s in sessions if not s["current"]]
    assert mine["id"] == only["id"]
    assert theirs["device"] == "Firefox on Linux"
    assert theirs["userAgent"] == FIREFOX
    assert theirs["ipAddress"] == "127.0.0.1"
    # No token anywhere in the answer.
    for headers in (ada, other):
        token = headers["Authorization"].removeprefix("Bearer ")
        assert token not in (await api.call("GET", SESSIONS, headers=ada)).text
    # Another user sees only their own.
    bob = await api.user("Bob", "bob@example.com")
    assert [s["current"] for s in await listed(api, bob)] == [True]


@pytest.mark.asyncio
async def test_ending_a_session_makes_its_token_401(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    other = await second(api, "ada@example.com")
    [theirs] = [s for s in await listed(api, ada) if not s["current"]]
    response = await api.call("DELETE", f"{SESSIONS}/{theirs['id']}", headers=ada)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "id": theirs["id"], "signedOut": False}
    assert not await alive(api, other)
    assert await alive(api, ada)
    again = await api.call("DELETE", f"{SESSIONS}/{theirs['id']}", headers=ada)
    assert again.status_code == 404


@pytest.mark.asyncio
async def test_ending_the_current_session_signs_out(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    [mine] = await listed(api, ada)
    response = await api.call("DELETE", f"{SESSIONS}/{mine['id']}", headers=ada)
    assert response.status_code == 200
    assert response.json()["signedOut"] is True
    assert not await alive(api, ada)


@pytest.mark.asyncio
async def test_another_users_session_is_404_and_lives_on(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    bob = await api.user("Bob", "bob@example.com")
    [bobs] = await listed(api, bob)
    for session_id in (bobs["id"], "no-such-session"):
        response = await api.call("DELETE", f"{SESSIONS}/{session_id}", headers=ada)
        assert response.status_code == 404
    assert await alive(api, bob)


@pytest.mark.asyncio
async def test_end_others_keeps_the_current_one(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    others = [await second(api, "ada@example.com") for _ in range(2)]
    bob = await api.user("Bob", "bob@example.com")
    response = await api.call("POST", END_OTHERS, headers=ada)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "ended": 2}
    assert await alive(api, ada)
    assert await alive(api, bob)
    assert not any([await alive(api, o) for o in others])
    assert [s["current"] for s in await listed(api, ada)] == [True]


@pytest.mark.asyncio
async def test_a_wrong_current_password_is_refused_and_nothing_ends(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    other = await second(api, "ada@example.com")
    body = {"currentPassword": "not the password", "newPassword": NEW_PASSWORD}
    response = await api.call("POST", PASSWORD_URL, headers=ada, json=body)
    assert response.status_code == 403
    assert "not the password" not in response.text
    assert await alive(api, other)
    assert (await sign_in(api, "ada@example.com")).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        {"currentPassword": PASSWORD, "newPassword": "short"},
        {"currentPassword": PASSWORD, "newPassword": "x" * 1025},
        {"currentPassword": "x" * 1025, "newPassword": NEW_PASSWORD},
        {"currentPassword": PASSWORD},
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "extra": 1},
        {"currentPassword": PASSWORD, "newPassword": 5},
    ],
)
async def test_bad_password_bodies_are_422_and_change_nothing(
    api: Api, body: dict[str, Any]
) -> None:
    ada = await api.user("Ada", "ada@example.com")
    other = await second(api, "ada@example.com")
    response = await api.call("POST", PASSWORD_URL, headers=ada, json=body)
    assert response.status_code == 422, response.text
    assert "x" * 100 not in response.text
    assert await alive(api, other)
    assert (await sign_in(api, "ada@example.com")).status_code == 200


@pytest.mark.asyncio
async def test_an_oversized_body_is_refused(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    body = {"currentPassword": PASSWORD, "newPassword": "x" * 5_000_000}
    response = await api.client.post(PASSWORD_URL, headers=ada, json=body)
    assert response.status_code in (413, 422)


@pytest.mark.asyncio
async def test_changing_the_password_ends_the_others_and_the_old_one_is_gone(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    other = await second(api, "ada@example.com")
    body = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    response = await api.call("POST", PASSWORD_URL, headers=ada, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "sessionsEnded": 1}
    assert PASSWORD not in response.text
    assert NEW_PASSWORD not in response.text
    assert await alive(api, ada)
    assert not await alive(api, other)
    assert (await sign_in(api, "ada@example.com")).status_code == 401
    assert (await sign_in(api, "ada@example.com", NEW_PASSWORD)).status_code == 200


@pytest.mark.asyncio
async def test_api_tokens_have_no_sessions(api: Api) -> None:
    made = await project(api)
    key = bearer((await create_token(api, made))["key"])
    for method, url, body in (
        ("GET", SESSIONS, None),
        ("DELETE", f"{SESSIONS}/x", None),
        ("POST", END_OTHERS, None),
        ("POST", PASSWORD_URL, {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
    ):
        response = await api.call(method, url, headers=key, json=body)
        assert response.status_code == 403, (method, url)
        assert "API tokens have no sessions" in response.json()["error"]
    anonymous = await api.call("GET", SESSIONS)
    assert anonymous.status_code == 401


@pytest.mark.asyncio
async def test_a_device_flow_session_shows_its_client_name(api: Api) -> None:
    ada = await api.user("Ada", "ada@example.com")
    codes = await api.call("POST", "/api/auth/device/code", json={"client_id": "sigillo-cli"})
    codes = codes.json()
    approved = await api.call(
        "POST", "/api/auth/device/approve", headers=ada, json={"userCode": codes["user_code"]}
    )
    assert approved.status_code == 200
    token = await api.call(
        "POST",
        "/api/auth/device/token",
        json={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": codes["device_code"],
            "client_id": "sigillo-cli",
        },
        headers={"User-Agent": "sigillo-cli/1.0"},
    )
    assert token.status_code == 200, token.text
    cli = bearer(token.json()["access_token"])
    [device] = [s for s in await listed(api, ada) if not s["current"]]
    assert device["clientName"] == "sigillo-cli"
    assert device["device"] == "sigillo CLI"
    assert [s["current"] for s in await listed(api, cli) if s["id"] == device["id"]] == [True]


def test_the_password_caps_are_the_policys() -> None:
    from sigillo.api.user_sessions import MAX_PASSWORD
    from sigillo.crypto.passwords import MAX_PASSWORD_LENGTH
    from sigillo.web.account import MAX_PASSWORD as WEB_MAX

    assert MAX_PASSWORD == WEB_MAX == MAX_PASSWORD_LENGTH
