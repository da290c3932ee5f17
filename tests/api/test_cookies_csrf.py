"""The session cookie and CSRF protection of cookie-authenticated requests
(security.md promise 9)."""

from __future__ import annotations

import httpx
import pytest

from sigillo.server import create_app
from sigillo.settings import Settings
from tests.api.conftest import PASSWORD, Api

SIGN_IN = "/api/auth/sign-in/email"
CSRF_REFUSED = {"error": "csrf token missing or invalid"}


async def sign_in(api: Api, client: httpx.AsyncClient | None = None) -> httpx.Response:
    await api.services.accounts.register("ada@example.com", "Ada", PASSWORD)
    response = await (client or api.client).post(
        SIGN_IN, json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response


def set_cookie(response: httpx.Response) -> str:
    [header] = response.headers.get_list("set-cookie")
    return header


@pytest.mark.asyncio
async def test_sign_in_sets_an_httponly_lax_cookie_holding_the_session(api: Api) -> None:
    response = await sign_in(api)
    header = set_cookie(response)
    token = response.json()["token"]
    assert header.startswith(f"sigillo_session={token};")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "secure" not in attributes  # plain HTTP: a Secure cookie would never come back
    assert "samesite=lax" in header.lower()
    assert response.json()["csrfToken"]
    assert response.json()["csrfToken"] != token


@pytest.mark.asyncio
async def test_over_https_the_cookie_is_host_prefixed_and_secure(
    api: Api, database_url: str, tmp_path: object
) -> None:
    settings = Settings(
        data_dir=tmp_path,  # type: ignore[arg-type]
        database_url=database_url,
        public_url="https://secrets.example.com",
        allowed_hosts=("testserver",),
    )
    transport = httpx.ASGITransport(app=create_app(settings, services=api.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        header = set_cookie(await sign_in(api, client))
    assert header.startswith("__Host-sigillo_session=")
    assert "; secure" in header.lower()
    assert "domain=" not in header.lower()


@pytest.mark.asyncio
async def test_a_cookie_reads_without_a_csrf_token_but_writes_only_with_one(api: Api) -> None:
    signed = (await sign_in(api)).json()
    cookie = {"Cookie": f"sigillo_session={signed['token']}"}
    me = await api.call("GET", "/api/v0/me", headers=cookie)
    assert (me.status_code, me.json()["user"]["email"]) == (200, "ada@example.com")

    for headers in [cookie, {**cookie, "X-CSRF-Token": "wrong"}, {**cookie, "X-CSRF-Token": ""}]:
        refused = await api.call("POST", "/api/v0/orgs", headers=headers, json={"name": "Acme"})
        assert (refused.status_code, refused.json()) == (403, CSRF_REFUSED)
    assert (await api.call("GET", "/api/v0/orgs", headers=cookie)).json() == {"orgs": []}

    with_token = {**cookie, "X-CSRF-Token": signed["csrfToken"]}
    made = await api.call("POST", "/api/v0/orgs", headers=with_token, json={"name": "Acme"})
    assert made.status_code == 200, made.text


@pytest.mark.asyncio
async def test_a_bearer_needs_no_csrf_token(api: Api) -> None:
    signed = (await sign_in(api)).json()
    bearer = {"Authorization": f"Bearer {signed['token']}"}
    made = await api.call("POST", "/api/v0/orgs", headers=bearer, json={"name": "Acme"})
    assert made.status_code == 200


@pytest.mark.asyncio
async def test_one_sessions_csrf_token_does_not_pass_for_another(api: Api) -> None:
    first = (await sign_in(api)).json()
    other = await api.user()
    cookie = {"Cookie": f"sigillo_session={other['Authorization'].removeprefix('Bearer ')}"}
    response = await api.call(
        "POST",
        "/api/v0/orgs",
        headers={**cookie, "X-CSRF-Token": first["csrfToken"]},
        json={"name": "Acme"},
    )
    assert (response.status_code, response.json()) == (403, CSRF_REFUSED)


@pytest.mark.asyncio
async def test_the_session_endpoint_gives_a_cookie_client_its_csrf_token(api: Api) -> None:
    signed = (await sign_in(api)).json()
    cookie = {"Cookie": f"sigillo_session={signed['token']}"}
    response = await api.call("GET", "/api/auth/session", headers=cookie)
    assert response.json() == {
        "user": signed["user"],
        "csrfToken": signed["csrfToken"],
    }
    assert response.headers["cache-control"] == "no-store"
    anonymous = await api.call("GET", "/api/auth/session")
    assert anonymous.status_code == 401


@pytest.mark.asyncio
async def test_sign_out_by_cookie_needs_the_csrf_token_then_clears_the_cookie(api: Api) -> None:
    signed = (await sign_in(api)).json()
    cookie = {"Cookie": f"sigillo_session={signed['token']}"}
    refused = await api.call("POST", "/api/auth/sign-out", headers=cookie)
    assert (refused.status_code, refused.json()) == (403, CSRF_REFUSED)
    assert await api.services.accounts.authenticate(signed["token"]) is not None

    done = await api.call(
        "POST", "/api/auth/sign-out", headers={**cookie, "X-CSRF-Token": signed["csrfToken"]}
    )
    assert done.status_code == 200
    cleared = done.headers.get_list("set-cookie")
    assert any(h.startswith("sigillo_session=") and "max-age=0" in h.lower() for h in cleared)
    assert await api.services.accounts.authenticate(signed["token"]) is None
    after = await api.call("GET", "/api/v0/me", headers=cookie)
    assert after.status_code == 401


@pytest.mark.asyncio
async def test_an_api_token_in_the_cookie_is_not_a_credential(api: Api) -> None:
    response = await api.call("GET", "/api/v0/me", headers={"Cookie": "sigillo_session=sig_x"})
    assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})
