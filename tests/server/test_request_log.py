"""One log line per request from the real `sigillo server` process: its id (also in the
`X-Request-Id` header), method, route template, status and duration; JSON lines with
SIGILLO_LOG_FORMAT=json; never the path as sent (it can carry an invite token)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import server

INVITE_TOKEN = "inv_NeverLoggedTokenValue0123456789"


def _lines(log: Path, count: int) -> list[str]:
    """The log's lines once `count` request lines are there (the server writes them after
    answering)."""
    deadline = time.monotonic() + 10
    while True:
        lines = log.read_text(errors="replace").splitlines()
        if sum('"logger": "sigillo.request"' in line for line in lines) >= count:
            return lines
        if time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _requests(lines: list[str]) -> list[dict[str, Any]]:
    entries = []
    for line in lines:
        entry = json.loads(line)  # every line is JSON, not only the requests'
        if entry["logger"] == "sigillo.request":
            entries.append(entry)
    return entries


def test_json_lines_name_the_route_never_the_path(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with server(tmp_path / "data", log, env={"SIGILLO_LOG_FORMAT": "json"}) as port:
        base = f"http://127.0.0.1:{port}"
        answers = [
            httpx.get(f"{base}/api/info", timeout=10),
            httpx.get(f"{base}/api/v0/invitations/{INVITE_TOKEN}", timeout=10),
            httpx.get(f"{base}/invite/{INVITE_TOKEN}", timeout=10),
            httpx.get(f"{base}/no/such/page", timeout=10),
            httpx.get(f"{base}/health/live", timeout=10),
        ]
        entries = _requests(_lines(log, 4))
    text = log.read_text(errors="replace")
    assert INVITE_TOKEN not in text
    ids = [answer.headers["x-request-id"] for answer in answers]
    assert len(set(ids)) == len(ids)
    by_id = {entry["request_id"]: entry for entry in entries}
    info = by_id[ids[0]]
    assert (info["method"], info["route"], info["status"]) == ("GET", "/api/info", 200)
    assert isinstance(info["duration_ms"], float)
    assert info["duration_ms"] >= 0
    assert info["level"] == "info"
    assert info["time"].endswith("Z")
    assert by_id[ids[1]]["route"] == "/api/v0/invitations/{token}"
    assert by_id[ids[1]]["status"] == answers[1].status_code
    assert by_id[ids[2]]["route"] == "/invite/{token}"
    assert (by_id[ids[3]]["route"], by_id[ids[3]]["status"]) == ("-", 404)
    assert ids[4] not in by_id  # health checks are logged at DEBUG only


def test_text_lines_by_default(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with server(tmp_path / "data", log) as port:
        answer = httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=10)
        request_id = answer.headers["x-request-id"]
        deadline = time.monotonic() + 10
        while request_id not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    line = next(line for line in log.read_text().splitlines() if request_id in line)
    assert "INFO sigillo.request:" in line
    assert f"{request_id} GET /api/info 200 " in line
    assert line.endswith(" ms")


@pytest.mark.parametrize("value", ["xml", "JSONL"])
def test_an_unknown_log_format_stops_the_server(tmp_path: Path, value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sigillo", "server", "--data-dir", str(tmp_path / "d")],
        env={"SIGILLO_LOG_FORMAT": value, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "SIGILLO_LOG_FORMAT must be text or json" in done.stderr
    assert "Traceback" not in done.stderr
