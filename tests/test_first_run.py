"""First run with the real `sigillo server` process: while no account exists, a start logs
one setup URL; setup through it makes the first account, once ([D17], behaviour.md 5.1)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.live_server import server

SETUP_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/setup\?token=([A-Za-z0-9_-]+)")
PASSWORD = "correct horse battery staple"
SETUP_DONE = {"error": "setup is already complete: an account exists"}
SETUP_REFUSED = {"error": "invalid setup token"}


def setup(port: int, token: str, email: str) -> httpx.Response:
    body = {"token": token, "email": email, "password": PASSWORD, "name": "Root"}
    return httpx.post(f"http://127.0.0.1:{port}/api/auth/setup", json=body, timeout=10)


def test_the_first_start_logs_a_setup_url_that_makes_the_first_account_once(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first_log = tmp_path / "first.log"
    with server(data, first_log) as port:
        text = first_log.read_text(errors="replace")
        found = SETUP_LINE.findall(text)
        assert len(found) == 1, text  # one line, with this server's own port
        assert int(found[0][0]) == port
        token = found[0][1]
        assert len(token) >= 22  # at least 128 bits
        stored = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith("sigillo"))
        assert token.encode() not in stored  # the database keeps only its hash

        refused = setup(port, token[::-1], "root@example.com")
        assert (refused.status_code, refused.json()) == (403, SETUP_REFUSED)
        made = setup(port, token, "root@example.com")
        assert made.status_code == 200, made.text
        session = made.json()["token"]
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v0/me",
            headers={"Authorization": f"Bearer {session}"},
            timeout=10,
        )
        assert me.json()["user"]["email"] == "root@example.com"
        again = setup(port, token, "second@example.com")
        assert (again.status_code, again.json()) == (409, SETUP_DONE)
        assert PASSWORD not in first_log.read_text(errors="replace")

    # an account exists now: the next start offers no setup, and the old token stays void
    second_log = tmp_path / "second.log"
    with server(data, second_log) as port:
        assert "/setup?token=" not in second_log.read_text(errors="replace")
        late = setup(port, token, "late@example.com")
        assert (late.status_code, late.json()) == (409, SETUP_DONE)


def test_a_restart_before_setup_logs_a_new_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tokens = []
    for run in range(2):
        log = tmp_path / f"run{run}.log"
        with server(data, log):
            [(_, token)] = SETUP_LINE.findall(log.read_text(errors="replace"))
            tokens.append(token)
    assert tokens[0] != tokens[1]
