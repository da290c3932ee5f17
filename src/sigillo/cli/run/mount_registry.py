"""The registry of `sigillo run --mount` mounts: who owns each, and sweeping the ones whose
run is gone (behaviour.md 12.4; the registry's design is described in
sigillo.cli.run.mounts, which creates and removes the mounts themselves).

Only the standard library is imported, and nothing slow: this loads on every
`sigillo run` that mounts (`fcntl` is imported only when needed).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sigillo.cli.errors import CliError

__all__ = [
    "CLOEXEC",
    "NOFOLLOW",
    "locked",
    "owner",
    "records",
    "registry_dir",
    "remove_if_same",
    "same_inode",
    "sweep",
    "sweep_stale",
    "write_record",
]

_REGISTRY = "mounts"
_LOCK = ".lock"
_SUFFIX = ".json"
_MAX_RECORD = 64 * 1024  # a record is ~200 bytes; never read a huge file
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # missing on Windows, as are symlink attacks there
CLOEXEC = getattr(os, "O_CLOEXEC", 0)


# --- who owns a record ----------------------------------------------------------------


def _read_small(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(4096).decode("ascii", "replace")
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """The state letter and start time (field 22) of `pid`, from /proc; None without one."""
    text = _read_small(f"/proc/{pid}/stat")
    if text is None:
        return None
    # `comm` (field 2) is in parentheses and may itself hold spaces and parentheses.
    fields = text[text.rfind(")") + 1 :].split()
    try:
        return fields[0], int(fields[19])  # fields 3 and 22
    except (IndexError, ValueError):
        return None


def _boot_id() -> str | None:
    text = _read_small("/proc/sys/kernel/random/boot_id")
    return text.strip() or None if text is not None else None


def _host() -> str:
    try:
        return os.uname().nodename
    except AttributeError:  # Windows
        return os.environ.get("COMPUTERNAME", "")


def owner() -> dict[str, Any]:
    """This run, as recorded in its mounts."""
    pid = os.getpid()
    proc = _proc_stat(pid)
    return {
        "pid": pid,
        "start": proc[1] if proc else None,
        "boot": _boot_id() if proc else None,
        "host": _host(),
    }


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":
        return True  # os.kill(pid, 0) would terminate it there: never judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return True  # cannot tell: keep the mount
    return True


def _owner_alive(record: Mapping[str, Any]) -> bool:
    """Whether the run that wrote `record` may still be running (when unsure: yes)."""
    if record.get("host") != _host():
        return True  # another machine's run: not ours to judge
    pid = record.get("pid")
    if not isinstance(pid, int):
        return False
    if pid == os.getpid():
        # Ourselves, unless the record is from an earlier process that had our pid.
        start = record.get("start")
        return start is None or start == owner()["start"]
    start, boot = record.get("start"), record.get("boot")
    if start is not None and boot is not None:
        current_boot = _boot_id()
        if current_boot is not None and current_boot != boot:
            return False  # written before the last reboot
    if not _pid_exists(pid):
        return False
    proc = _proc_stat(pid)
    if proc is None:
        return True  # no /proc (or it vanished just now): the pid alone decides
    state, current_start = proc
    if state in ("Z", "X"):
        return False  # killed, waiting to be reaped
    return start is None or current_start == start


# --- the registry -----------------------------------------------------------------------


def registry_dir(env: Mapping[str, str]) -> Path:
    """`<config dir>/mounts`, where the records live (not created here)."""
    from sigillo.cli.config import ConfigError, config_path

    try:
        return config_path(env).parent / _REGISTRY
    except ConfigError as error:
        raise CliError(str(error)) from None


def _ensure_dir(directory: Path) -> None:
    if not directory.is_dir():
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # exactly 0700, whatever the umask


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the registry's exclusive lock (a no-op where fcntl is missing)."""
    _ensure_dir(directory)
    fd = os.open(directory / _LOCK, os.O_RDWR | os.O_CREAT | CLOEXEC, 0o600)
    try:
        try:
            import fcntl
        except ImportError:  # Windows: no FIFO mode, no lock
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def records(directory: Path) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Each record file's path and content (None when unreadable or malformed)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in sorted(names):
        if not name.endswith(_SUFFIX) or name.startswith("."):
            continue
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | NOFOLLOW | CLOEXEC)
        except FileNotFoundError:
            continue  # its run closed it just now
        except OSError:
            yield path, None
            continue
        try:
            data = os.read(fd, _MAX_RECORD + 1)
        except OSError:
            data = b""
        finally:
            os.close(fd)
        try:
            record = json.loads(data) if len(data) <= _MAX_RECORD else None
        except ValueError:
            record = None
        valid = isinstance(record, dict) and isinstance(record.get("path"), str)
        yield path, record if valid else None


def write_record(directory: Path, record: Mapping[str, Any], target: str | None = None) -> str:
    """Write `record` atomically (0600) to `target`, by default a new unique name in
    `directory`; answer its path. Called with the registry lock held."""
    _ensure_dir(directory)
    if target is None:
        target = os.path.join(directory, f"{record['pid']}-{os.urandom(8).hex()}{_SUFFIX}")
    name = os.path.basename(target)
    temporary = os.path.join(directory, f".{name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
    fd = os.open(temporary, flags, 0o600)
    try:
        try:
            os.write(fd, json.dumps(record, sort_keys=True).encode("utf-8", "surrogateescape"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target


def same_inode(path: str, record: Mapping[str, Any], *, stale: bool = False) -> bool:
    """Whether `path` (not followed) is still the file or pipe the record describes.

    For a stale record (`stale`), whose file may have been deleted long ago and its inode
    number reused, a regular file must also still have the modification time recorded
    once its body was written.
    """
    try:
        found = os.lstat(path)
    except OSError:
        return False
    kind_ok = (
        stat.S_ISFIFO(found.st_mode)
        if record.get("kind") == "fifo"
        else (stat.S_ISREG(found.st_mode))
    )
    mtime = record.get("mtime")  # None: its run died while writing the body
    if stale and record.get("kind") == "file" and mtime is not None and found.st_mtime_ns != mtime:
        return False
    return kind_ok and found.st_dev == record.get("dev") and found.st_ino == record.get("ino")


def remove_if_same(path: str, record: Mapping[str, Any], *, stale: bool = False) -> bool:
    if same_inode(path, record, stale=stale):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            return True
    return False


def sweep(directory: Path) -> list[str]:
    """`sweep_stale` with the lock already held."""
    removed: list[str] = []
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(directory):
            if name.startswith(".") and name.endswith(".tmp"):
                # Records are written under the lock: a leftover is from a killed writer.
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))
    for record_path, record in records(directory):
        if record is not None and _owner_alive(record):
            continue
        if record is not None and remove_if_same(record["path"], record, stale=True):
            removed.append(record["path"])
        with contextlib.suppress(FileNotFoundError):
            os.unlink(record_path)
    return removed


def sweep_stale(env: Mapping[str, str]) -> list[str]:
    """Remove the mounts of runs that are no longer running; answer the paths removed.

    A mount is removed only while its path still names the inode we created; its record is
    dropped either way (as is a malformed record). Mounts of live runs are left alone.
    Raises OSError when the registry cannot be locked (unwritable config directory).
    """
    directory = registry_dir(env)
    if not directory.is_dir():
        return []
    with locked(directory):
        return sweep(directory)
