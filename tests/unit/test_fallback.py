"""The pure parts of the offline copy (cli/fallback.py, issue 18): durations, names, the
sealing and what an altered copy gets. tests/cli/test_fallback.py runs it end to end."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sigillo.cli import fallback, fallback_files
from sigillo.cli.client import Client, Unreachable
from sigillo.cli.errors import CliError

TOKEN = "sig_token_of_the_laptop_0123456789"
URL = "https://secrets.example.com"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(None, 86400), ("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), (" 1s ", 1)],
)
def test_durations(text: str | None, seconds: int) -> None:
    assert fallback.max_age(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "5", "h", "5x", "-1h", "1.5h", "24 h", "1h30m", "5S"])
def test_bad_durations_are_clear_errors(text: str) -> None:
    with pytest.raises(CliError) as raised:
        fallback.max_age(text)
    assert raised.value.message == f'invalid --fallback-max-age "{text}"'
    assert raised.value.hint == ("  expected a duration such as 90s, 30m, 24h or 7d",)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59.9, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
        (86400, "1 d"),
        (90000, "1 d 1 h"),
    ],
)
def test_ages(seconds: float, text: str) -> None:
    assert fallback.age_text(seconds) == text


@pytest.mark.parametrize(
    ("flag", "variable", "off"),
    [
        (False, "", False),
        (True, "", True),
        (False, "1", True),
        (False, "0", False),
        (False, "true", True),
        (False, "no", False),
    ],
)
def test_turned_off(flag: bool, variable: str, off: bool) -> None:
    args = SimpleNamespace(no_fallback=flag)
    assert fallback.disabled(args, {"SIGILLO_NO_FALLBACK": variable}) is off


def test_names_say_nothing_and_depend_on_everything() -> None:
    name = fallback_files.file_name(TOKEN, URL, "proj_1", "dev", "json-kinds")
    target, _, kind = name.partition("-")
    assert len(target) == len(kind) == 32
    assert all(c in "0123456789abcdef" for c in target + kind)
    assert name == fallback_files.file_name(TOKEN, URL, "proj_1", "dev", "json-kinds")
    others = {
        fallback_files.file_name("sig_another", URL, "proj_1", "dev", "json-kinds"),
        fallback_files.file_name(TOKEN, URL + ":8443", "proj_1", "dev", "json-kinds"),
        fallback_files.file_name(TOKEN, URL, "proj_2", "dev", "json-kinds"),
        fallback_files.file_name(TOKEN, URL, "proj_1", "prod", "json-kinds"),
        fallback_files.file_name(TOKEN, URL, "proj_1", "dev", "env"),
    }
    assert name not in others
    assert len(others) == 5
    # The formats of one target share its prefix, so forgetting a target finds them all.
    assert fallback_files.file_name(TOKEN, URL, "proj_1", "dev", "env").startswith(target + "-")
    assert fallback_files.credential_directory(
        Path("/x"), TOKEN
    ) != fallback_files.credential_directory(Path("/x"), "sig_another")


BINDING = b'["sigillo offline copy 1", "https://secrets.example.com", "p", "dev", "env"]'


def test_sealed_opens_only_with_its_token_and_binding() -> None:
    sealed = fallback_files.seal(TOKEN, BINDING, b"A=secret-value\n")
    assert b"secret-value" not in sealed
    assert TOKEN.encode() not in sealed
    assert fallback_files.open_sealed(TOKEN, BINDING, sealed) == b"A=secret-value\n"
    assert fallback_files.open_sealed("sig_another", BINDING, sealed) is None
    assert fallback_files.open_sealed(TOKEN, BINDING.replace(b"dev", b"prod"), sealed) is None
    assert fallback_files.seal(TOKEN, BINDING, b"x") != fallback_files.seal(
        TOKEN, BINDING, b"x"
    )  # salted


def test_every_altered_byte_is_refused() -> None:
    sealed = fallback_files.seal(TOKEN, BINDING, b"A=secret-value\n")
    for at in range(len(sealed)):
        altered = bytearray(sealed)
        altered[at] ^= 0x01
        assert fallback_files.open_sealed(TOKEN, BINDING, bytes(altered)) is None, at
    assert fallback_files.open_sealed(TOKEN, BINDING, sealed[:-1]) is None
    assert fallback_files.open_sealed(TOKEN, BINDING, b"") is None


class _Out:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str, *styles: str) -> None:
        self.notes.append(text)


def _context(home: Path, **args: Any) -> Any:
    options = {"fallback_max_age": None, "at": None, "no_fallback": False, **args}
    resolved = SimpleNamespace(token=TOKEN, api_url=URL + "/", project="proj_1")
    return SimpleNamespace(
        args=SimpleNamespace(**options), env={"HOME": str(home)}, resolved=resolved, out=_Out()
    )


def _unreachable() -> Unreachable:
    return Unreachable(f"cannot connect to {URL}: connection refused", reason="connection refused")


def _kept(ctx: Any, body: bytes, fetched: float) -> fallback.Copies:
    copies = fallback.Copies.of(ctx, "dev", "running from")
    assert copies is not None
    copies._keep("json-kinds", body, fetched)
    return copies


def test_a_kept_copy_stands_in_with_a_note(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    copies = _kept(ctx, b'{"A": {"value": "v", "kind": "secret"}}', time.time() - 7500)
    [path] = [p for p in (tmp_path / ".sigillo" / "fallback").rglob("*-*") if p.suffix != ".seen"]
    assert path.stat().st_mode & 0o777 == 0o600
    answer = copies.use("json-kinds", _unreachable())
    assert (answer.status, json.loads(answer.body)) == (
        200,
        {"A": {"value": "v", "kind": "secret"}},
    )
    [note] = ctx.out.notes
    assert note.startswith("sigillo: server unreachable (connection refused); running from the")
    assert note.endswith(" UTC (2 h 5 min old)")


def test_an_altered_copy_is_refused_and_removed(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    copies = _kept(ctx, b"{}", time.time())
    [path] = [p for p in (tmp_path / ".sigillo" / "fallback").rglob("*-*") if p.suffix != ".seen"]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x80
    path.write_bytes(bytes(data))
    failure = _unreachable()
    with pytest.raises(Unreachable) as raised:
        copies.use("json-kinds", failure)
    assert raised.value is failure
    assert not path.exists()
    assert ctx.out.notes == ["note: the offline copy could not be read (damaged); removed"]


def test_a_copy_older_than_the_limit_is_an_error(tmp_path: Path) -> None:
    ctx = _context(tmp_path, fallback_max_age="1h")
    copies = _kept(ctx, b"{}", time.time() - 3 * 86400 - 7200)
    with pytest.raises(CliError) as raised:
        copies.use("json-kinds", _unreachable())
    assert "; the offline copy of dev is 3 d 2 h old (" in raised.value.message
    assert raised.value.message.endswith("older than --fallback-max-age (1 h)")
    assert ctx.out.notes == []


def test_at_and_turned_off_give_no_copies(tmp_path: Path) -> None:
    assert fallback.Copies.of(_context(tmp_path, at="2026-12-07T09:30:00Z"), "dev", "x") is None
    _kept(_context(tmp_path), b"{}", time.time())
    assert list((tmp_path / ".sigillo" / "fallback").rglob("*-*"))
    assert fallback.Copies.of(_context(tmp_path, no_fallback=True), "dev", "x") is None
    assert not list((tmp_path / ".sigillo" / "fallback").rglob("*-*"))  # and forgotten


def test_forgetting_a_credential(tmp_path: Path) -> None:
    _kept(_context(tmp_path), b"{}", time.time())
    fallback.forget_credential({"HOME": str(tmp_path)}, TOKEN)
    assert list((tmp_path / ".sigillo" / "fallback").iterdir()) == []


# --- what counts as unreachable (client.Unreachable) ----------------------------------------


def _listening() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_refused_and_silent_servers_are_unreachable() -> None:
    with _listening() as closed:
        port = closed.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", TOKEN)
    with pytest.raises(Unreachable) as refused:
        client.get("/api/v0/me")
    assert refused.value.reason == "connection refused"
    assert refused.value.message == f"cannot connect to http://127.0.0.1:{port}: connection refused"
    with _listening() as silent:  # accepts (the backlog), never answers
        client = Client(f"http://127.0.0.1:{silent.getsockname()[1]}", TOKEN, timeout=0.2)
        with pytest.raises(Unreachable) as timed_out:
            client.get("/api/v0/me")
    assert timed_out.value.reason == "no answer within 0.2 s"
    assert TOKEN not in repr(client)


def test_a_5xx_is_an_answer_not_unreachable() -> None:
    answer = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}"
    with _listening() as server:

        def serve() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

        thread = threading.Thread(target=serve)
        thread.start()
        client = Client(f"http://127.0.0.1:{server.getsockname()[1]}", TOKEN)
        response = client.get("/x")
        client.close()
        thread.join()
    assert response.status == 503
