"""POST /api/auth/sign-in/email and /api/auth/sign-out."""

from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORD, Api

SIGN_IN = "/api/auth/sign-in/email"


@pytest.mark.asyncio
async def test_sign_in_answers_a_session_token_and_the_user(api: Api) -> None:
    await api.services.accounts.register("ada@example.com", "Ada", PASSWORD)
    response = await api.call(
        "POST", SIGN_IN, json={"email": "ADA@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["name"] == "Ada"
    assert len(body["token"]) == 32
    assert not body["token"].startswith("sig_")
    assert await api.services.accounts.authenticate(body["token"]) is not None


@pytest.mark.asyncio
async def test_a_wrong_password_and_an_unknown_email_are_the_same_401(api: Api) -> None:
    await api.services.accounts.register("ada@example.com", "Ada", PASSWORD)
    for body in [
        {"email": "ada@example.com", "password": "not the password"},
        {"email": "nobody@example.com", "password": PASSWORD},
    ]:
        response = await api.call("POST", SIGN_IN, json=body)
        assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "content",
    [
        b'{"email": "a@example.com"',
        b"[]",
        b'{"email": "a@example.com"}',
        b'{"email": 5, "password": "x"}',
        b'{"email": "a@example.com", "password": "x", "admin": true}',
    ],
)
async def test_malformed_bodies_are_422_with_detail(api: Api, content: bytes) -> None:
    response = await api.call(
        "POST", SIGN_IN, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation failed"
    assert isinstance(response.json()["detail"], list)


@pytest.mark.asyncio
async def test_an_oversized_body_is_refused_without_a_500(api: Api) -> None:
    huge = b'{"email": "a@example.com", "password": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    response = await api.call(
        "POST", SIGN_IN, content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "error" in response.json()


@pytest.mark.asyncio
async def test_sign_out_ends_the_session_and_signing_in_again_rotates_it(api: Api) -> None:
    headers = await api.user(email="ada@example.com")
    old = headers["Authorization"].removeprefix("Bearer ")
    again = await api.call(
        "POST", SIGN_IN, headers=headers, json={"email": "ada@example.com", "password": PASSWORD}
    )
    new = again.json()["token"]
    assert new != old
    assert await api.services.accounts.authenticate(old) is None  # rotated at sign-in
    response = await api.call(
        "POST", "/api/auth/sign-out", headers={"Authorization": f"Bearer {new}"}
    )
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert await api.services.accounts.authenticate(new) is None
    anonymous = await api.call("POST", "/api/auth/sign-out")
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "unauthorized"})
