"""An org's sign-in policy (issue 20): `GET/PUT /api/v0/orgs/{org}/sign-in-policy`, and its
enforcement on the org's routes, on both databases.

How a session was signed in (single sign-on, a second factor) is set here directly in the
sessions table: the sign-in flows that set it have tests of their own (tests/sso,
test_two_factor_api.py). What these tests hold is the policy's side: who may set it, what
it refuses, and that a member whose session falls short is refused with words that say what
to do, while API tokens and the device flow behave as promised.
"""

from __future__ import annotations

import hashlib

import pytest

from sigillo.services import signed_in
from sigillo.services.sign_in_policy import NO_PROVIDER, SSO_REQUIRED, TWO_FACTOR_REQUIRED
from sigillo.services.signed_in import SignedInWith
from sigillo.store.database import Database
from tests.api.conftest import Api
from tests.api.helpers import bearer
from tests.api.org_helpers import ADMIN_REQUIRED, FORBIDDEN, UNAUTHORIZED, join, ok, org, send

pytestmark = pytest.mark.asyncio

NEITHER = {"requireSso": False, "requireTwoFactor": False}
TWO_FACTOR = {"requireSso": False, "requireTwoFactor": True}


def _policy(org_id: str) -> str:
    return f"/orgs/{org_id}/sign-in-policy"


async def _signed_in_with(
    database: Database, headers: dict[str, str], *, sso: str = "", two_factor: bool = False
) -> None:
    """Mark the session behind `headers` as signed in through `sso` and/or a second factor."""
    token = headers["Authorization"].removeprefix("Bearer ")
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    async with database.writing() as tx:
        await tx.execute(
            "UPDATE sessions SET sso_provider = $1, two_factor = $2 WHERE token_hash = $3",
            sso,
            two_factor,
            token_hash,
        )


async def test_members_read_the_policy_and_it_starts_empty(api: Api) -> None:
    made = await org(api)
    member, _ = await join(api, made)
    assert await ok(api, "GET", _policy(made.id), made.admin) == NEITHER
    assert await ok(api, "GET", _policy(made.id), member) == NEITHER


async def test_only_admins_set_it(api: Api, database: Database) -> None:
    made = await org(api)
    member, _ = await join(api, made)
    await _signed_in_with(database, member, two_factor=True)
    refused = await send(api, "PUT", _policy(made.id), member, TWO_FACTOR)
    assert (refused.status_code, refused.json()) == (403, ADMIN_REQUIRED)
    assert await ok(api, "GET", _policy(made.id), made.admin) == NEITHER


async def test_an_admin_cannot_require_what_their_own_session_lacks(
    api: Api, database: Database
) -> None:
    made = await org(api)
    refused = await send(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR)
    assert refused.status_code == 422
    assert "turn on two-factor authentication yourself" in refused.text
    assert await ok(api, "GET", _policy(made.id), made.admin) == NEITHER
    await _signed_in_with(database, made.admin, two_factor=True)
    assert await ok(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR) == TWO_FACTOR


async def test_single_sign_on_cannot_be_required_without_a_provider(
    api: Api, database: Database
) -> None:
    made = await org(api)
    await _signed_in_with(database, made.admin, sso="corp")
    refused = await send(api, "PUT", _policy(made.id), made.admin, {**NEITHER, "requireSso": True})
    assert refused.status_code == 422
    assert NO_PROVIDER in refused.text
    assert await ok(api, "GET", _policy(made.id), made.admin) == NEITHER


async def test_a_member_without_a_second_factor_is_refused_in_words(
    api: Api, database: Database
) -> None:
    made = await org(api)
    member, _ = await join(api, made)
    await _signed_in_with(database, made.admin, two_factor=True)
    await ok(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR)
    for path in (f"/projects/{made.project}", made.members, _policy(made.id)):
        refused = await send(api, "GET", path, member)
        assert (refused.status_code, refused.json()) == (403, {"error": TWO_FACTOR_REQUIRED})
    await ok(api, "GET", f"/projects/{made.project}", made.admin)
    await _signed_in_with(database, member, two_factor=True)  # as enrolling in 2FA does
    await ok(api, "GET", f"/projects/{made.project}", member)
    # the org still lists among the member's orgs: the refusal says what to do there
    assert made.id in [o["id"] for o in (await ok(api, "GET", "/orgs", member))["orgs"]]


async def test_single_sign_on_required_refuses_password_sessions(
    api: Api, database: Database
) -> None:
    made = await org(api)
    member, _ = await join(api, made)
    # the policy as the log holds it (this test server has no provider to offer)
    with signed_in.request_scope():  # the admin, as an SSO session of theirs would be
        signed_in.record(SignedInWith(sso_provider="corp"))
        await api.services.access.set_sign_in_policy(
            made.id, made.admin_actor, require_sso=True, require_two_factor=False, sso_offered=True
        )
    refused = await send(api, "GET", f"/projects/{made.project}", member)
    assert (refused.status_code, refused.json()) == (403, {"error": SSO_REQUIRED})
    await _signed_in_with(database, member, sso="corp")
    await ok(api, "GET", f"/projects/{made.project}", member)


