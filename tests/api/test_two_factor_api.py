"""Two-factor authentication over the API (issue 20), on both databases: enrolment at
`/api/v0/me/two-factor`, the code at `POST /api/auth/sign-in/email`, recovery codes, the
back-off of guesses, and what it does to sessions and to an org that requires it.

Codes come from a real `pyotp` TOTP over the secret the enrolment answered. A code is taken
once per 30-second step: confirming takes the current one, so a test's next code is the
next step's (`soon`), which the server accepts (one step of drift either way).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pyotp
import pytest

from sigillo.api.ratelimit import LIMITS, Budget, RateLimits
from sigillo.domain.errors import DecryptionError, NotFound
from sigillo.domain.events import (
    Actor,
    UserTwoFactorDisabled,
    UserTwoFactorEnabled,
    UserTwoFactorReset,
)
from sigillo.domain.streams import user_stream
from sigillo.services import signed_in
from sigillo.services.sign_in_policy import TWO_FACTOR_REQUIRED
from sigillo.services.signed_in import SignedInWith
from sigillo.store.database import Database
from tests.api.conftest import PASSWORD, Api
from tests.api.helpers import bearer
from tests.api.org_helpers import join, org, send

pytestmark = pytest.mark.asyncio

PATH = "/api/v0/me/two-factor"
SIGN_IN = "/api/auth/sign-in/email"
NO_STORE = "no-store"


def soon(totp: pyotp.TOTP) -> str:
    """The next step's code: newer than any taken so far in a test that took one."""
    return totp.at(time.time() + 30)


def unlimited(api: Api) -> None:
    """The per-address rate limit lifted (tests/api/test_rate_limits.py is about it)."""
    transport = api.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    budgets = {name: Budget(10**9, 1) for name in LIMITS}
    transport.app.state.rate_limits = RateLimits(limits=budgets)  # type: ignore[attr-defined]


async def account(api: Api) -> tuple[dict[str, str], str]:
    """A new user signed in over the API: (headers, email)."""
    email = f"tf{time.time_ns()}@example.com"
    return await api.user("Ada", email), email


async def enrolled(api: Api, headers: dict[str, str]) -> tuple[pyotp.TOTP, list[str], str]:
    """Two-factor authentication turned on for the user behind `headers`, with the current
    step's code: their authenticator, recovery codes, and the code confirming took (kept,
    since `totp.now()` moves on at the step's end)."""
    started = await api.call("POST", PATH + "/enrol", headers)
    assert started.status_code == 200, started.text
    totp = pyotp.TOTP(started.json()["secret"])
    first = totp.now()
    confirmed = await api.call("POST", PATH + "/confirm", headers, json={"code": first})
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["recoveryCodes"], first


async def sign_in(api: Api, email: str, code: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"email": email, "password": PASSWORD}
    if code is not None:
        body["code"] = code
    return await api.call("POST", SIGN_IN, json=body)


async def user_id(api: Api, headers: dict[str, str]) -> str:
    found = await api.services.accounts.authenticate(headers["Authorization"][7:])
    assert found is not None
    return found[1].id


