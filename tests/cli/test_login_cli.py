"""`sigillo login` and `sigillo logout` (behaviour.md 11.1, 11.2, 17.4, [D6], [D7]).

The device flow runs twice against the real server (approve and deny, concurrently: the
server's polling interval is a fixed 5 s). Its other branches (slow_down, expiry, time-out,
malformed answers) run in-process against a scripted stdlib server, with the CLI's sleeps
recorded instead of slept.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from sigillo.__main__ import main
from sigillo.cli.commands import auth
from tests.cli.conftest import EMAIL, PASSWORD, Server, Sigillo, sigillo_command

WAITING = "Waiting for approval..."


def config(home: Path) -> dict[str, Any]:
    return json.loads((home / ".sigillo" / "config.json").read_text())  # type: ignore[no-any-return]


def write_config(home: Path, scoped: dict[str, dict[str, str]]) -> None:
    (home / ".sigillo").mkdir(exist_ok=True)
    (home / ".sigillo" / "config.json").write_text(json.dumps({"scoped": scoped}))


def fresh_session(server: Server) -> str:
    """A session of its own: logging out must never end the session other tests share."""
    answer = httpx.post(
        f"{server.url}/api/auth/sign-in/email", json={"email": EMAIL, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


# --- login --token ----------------------------------------------------------------------


def test_login_with_token_saves_it_without_a_device_flow(
    sigillo: Sigillo, home: Path, cli_server: Server
) -> None:
    done = sigillo("login", "--token", "sig_test_123", "--scope", "/")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "✔ Saved bearer token\nUse this for CI or API-token-based secret access.\n"
    )
    assert done.stderr == ""
    assert config(home) == {"scoped": {"/": {"token": "sig_test_123", "api-url": cli_server.url}}}
    path = home / ".sigillo" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().endswith("}\n")


def test_login_scope_defaults_to_root(sigillo: Sigillo, home: Path) -> None:
    assert sigillo("login", "--token", "T1").returncode == 0
    assert list(config(home)["scoped"]) == ["/"]


def test_sigillo_token_variable_counts_as_given(sigillo: Sigillo, home: Path) -> None:
    """17.4: `SIGILLO_TOKEN=… sigillo login` saves the token; no device flow starts."""
    done = sigillo("login", "--scope", ".", env={"SIGILLO_TOKEN": "sig_from_env"})
    assert done.returncode == 0, done.stderr
    assert "Saved bearer token" in done.stdout
    assert WAITING not in done.stdout
    assert config(home)["scoped"][str(sigillo.cwd)]["token"] == "sig_from_env"


def test_login_scope_is_normalised_and_other_scopes_are_kept(
    sigillo: Sigillo, home: Path, tmp_path: Path
) -> None:
    write_config(home, {"/other": {"project": "P", "environment": "dev"}})
    (sigillo.cwd / "app").mkdir()
    done = sigillo(
        "login",
        "--token",
        "T2",
        "--api-url",
        "https://secrets.example.com",
        "--scope",
        "./app/../app/",
    )
    assert done.returncode == 0, done.stderr
    assert config(home)["scoped"] == {
        "/other": {"project": "P", "environment": "dev"},
        str(sigillo.cwd / "app"): {"token": "T2", "api-url": "https://secrets.example.com"},
    }


def test_login_token_keeps_project_saved_on_the_same_scope(sigillo: Sigillo, home: Path) -> None:
    write_config(home, {"/": {"token": "old", "project": "P", "environment": "dev"}})
    assert sigillo("login", "--token", "new").returncode == 0
    record = config(home)["scoped"]["/"]
    assert record["token"] == "new"
    assert (record["project"], record["environment"]) == ("P", "dev")


def test_login_output_is_coloured_only_on_a_terminal(sigillo: Sigillo, home: Path) -> None:
    from tests.cli.terminal import in_terminal

    code, output = in_terminal(
        [*sigillo_command(), "login", "--token", "T3"], sigillo.env, sigillo.cwd
    )
    assert code == 0
    assert b"\x1b[32m\xe2\x9c\x94\x1b[0m Saved bearer token" in output  # green check
    assert b"\x1b[2mUse this for CI" in output  # dim


def test_login_token_is_trimmed(sigillo: Sigillo, home: Path) -> None:
    """`SIGILLO_TOKEN=$(cat token.txt)` keeps the file's newline: it is not part of it."""
    done = sigillo("login", env={"SIGILLO_TOKEN": "  sig_trimmed\n"})
    assert done.returncode == 0, done.stderr
    assert config(home)["scoped"]["/"]["token"] == "sig_trimmed"


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("sig_a b", "error: the token holds spaces or control characters\n"),
        ("sig_a\nb", "error: the token holds spaces or control characters\n"),
        ("sig_\x1b[2J", "error: the token holds spaces or control characters\n"),
        (" ", "error: the token is empty\n"),
    ],
)
def test_login_refuses_a_token_that_cannot_be_sent(
    sigillo: Sigillo, home: Path, bad: str, error: str
) -> None:
    done = sigillo("login", "--token", bad)
    assert done.returncode == 1
    assert done.stderr.startswith(error)
    assert "sig_" not in done.stdout + done.stderr  # never echoed
    assert not (home / ".sigillo" / "config.json").exists()


