"""Issue 13, findings 1, 4 and 7, against a real `sigillo server` over real HTTP, on SQLite
and PostgreSQL (security.md, "The API"):

1. JSON endpoints read only `application/json` bodies (415), and the endpoints that set the
   session cookie refuse requests another site's page sent (403): an auto-submitted
   `text/plain` form cannot sign a browser in. A client that is no browser (no `Origin`,
   no `Sec-Fetch-Site`, like the CLI) still signs in.
4. With the session cookie, the routes that answer values (`getSecret`, `downloadSecrets`)
   answer only same-origin requests, or, without `Sec-Fetch-Site`, ones with the session's
   `X-CSRF-Token`; refused requests record no read. Bearer tokens are not concerned.
7. The session cookie is accepted under the one name the server sets: `__Host-…` over
   HTTPS, the plain name otherwise.

The Chromium versions of 1 and 4 are in tests/web/browser/test_hardening_cross_site.py.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.live_server import create_user_and_sign_in, server

PASSWORD = "correct horse battery staple"
SIGN_IN = "/api/auth/sign-in/email"
NOT_JSON = {"error": "request body must be application/json"}
CROSS_SITE = {"error": "cross-site request refused"}
CROSS_SITE_READ = {"error": "values are read with a cookie only by this site's own pages"}
VALUE = "hardening-value-7f3a9c21"
SETUP_LINE = re.compile(r"/setup\?token=([A-Za-z0-9_-]+)")
# Each request speaks from its own documentation address through X-Forwarded-For (loopback
# is the servers' one trusted proxy): the rate limits of one check never touch another's.
_addresses = (f"2001:db8:13::{n:x}" for n in itertools.count(1))


@dataclass
class Running:
    base: str
    data_dir: Path
    log: Path
    database_url: str

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Forwarded-For": next(_addresses), **kwargs.pop("headers", {})}
        return httpx.post(self.base + path, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Forwarded-For": next(_addresses), **kwargs.pop("headers", {})}
        return httpx.get(self.base + path, headers=headers, timeout=10, **kwargs)

    def account(self, email: str) -> str:
        """A new account, signed in as the CLI or a script would: its session token."""
        return create_user_and_sign_in(
            self.base, self.data_dir, email, PASSWORD, database_url=self.database_url
        )


@contextmanager
def running(database_url: str, tmp_path: Path, **env: str) -> Iterator[Running]:
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    env = {"SIGILLO_TRUSTED_PROXIES": "127.0.0.1/32,::1/128", **env}
    with server(data_dir, log, database_url=database_url, env=env) as port:
        yield Running(f"http://127.0.0.1:{port}", data_dir, log, database_url)


def credentials(email: str, password: str = PASSWORD) -> bytes:
    return json.dumps({"email": email, "password": password}).encode()


def session_cookies(response: httpx.Response) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if "sigillo_session=" in h]


# -- finding 1: login CSRF through the JSON sign-in ---------------------------------------------


def test_a_sign_in_body_that_is_not_json_is_refused_unread(
    database_url: str, tmp_path: Path
) -> None:
    with running(database_url, tmp_path) as srv:
        srv.account("ada@example.com")
        body = credentials("ada@example.com")
        # What an HTML form of another site can send, without any CORS preflight.
        for content_type in (
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ):
            headers = {"Content-Type": content_type} if content_type else {}
            refused = srv.post(SIGN_IN, content=body, headers=headers)
            assert (refused.status_code, refused.json()) == (415, NOT_JSON), content_type
            assert session_cookies(refused) == [], content_type
        for path in ("/api/auth/sign-up/email", "/api/auth/setup", "/api/v0/orgs"):
            other = srv.post(path, content=b'{"name": "x"}', headers={"Content-Type": "text/plain"})
            assert (other.status_code, other.json()) == (415, NOT_JSON), path
        # JSON with parameters is JSON; a request without a body is not concerned.
        signed = srv.post(
            SIGN_IN, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        assert signed.status_code == 200, signed.text
        token = signed.json()["token"]
        out = srv.post("/api/auth/sign-out", headers={"Authorization": f"Bearer {token}"})
        assert out.status_code == 200, out.text


def test_the_endpoints_that_set_the_cookie_refuse_other_sites(
    database_url: str, tmp_path: Path
) -> None:
    with running(database_url, tmp_path, SIGILLO_ALLOW_SIGNUP="1") as srv:
        setup_token = SETUP_LINE.findall(srv.log.read_text())[-1]
        body = {"email": "first@example.com", "password": PASSWORD, "name": "First"}
        foreign = [
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Origin": "http://localhost:1"},
            {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
            {"Sec-Fetch-Site": "same-site", "Origin": srv.base},  # a sibling subdomain
            {"Sec-Fetch-Site": "none"},  # a link opened from another application
        ]
        for headers in foreign:
            attempts = [
                (SIGN_IN, {"email": "first@example.com", "password": PASSWORD}),
                ("/api/auth/sign-up/email", {**body, "email": "new@example.com"}),
                ("/api/auth/setup", {**body, "token": setup_token}),
            ]
            for path, sent in attempts:
                refused = srv.post(path, json=sent, headers=headers)
                assert (refused.status_code, refused.json()) == (403, CROSS_SITE), (path, headers)
                assert session_cookies(refused) == [], (path, headers)
        # None of them did anything: the setup token is still good, no account was made.
        made = srv.post("/api/auth/setup", json={**body, "token": setup_token})
        assert made.status_code == 200, made.text
        # This server's own pages, and clients that are no browser at all (the CLI), sign in.
        for headers in ({"Origin": srv.base}, {"Sec-Fetch-Site": "same-origin"}, {}):
            signed = srv.post(
                SIGN_IN, json={"email": "first@example.com", "password": PASSWORD}, headers=headers
            )
            assert signed.status_code == 200, (headers, signed.text)
            assert len(session_cookies(signed)) == 1


# -- finding 4: cross-site GET of values -----------------------------------------------------------


def test_values_go_to_a_cookie_only_on_same_origin_requests(
    database_url: str, tmp_path: Path
) -> None:
    with running(database_url, tmp_path) as srv:
        token = srv.account("ada@example.com")
        auth = {"Authorization": f"Bearer {token}"}
        org = srv.post("/api/v0/orgs", json={"name": "Acme"}, headers=auth).json()["id"]
        made = srv.post("/api/v0/projects", json={"name": "App", "orgId": org}, headers=auth)
        project = made.json()["id"]
        secrets = f"/api/v0/projects/{project}/environments/dev/secrets"
        assert srv.post(secrets, json={"name": "API_KEY", "value": VALUE}, headers=auth).is_success
        events = f"/api/v0/projects/{project}/environments/dev/events"

        def reads() -> int:
            answer = srv.get(events, headers=auth).json()["events"]
            return sum(1 for event in answer if event["type"] == "secrets.read")

        cookie = {"Cookie": f"sigillo_session={token}"}
        csrf = srv.get("/api/auth/session", headers=cookie).json()["csrfToken"]
        routes = [f"{secrets}/download?format=env", f"{secrets}/API_KEY"]
        for route in routes:
            for headers in (
                {"Sec-Fetch-Site": "cross-site"},  # a link or a navigation from another site
                {"Sec-Fetch-Site": "same-site"},
                {"Sec-Fetch-Site": "none"},  # typed, or opened from another application
                {"Sec-Fetch-Site": "cross-site", "X-CSRF-Token": csrf},
                {},  # an older browser: without Sec-Fetch-Site, the CSRF header is needed
                {"X-CSRF-Token": "forged"},
            ):
                refused = srv.get(route, headers={**cookie, **headers})
                assert (refused.status_code, refused.json()) == (403, CROSS_SITE_READ), headers
                assert VALUE not in refused.text
        assert reads() == 0

        allowed = [
            {**cookie, "Sec-Fetch-Site": "same-origin"},
            {**cookie, "X-CSRF-Token": csrf},
            auth,  # bearer tokens are not concerned, with or without browser headers
            {**auth, "Sec-Fetch-Site": "cross-site"},
        ]
        for route in routes:
            for headers in allowed:
                answer = srv.get(route, headers=headers)
                assert answer.status_code == 200, (route, headers, answer.text)
                assert VALUE in answer.text
        assert reads() == len(routes) * len(allowed)
        # Listing returns no value and stays as it was for cookies from anywhere.
        listed = srv.get(secrets, headers={**cookie, "Sec-Fetch-Site": "cross-site"})
        assert listed.status_code == 200


# -- finding 7: the `__Host-` cookie is the only name over HTTPS ----------------------------------


def test_over_https_only_the_host_prefixed_cookie_is_a_session(
    database_url: str, tmp_path: Path
) -> None:
    with running(database_url, tmp_path, SIGILLO_PUBLIC_URL="https://sigillo.example.test") as srv:
        srv.account("ada@example.com")
        signed = srv.post(SIGN_IN, json={"email": "ada@example.com", "password": PASSWORD})
        [cookie] = session_cookies(signed)
        assert cookie.startswith("__Host-sigillo_session=")
        token = signed.json()["token"]
        host = srv.get("/api/auth/session", headers={"Cookie": f"__Host-sigillo_session={token}"})
        assert host.status_code == 200, host.text
        plain = srv.get("/api/auth/session", headers={"Cookie": f"sigillo_session={token}"})
        assert (plain.status_code, plain.json()) == (401, {"error": "unauthorized"})
        page = srv.get("/dash", headers={"Cookie": f"sigillo_session={token}"})
        assert (page.status_code, page.headers["location"]) == (303, "/login?redirect=%2Fdash")


def test_over_http_only_the_plain_cookie_is_a_session(database_url: str, tmp_path: Path) -> None:
    with running(database_url, tmp_path) as srv:
        token = srv.account("ada@example.com")
        plain = srv.get("/api/auth/session", headers={"Cookie": f"sigillo_session={token}"})
        assert plain.status_code == 200, plain.text
        host = srv.get("/api/auth/session", headers={"Cookie": f"__Host-sigillo_session={token}"})
        assert host.status_code == 401
