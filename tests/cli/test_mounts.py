"""`sigillo run --mount`'s mounts (behaviour.md 12.4), on real files under tmp_path.

Every test has its own HOME (passed as the `env` mapping), so its own registry in
HOME/.sigillo/mounts. No server is needed.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sigillo.cli.errors import CliError
from sigillo.cli.run import mount_registry
from sigillo.cli.run.mount_registry import sweep_stale
from sigillo.cli.run.mounts import MOUNT_FORMATS, Mount, check_format

BODY = b'API_KEY="sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890"\nEMPTY=""\n'
EXPECTED = "expected: env, env-no-quotes, json, yaml, docker, dotnet-json"

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX mounts")
needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home)}


@pytest.fixture
def registry(env: dict[str, str]) -> Path:
    return Path(env["HOME"], ".sigillo", "mounts")


def records(registry: Path) -> list[dict[str, Any]]:
    """Every record in the registry; each must be valid JSON (the registry is never corrupt)."""
    if not registry.is_dir():
        return []
    assert not [p for p in registry.iterdir() if p.name.endswith(".tmp")]
    return [json.loads(p.read_bytes()) for p in sorted(registry.glob("*.json"))]


def live_records(registry: Path) -> list[dict[str, Any]]:
    """`records` while other runs add and remove theirs: each one read must be valid."""
    found = []
    for path in registry.glob("*.json"):
        try:
            found.append(json.loads(path.read_bytes()))
        except FileNotFoundError:
            continue
    return found


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert done.returncode == 0
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def make_stale(registry: Path, path: Path, **owner: Any) -> None:
    """Record `path` (an existing file) as a mount of the run described by `owner`."""
    found = path.lstat()
    record = {
        "path": str(path),
        "kind": "fifo" if stat.S_ISFIFO(found.st_mode) else "file",
        "pid": dead_pid(),
        "start": None,
        "boot": None,
        "host": os.uname().nodename,
        "dev": found.st_dev,
        "ino": found.st_ino,
        "mtime": found.st_mtime_ns,
        **owner,
    }
    registry.mkdir(parents=True, exist_ok=True)
    (registry / f"{record['pid']}-stale.json").write_text(json.dumps(record))


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --- formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", MOUNT_FORMATS)
def test_every_download_format_but_xargs_is_accepted(fmt: str) -> None:
    assert check_format(fmt) == fmt


@pytest.mark.parametrize("fmt", ["xargs", "toml", "ENV", ""])
def test_other_formats_are_refused_with_the_exact_text(fmt: str) -> None:
    with pytest.raises(CliError) as raised:
        check_format(fmt)
    assert raised.value.message == f"invalid mount format '{fmt}' ({EXPECTED})"


def test_an_unknown_mode_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(CliError, match="invalid mount mode 'pipe'"):
        Mount.create(tmp_path / "m", BODY, "pipe", env)
    assert not (tmp_path / "m").exists()


# --- file mode --------------------------------------------------------------------------


@posix_only
def test_file_mount_is_0600_with_the_exact_body_and_is_registered(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    os.umask(0o000)  # the mode does not depend on the umask
    try:
        target = tmp_path / "secrets.env"
        with Mount.create(target, BODY, "file", env) as mount:
            found = os.stat(target)
            assert stat.S_ISREG(found.st_mode)
            assert stat.S_IMODE(found.st_mode) == 0o600
            assert target.read_bytes() == BODY
            assert mount.path == str(target)
            [record] = records(registry)
            assert record["path"] == str(target)
            assert record["pid"] == os.getpid()
            assert (record["dev"], record["ino"]) == (found.st_dev, found.st_ino)
            assert record["kind"] == "file"
            if os.path.exists("/proc/self/stat"):
                assert isinstance(record["start"], int)
            assert stat.S_IMODE(os.stat(registry).st_mode) == 0o700
            for entry in registry.iterdir():
                assert stat.S_IMODE(entry.stat().st_mode) == 0o600, entry
        assert not target.exists()
        assert records(registry) == []
    finally:
        os.umask(0o022)


def test_empty_and_binary_bodies_are_written_exactly(tmp_path: Path, env: dict[str, str]) -> None:
    body = bytes(range(256)) * 1000
    with Mount.create(tmp_path / "bin", body, "file", env):
        assert (tmp_path / "bin").read_bytes() == body
    with Mount.create(tmp_path / "empty", b"", "file", env):
        assert (tmp_path / "empty").read_bytes() == b""


def test_a_relative_path_is_relative_to_the_current_directory(
    tmp_path: Path, env: dict[str, str], registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    with Mount.create("sub/../.env", BODY, "file", env) as mount:
        assert mount.path == str(tmp_path / "work" / ".env")
        assert (tmp_path / "work" / ".env").read_bytes() == BODY
        assert records(registry)[0]["path"] == str(tmp_path / "work" / ".env")
        monkeypatch.chdir(tmp_path)  # closing later from elsewhere still removes it
    assert not (tmp_path / "work" / ".env").exists()


def test_close_is_idempotent(tmp_path: Path, env: dict[str, str], registry: Path) -> None:
    mount = Mount.create(tmp_path / "m", BODY, "file", env)
    mount.close()
    assert mount.closed
    assert not (tmp_path / "m").exists()
    assert records(registry) == []
    mount.close()
    # a new mount at the same path is now possible, and closing the old one again is harmless
    with Mount.create(tmp_path / "m", b"second", "file", env):
        mount.close()
        assert (tmp_path / "m").read_bytes() == b"second"


def test_an_unrelated_file_is_refused_and_left_untouched(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / ".env"
    target.write_bytes(b"MINE=1\n")
    os.chmod(target, 0o644)
    before = target.stat()
    for mode in ("file", "fifo"):
        with pytest.raises(CliError) as raised:
            Mount.create(target, BODY, mode, env)
        message = f"refusing to overwrite '{target}': it is not a Sigillo mount"
        assert raised.value.message == message
    after = target.stat()
    assert target.read_bytes() == b"MINE=1\n"
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (
        before.st_ino,
        before.st_mode,
        before.st_mtime_ns,
    )
    assert records(registry) == []


def test_the_error_names_the_path_as_given(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text("x")
    with pytest.raises(CliError) as raised:
        Mount.create(".env", BODY, "file", env)
    assert raised.value.message == "refusing to overwrite '.env': it is not a Sigillo mount"


@posix_only
@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_is_refused_and_not_followed(
    tmp_path: Path, env: dict[str, str], dangling: bool
) -> None:
    victim = tmp_path / "victim"
    if not dangling:
        victim.write_bytes(b"precious")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(CliError, match="it is not a Sigillo mount"):
        Mount.create(link, BODY, "file", env)
    assert link.is_symlink()
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_bytes() == b"precious"


def test_a_directory_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(CliError, match="it is not a Sigillo mount"):
        Mount.create(tmp_path / "d", BODY, "file", env)
    assert (tmp_path / "d").is_dir()


def test_creation_failure_is_reported_and_leaves_nothing(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "missing" / "secrets.env"
    with pytest.raises(CliError) as raised:
        Mount.create(target, BODY, "file", env)
    expected = f"failed to create mount file '{target}': No such file or directory"
    assert raised.value.message == expected
    assert records(registry) == []


@posix_only
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_directory_is_a_creation_failure(tmp_path: Path, env: dict[str, str]) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        with pytest.raises(CliError) as raised:
            Mount.create(locked / "m", BODY, "file", env)
        expected = f"failed to create mount file '{locked / 'm'}': Permission denied"
        assert raised.value.message == expected
    finally:
        os.chmod(locked, 0o700)


def test_a_live_mount_is_not_taken_over(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "m"
    with Mount.create(target, BODY, "file", env):
        with pytest.raises(CliError) as raised:
            Mount.create(target, b"other", "file", env)
        assert raised.value.message.startswith(f"refusing to overwrite '{target}': ")
        assert f"pid {os.getpid()}" in raised.value.message
        assert sweep_stale(env) == []
        assert target.read_bytes() == BODY
        assert len(records(registry)) == 1
    assert not target.exists()


def test_a_file_replaced_after_mounting_is_not_removed(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "m"
    mount = Mount.create(target, BODY, "file", env)
    target.unlink()
    replacement = tmp_path / "other"
    replacement.write_bytes(b"not yours")
    os.replace(replacement, target)
    mount.close()
    assert target.read_bytes() == b"not yours"
    assert records(registry) == []


def test_a_file_removed_by_someone_else_closes_quietly(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    mount = Mount.create(tmp_path / "m", BODY, "file", env)
    (tmp_path / "m").unlink()
    mount.close()
    assert records(registry) == []


@posix_only
def test_close_takes_no_registry_lock(tmp_path: Path, env: dict[str, str], registry: Path) -> None:
    """A signal handler may close while the interrupted code holds the registry lock."""
    import fcntl

    mount = Mount.create(tmp_path / "m", BODY, "file", env)
    fd = os.open(registry / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        mount.close()
    finally:
        os.close(fd)
    assert not (tmp_path / "m").exists()
    assert records(registry) == []


def test_a_stale_mount_killed_while_being_written_is_removed(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "half.env"
    target.write_bytes(BODY[:5])
    make_stale(registry, target, mtime=None)
    assert sweep_stale(env) == [str(target)]


# --- stale mounts -----------------------------------------------------------------------


def test_sweep_removes_the_mount_of_a_dead_run(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "stale.env"
    target.write_bytes(BODY)
    make_stale(registry, target)
    assert sweep_stale(env) == [str(target)]
    assert not target.exists()
    assert records(registry) == []
    assert sweep_stale(env) == []


@needs_proc
def test_a_recycled_pid_is_not_the_owner(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    """A live process with the recorded pid but another start time is not the owner."""
    target = tmp_path / "stale.env"
    target.write_bytes(BODY)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = mount_registry._proc_stat(live.pid)
        assert start is not None
        boot = mount_registry._boot_id()
        make_stale(registry, target, pid=live.pid, start=start[1] + 1, boot=boot)
        assert sweep_stale(env) == [str(target)]
        assert not target.exists()
        # ... while the right start time is
        target.write_bytes(BODY)
        make_stale(registry, target, pid=live.pid, start=start[1], boot=boot)
        assert sweep_stale(env) == []
        assert target.exists()
        assert len(records(registry)) == 1
    finally:
        live.kill()
        live.wait()
    assert sweep_stale(env) == [str(target)]


@needs_proc
def test_a_record_of_an_earlier_boot_is_stale(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "stale.env"
    target.write_bytes(BODY)
    own = mount_registry._proc_stat(os.getppid())
    assert own is not None
    make_stale(registry, target, pid=os.getppid(), start=own[1], boot="not-this-boot")
    assert sweep_stale(env) == [str(target)]


def test_a_record_of_another_host_is_never_swept(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "shared.env"
    target.write_bytes(BODY)
    make_stale(registry, target, host="some-other-machine")
    assert sweep_stale(env) == []
    assert target.exists()
    with pytest.raises(CliError, match="refusing to overwrite"):
        Mount.create(target, b"x", "file", env)


def test_a_stale_record_whose_inode_was_reused_drops_only_the_record(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    """Same path, same inode number (deleted and reused), but written since: not ours."""
    target = tmp_path / "stale.env"
    target.write_bytes(BODY)
    make_stale(registry, target)
    os.utime(target, ns=(0, 1_000_000_000))
    assert sweep_stale(env) == []
    assert target.exists()
    assert records(registry) == []


def test_a_stale_record_whose_file_was_replaced_drops_only_the_record(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "stale.env"
    target.write_bytes(BODY)
    make_stale(registry, target)
    (tmp_path / "new").write_bytes(b"USER FILE")  # created while the old inode exists
    os.replace(tmp_path / "new", target)
    assert sweep_stale(env) == []
    assert target.read_bytes() == b"USER FILE"
    assert records(registry) == []


def test_malformed_records_and_leftover_temporaries_are_dropped(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    registry.mkdir(parents=True)
    (registry / "garbage.json").write_text("{not json")
    (registry / "list.json").write_text("[1, 2]")
    (registry / ".1-abc.json.tmp").write_text("{")
    (tmp_path / "keep").write_text("keep")
    assert sweep_stale(env) == []
    assert records(registry) == []
    assert (tmp_path / "keep").read_text() == "keep"


def test_create_replaces_a_stale_mount_of_ours(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "m"
    target.write_bytes(b"OLD=1\n")
    make_stale(registry, target)
    with Mount.create(target, BODY, "file", env):
        assert target.read_bytes() == BODY
        [record] = records(registry)
        assert record["pid"] == os.getpid()
    assert not target.exists()


@posix_only
def test_create_replaces_a_stale_fifo_of_ours(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "p"
    os.mkfifo(target, 0o600)
    make_stale(registry, target)
    with Mount.create(target, BODY, "file", env):
        assert stat.S_ISREG(os.lstat(target).st_mode)
        assert target.read_bytes() == BODY


def test_sweep_without_a_registry_does_nothing(env: dict[str, str], registry: Path) -> None:
    assert sweep_stale(env) == []
    assert not registry.exists()


CHILD = """
import os, sys, time
from sigillo.cli.run.mounts import Mount
env = {"HOME": sys.argv[1]}
first = Mount.create(sys.argv[2], b"FILE=1\\n", "file", env)
second = Mount.create(sys.argv[3], b"FIFO=1\\n", "fifo", env)
print("mounted", flush=True)
time.sleep(120)
"""


@posix_only
def test_a_run_killed_outright_leaves_a_mount_the_next_sweep_removes(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    file_mount, fifo_mount = tmp_path / "killed.env", tmp_path / "killed.fifo"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, env["HOME"], str(file_mount), str(fifo_mount)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "mounted\n"
        assert file_mount.read_bytes() == b"FILE=1\n"
        assert stat.S_ISFIFO(os.lstat(fifo_mount).st_mode)
        # while it runs, its mounts are its own
        assert sweep_stale(env) == []
        with pytest.raises(CliError, match=f"pid {child.pid}"):
            Mount.create(file_mount, BODY, "file", env)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert file_mount.exists()
    assert len(records(registry)) == 2
    assert sorted(sweep_stale(env)) == sorted([str(file_mount), str(fifo_mount)])
    assert not os.path.lexists(file_mount)
    assert not os.path.lexists(fifo_mount)
    assert records(registry) == []


@needs_proc
def test_a_killed_run_not_yet_reaped_counts_as_dead(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "zombie.env"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, env["HOME"], str(target), str(tmp_path / "z.fifo")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "mounted\n"
    child.stdout.close()
    os.kill(child.pid, signal.SIGKILL)
    try:
        wait_for(lambda: (mount_registry._proc_stat(child.pid) or ("Z", 0))[0] == "Z")
        assert str(target) in sweep_stale(env)
    finally:
        child.wait()
    assert not target.exists()


# --- fifo mode --------------------------------------------------------------------------


@posix_only
def test_fifo_serves_every_reader_the_whole_body_and_leaves_nothing(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "secrets.fifo"
    body = BODY * 5000  # larger than a pipe's buffer
    with Mount.create(target, body, "fifo", env):
        found = os.stat(target)
        assert stat.S_ISFIFO(found.st_mode)
        assert stat.S_IMODE(found.st_mode) == 0o600
        assert records(registry)[0]["kind"] == "fifo"
        for _ in range(3):  # one reader after another, each with its own copy
            assert target.read_bytes() == body
            assert stat.S_ISFIFO(os.lstat(target).st_mode)
        # a reader in another process too
        done = subprocess.run(["cat", str(target)], capture_output=True, check=True, timeout=10)
        assert done.stdout == body
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, "home"])
    assert not os.path.lexists(target)
    assert records(registry) == []


@posix_only
def test_fifo_reader_that_stops_early_does_not_stop_the_server(
    tmp_path: Path, env: dict[str, str]
) -> None:
    target = tmp_path / "p"
    body = b"x" * 1_000_000
    with Mount.create(target, body, "fifo", env):
        with open(target, "rb") as early:
            assert early.read(10) == b"x" * 10
        # A reader opening while the server has not yet seen the last one go would share
        # its pipe (a limit of named pipes): give the server a moment.
        time.sleep(0.2)
        assert target.read_bytes() == body


@posix_only
def test_fifo_close_without_a_reader_returns_and_removes_the_pipe(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    target = tmp_path / "p"
    mount = Mount.create(target, BODY, "fifo", env)
    thread = mount._thread
    assert thread is not None
    assert thread.is_alive()
    started = time.monotonic()
    mount.close()
    assert time.monotonic() - started < 2
    assert not thread.is_alive()
    assert not os.path.lexists(target)
    assert records(registry) == []
    mount.close()


@posix_only
def test_fifo_close_with_a_reader_that_does_not_read(tmp_path: Path, env: dict[str, str]) -> None:
    target = tmp_path / "p"
    mount = Mount.create(target, b"y" * 1_000_000, "fifo", env)
    reader = os.open(target, os.O_RDONLY)
    try:
        time.sleep(0.1)  # the server is now blocked on a full pipe
        started = time.monotonic()
        mount.close()
        assert time.monotonic() - started < 2
        assert mount._thread is not None
        assert not mount._thread.is_alive()
        assert not os.path.lexists(target)
    finally:
        os.close(reader)


@posix_only
def test_fifo_removed_by_someone_else_still_closes(tmp_path: Path, env: dict[str, str]) -> None:
    target = tmp_path / "p"
    mount = Mount.create(target, BODY, "fifo", env)
    target.unlink()
    target.write_bytes(b"someone else's")
    started = time.monotonic()
    mount.close()
    assert time.monotonic() - started < 2.5
    assert target.read_bytes() == b"someone else's"


@posix_only
def test_fifo_refuses_an_existing_path(tmp_path: Path, env: dict[str, str]) -> None:
    target = tmp_path / "p"
    os.mkfifo(target)
    with pytest.raises(CliError, match="it is not a Sigillo mount"):
        Mount.create(target, BODY, "fifo", env)
    assert stat.S_ISFIFO(os.lstat(target).st_mode)


# --- concurrency ------------------------------------------------------------------------


def test_concurrent_runs_keep_the_registry_valid(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    errors: list[BaseException] = []
    refused: list[str] = []
    barrier = threading.Barrier(10)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for round_ in range(15):
                own = Mount.create(tmp_path / f"m{n}-{round_}", b"%d" % n, "file", env)
                try:
                    shared = Mount.create(tmp_path / "shared", b"shared", "file", env)
                except CliError as error:
                    refused.append(error.message)
                else:
                    shared.close()
                assert live_records(registry)  # valid JSON, whatever the others do
                assert (tmp_path / f"m{n}-{round_}").read_bytes() == b"%d" % n
                own.close()
                sweep_stale(env)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all("refusing to overwrite" in message for message in refused)
    assert records(registry) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


WRITER = """
import sys
from pathlib import Path
from sigillo.cli.run.mount_registry import sweep_stale
from sigillo.cli.run.mounts import Mount
env = {"HOME": sys.argv[1]}
for round_ in range(20):
    with Mount.create(Path(sys.argv[2], f"p{sys.argv[3]}-{round_}"), b"x", "file", env):
        sweep_stale(env)
"""


@posix_only
def test_concurrent_processes_keep_the_registry_valid(
    tmp_path: Path, env: dict[str, str], registry: Path
) -> None:
    (tmp_path / "out").mkdir()
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, env["HOME"], str(tmp_path / "out"), str(n)])
        for n in range(10)
    ]
    assert [p.wait(60) for p in processes] == [0] * 10
    assert records(registry) == []
    assert list((tmp_path / "out").iterdir()) == []