def test_login_with_bad_arguments_is_a_usage_error(sigillo: Sigillo) -> None:
    done = sigillo("login", "--scope")
    assert done.returncode == 2
    assert done.stderr.endswith("\n  see: sigillo login --help\n")
    assert sigillo("login", "extra").returncode == 2


# --- the device flow against the real server --------------------------------------------


def start_login(sigillo: Sigillo, home: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`sigillo login` running; answers the process and the user code it printed."""
    process = subprocess.Popen(
        [*sigillo_command(), "login", "--no-browser", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**sigillo.env, "HOME": str(home)},
        cwd=sigillo.cwd,
    )
    assert process.stdout is not None
    head = "".join(process.stdout.readline() for _ in range(6))
    found = re.search(r"^Code: ([A-Z]{4}-[A-Z]{4})$", head, re.MULTILINE)
    assert found, head
    return process, head


def finish(process: subprocess.Popen[str], head: str) -> tuple[int, str, str]:
    """Wait for the login to end; answers its exit code, all of stdout, and stderr."""
    assert process.stdout is not None
    assert process.stderr is not None
    with process:  # closes the pipes
        stdout = process.stdout.read()  # through the buffer `start_login` read from
        stderr = process.stderr.read()
        process.wait(timeout=60)
    return process.returncode, head + stdout, stderr


def test_device_login_approved_and_denied(
    sigillo: Sigillo, home: Path, tmp_path: Path, cli_server: Server
) -> None:
    """[D7] a saved token does not skip the device flow; approval saves a session that works
    for `me`; denial ([D6]) ends in `error: login was denied`. Both logins run at once, so
    the test waits one polling interval (5 s), not two."""
    write_config(home, {"/": {"token": "stale-session-token", "api-url": cli_server.url}})
    other_home = tmp_path / "other-home"
    other_home.mkdir()
    approved, approved_head = start_login(sigillo, home)
    denied, denied_head = start_login(sigillo, other_home)

    approved_code = re.findall(r"Code: (\S+)", approved_head)[0]
    denied_code = re.findall(r"Code: (\S+)", denied_head)[0]
    with cli_server.api() as api:
        assert api.post("/api/auth/device/approve", json={"userCode": approved_code}).json() == {
            "success": True
        }
        # the dash is optional, as the user may type it either way
        answer = api.post("/api/auth/device/deny", json={"userCode": denied_code.replace("-", "")})
        assert answer.json() == {"success": True}

    code, stdout, stderr = finish(approved, approved_head)
    assert code == 0, stderr
    url = f"{cli_server.url}/device?user_code={approved_code}"
    assert stdout == (
        f"\nOpen this URL in your browser:\n  {url}\n\nCode: {approved_code}\n\n"
        f"{WAITING}\n✔ Logged in successfully\n"
    )
    assert stderr == ""
    record = config(home)["scoped"]["/"]
    assert record["api-url"] == cli_server.url
    token = record["token"]
    assert token != "stale-session-token"
    assert not token.startswith("sig_")

    me = sigillo("me", "--json")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["user"]["email"] == EMAIL

    code, stdout, stderr = finish(denied, denied_head)
    assert code == 1
    assert stderr == "error: login was denied\n"
    assert stdout.endswith(f"{WAITING}\n")
    assert not (other_home / ".sigillo" / "config.json").exists()


def test_device_login_to_an_unreachable_server(sigillo: Sigillo, home: Path) -> None:
    done = sigillo("login", "--no-browser", env={"SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: failed to request device code: cannot connect to http://127.0.0.1:1"
    )
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert not (home / ".sigillo" / "config.json").exists()


# --- the device flow against a scripted server ------------------------------------------


class Scripted:
    """A stdlib HTTP server answering the device endpoints from a script:
    `code` is the answer to /device/code, `polls` the answers to /device/token in order
    (the last one repeats). Records every request's path and JSON body."""

    def __init__(self) -> None:
        self.code: tuple[int, Any] = (200, codes())
        self.polls: list[tuple[int, Any]] = [(200, {"access_token": "session-from-device"})]
        self.requests: list[tuple[str, Any, str | None]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                scripted.requests.append((self.path, body, self.headers.get("Authorization")))
                if self.path == "/api/auth/device/code":
                    status, answer = scripted.code
                elif self.path == "/api/auth/device/token":
                    polls = scripted.polls
                    status, answer = polls.pop(0) if len(polls) > 1 else polls[0]
                else:
                    status, answer = 200, {"ok": True}
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def polled(self) -> list[Any]:
        return [body for path, body, _ in self.requests if path == "/api/auth/device/token"]


def codes(**changes: Any) -> dict[str, Any]:
    answer = {
        "device_code": "D" * 40,
        "user_code": "BCDF-GHJK",
        "verification_uri": "http://example.test/device",
        "verification_uri_complete": "http://example.test/device?user_code=BCDF-GHJK",
        "expires_in": 600,
        "interval": 2,
    }
    answer.update(changes)
    return {k: v for k, v in answer.items() if v is not None}


@pytest.fixture
def scripted(
    monkeypatch: pytest.MonkeyPatch, home: Path, tmp_path: Path
) -> Iterator[tuple[Scripted, list[float]]]:
    """The scripted server, and the sleeps the CLI asked for (none is slept)."""
    server = Scripted()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    for name in list(os.environ):
        if name.startswith("SIGILLO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SIGILLO_API_URL", server.url)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    sleeps: list[float] = []
    monkeypatch.setattr(auth, "time", SimpleNamespace(sleep=sleeps.append))
    try:
        yield server, sleeps
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=5)


def run_login(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["login", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_device_flow_polls_as_rfc_8628_says(
    scripted: tuple[Scripted, list[float]], capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    server, sleeps = scripted
    server.polls = [
        (400, {"error": "authorization_pending", "error_description": "Authorization pending"}),
        (400, {"error": "slow_down", "error_description": "Polling too frequently"}),
        (500, b"<html>proxy error</html>"),  # no `error`: keep polling
        (400, {"error": "authorization_pending"}),
        (200, {"access_token": "session-from-device", "token_type": "Bearer"}),
    ]
    code, out, err = run_login(capsys)
    assert (code, err) == (0, "")
    assert out.endswith(f"{WAITING}\n✔ Logged in successfully\n")
    assert "  http://example.test/device?user_code=BCDF-GHJK\n" in out
    assert sleeps == [2, 2, 7, 7, 7]  # the server's interval, +5 s after slow_down
    assert server.requests[0][1] == {"client_id": "sigillo-cli"}
    assert (
        server.polled()
        == [
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": "D" * 40,
                "client_id": "sigillo-cli",
            }
        ]
        * 5
    )
    assert all(authorization is None for _, _, authorization in server.requests)
    assert config(home)["scoped"]["/"] == {
        "token": "session-from-device",
        "api-url": server.url,
    }


def test_device_flow_without_interval_waits_five_seconds(
    scripted: tuple[Scripted, list[float]], capsys: pytest.CaptureFixture[str]
) -> None:
    server, sleeps = scripted
    server.code = (200, codes(interval=None, verification_uri_complete=None))
    code, out, _ = run_login(capsys)
    assert code == 0
    assert sleeps == [5]
    assert "  http://example.test/device\n" in out  # no complete URI: the plain one


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"error": "expired_token"}, "error: device code expired. Run login again.\n"),
        ({"error": "access_denied"}, "error: login was denied\n"),
        (
            {"error": "invalid_grant", "error_description": "Invalid device code"},
            "error: Invalid device code\n",
        ),
        ({"error": "unsupported_grant_type"}, "error: unsupported_grant_type\n"),
    ],
)
def test_device_flow_refusals(
    scripted: tuple[Scripted, list[float]],
    capsys: pytest.CaptureFixture[str],
    home: Path,
    answer: dict[str, str],
    message: str,
) -> None:
    server, _ = scripted
    server.polls = [(400, {"error": "authorization_pending"}), (400, answer)]
    code, out, err = run_login(capsys)
    assert code == 1
    assert err == message
    assert out.endswith(f"{WAITING}\n")  # the waiting line is ended before the error
    assert not (home / ".sigillo" / "config.json").exists()


