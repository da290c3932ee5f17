"""What the benchmarks share: throwaway real databases, event factories and result tables.

Every benchmark makes its own databases and removes them at the end, even when it fails:
SQLite files in a temporary directory, PostgreSQL databases named sigillo_bench_<random>
on SIGILLO_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from sigillo.domain.events import (
    Actor,
    EnvironmentCreated,
    Event,
    NewEvent,
    OrgCreated,
    ProjectCreated,
    RecordedEvent,
    SealedValue,
)
from sigillo.services.ids import UlidFactory
from sigillo.store.database import Database, open_database
from sigillo.store.event_store import stored_row
from sigillo.store.migrate import migrate

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
POSTGRES_ADMIN_URL = os.environ.get(
    "SIGILLO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASES = ("sqlite", "postgresql")
ALICE = Actor("user", "01JE0000000000000000000A11")
KEY_IDS = ("4f1c9a07e2b83d56", "a1b2c3d4e5f60718")

ids = UlidFactory()


def sealed(key_id: str = KEY_IDS[0], size: int = 40) -> SealedValue:
    """A placeholder sealed value of a realistic size: reads and folds never open it."""
    return SealedValue(key_id, os.urandom(12), os.urandom(size))


def new_event(event: Event, actor: Actor = ALICE) -> NewEvent:
    return NewEvent(ids(), now_ms(), actor, event)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def wire_row(
    position: int, stream: str, version: int, event: Event, actor: Actor, at: int
) -> tuple[Any, ...]:
    """An events row exactly as SqlEventStore stores it."""
    return stored_row(RecordedEvent(position, stream, version, ids(), at, actor, event))


def catalog_events(projects: int, environments_per_project: int) -> list[tuple[str, Event]]:
    """An org, its projects and their environments, as (stream, event) in log order."""
    org_id = ids()
    out: list[tuple[str, Event]] = [(f"org:{org_id}", OrgCreated(org_id, "Bench Org"))]
    for p in range(projects):
        project_id = ids()
        stream = f"project:{project_id}"
        out.append((stream, ProjectCreated(project_id, org_id, f"Project {p}")))
        for e in range(environments_per_project):
            env_id = ids()
            out.append((stream, EnvironmentCreated(env_id, project_id, f"Env {e}", f"env-{e}")))
    return out


# ---------------------------------------------------------------- databases


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _postgres_url(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@contextlib.asynccontextmanager
async def bench_database(kind: str, label: str = "") -> AsyncIterator[tuple[str, Database]]:
    """A fresh, migrated database of `kind`, opened; closed and removed at exit."""
    suffix = f"_{label}" if label else ""
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix="sigillo_bench_")
        url = f"sqlite:///{directory}/bench{suffix}.db"

        async def remove() -> None:
            shutil.rmtree(directory, ignore_errors=True)

    elif kind == "postgresql":
        name = f"sigillo_bench_{uuid.uuid4().hex[:10]}{suffix}"
        await _admin(f'CREATE DATABASE "{name}"')
        url = _postgres_url(name)

        async def remove() -> None:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    else:
        raise SystemExit(f"unknown database {kind!r}: choose from {', '.join(DATABASES)}")
    try:
        await migrate(url)
        database = await open_database(url)
        try:
            yield url, database
        finally:
            await database.close()
    finally:
        await remove()


async def server_version(kind: str) -> str:
    if kind == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
    try:
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return f"PostgreSQL {version}"


# ---------------------------------------------------------------- reporting


def median_ms(samples_ns: Sequence[int]) -> float:
    return statistics.median(samples_ns) / 1e6


def percentile_ms(samples_ns: Sequence[int], fraction: float) -> float:
    ordered = sorted(samples_ns)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table, readable as plain text too."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=BENCH.parent,  # `src` is the repository's, not bench/src
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (src/ has uncommitted changes)' if dirty else ''}"


def _cpu() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def environment(versions: Sequence[str]) -> list[str]:
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- command: `python {' '.join(['bench/' + Path(sys.argv[0]).name, *sys.argv[1:]])}`",
        f"- git: {_git_revision()}",
        f"- machine: {os.cpu_count()} CPUs ({_cpu()}), {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; {'; '.join(versions)}",
    ]


def write_results(name: str, title: str, sections: Sequence[str]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(f"# {title}\n\n" + "\n\n".join(sections).rstrip() + "\n")
    return path
