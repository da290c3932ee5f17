"""Disk full under a real `sigillo server` on SQLite: a small tmpfs holds its data
directory. Writes answer 503 "the server's disk is full" (never a 500), the log says so in
words (no traceback), readiness fails while the disk is full, nothing acknowledged is lost,
and everything works again once space is freed."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import create_user_and_sign_in, server

PASSWORD = "correct horse battery staple"
FULL = {"error": "the server's disk is full"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"DISK-FULL TEST NOT RUN: cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the disk has no byte left."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 1):  # big blocks, then the last bytes one at a time
            with pytest.raises(OSError, match="No space left") as full:  # noqa: PT012
                while True:
                    os.write(fd, b"\0" * size)
            assert full.value.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _ready_after_its_cache(base: str) -> httpx.Response:
    """/health/ready once its last answer (reused for 1 s) has expired."""
    time.sleep(1.2)
    return httpx.get(f"{base}/health/ready", timeout=10)


def test_a_full_disk_is_a_503_in_words_and_nothing_is_lost(small_disk: Path) -> None:
    data, log = small_disk / "data", small_disk.parent / "server.log"
    with server(data, log) as port:
        base = f"http://127.0.0.1:{port}"
        session = create_user_and_sign_in(base, data, "ops@example.com", PASSWORD)
        auth = {"Authorization": f"Bearer {session}"}
        with httpx.Client(base_url=base, headers=auth, timeout=30) as api:
            org = api.post("/api/v0/orgs", json={"name": "Ops"}).json()["id"]
            project = api.post("/api/v0/projects", json={"name": "P", "orgId": org}).json()["id"]
            secrets = f"/api/v0/projects/{project}/environments/dev/secrets"
            assert api.put(secrets, json={"secrets": {"BEFORE": "kept-value"}}).status_code == 200
            assert httpx.get(f"{base}/health/ready", timeout=10).status_code == 200

            filler = _fill(small_disk)
            answers = [
                api.put(secrets, json={"secrets": {f"BIG_{n}": os.urandom(30_000).hex()}})
                for n in range(8)
            ]
            assert {answer.status_code for answer in answers} == {503}
            assert all(answer.json() == FULL for answer in answers)
            ready = _ready_after_its_cache(base)
            assert (ready.status_code, ready.json().get("error")) == (503, FULL["error"])
            assert httpx.get(f"{base}/health/live", timeout=10).status_code == 200
            listed = api.get(secrets)  # reads still work
            assert listed.status_code == 200
            assert [s["name"] for s in listed.json()["secrets"]] == ["BEFORE"]

            filler.unlink()
            again = api.put(secrets, json={"secrets": {"AFTER": "written-value"}})
            assert again.status_code == 200, again.text
            names = {s["name"] for s in api.get(secrets).json()["secrets"]}
            assert names == {"BEFORE", "AFTER"}
            ready = _ready_after_its_cache(base)
            assert ready.status_code == 200, ready.text
    text = log.read_text(errors="replace")
    assert "the disk holding the SQLite database is full" in text
    assert text.count("the disk holding the SQLite database is full") == 1  # once, not per write
    assert "Traceback" not in text
    assert "OperationalError" not in text