def test_device_flow_gives_up_after_120_polls(
    scripted: tuple[Scripted, list[float]], capsys: pytest.CaptureFixture[str]
) -> None:
    server, sleeps = scripted
    server.polls = [(400, {"error": "authorization_pending"})]
    code, _, err = run_login(capsys)
    assert (code, err) == (1, "error: login timed out\n")
    assert len(server.polled()) == 120
    assert len(sleeps) == 120


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            (500, {"error": "database is down"}),
            "error: device code request failed (500): database is down\n",
        ),
        ((429, b"slow"), "error: device code request failed (429): unknown error\n"),
        ((200, codes(device_code=None)), "error: device code response missing device_code\n"),
        ((200, codes(user_code="")), "error: device code response missing user_code\n"),
        (
            (200, codes(verification_uri=None, verification_uri_complete=None)),
            "error: device code response missing verification URI\n",
        ),
    ],
)
def test_device_code_request_failures(
    scripted: tuple[Scripted, list[float]],
    capsys: pytest.CaptureFixture[str],
    answer: tuple[int, Any],
    message: str,
) -> None:
    server, sleeps = scripted
    server.code = answer
    code, out, err = run_login(capsys)
    assert (code, out, err) == (1, "", message)
    assert sleeps == []


def test_device_flow_shows_server_text_escaped(
    scripted: tuple[Scripted, list[float]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile server cannot drive the user's terminal through the code or the URL."""
    server, _ = scripted
    server.code = (200, codes(user_code="AB\x1b]0;pwned\x07CD"))
    code, out, _ = run_login(capsys)
    assert code == 0
    assert "\x1b" not in out
    assert "Code: AB\\u001b]0;pwned\\u0007CD" in out


def test_device_flow_on_a_terminal_is_coloured(
    scripted: tuple[Scripted, list[float]], sigillo: Sigillo
) -> None:
    """The real executable in a terminal, against the scripted server (interval 0)."""
    from tests.cli.terminal import in_terminal

    server, _ = scripted
    server.code = (200, codes(interval=0))
    env = {**sigillo.env, "SIGILLO_API_URL": server.url}
    code, output = in_terminal([*sigillo_command(), "login", "--no-browser"], env, sigillo.cwd)
    assert code == 0, output
    assert output.startswith(b"\r\n\x1b[1mOpen this URL in your browser:\x1b[0m\r\n")
    assert b"  \x1b[36mhttp://example.test/device?user_code=BCDF-GHJK\x1b[0m\r\n" in output
    assert b"\x1b[34mCode:\x1b[0m \x1b[1mBCDF-GHJK\x1b[0m\r\n\r\n" in output
    assert output.endswith(
        b"\x1b[2mWaiting for approval...\x1b[0m\r\n"
        b"\x1b[32m\xe2\x9c\x94\x1b[0m Logged in successfully\r\n"
    )


def fake_opener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `xdg-open` on PATH that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "opened.txt"
    opener = bin_dir / "xdg-open"
    opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    opener.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def wait_for(path: Path, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return True
        time.sleep(0.02)
    return False


def test_browser_is_opened_when_a_display_exists(
    scripted: tuple[Scripted, list[float]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = fake_opener(tmp_path, monkeypatch)
    monkeypatch.setenv("DISPLAY", ":0")
    assert run_login(capsys)[0] == 0
    assert wait_for(record)
    assert record.read_text() == "http://example.test/device?user_code=BCDF-GHJK\n"
    for opener in auth._browsers:
        opener.wait(timeout=10)
    auth._browsers.clear()


@pytest.mark.parametrize("case", ["no-browser", "no-display", "unsafe-url"])
def test_browser_is_not_opened(
    scripted: tuple[Scripted, list[float]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    server, _ = scripted
    record = fake_opener(tmp_path, monkeypatch)
    args = []
    if case == "no-browser":
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
        args = ["--no-browser"]
    elif case == "unsafe-url":
        monkeypatch.setenv("DISPLAY", ":0")
        server.code = (200, codes(verification_uri_complete="http://x.test/device?a=1&calc"))
    assert run_login(capsys, *args)[0] == 0
    time.sleep(0.3)
    assert not record.exists()


def test_a_broken_opener_never_fails_login(
    scripted: tuple[Scripted, list[float]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("PATH", "/nonexistent")  # no xdg-open at all
    code, out, err = run_login(capsys)
    assert (code, err) == (0, "")
    assert "Logged in successfully" in out


# --- logout -----------------------------------------------------------------------------


def test_logout_removes_the_whole_scope_record(sigillo: Sigillo, home: Path) -> None:
    write_config(
        home,
        {
            "/": {"token": "sig_abc", "api-url": "http://127.0.0.1:1", "project": "P"},
            "/srv/app": {"project": "Q", "environment": "dev"},
        },
    )
    done = sigillo("logout")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "✔ Logged out from scope /\n"
    assert done.stderr == ""  # an API token is not signed out: nothing was sent
    assert config(home) == {"scoped": {"/srv/app": {"project": "Q", "environment": "dev"}}}


def test_logout_of_an_absent_scope_still_writes_the_file(sigillo: Sigillo, home: Path) -> None:
    done = sigillo("logout", "--scope", ".")
    assert done.returncode == 0
    assert done.stdout == f"✔ Logged out from scope {sigillo.cwd}\n"
    assert config(home) == {"scoped": {}}
    assert stat.S_IMODE((home / ".sigillo" / "config.json").stat().st_mode) == 0o600


def test_logout_scope_in_bold_on_a_terminal(sigillo: Sigillo) -> None:
    from tests.cli.terminal import in_terminal

    code, output = in_terminal([*sigillo_command(), "logout"], sigillo.env, sigillo.cwd)
    assert code == 0
    assert b"Logged out from scope \x1b[1m/\x1b[0m" in output


def test_logout_ends_the_session_on_the_server(
    sigillo: Sigillo, home: Path, cli_server: Server
) -> None:
    session = fresh_session(cli_server)
    assert sigillo("login", "--token", session).returncode == 0
    assert sigillo("me").returncode == 0
    done = sigillo("logout")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    with cli_server.api(session) as api:
        assert api.get("/api/v0/me").status_code == 401
    after = sigillo("me", env={"SIGILLO_TOKEN": session})
    assert after.returncode == 1


def test_logout_keeps_a_session_another_scope_still_uses(
    sigillo: Sigillo, home: Path, cli_server: Server
) -> None:
    session = fresh_session(cli_server)
    write_config(
        home,
        {
            "/": {"token": session, "api-url": cli_server.url},
            str(sigillo.cwd): {"token": session},
        },
    )
    assert sigillo("logout", "--scope", ".").returncode == 0
    with cli_server.api(session) as api:
        assert api.get("/api/v0/me").status_code == 200
    assert sigillo("logout").returncode == 0
    with cli_server.api(session) as api:
        assert api.get("/api/v0/me").status_code == 401


def test_logout_works_offline(sigillo: Sigillo, home: Path) -> None:
    write_config(home, {"/": {"token": "a-session", "api-url": "http://127.0.0.1:1"}})
    done = sigillo("logout", env={"SIGILLO_API_URL": ""})
    assert done.returncode == 0
    assert done.stdout == "✔ Logged out from scope /\n"
    assert done.stderr.startswith("note: the session was not ended on the server: cannot connect")
    assert config(home) == {"scoped": {}}


def test_logout_with_bad_arguments_is_a_usage_error(sigillo: Sigillo) -> None:
    done = sigillo("logout", "--scope")
    assert done.returncode == 2
    assert done.stderr.endswith("\n  see: sigillo logout --help\n")
