"""Where single sign-on meets the rest: the sign-in page's buttons, the public list of
providers, and an org that requires single sign-on."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from sigillo.domain.events import Actor
from sigillo.services import signed_in
from sigillo.services.sign_in_policy import SSO_REQUIRED
from sigillo.services.signed_in import SignedInWith
from tests.sso.conftest import CLIENT_SECRET, ORIGIN, Sso

PASSWORD = "correct horse battery staple"
SAME_ORIGIN = {"Origin": ORIGIN}


@pytest.mark.asyncio
async def test_the_sign_in_page_offers_a_button_per_provider(sso: Sso) -> None:
    """The device page's sign-in redirect keeps its user code through the buttons, so
    `sigillo login` works for people who sign in with a provider."""
    device = await sso.client.get("/device?user_code=ABCD-EFGH")
    assert device.status_code == 303
    page = await sso.client.get(device.headers["location"])
    assert page.status_code == 200
    target = quote("/device?user_code=ABCD-EFGH", safe="/")
    assert f'href="/login/sso/test?redirect={target}"' in page.text
    assert "Sign in with Test" in page.text  # its label
    assert "Sign in with Domains" in page.text  # the default label
    started = await sso.client.get(f"/login/sso/test?redirect={target}")
    assert started.status_code == 303
    assert started.headers["location"].startswith(f"{sso.issuer}/auth?")
    assert "code_challenge_method=S256" in started.headers["location"]


@pytest.mark.asyncio
async def test_clients_list_the_providers(sso: Sso) -> None:
    listed = await sso.client.get("/api/auth/providers")
    assert listed.status_code == 200
    first = listed.json()[0]
    assert first == {
        "id": "test",
        "label": "Sign in with Test",
        "url": f"{ORIGIN}/login/sso/test",
    }
    assert "sigillo-" not in listed.text  # no client ids
    assert sso.issuer not in listed.text
    assert CLIENT_SECRET not in listed.text
    document = (await sso.client.get("/api/openapi.json")).json()
    assert "listSignInProviders" in str(document["paths"]["/api/auth/providers"])


@pytest.mark.asyncio
async def test_an_org_requiring_sso_admits_only_sessions_signed_in_through_a_provider(
    sso: Sso,
) -> None:
    address = f"m{uuid.uuid4().hex[:10]}@allowed.test"
    user = await sso.services.accounts.register(address, "Member", PASSWORD)
    org = await sso.services.catalog.create_org("Acme", Actor("user", user.id))
    with signed_in.request_scope():  # as the admin's own SSO session would be
        signed_in.record(SignedInWith(sso_provider="test"))
        await sso.services.access.set_sign_in_policy(
            org.id, Actor("user", user.id), require_sso=True, require_two_factor=False,
            sso_offered=True,
        )  # fmt: skip
    by_password = await sso.client.post(
        "/api/auth/sign-in/email", json={"email": address, "password": PASSWORD}
    )
    password_token = by_password.json()["token"]
    members = f"/api/v0/orgs/{org.id}/members"
    refused = await sso.client.get(members, headers={"Authorization": f"Bearer {password_token}"})
    assert refused.status_code == 403
    assert SSO_REQUIRED in refused.text

    sso.client.cookies.clear()
    assert (await sso.flow("test", address)).headers["location"] == "/login/link"
    linked = await sso.client.post("/login/link", data={"password": PASSWORD}, headers=SAME_ORIGIN)
    assert linked.status_code == 303
    admitted = await sso.client.get(members)  # the session cookie of the SSO sign-in
    assert admitted.status_code == 200, admitted.text
    assert [member["email"] for member in admitted.json()["members"]] == [address]
