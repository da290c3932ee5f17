"""`sigillo sessions` (issue 20): list the account's sessions, end one, end the others;
the real executable against a live server. Each test uses an account of its own, so that
ending sessions never touches the session the other CLI tests share."""

from __future__ import annotations

import json
import random

import httpx

from tests.cli.conftest import PASSWORD, Server, Sigillo
from tests.cli.test_catalog_cli import api_token, assert_one_line_error, terminal

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def another_session(server: Server, email: str) -> str:
    """A sign-in from a loopback address of its own (127.0.0.2-254): the shared server's
    per-address sign-in budget (10 a minute) belongs to the other tests' sign-ins."""
    source = f"127.0.0.{random.randint(2, 254)}"
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as client:
        answer = client.post(
            f"{server.url}/api/auth/sign-in/email",
            json={"email": email, "password": PASSWORD},
            headers={"User-Agent": FIREFOX},
        )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def alive(server: Server, token: str) -> bool:
    with server.api(token) as api:
        return bool(api.get("/api/v0/me").status_code == 200)


def as_account(sigillo: Sigillo) -> tuple[str, str, str]:
    """A fresh account with a second session (Firefox); the CLI uses the first one."""
    email, session = sigillo.server.new_account("sessions")
    sigillo.env["SIGILLO_TOKEN"] = session
    return email, session, another_session(sigillo.server, email)


def test_list_as_json_and_piped(sigillo: Sigillo) -> None:
    _, session, other = as_account(sigillo)
    done = sigillo("sessions", "--json")
    assert done.returncode == 0, done.stderr
    sessions = json.loads(done.stdout)["sessions"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    assert {s["device"] for s in sessions if not s["current"]} == {"Firefox on Linux"}
    assert session not in done.stdout
    assert other not in done.stdout
    piped = sigillo("sessions")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith("sessions:\n")
    assert 'device: "Firefox on Linux"' in piped.stdout
    assert "current: true" in piped.stdout


def test_the_table_on_a_terminal_marks_this_session(sigillo: Sigillo) -> None:
    as_account(sigillo)
    code, output = terminal(sigillo, "sessions")
    assert code == 0, output
    assert "DEVICE" in output
    assert "ADDRESS" in output
    assert "LAST USED" in output
    assert "Firefox on Linux" in output
    assert "127.0.0.1" in output
    assert output.count("this session") == 1


def test_end_one_session_by_id(sigillo: Sigillo) -> None:
    _, session, other = as_account(sigillo)
    sessions = json.loads(sigillo("sessions", "--json").stdout)["sessions"]
    [theirs] = [s["id"] for s in sessions if not s["current"]]
    done = sigillo("sessions", "end", theirs)
    assert done.returncode == 0, done.stderr
    assert f'id: "{theirs}"' in done.stdout
    assert not alive(sigillo.server, other)
    assert alive(sigillo.server, session)
    again = sigillo("sessions", "end", theirs)
    assert_one_line_error(again, "failed to end session (404)")


def test_end_others_keeps_this_one(sigillo: Sigillo) -> None:
    _, session, other = as_account(sigillo)
    third = another_session(sigillo.server, sigillo.server.new_account("x")[0])  # not hers
    done = sigillo("sessions", "end", "--others")
    assert done.returncode == 0, done.stderr
    assert "ended: 1" in done.stdout
    assert alive(sigillo.server, session)
    assert not alive(sigillo.server, other)
    assert alive(sigillo.server, third)


def test_end_needs_an_id_or_others(sigillo: Sigillo) -> None:
    as_account(sigillo)
    assert_one_line_error(sigillo("sessions", "end"), "name one session to end, or --others")


def test_an_api_token_is_told_it_has_no_sessions(sigillo: Sigillo) -> None:
    with sigillo.server.api() as api:
        made = api.post(
            "/api/v0/projects", json={"name": "sessions-app", "orgId": sigillo.server.org_id}
        )
    project_id = made.json()["id"]
    sigillo.env["SIGILLO_TOKEN"] = api_token(sigillo.server, project_id)["key"]
    done = sigillo("sessions")
    assert_one_line_error(done, "failed to list sessions (403): API tokens have no sessions")
    assert len(done.stderr.strip().splitlines()) == 1
