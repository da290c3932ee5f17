"""Bad input against a real server over real HTTP, on SQLite and PostgreSQL (issue 13,
findings 6, 8 and 9): a `Host` smuggling another name through its port, JSON nested too
deeply, NUL characters and huge integers on every JSON endpoint, and validation errors that
never echo what was sent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_fuzz import sign_up_with_an_org
from tests.live_server import server

SECRET = "postgres://u:p4ss@db.internal/prod"


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A running server, and the session of a user with an org and a project."""
    with server(tmp_path / "data", tmp_path / "server.log", database_url=database_url) as port:
        base = f"http://127.0.0.1:{port}"
        token = sign_up_with_an_org(base, database_url, tmp_path / "data")
        yield base, {"Authorization": f"Bearer {token}"}
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "unhandled" not in log, log[-4000:]


def raw(base: str, request: bytes) -> tuple[int, bytes]:
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_a_host_with_a_smuggled_name_is_refused(live: tuple[str, dict[str, str]]) -> None:
    base, _ = live
    port = base.rsplit(":", 1)[1]
    body = b'{"client_id": "sigillo-cli"}'
    for host in [
        f"127.0.0.1:{port}@evil.example",
        f"localhost:{port}/evil.example",
        "127.0.0.1:99999",
        "127.0.0.1:",
        "localhost:80:80",
        "[::1]evil",
        "127.0.0.1 .evil.example",
    ]:
        request = (
            f"POST /api/auth/device/code HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + body
        status, answer = raw(base, request)
        assert status == 400, (host, answer)
        assert b"evil" not in answer.split(b"\r\n\r\n", 1)[1]
    twice = (
        f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    assert raw(base, twice)[0] == 400
    fine = httpx.post(f"{base}/api/auth/device/code", json={"client_id": "sigillo-cli"})
    assert fine.json()["verification_uri"] == f"{base}/device"


def _refused(answer: httpx.Response) -> dict[str, Any]:
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert isinstance(body.get("error"), str)
    return body


def test_json_nested_too_deeply_is_a_422(live: tuple[str, dict[str, str]]) -> None:
    base, _ = live
    for path in ["/api/auth/sign-in/email", "/api/auth/sign-up/email", "/api/auth/device/code"]:
        bodies = [  # three per route: sign-up allows five a minute per address
            "[" * 33 + "]" * 33,
            '{"email":' + "[" * 1000 + "]" * 1000 + "}",
            "[" * 100_000 + "]" * 100_000,
        ]
        for body in bodies:
            answer = httpx.post(
                base + path, content=body, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["detail"] == [{"field": "body", "message": "is nested too deeply"}]


def test_nul_in_device_fields_and_huge_expiries_are_4xx(
    live: tuple[str, dict[str, str]],
) -> None:
    base, session = live
    for body in ({"client_id": "cli\x00"}, {"client_id": "cli", "scope": "a\x00b"}):
        answer = httpx.post(f"{base}/api/auth/device/code", json=body)
        assert _refused(answer)["error"] == "validation failed"
    project = httpx.get(f"{base}/api/v0/projects", headers=session).json()["projects"][0]["id"]
    for expires in (2**63, 2**63 + 1, 2**64, 10**30, -(2**63) - 1):
        answer = httpx.post(
            f"{base}/api/v0/projects/{project}/tokens",
            json={"name": "ci", "expiresAt": expires},
            headers=session,
        )
        assert answer.status_code == 422, (expires, answer.text)
        assert answer.json()["detail"][0]["field"] == "expiresAt"


def test_validation_errors_never_echo_the_request(live: tuple[str, dict[str, str]]) -> None:
    base, session = live
    project = httpx.get(f"{base}/api/v0/projects", headers=session).json()["projects"][0]["id"]
    secrets = f"{base}/api/v0/projects/{project}/environments/development/secrets"
    cases = [
        ("/api/auth/sign-in/email", {"email": "a@b.c", "password": "x", SECRET: 1}),
        ("/api/auth/sign-in/email", {"email": SECRET}),
        ("/api/auth/sign-in/email", {"email": [SECRET], "password": SECRET}),
        ("/api/auth/sign-up/email", {SECRET: SECRET}),
        ("/api/auth/device/code", {"client_id": SECRET * 10}),
        (secrets, {"secrets": {SECRET: 5}}),
        (secrets, {"secrets": {"A": {"value": "x", SECRET: 1}}}),
    ]
    for path, body in cases:
        url = path if path.startswith("http") else base + path
        answer = httpx.post(url, json=body, headers=session)
        refused = _refused(answer)
        assert "p4ss" not in answer.text, answer.text
        assert "postgres" not in answer.text, answer.text
        assert "`" not in answer.text, answer.text
        for item in refused.get("detail", []):
            assert item["field"] in {"body", "email", "password", "name", "client_id", "secrets"}
    unknown = httpx.post(
        f"{base}/api/auth/sign-in/email",
        json={"email": "a@b.c", "password": "x", SECRET: 1},
    ).json()
    assert unknown["detail"] == [{"field": "body", "message": "unknown field"}]
    wrong = httpx.post(f"{base}/api/auth/sign-in/email", json={"email": 5, "password": "x"}).json()
    assert wrong["detail"] == [{"field": "email", "message": "expected a string"}]
    missing = httpx.post(f"{base}/api/auth/sign-in/email", json={"email": SECRET}).json()
    assert missing["detail"] == [{"field": "password", "message": "is required"}]
