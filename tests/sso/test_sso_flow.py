"""Signing in through a real OpenID Connect provider: accounts made, reused and linked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import struct
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from sigillo.domain.projections.rows import UserRow
from tests.sso.conftest import CLIENT_SECRET, Sso

PASSWORD = "correct horse battery staple"
SAME_ORIGIN = {"Origin": "http://sigillo.test"}


def unique(domain: str = "allowed.test", prefix: str = "p") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}@{domain}"


async def user_of(sso: Sso, address: str) -> UserRow | None:
    found = await sso.services.store.select(UserRow, "email", address)
    return found[0] if found else None


@pytest.mark.asyncio
async def test_the_first_sign_in_makes_the_account_and_the_next_reuses_its_identity(
    sso: Sso,
) -> None:
    address = unique()
    first = await sso.flow("domains", address, redirect="/dash")
    assert first.status_code == 303, first.text
    assert first.headers["location"] == "/dash"
    user = await user_of(sso, address)
    assert user is not None
    assert user.name == f"Person {address.split('@')[0]}"
    session = await sso.client.get("/api/auth/session")
    assert session.status_code == 200, session.text
    assert session.json()["user"]["email"] == address
    (live,) = await sso.services.accounts.sessions(user.id)
    assert live.sso_provider == "domains"

    sso.client.cookies.clear()
    again = await sso.flow("domains", address)
    assert again.status_code == 303, again.text
    assert (await user_of(sso, address)) == user  # the same account, not a second one
    identities = await sso.services.sso.identities(user.id)
    assert [(i.provider, i.subject) for i in identities] == [("domains", address)]
    assert len(await sso.services.accounts.sessions(user.id)) == 2


@pytest.mark.asyncio
async def test_without_domains_or_open_sign_up_no_account_is_made(sso: Sso) -> None:
    address = unique("elsewhere.test")
    refused = await sso.flow("test", address)
    assert refused.status_code == 403
    assert f"No account for {address}: ask an admin to invite you" in refused.text
    assert await user_of(sso, address) is None
    assert "set-cookie" not in refused.headers


@pytest.mark.asyncio
async def test_linking_an_existing_account_needs_its_password(sso: Sso) -> None:
    address = unique()
    user = await sso.services.accounts.register(address, "Bob", PASSWORD)
    answered = await sso.flow("test", address, redirect="/dash/new-org")
    assert answered.status_code == 303, answered.text
    assert answered.headers["location"] == "/login/link"
    assert "sigillo_session" not in answered.headers.get("set-cookie", "")
    page = await sso.client.get("/login/link")
    assert page.status_code == 200
    assert f"An account with {address} exists; enter its password to link Test" in page.text

    wrong = await sso.client.post("/login/link", data={"password": "not it"}, headers=SAME_ORIGIN)
    assert wrong.status_code == 401
    assert "That password is not right." in wrong.text
    assert await sso.services.sso.identities(user.id) == []
    assert len(await sso.services.accounts.failed_sign_ins(address=address)) == 1

    right = await sso.client.post("/login/link", data={"password": PASSWORD}, headers=SAME_ORIGIN)
    assert right.status_code == 303, right.text
    assert right.headers["location"] == "/dash/new-org"
    (identity,) = await sso.services.sso.identities(user.id)
    assert (identity.provider, identity.subject, identity.email) == ("test", address, address)
    (live,) = await sso.services.accounts.sessions(user.id)
    assert live.sso_provider == "test"
    assert (await sso.client.get("/login/link")).status_code == 400  # the challenge is used up

    sso.client.cookies.clear()
    again = await sso.flow("test", address)  # linked now: straight in
    assert again.status_code == 303
    assert again.headers["location"] == "/dash"


@pytest.mark.asyncio
async def test_too_many_wrong_passwords_end_the_link(sso: Sso) -> None:
    address = unique()
    user = await sso.services.accounts.register(address, "Dan", PASSWORD)
    assert (await sso.flow("test", address)).headers["location"] == "/login/link"
    statuses = []
    for _ in range(5):
        answer = await sso.client.post("/login/link", data={"password": "no"}, headers=SAME_ORIGIN)
        statuses.append(answer.status_code)
    assert statuses[:4] == [401, 401, 401, 401]
    assert statuses[4] in (401, 429)
    late = await sso.client.post("/login/link", data={"password": PASSWORD}, headers=SAME_ORIGIN)
    assert late.status_code in (400, 429)
    assert await sso.services.sso.identities(user.id) == []


@pytest.mark.asyncio
async def test_a_session_made_by_password_links_nothing_by_itself(sso: Sso) -> None:
    """The link page needs the challenge cookie: a cross-site post of it is refused too."""
    assert (await sso.client.get("/login/link")).status_code == 400
    posted = await sso.client.post(
        "/login/link", data={"password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert posted.status_code == 403


@pytest.mark.asyncio
async def test_a_used_state_is_refused(sso: Sso) -> None:
    address = unique()
    callback = await sso.to_callback("domains", address)
    assert (await sso.client.get(callback)).status_code == 303
    replayed = await sso.client.get(callback)
    assert replayed.status_code == 400
    assert "already used or is unknown" in replayed.text
    forged = await sso.client.get("/login/sso/domains/callback?code=x&state=made-up")
    assert forged.status_code == 400


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        ("tampered", "signature is not valid"),
        ("rogue-key", "signature is not valid"),
        ("unknown-kid", "signature is not valid"),
        ("wrong-aud", "aud is not right"),
        ("wrong-iss", "iss is not right"),
        ("expired", "has expired"),
        ("wrong-nonce", "nonce is not right"),
    ],
)
async def test_an_id_token_that_fails_a_check_is_refused(
    sso: Sso, provider: str, reason: str
) -> None:
    address = unique()
    refused = await sso.flow(provider, address)
    assert refused.status_code == 400
    assert reason in refused.text
    assert "set-cookie" not in refused.headers
    assert await user_of(sso, address) is None
    assert await user_of(sso, "mallory@allowed.test") is None


@pytest.mark.asyncio
async def test_an_unverified_email_is_refused(sso: Sso) -> None:
    address = unique(prefix="unverified")
    refused = await sso.flow("domains", address)
    assert refused.status_code == 403
    assert "has not verified this email address" in refused.text
    assert await user_of(sso, address) is None


@pytest.mark.asyncio
async def test_an_email_outside_the_allowed_domains_is_refused(sso: Sso) -> None:
    address = unique("other.test")
    refused = await sso.flow("domains", address)
    assert refused.status_code == 403
    assert "this email domain may not sign in here" in refused.text
    assert await user_of(sso, address) is None


@pytest.mark.asyncio
async def test_the_providers_refusal_is_a_page_in_words(sso: Sso) -> None:
    refused = await sso.flow("domains", "deny")
    assert refused.status_code == 403
    assert "The sign-in was cancelled or refused at the provider." in refused.text


@pytest.mark.asyncio
async def test_an_unreachable_provider_is_a_502_page(sso: Sso) -> None:
    answer = await sso.client.get("/login/sso/down")
    assert answer.status_code == 502
    assert "could not be reached" in answer.text
    assert (await sso.client.get("/login/sso/nobody")).status_code == 404


@pytest.mark.asyncio
async def test_no_secret_code_or_token_reaches_logs_or_pages(
    sso: Sso, caplog: pytest.LogCaptureFixture
) -> None:
    # Sigillo's own loggers in full, anything else from warnings up (the test's browser
    # logs the URLs it visits, codes included: those lines are not the server's).
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.DEBUG, logger="sigillo")
    pages = []
    callback = await sso.to_callback("domains", unique())
    code = parse_qs(urlsplit(callback).query)["code"][0]
    pages.append(await sso.client.get(callback))
    pages.append(await sso.client.get(callback))  # replayed
    for provider in ("tampered", "wrong-aud", "expired"):
        pages.append(await sso.flow(provider, unique()))
    pages.append(await sso.flow("test", unique("elsewhere.test")))
    text = caplog.text + "".join(page.text for page in pages)
    assert "refused" in caplog.text  # the refusals were logged, in words
    for secret in (CLIENT_SECRET, code, "eyJ"):  # "eyJ": how every JWT begins
        assert secret not in text
    assert CLIENT_SECRET not in repr(sso.services.sso.providers())


def totp(secret: str, at: float) -> str:
    """RFC 6238's code (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset : offset + 4], 'big') & 0x7FFFFFFF) % 10**6:06d}"


@pytest.mark.asyncio
async def test_an_account_with_two_factor_answers_its_code_after_the_provider(sso: Sso) -> None:
    address = unique()
    assert (await sso.flow("domains", address)).status_code == 303
    user = await user_of(sso, address)
    assert user is not None
    enrolment = await sso.services.two_factor.begin(user)
    await sso.services.two_factor.confirm(
        user.id, totp(enrolment.secret, time.time()), session_id=None
    )
    sso.client.cookies.clear()
    answered = await sso.flow("domains", address)
    assert answered.status_code == 303
    assert answered.headers["location"] == "/login/code"  # the second step, not a session
    assert "sigillo_session=" not in answered.headers.get("set-cookie", "")
