"""The device authorization grant (behaviour.md 8.2, [D6]; security.md promise 10), on SQLite
and PostgreSQL. Time is moved, never slept: the app's clock is a settable one."""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

import pytest

import sigillo.server
from sigillo.services.ids import Clock
from sigillo.store.database import open_database
from tests.api.conftest import Api
from tests.api.helpers import bearer, create_token, project

CODE = "/api/auth/device/code"
TOKEN = "/api/auth/device/token"
STATUS = "/api/auth/device"
APPROVE = "/api/auth/device/approve"
DENY = "/api/auth/device/deny"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLI = "sigillo-cli"
SECOND = 1000
MINUTE = 60 * SECOND
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


class SettableClock(Clock):
    def __init__(self) -> None:
        self.at = Clock().now()

    def now(self) -> int:
        return self.at


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> SettableClock:
    """The one clock every service of the app (made after this fixture) reads."""
    settable = SettableClock()
    monkeypatch.setattr(sigillo.server, "Clock", lambda: settable)
    return settable


async def start(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.call("POST", CODE, json={"client_id": CLI, **body})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def poll(api: Api, device_code: str, client_id: str = CLI) -> Any:
    return await api.call(
        "POST",
        TOKEN,
        json={"grant_type": GRANT, "device_code": device_code, "client_id": client_id},
    )


def refusal(error: str, description: str) -> tuple[int, dict[str, str]]:
    return 400, {"error": error, "error_description": description}


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.json()


async def status(api: Api, user_code: str, headers: dict[str, str] | None = None) -> Any:
    return await api.call("GET", STATUS, headers=headers, params={"user_code": user_code})


PENDING = refusal("authorization_pending", "Authorization pending")
INVALID_GRANT = refusal("invalid_grant", "Invalid device code")
SLOW_DOWN = refusal("slow_down", "Polling too frequently")
INVALID_USER_CODE = refusal("invalid_request", "Invalid user code")
AUTHENTICATION_REQUIRED = (
    401,
    {"error": "unauthorized", "error_description": "Authentication required"},
)


@pytest.mark.asyncio
async def test_code_approve_token_and_the_token_is_a_session(
    api: Api, clock: SettableClock
) -> None:
    requested_at = clock.at
    response = await api.call(
        "POST", CODE, json={"client_id": CLI}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    codes = response.json()
    user_code = codes["user_code"]
    assert USER_CODE.match(user_code)
    assert re.fullmatch(r"[A-Za-z0-9]{40}", codes["device_code"])
    assert codes == {
        "device_code": codes["device_code"],
        "user_code": user_code,
        "verification_uri": "http://testserver/device",
        "verification_uri_complete": f"http://testserver/device?user_code={user_code}",
        "expires_in": 600,
        "interval": 5,
    }
    compact = user_code.replace("-", "")

    # Anonymous: the status only. Signed in: who asked, from where, when [D6].
    assert answer(await status(api, user_code)) == (
        200,
        {"user_code": compact, "status": "pending"},
    )
    ada = await api.user("Ada", "ada@example.com")
    shown = await status(api, compact.lower(), ada)
    assert answer(shown) == (
        200,
        {
            "user_code": compact,
            "status": "pending",
            "client_id": CLI,
            "ip": "127.0.0.1",  # the ASGI client, not X-Forwarded-For
            "requestedAt": requested_at,
        },
    )

    assert answer(await poll(api, codes["device_code"])) == PENDING
    clock.at += 5 * SECOND
    approved = await api.call("POST", APPROVE, headers=ada, json={"userCode": user_code.lower()})
    assert answer(approved) == (200, {"success": True})
    assert (await status(api, user_code)).json()["status"] == "approved"

    token = await poll(api, codes["device_code"])
    assert token.status_code == 200
    assert token.headers["cache-control"] == "no-store"
    assert token.headers["pragma"] == "no-cache"
    body = token.json()
    assert body == {
        "access_token": body["access_token"],
        "token_type": "Bearer",
        "expires_in": 7 * 24 * 3600,  # the session's remaining lifetime
        "scope": "",
    }
    assert not body["access_token"].startswith("sig_")
    assert body["access_token"] != ada["Authorization"].removeprefix("Bearer ")
    me = await api.call("GET", "/api/v0/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "ada@example.com"

    clock.at += 5 * SECOND
    assert answer(await poll(api, codes["device_code"])) == INVALID_GRANT  # single use
    assert answer(await status(api, user_code)) == INVALID_USER_CODE


@pytest.mark.asyncio
async def test_the_requested_scope_comes_back_with_the_token(api: Api) -> None:
    codes = await start(api, scope="openid profile", extra="ignored (RFC 6749 3.1)")
    ada = await api.user()
    await api.call("POST", APPROVE, headers=ada, json={"userCode": codes["user_code"]})
    response = await poll(api, codes["device_code"])
    assert response.status_code == 200
    assert response.json()["scope"] == "openid profile"


@pytest.mark.asyncio
async def test_deny_ends_in_access_denied_and_the_code_is_gone(
    api: Api, clock: SettableClock
) -> None:
    codes = await start(api)
    ada = await api.user()
    denied = await api.call("POST", DENY, headers=ada, json={"userCode": codes["user_code"]})
    assert answer(denied) == (200, {"success": True})
    assert (await status(api, codes["user_code"])).json()["status"] == "denied"
    again = await api.call("POST", APPROVE, headers=ada, json={"userCode": codes["user_code"]})
    assert answer(again) == refusal("invalid_request", "Device code already processed")
    assert answer(await poll(api, codes["device_code"])) == refusal(
        "access_denied", "Access denied"
    )
    clock.at += 5 * SECOND
    assert answer(await poll(api, codes["device_code"])) == INVALID_GRANT


@pytest.mark.asyncio
async def test_approving_twice_or_denying_after_approval_is_refused(api: Api) -> None:
    codes = await start(api)
    ada, bob = await api.user(), await api.user()
    first = await api.call("POST", APPROVE, headers=ada, json={"userCode": codes["user_code"]})
    assert answer(first) == (200, {"success": True})
    processed = refusal("invalid_request", "Device code already processed")
    for path, headers in [(APPROVE, ada), (APPROVE, bob), (DENY, ada), (DENY, bob)]:
        response = await api.call(
            "POST", path, headers=headers, json={"userCode": codes["user_code"]}
        )
        assert answer(response) == processed
    token = (await poll(api, codes["device_code"])).json()["access_token"]
    me = await api.call("GET", "/api/v0/me", headers=bearer(token))
    assert (
        me.json()["user"]["id"]
        == (await api.call("GET", "/api/v0/me", headers=ada)).json()["user"]["id"]
    )  # the first approver's session


@pytest.mark.asyncio
async def test_an_expired_code_is_refused_everywhere_and_deleted_when_polled(
    api: Api, clock: SettableClock
) -> None:
    codes = await start(api)
    ada = await api.user()
    clock.at += 10 * MINUTE
    expired_user_code = refusal("expired_token", "User code has expired")
    assert answer(await status(api, codes["user_code"])) == expired_user_code
    for path in (APPROVE, DENY):
        response = await api.call("POST", path, headers=ada, json={"userCode": codes["user_code"]})
        assert answer(response) == expired_user_code
    assert answer(await poll(api, codes["device_code"])) == refusal(
        "expired_token", "Device code has expired"
    )
    clock.at += 5 * SECOND
    assert answer(await poll(api, codes["device_code"])) == INVALID_GRANT
    assert answer(await status(api, codes["user_code"])) == INVALID_USER_CODE


@pytest.mark.asyncio
async def test_a_code_is_still_good_a_moment_before_it_expires(
    api: Api, clock: SettableClock
) -> None:
    codes = await start(api)
    ada = await api.user()
    clock.at += 10 * MINUTE - 1
    approved = await api.call("POST", APPROVE, headers=ada, json={"userCode": codes["user_code"]})
    assert answer(approved) == (200, {"success": True})
    assert (await poll(api, codes["device_code"])).status_code == 200


@pytest.mark.asyncio
async def test_polling_too_fast_earns_slow_down_and_a_longer_interval(
    api: Api, clock: SettableClock
) -> None:
    codes = await start(api)
    device_code = codes["device_code"]
    started = clock.at
    assert answer(await poll(api, device_code)) == PENDING
    clock.at = started + 4999
    assert answer(await poll(api, device_code)) == SLOW_DOWN  # interval now 10 s
    clock.at = started + 9999
    assert answer(await poll(api, device_code)) == SLOW_DOWN  # 5 s is no longer enough
    clock.at = started + 15_000  # interval now 15 s, since the last poll that counted
    assert answer(await poll(api, device_code)) == PENDING
    clock.at += 14_999
    assert answer(await poll(api, device_code)) == SLOW_DOWN
    clock.at += 20_000
    assert answer(await poll(api, device_code)) == PENDING


@pytest.mark.asyncio
async def test_unknown_codes(api: Api) -> None:
    await start(api)
    ada = await api.user()
    assert answer(await poll(api, "A" * 40)) == INVALID_GRANT
    assert answer(await poll(api, "")) == INVALID_GRANT
    for user_code in ["BCDF-GHJK", "bcdfghjk", "AEIOU123", "", "ß" * 8, "\u0000" * 8]:
        assert answer(await status(api, user_code)) == INVALID_USER_CODE
        for path in (APPROVE, DENY):
            response = await api.call("POST", path, headers=ada, json={"userCode": user_code})
            assert answer(response) == INVALID_USER_CODE


@pytest.mark.asyncio
async def test_a_client_id_mismatch_is_refused_and_is_not_a_poll(api: Api) -> None:
    codes = await start(api)
    mismatch = await poll(api, codes["device_code"], client_id="another-client")
    assert answer(mismatch) == refusal("invalid_grant", "Client ID mismatch")
    assert answer(await poll(api, codes["device_code"])) == PENDING  # not slow_down


@pytest.mark.asyncio
async def test_a_wrong_grant_type_is_unsupported(api: Api) -> None:
    codes = await start(api)
    for grant_type in ["authorization_code", "", GRANT.upper()]:
        response = await api.call(
            "POST",
            TOKEN,
            json={"grant_type": grant_type, "device_code": codes["device_code"], "client_id": CLI},
        )
        assert answer(response) == refusal("unsupported_grant_type", "Unsupported grant type")
        assert response.headers["cache-control"] == "no-store"
    assert answer(await poll(api, codes["device_code"])) == PENDING  # nothing was counted


@pytest.mark.asyncio
async def test_decisions_need_a_session(api: Api) -> None:
    codes = await start(api)
    made = await project(api)
    key = (await create_token(api, made, access="read-write"))["key"]
    for path in (APPROVE, DENY):
        for headers in [{}, bearer(key), bearer("not-a-session"), {"Authorization": "Basic x"}]:
            response = await api.call(
                "POST", path, headers=headers, json={"userCode": codes["user_code"]}
            )
            assert answer(response) == AUTHENTICATION_REQUIRED
    assert (await status(api, codes["user_code"])).json()["status"] == "pending"
    # An API token is no session: the status answer stays anonymous.
    shown = await status(api, codes["user_code"], bearer(key))
    assert set(shown.json()) == {"user_code", "status"}


_JSON = {"Content-Type": "application/json"}
_MALFORMED: list[tuple[str, bytes]] = [
    (CODE, b'{"client_id": "sigillo-cli"'),
    (CODE, b"[]"),
    (CODE, b"{}"),
    (CODE, b'{"client_id": ""}'),
    (CODE, b'{"client_id": 5}'),
    (CODE, b'{"client_id": "sigillo-cli", "scope": 5}'),
    (TOKEN, b'{"grant_type": "' + GRANT.encode() + b'", "client_id": "sigillo-cli"}'),
    (TOKEN, b'{"device_code": "x", "client_id": "sigillo-cli"}'),
    (TOKEN, b'{"grant_type": "' + GRANT.encode() + b'", "device_code": "x"}'),
    (TOKEN, b'{"grant_type": 1, "device_code": "x", "client_id": "sigillo-cli"}'),
    (TOKEN, b"null"),
    (APPROVE, b"{}"),
    (APPROVE, b'{"user_code": "BCDF-GHJK"}'),
    (APPROVE, b'{"userCode": "BCDF-GHJK", "approve": true}'),
    (APPROVE, b'{"userCode": null}'),
    (DENY, b"not json"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "content"), _MALFORMED)
async def test_malformed_bodies_are_422_with_detail(api: Api, path: str, content: bytes) -> None:
    ada = await api.user()
    response = await api.call("POST", path, content=content, headers={**_JSON, **ada})
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == "validation failed"
    assert body["detail"]
    assert all(set(item) == {"field", "message"} for item in body["detail"])


@pytest.mark.asyncio
async def test_a_missing_client_id_names_the_field(api: Api) -> None:
    response = await api.call("POST", CODE, json={"scope": "x"})
    assert answer(response) == (
        422,
        {
            "error": "validation failed",
            # A field the schema knows is named; the message is a fixed text (issue 13, 9).
            "detail": [{"field": "client_id", "message": "is required"}],
        },
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "body"),
    [
        (CODE, {"client_id": "c" * 129}),
        (CODE, {"client_id": CLI, "scope": "s" * 1025}),
        (TOKEN, {"grant_type": GRANT, "device_code": "d" * 129, "client_id": CLI}),
        (TOKEN, {"grant_type": "g" * 129, "device_code": "d", "client_id": CLI}),
        (TOKEN, {"grant_type": GRANT, "device_code": "d", "client_id": "c" * 129}),
        (APPROVE, {"userCode": "B" * 33}),
        (DENY, {"userCode": "B" * 33}),
    ],
)
async def test_oversized_fields_are_422(api: Api, path: str, body: dict[str, str]) -> None:
    ada = await api.user()
    response = await api.call("POST", path, headers=ada, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "validation failed"
    assert "c" * 129 not in response.text  # nothing is echoed back


@pytest.mark.asyncio
async def test_the_status_query_is_checked(api: Api) -> None:
    oversized = await status(api, "B" * 33)
    assert oversized.status_code == 422
    assert oversized.json()["error"] == "validation failed"
    missing = await api.call("GET", STATUS)
    assert missing.status_code == 422
    assert missing.json()["error"] == "validation failed"


@pytest.mark.asyncio
async def test_an_approved_code_is_exchanged_exactly_once_under_concurrent_polls(
    api: Api,
) -> None:
    codes = await start(api)
    ada = await api.user()
    await api.call("POST", APPROVE, headers=ada, json={"userCode": codes["user_code"]})
    responses = await asyncio.gather(*(poll(api, codes["device_code"]) for _ in range(8)))
    outcomes = sorted(answer(r)[0] for r in responses)
    assert outcomes == [200] + [400] * 7
    assert all(answer(r) == INVALID_GRANT for r in responses if r.status_code == 400)
    token = next(r for r in responses if r.status_code == 200).json()["access_token"]
    assert (await api.call("GET", "/api/v0/me", headers=bearer(token))).status_code == 200


@pytest.mark.asyncio
async def test_codes_are_stored_only_as_hashes(api: Api, database_url: str) -> None:
    codes = await start(api, scope="openid")
    device_code, user_code = codes["device_code"], codes["user_code"]
    database = await open_database(database_url)
    try:
        rows = await database.fetch("SELECT * FROM device_codes")
        hashes = await database.fetch("SELECT device_code_hash, user_code_hash FROM device_codes")
    finally:
        await database.close()
    assert len(rows) == 1
    dump = repr(rows)
    compact = user_code.replace("-", "")
    for plaintext in (device_code, user_code, compact, compact.lower()):
        assert plaintext not in dump
    assert hashes == [
        (
            hashlib.sha256(device_code.encode()).hexdigest(),
            hashlib.sha256(compact.encode()).hexdigest(),
        )
    ]


@pytest.mark.asyncio
async def test_expired_codes_are_purged_when_codes_are_created(
    api: Api, database_url: str, clock: SettableClock
) -> None:
    old = await start(api)
    clock.at += 20 * MINUTE + 1  # expired ten minutes ago: a late poller has had its chance
    await start(api)
    database = await open_database(database_url)
    try:
        rows = await database.fetch("SELECT created_at FROM device_codes")
    finally:
        await database.close()
    assert rows == [(clock.at,)]
    assert answer(await poll(api, old["device_code"])) == INVALID_GRANT