async def test_enrol_then_confirm_with_a_real_code(api: Api) -> None:
    headers, _email = await account(api)
    off = await api.call("GET", PATH, headers)
    assert off.json() == {
        "enabled": False,
        "enabledAt": 0,
        "pending": False,
        "recoveryCodesLeft": 0,
    }
    started = await api.call("POST", PATH + "/enrol", headers)
    assert started.status_code == 200
    assert started.headers["cache-control"] == NO_STORE
    secret, uri = started.json()["secret"], started.json()["otpauthUri"]
    assert uri.startswith("otpauth://totp/Sigillo:")
    assert f"secret={secret}" in uri
    assert "issuer=Sigillo" in uri
    assert "tf" in uri
    assert (await api.call("GET", PATH, headers)).json()["pending"] is True
    totp = pyotp.TOTP(secret)
    wrong = "000000" if totp.now() != "000000" else "111111"
    refused = await api.call("POST", PATH + "/confirm", headers, json={"code": wrong})
    assert (refused.status_code, refused.json()) == (403, {"error": "invalid two-factor code"})
    confirmed = await api.call("POST", PATH + "/confirm", headers, json={"code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.headers["cache-control"] == NO_STORE
    codes = confirmed.json()["recoveryCodes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    status = (await api.call("GET", PATH, headers)).json()
    assert status["enabled"] is True
    assert status["recoveryCodesLeft"] == 10
    assert status["enabledAt"] > 0
    again = await api.call("POST", PATH + "/enrol", headers)
    assert (again.status_code, again.json()) == (
        409,
        {"error": "two-factor authentication is already on"},
    )
    # this session enrolled: it counts as signed in with a second factor
    found = await api.services.accounts.authenticate(headers["Authorization"][7:])
    assert found is not None
    assert found[0].two_factor is True
    stream = await api.services.store.read_stream(user_stream(found[1].id))
    [enabled] = [e for e in stream if isinstance(e.event, UserTwoFactorEnabled)]
    assert enabled.actor == Actor("user", found[1].id)


async def test_sign_in_asks_for_the_code_and_takes_each_step_once(api: Api) -> None:
    headers, email = await account(api)
    totp, _, first = await enrolled(api, headers)
    missing = await sign_in(api, email)
    assert (missing.status_code, missing.json()) == (401, {"error": "two-factor code required"})
    assert "set-cookie" not in missing.headers
    reused = await sign_in(api, email, first)  # the step confirming took
    assert (reused.status_code, reused.json()) == (401, {"error": "invalid two-factor code"})
    wrong_password = await api.call(
        "POST", SIGN_IN, json={"email": email, "password": "not the password", "code": soon(totp)}
    )
    assert (wrong_password.status_code, wrong_password.json()) == (401, {"error": "unauthorized"})
    following = soon(totp)
    signed = await sign_in(api, email, following)
    assert signed.status_code == 200, signed.text
    token = signed.json()["token"]
    found = await api.services.accounts.authenticate(token)
    assert found is not None
    assert found[0].two_factor is True
    twice = await sign_in(api, email, following)  # that step is taken now
    assert (twice.status_code, twice.json()) == (401, {"error": "invalid two-factor code"})


async def test_a_recovery_code_signs_in_once_and_only_once(api: Api) -> None:
    headers, email = await account(api)
    _, codes, _ = await enrolled(api, headers)
    typed = " " + codes[0].upper().replace("-", " - ") + " "  # as a person may type it
    first = await sign_in(api, email, typed)
    assert first.status_code == 200, first.text
    found = await api.services.accounts.authenticate(first.json()["token"])
    assert found is not None
    assert found[0].two_factor is True
    again = await sign_in(api, email, codes[0])
    assert (again.status_code, again.json()) == (401, {"error": "invalid two-factor code"})
    status = (await api.call("GET", PATH, headers)).json()
    assert status["recoveryCodesLeft"] == 9
    assert (await sign_in(api, email, codes[1])).status_code == 200


async def test_too_many_wrong_codes_back_off(api: Api) -> None:
    unlimited(api)
    headers, email = await account(api)
    totp, _, first = await enrolled(api, headers)
    right = soon(totp)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in (right, first))
    for _ in range(5):
        refused = await sign_in(api, email, wrong)
        assert refused.json() == {"error": "invalid two-factor code"}
    backing_off = await sign_in(api, email, right)  # even the right code waits now
    assert backing_off.status_code == 429
    assert int(backing_off.headers["retry-after"]) >= 1
    # the budget is the account's: the confirm and disable routes wait as well
    off = await api.call("POST", PATH + "/disable", headers, json={"code": right})
    assert off.status_code == 429


async def test_turning_it_on_ends_the_other_sessions(api: Api) -> None:
    headers, email = await account(api)
    other = bearer((await sign_in(api, email)).json()["token"])
    assert (await api.call("GET", "/api/v0/me", other)).status_code == 200
    started = await api.call("POST", PATH + "/enrol", headers)
    totp = pyotp.TOTP(started.json()["secret"])
    confirmed = await api.call("POST", PATH + "/confirm", headers, json={"code": totp.now()})
    assert confirmed.json()["sessionsEnded"] == 1
    assert (await api.call("GET", "/api/v0/me", other)).status_code == 401
    assert (await api.call("GET", "/api/v0/me", headers)).status_code == 200


async def test_turning_it_off_with_the_password_or_a_code(api: Api) -> None:
    headers, email = await account(api)
    totp, _, first = await enrolled(api, headers)
    neither = await api.call("POST", PATH + "/disable", headers, json={})
    assert (neither.status_code, neither.json()) == (
        403,
        {"error": "a current two-factor code or the account's password is required"},
    )
    reused_code = await api.call(  # given both, the code is what counts
        "POST", PATH + "/disable", headers, json={"code": first, "password": PASSWORD}
    )
    assert (reused_code.status_code, reused_code.json()) == (
        403,
        {"error": "invalid two-factor code"},
    )
    wrong = await api.call("POST", PATH + "/disable", headers, json={"password": "not it at all"})
    assert (wrong.status_code, wrong.json()) == (
        403,
        {"error": "the current password is not right"},
    )
    other = bearer((await sign_in(api, email, soon(totp))).json()["token"])
    off = await api.call("POST", PATH + "/disable", headers, json={"password": PASSWORD})
    assert (off.status_code, off.json()) == (200, {"ok": True, "sessionsEnded": 1})
    assert (await api.call("GET", "/api/v0/me", other)).status_code == 401
    assert (await api.call("GET", PATH, headers)).json()["enabled"] is False
    found = await api.services.accounts.authenticate(headers["Authorization"][7:])
    assert found is not None
    assert found[0].two_factor is False
    assert (await sign_in(api, email)).status_code == 200  # the password is enough again
    stream = await api.services.store.read_stream(user_stream(found[1].id))
    assert [type(e.event) for e in stream][-2:] == [UserTwoFactorEnabled, UserTwoFactorDisabled]
    again = await api.call("POST", PATH + "/disable", headers, json={"password": PASSWORD})
    assert again.status_code == 409

    # with a code instead
    headers, email = await account(api)
    totp, _, _ = await enrolled(api, headers)
    off = await api.call("POST", PATH + "/disable", headers, json={"code": soon(totp)})
    assert off.status_code == 200, off.text
    assert (await sign_in(api, email)).status_code == 200


async def test_new_recovery_codes_void_the_old_ones(api: Api) -> None:
    headers, email = await account(api)
    totp, old, first = await enrolled(api, headers)
    reused = await api.call("POST", PATH + "/recovery-codes", headers, json={"code": first})
    assert reused.status_code == 403
    made = await api.call("POST", PATH + "/recovery-codes", headers, json={"code": soon(totp)})
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == NO_STORE
    new = made.json()["recoveryCodes"]
    assert len(new) == 10
    assert not set(new) & set(old)
    assert (await sign_in(api, email, old[0])).status_code == 401
    assert (await sign_in(api, email, new[0])).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"code": 123456}',
        b'{"code": ""}',
        b'{"code": "' + b"1" * 65 + b'"}',
        b'{"code": "123456", "extra": 1}',
        b"[]",
        b"not json",
    ],
)
async def test_malformed_bodies_are_422(api: Api, body: bytes) -> None:
    headers, _ = await account(api)
    json = {**headers, "Content-Type": "application/json"}
    for route in ("/confirm", "/recovery-codes"):
        answer = await api.call("POST", PATH + route, json, content=body)
        assert answer.status_code == 422, (route, answer.text)
    disable = await api.call("POST", PATH + "/disable", json, content=body)
    assert disable.status_code == (409 if body == b"{}" else 422), disable.text  # {}: well-formed
    sign = await api.call(
        "POST",
        SIGN_IN,
        {"Content-Type": "application/json"},
        content=b'{"email": "a@example.com", "password": "x", "code": 123456}',
    )
    assert sign.status_code == 422