async def test_api_tokens_are_not_bound_by_it(api: Api, database: Database) -> None:
    made = await org(api)
    body = {"name": "ci", "access": "read"}
    token = await ok(api, "POST", f"/projects/{made.project}/tokens", made.admin, body)
    await _signed_in_with(database, made.admin, two_factor=True)
    await ok(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR)
    path = f"/projects/{made.project}/environments/dev/secrets"
    await ok(api, "GET", path, bearer(token["key"]))


async def test_the_device_flow_session_inherits_how_its_approver_signed_in(
    api: Api, database: Database
) -> None:
    made = await org(api)
    await _signed_in_with(database, made.admin, two_factor=True)
    await ok(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR)
    codes = await ok(api, "POST", "/api/auth/device/code", {}, {"client_id": "sigillo-cli"})
    approve = {"userCode": codes["user_code"]}
    await ok(api, "POST", "/api/auth/device/approve", made.admin, approve)
    grant = "urn:ietf:params:oauth:grant-type:device_code"
    body = {"grant_type": grant, "device_code": codes["device_code"], "client_id": "sigillo-cli"}
    issued = await ok(api, "POST", "/api/auth/device/token", {}, body)
    cli = bearer(issued["access_token"])
    await ok(api, "GET", f"/projects/{made.project}", cli)
    sessions = (await ok(api, "GET", "/sessions", cli))["sessions"]
    assert any(s.get("clientName") == "sigillo-cli" for s in sessions)


async def test_a_device_approved_by_a_password_session_is_refused_too(
    api: Api, database: Database
) -> None:
    made = await org(api)
    member, _ = await join(api, made)
    await _signed_in_with(database, made.admin, two_factor=True)
    await ok(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR)
    codes = await ok(api, "POST", "/api/auth/device/code", {}, {"client_id": "sigillo-cli"})
    await ok(api, "POST", "/api/auth/device/approve", member, {"userCode": codes["user_code"]})
    grant = "urn:ietf:params:oauth:grant-type:device_code"
    body = {"grant_type": grant, "device_code": codes["device_code"], "client_id": "sigillo-cli"}
    issued = await ok(api, "POST", "/api/auth/device/token", {}, body)
    refused = await send(api, "GET", f"/projects/{made.project}", bearer(issued["access_token"]))
    assert (refused.status_code, refused.json()) == (403, {"error": TWO_FACTOR_REQUIRED})


async def test_the_change_is_in_the_orgs_audit_log(api: Api, database: Database) -> None:
    made = await org(api)
    await _signed_in_with(database, made.admin, two_factor=True)
    await ok(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR)
    await ok(api, "PUT", _policy(made.id), made.admin, TWO_FACTOR)  # the same: nothing new
    events = (await ok(api, "GET", f"/orgs/{made.id}/events", made.admin))["events"]
    changes = [e for e in events if e["type"] == "org.sign_in_policy_set"]
    assert len(changes) == 1
    assert (changes[0]["requireSso"], changes[0]["requireTwoFactor"]) == (False, True)
    assert changes[0]["actor"]["id"] == made.admin_actor.id


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"requireSso": false}',
        b'{"requireSso": "yes", "requireTwoFactor": false}',
        b'{"requireSso": false, "requireTwoFactor": 0}',
        b'{"requireSso": false, "requireTwoFactor": false, "other": 1}',
        b'{"requireSso": false, "requireTwoFactor": false' + b" " * (16 * 1024 * 1024) + b"}",
    ],
    ids=["truncated", "array", "missing", "wrong-type", "zero", "unknown-field", "over-16-MiB"],
)
async def test_bad_bodies_are_4xx_and_change_nothing(
    api: Api, database: Database, body: bytes
) -> None:
    made = await org(api)
    await _signed_in_with(database, made.admin, two_factor=True)
    refused = await send(api, "PUT", _policy(made.id), made.admin, body)
    assert 400 <= refused.status_code < 500, refused.text
    assert await ok(api, "GET", _policy(made.id), made.admin) == NEITHER


async def test_strangers_anonymous_and_tokens_are_refused(api: Api, database: Database) -> None:
    made = await org(api)
    other = await org(api, "Bo")
    await _signed_in_with(database, other.admin, two_factor=True)
    for method, body in (("GET", None), ("PUT", TWO_FACTOR)):
        stranger = await send(api, method, _policy(made.id), other.admin, body)
        assert (stranger.status_code, stranger.json()) == (403, FORBIDDEN)
        missing = await send(api, method, _policy("no-such-org"), other.admin, body)
        assert (missing.status_code, missing.json()) == (403, FORBIDDEN)  # same as a stranger
        anonymous = await send(api, method, _policy(made.id), None, body)
        assert (anonymous.status_code, anonymous.json()) == (401, UNAUTHORIZED)
    token = await ok(
        api,
        "POST",
        f"/projects/{made.project}/tokens",
        made.admin,
        {"name": "ci", "access": "read"},
    )
    refused = await send(api, "GET", _policy(made.id), bearer(token["key"]))
    assert refused.status_code == 401
    assert await ok(api, "GET", _policy(made.id), made.admin) == NEITHER
