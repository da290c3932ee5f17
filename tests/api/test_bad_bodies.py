"""Every JSON endpoint refuses the three classes of bad body the review found 500s with
(issue 13, item 8), on SQLite and PostgreSQL: JSON nested 1,000 levels, NUL characters in
every string of a valid body, and integers of 2^63 and more in every field. Each answer is
a 4xx (or, where the mutated body is still acceptable, a 2xx) with a JSON `error`, never a
5xx. The endpoints and their valid bodies are the access matrix's (test_access_matrix.py),
so a new JSON endpoint is swept as soon as it is in the policy table.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sigillo.api.ratelimit import LIMITS, Budget, RateLimits
from tests.api.conftest import Api
from tests.api.test_access_matrix import POLICY, fill, sign_in_again, world

DEEP = 1000
HUGE = (2**63, 2**64, -(2**63) - 1, 10**30)


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def with_nul(body: Any) -> Any:
    if isinstance(body, str):
        return body[:1] + "\x00" + body[1:]
    if isinstance(body, dict):
        return {key: with_nul(value) for key, value in body.items()}
    return body


def with_huge(body: dict[str, Any], number: int) -> list[dict[str, Any]]:
    """The body with each of its fields, one at a time, set to `number`."""
    return [{**body, key: number} for key in body]


def json_bodies() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, body)
        for (method, path), (_, body) in sorted(POLICY.items())
        if isinstance(body, dict)
    ]


def test_the_sweep_covers_every_json_endpoint_of_the_policy_table() -> None:
    swept = {(method, path) for method, path, _ in json_bodies()}
    assert ("POST", "/api/auth/sign-in/email") in swept
    assert ("POST", "/api/auth/device/code") in swept
    assert ("PUT", "/api/v0/projects/{project_id}/environments/{environment_id}/secrets") in swept
    assert len(swept) >= 18


@pytest.mark.asyncio
async def test_no_bad_body_gets_a_server_error(api: Api) -> None:
    users = {
        who: await api.user(who.title(), f"{who}@matrix.example")
        for who in ("admin", "member", "peer", "removed", "outsider")
    }
    unlimited = {name: Budget(10**9, 1) for name in LIMITS}
    transport = api.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    transport.app.state.rate_limits = RateLimits(limits=unlimited)  # type: ignore[attr-defined]
    wrong: list[tuple[str, str, str, int, str]] = []
    for method, path, body in json_bodies():
        await sign_in_again(api, users)
        values, callers = await world(api, users)
        valid = fill(body, values)
        caller = callers.write_token if "/secrets" in path or "secret-kinds" in path else None
        headers = {**(caller or callers.admin), "Content-Type": "application/json"}
        url = path.format(**values)
        attempts: list[tuple[str, bytes | Any]] = [("deep", nested(DEEP).encode())]
        attempts.append(("nul", with_nul(valid)))
        attempts += [(f"huge {n}", huge) for n in HUGE for huge in with_huge(valid, n)]
        for what, sent in attempts:
            if isinstance(sent, bytes):
                response = await api.client.request(method, url, headers=headers, content=sent)
            else:
                response = await api.client.request(method, url, headers=headers, json=sent)
            status = response.status_code
            is_json_error = status < 400 or "error" in response.json()
            if status >= 500 or not is_json_error or (what == "deep" and status < 400):
                wrong.append((method, path, what, status, response.text[:100]))
    assert wrong == []