async def test_api_tokens_and_strangers_get_401(api: Api) -> None:
    made = await org(api)
    _, key = await api.services.access.create_token(made.project, made.admin_actor, name="ci")
    for headers in ({}, bearer(key), bearer("not-a-session")):
        for method, route, body in [
            ("GET", "", None),
            ("POST", "/enrol", None),
            ("POST", "/confirm", {"code": "123456"}),
            ("POST", "/disable", {"password": PASSWORD}),
            ("POST", "/recovery-codes", {"code": "123456"}),
        ]:
            answer = await api.call(method, PATH + route, headers, json=body)
            assert (answer.status_code, answer.json()) == (401, {"error": "unauthorized"}), route


async def test_one_user_cannot_confirm_or_disable_anothers(api: Api) -> None:
    ada, _ = await account(api)
    bob, _ = await account(api)
    ada_totp = pyotp.TOTP((await api.call("POST", PATH + "/enrol", ada)).json()["secret"])
    bob_totp = pyotp.TOTP((await api.call("POST", PATH + "/enrol", bob)).json()["secret"])
    assert ada_totp.now() != bob_totp.now()  # one in a million: rerun
    refused = await api.call("POST", PATH + "/confirm", bob, json={"code": ada_totp.now()})
    assert refused.status_code == 403
    assert (await api.call("GET", PATH, ada)).json()["pending"] is True
    ok = await api.call("POST", PATH + "/confirm", ada, json={"code": ada_totp.now()})
    assert ok.status_code == 200
    # Bob holds Ada's next code: it turns nothing of Ada's off (Bob has no 2FA to turn off)
    off = await api.call("POST", PATH + "/disable", bob, json={"code": soon(ada_totp)})
    assert off.status_code == 409
    assert (await api.call("GET", PATH, ada)).json()["enabled"] is True


async def test_a_secret_copied_to_another_user_does_not_open(api: Api, database: Database) -> None:
    ada, _ = await account(api)
    bob, _ = await account(api)
    await api.call("POST", PATH + "/enrol", ada)
    await api.call("POST", PATH + "/enrol", bob)
    ada_id, bob_id = await user_id(api, ada), await user_id(api, bob)
    async with database.writing() as tx:
        [(secret, nonce, key_id)] = await tx.fetch(
            "SELECT secret, nonce, key_id FROM two_factor WHERE user_id = $1", ada_id
        )
        await tx.execute(
            "UPDATE two_factor SET secret = $1, nonce = $2, key_id = $3 WHERE user_id = $4",
            secret,
            nonce,
            key_id,
            bob_id,
        )
    bob_user = (await api.services.accounts.authenticate(bob["Authorization"][7:]))[1]  # type: ignore[index]
    with pytest.raises(DecryptionError):
        await api.services.two_factor.pending(bob_user)
    ada_user = (await api.services.accounts.authenticate(ada["Authorization"][7:]))[1]  # type: ignore[index]
    assert await api.services.two_factor.pending(ada_user) is not None  # still Ada's


async def test_no_secret_or_code_in_logs_or_reprs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers, email = await account(api)
    started = await api.call("POST", PATH + "/enrol", headers)
    secret = started.json()["secret"]
    totp = pyotp.TOTP(secret)
    first = totp.now()
    confirmed = await api.call("POST", PATH + "/confirm", headers, json={"code": first})
    codes = confirmed.json()["recoveryCodes"]
    await sign_in(api, email, "999999" if first != "999999" else "888888")
    await sign_in(api, email, codes[0])
    user = (await api.services.accounts.authenticate(headers["Authorization"][7:]))[1]  # type: ignore[index]
    record = await api.services.two_factor._records.record(user.id)
    from sigillo.api.sessions import SignIn
    from sigillo.api.two_factor import CodeBody, DisableBody, Enrolment, RecoveryCodes
    from sigillo.services.two_factor import Enrolment as ServiceEnrolment

    reprs = [
        repr(record),
        repr(ServiceEnrolment(secret, "otpauth://totp/x?secret=" + secret)),
        repr(Enrolment("otpauth://totp/x?secret=" + secret, secret)),
        repr(RecoveryCodes(recovery_codes=codes)),
        repr(CodeBody(first)),
        repr(DisableBody(code=first, password=PASSWORD)),
        repr(SignIn(email, PASSWORD, first)),
    ]
    text = caplog.text + "\n".join(reprs)
    for hidden in (secret, first, PASSWORD, *codes, *(c.replace("-", "") for c in codes)):
        assert hidden not in text


async def test_an_org_requiring_two_factor_admits_a_member_once_enrolled(api: Api) -> None:
    made = await org(api)
    member, _ = await join(api, made)
    with signed_in.request_scope():  # the admin's own session has a second factor
        signed_in.record(SignedInWith(two_factor=True))
        await api.services.access.set_sign_in_policy(
            made.id, made.admin_actor, require_sso=False, require_two_factor=True,
            sso_offered=False,
        )  # fmt: skip
    refused = await send(api, "GET", f"/orgs/{made.id}/members", member)
    assert (refused.status_code, refused.json()) == (403, {"error": TWO_FACTOR_REQUIRED})
    # the routes of one's own account stay open: that is where 2FA is turned on
    await enrolled(api, member)
    admitted = await send(api, "GET", f"/orgs/{made.id}/members", member)
    assert admitted.status_code == 200, admitted.text


async def test_an_admin_reset_ends_every_session_and_is_audited(api: Api) -> None:
    """What `sigillo admin reset-two-factor` does (its command line: tests/server)."""
    headers, email = await account(api)
    totp, codes, _ = await enrolled(api, headers)
    other = bearer((await sign_in(api, email, soon(totp))).json()["token"])
    user, was_on = await api.services.two_factor.reset(email.upper())
    assert was_on is True
    assert user.email == email
    for session in (headers, other):
        assert (await api.call("GET", "/api/v0/me", session)).status_code == 401
    stream = await api.services.store.read_stream(user_stream(user.id))
    assert stream[-1].event == UserTwoFactorReset(user.id)
    assert stream[-1].actor == Actor("system", "sigillo")
    assert (await sign_in(api, email)).status_code == 200  # the password alone again
    assert (await sign_in(api, email, codes[0])).status_code == 200  # the code is ignored
    assert not await api.services.two_factor.enabled(user.id)
    assert (await api.services.two_factor.reset(email)) == (user, False)
    with pytest.raises(NotFound):
        await api.services.two_factor.reset("nobody@example.com")
