"""B3: download throughput over HTTP, next to a bare Litestar endpoint in the same server.

A real server process on 127.0.0.1, started the way `sigillo server` starts
(sigillo.server.serve: the same uvicorn settings, one process, the whole app with its
middleware and guards), with one extra route mounted only here: GET /bench/floor answers
a precomputed body byte for byte like the download's, with the same headers. That route is
the framework floor: what uvicorn + Litestar cost for a response of that size.

The timed request is GET /api/v0/projects/{p}/environments/dev/secrets/download?format=json
for an environment of 100 secrets (names like STRIPE_SECRET_KEY, values of 40 random
characters), authenticated with a read-only API token (sig_...). Every download appends a
`secrets.read` event (reads are audited, security.md promise 7), a write transaction that
holds the deployment-wide writer slot: downloads are serialized by design.

The load generator is an httpx.AsyncClient in this process with N connections, each
looping requests for a fixed duration after a warm-up. The machine's cores are shared by
the load generator, the server and (for PostgreSQL) the database server; the table gives
each one's CPU per request so a saturated client is visible.

Then the parts of a download are timed in-process on the same database, and with
--profile one extra server run is profiled with cProfile.

    python bench/download_throughput.py [--databases sqlite,postgresql]
        [--connections 8,1] [--duration 10] [--warmup 2] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import random
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Response, get

from _support import (
    DATABASES,
    _admin,
    _postgres_url,
    environment,
    server_version,
    table,
    write_results,
)

SECRETS = 100
VALUE_CHARS = 40
TARGET = 0.5
FLOOR_PATH = "/bench/floor"
START_TIMEOUT = 30.0
SERVICES = (
    "POSTGRES", "REDIS", "STRIPE", "AWS", "GITHUB", "SENTRY", "SMTP", "OAUTH", "S3", "KAFKA",
)  # fmt: skip
KINDS = (
    "API_KEY", "SECRET_KEY", "URL", "PASSWORD", "TOKEN",
    "HOST", "USER", "CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_SECRET",
)  # fmt: skip
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def secret_values(seed: int = 7) -> dict[str, str]:
    """SECRETS realistic names, each with VALUE_CHARS random letters and digits."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    names = [f"{s}_{k}" for s in SERVICES for k in KINDS][:SECRETS]
    return {name: "".join(rng.choices(alphabet, k=VALUE_CHARS)) for name in names}


# ---------------------------------------------------------------- the server process


def serve_with_floor(args: argparse.Namespace) -> None:
    """The child: `sigillo server`, with the floor route registered on the very app that
    sigillo.server.serve builds (same middleware, guards, uvicorn.Config)."""
    import logging

    import sigillo.server
    from sigillo.api.secrets import NO_STORE
    from sigillo.settings import Settings

    body = Path(args.floor_body).read_bytes()
    headers = {**NO_STORE, "Content-Type": "application/json"}

    @get(FLOOR_PATH, include_in_schema=False)
    async def floor() -> Response[bytes]:
        return Response(body, headers=headers, status_code=200)

    build = sigillo.server.create_app

    def create_app_with_floor(settings: Settings, *, services: Any = None) -> Litestar:
        app = build(settings, services=services)
        app.register(floor)
        return app

    sigillo.server.create_app = create_app_with_floor  # serve() looks it up at call time
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.load(
        {}, port=args.port, data_dir=args.data_dir, database_url=args.database_url
    )
    if args.profile_to:
        # SIGUSR1 starts profiling the main thread's CPU (thread clock: waiting is not in
        # it), SIGUSR2 stops it and writes the stats: start-up and warm-up stay out.
        profiler = cProfile.Profile(time.thread_time)

        def stop(*_: Any) -> None:
            profiler.disable()
            profiler.dump_stats(args.profile_to)

        signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
        signal.signal(signal.SIGUSR2, stop)
    asyncio.run(sigillo.server.serve(settings))


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def server(
    data_dir: Path, database_url: str, floor_body: Path, profile_to: Path | None = None
) -> Iterator[tuple[str, int]]:
    """The server process, healthy: yields its base URL and pid; stopped with SIGTERM."""
    port = free_port()
    command = [sys.executable, __file__, "--serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--database-url", database_url]
    command += ["--floor-body", str(floor_body)]
    if profile_to:
        command += ["--profile-to", str(profile_to)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    log = data_dir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=clean)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# ---------------------------------------------------------------- data


@dataclass
class Seeded:
    project_id: str
    environment_id: str
    token: str
    body: bytes  # what the download answers


async def seed(data_dir: Path, database_url: str) -> Seeded:
    """A user, org, project, environment `dev` with SECRETS secrets and a read-only token,
    through the services (the key file is created in data_dir, as `sigillo server` does)."""
    from sigillo.domain.events import Actor
    from sigillo.domain.formats import render
    from sigillo.server import open_services
    from sigillo.settings import Settings

    settings = Settings.load({}, data_dir=data_dir, database_url=database_url)
    services = await open_services(settings)
    try:
        user = await services.accounts.register("bench@example.com", "Bench", "bench-" * 4)
        actor = Actor("user", user.id)
        org = await services.catalog.create_org("Bench Org", actor)
        project = await services.catalog.create_project(org.id, "Bench Project", actor)
        env = await services.catalog.find_environment(project.id, "dev")  # made with the project
        assert env is not None
        values = secret_values()
        await services.secrets.set(env.id, values, actor)
        token_row, token = await services.access.create_token(
            project.id, actor, name="bench", access="read"
        )
        assert token_row.access == "read"
        assert token.startswith("sig_")
        body = render("json", list(values.items())).body
    finally:
        await services.close()
    return Seeded(project.id, env.id, token, body)


@contextlib.asynccontextmanager
async def data(kind: str) -> Any:
    """A temp data dir and an empty database of `kind`; both removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="sigillo_bench_"))
    name = None
    try:
        if kind == "sqlite":
            url = f"sqlite:///{directory / 'sigillo.db'}"
        elif kind == "postgresql":
            name = f"sigillo_bench_{os.urandom(5).hex()}_download"
            await _admin(f'CREATE DATABASE "{name}"')
            url = _postgres_url(name)
        else:
            raise SystemExit(f"unknown database {kind!r}: choose from {', '.join(DATABASES)}")
        yield directory, url
    finally:
        if name:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------- load


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Run:
    endpoint: str
    connections: int
    seconds: float
    latencies_ns: list[int]
    server_cpu: float
    client_cpu: float
    machine_busy: float  # share of all cores

    @property
    def requests(self) -> int:
        return len(self.latencies_ns)

    def per_request_ms(self, cpu_seconds: float) -> float:
        return cpu_seconds / self.requests * 1e3


async def load(
    base: str,
    path: str,
    headers: dict[str, str],
    expected: bytes,
    connections: int,
    seconds: float,
    warmup: float,
    server_pid: int,
    on_timing: tuple[Callable[[], None], Callable[[], None]] | None = None,
) -> tuple[list[int], float, float, float, float]:
    """`connections` workers on as many connections, each requesting `path` back to back:
    `warmup` seconds untimed, then `seconds` timed. Answers the timed latencies (ns), the
    wall time, and the server's, this process's and the machine's CPU over it."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        latencies: list[int] = []
        phase = {"timing": False, "stop": False}

        async def worker() -> None:
            while not phase["stop"]:
                started = time.perf_counter_ns()
                response = await client.get(path, headers=headers)
                elapsed = time.perf_counter_ns() - started
                if response.status_code != 200 or response.content != expected:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
                if phase["timing"]:
                    latencies.append(elapsed)

        tasks = [asyncio.create_task(worker()) for _ in range(connections)]
        try:
            await asyncio.sleep(warmup)
            server0, client0, machine0 = process_cpu(server_pid), time.process_time(), machine_cpu()
            if on_timing:
                on_timing[0]()
            started = time.perf_counter()
            phase["timing"] = True
            await asyncio.sleep(seconds)
            phase["timing"] = False
            wall = time.perf_counter() - started
            server1, client1, machine1 = process_cpu(server_pid), time.process_time(), machine_cpu()
            if on_timing:
                on_timing[1]()
            phase["stop"] = True
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
    busy = (machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1])
    return latencies, wall, server1 - server0, client1 - client0, busy


# ---------------------------------------------------------------- parts, in-process


async def time_parts(database_url: str, data_dir: Path, seeded: Seeded, rounds: int) -> list[Any]:
    """Median time of each step of a download, called in-process on the same database
    (server stopped): what the request handler does, one step at a time."""
    from sigillo.domain.events import Actor, NewEvent, SecretsRead
    from sigillo.domain.formats import render
    from sigillo.domain.streams import reads_stream
    from sigillo.server import open_services
    from sigillo.services.ids import UlidFactory
    from sigillo.settings import Settings

    settings = Settings.load({}, data_dir=data_dir, database_url=database_url)
    services = await open_services(settings)
    ids = UlidFactory()
    samples: dict[str, list[int]] = {}
    try:
        token = await services.access.authenticate_token(seeded.token)
        assert token is not None
        actor = Actor("token", token.id)
        rows = await services.secrets.current(seeded.environment_id)
        names = [row.name for row in rows]
        values = [services.secrets.open(row) for row in rows]

        async def authenticate() -> None:
            await services.access.authenticate_token(seeded.token)

        async def find_environment() -> None:
            await services.catalog.find_environment(seeded.project_id, "dev")

        async def current() -> None:
            await services.secrets.current(seeded.environment_id)

        async def audit_append() -> None:
            read = SecretsRead(seeded.environment_id, names, "download")
            event = NewEvent(ids(), int(time.time() * 1000), actor, read)
            await services.store.append(reads_stream(seeded.environment_id), None, [event])

        async def decrypt() -> None:
            for row in rows:
                services.secrets.open(row)

        async def render_json() -> None:
            render("json", list(zip(names, values, strict=True)))

        async def whole() -> None:
            await services.access.authenticate_token(seeded.token)
            environment = await services.catalog.find_environment(seeded.project_id, "dev")
            assert environment is not None
            revealed = await services.secrets.reveal(environment.id, None, actor, "download")
            render("json", [(row.name, value) for row, value in revealed])

        steps = {
            "token authentication (SHA-256 + SELECT api_tokens)": authenticate,
            "environment lookup (SELECT environments)": find_environment,
            "current secrets (stream version; rows kept while it stays)": current,
            "audit append (one secrets.read alone: transaction, commit)": audit_append,
            f"decrypt {SECRETS} values (AES-256-GCM)": decrypt,
            "render json": render_json,
        }
        for i in range(rounds + rounds // 10):
            for label, step in [*steps.items(), ("all of it, in sequence", whole)]:
                started = time.perf_counter_ns()
                await step()
                if i >= rounds // 10:  # the first tenth warms up
                    samples.setdefault(label, []).append(time.perf_counter_ns() - started)
    finally:
        await services.close()
    return [(label, statistics.median(ns) / 1e3) for label, ns in samples.items()]


# ---------------------------------------------------------------- profile


# (label, file suffix, function): the steps of a download in the server's main thread
STEPS = (
    ("  Litestar app (middleware, routing, DI, response)", "litestar/app.py", "__call__"),
    ("    download handler", "sigillo/api/secrets.py", "download"),
    ("    token authentication (principal)", "sigillo/api/auth.py", "principal"),
    ("      of which SHA-256 of the key", "sigillo/crypto/tokens.py", "hash_api_token"),
    ("    environment lookup", "sigillo/services/catalog.py", "find_environment"),
    ("    current secrets (version, rows if moved)", "sigillo/services/secrets.py", "current"),
    ("    audit append (group commit)", "sigillo/services/group_commit.py", "append"),
    ("    decrypt (keyring, AAD, AES-GCM)", "sigillo/services/secrets.py", "open"),
    ("    render json", "sigillo/domain/formats.py", "render"),
)  # fmt: skip


def profile_summary(path: Path) -> tuple[int, str]:
    """CPU time of the server's main thread per download, by step, from a cProfile taken
    with a thread-CPU clock (time spent waiting, in epoll or for aiosqlite's thread, is not
    in it). Coroutines count each resumption as a call: their cumulative time is the CPU
    they used while running, which is what is wanted here."""
    raw: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())

    def cumulative(suffix: str, function: str) -> tuple[float, int]:
        found = [
            (entry[3], entry[0])
            for (filename, _, name), entry in raw.items()
            if filename.endswith(suffix) and name == function
        ]
        return sum(f[0] for f in found), sum(f[1] for f in found)

    _, downloads = cumulative("sigillo/domain/formats.py", "render")  # once per download
    rows = [["main thread, all", f"{total / downloads * 1e3:.3f}", "100%"]]
    for label, suffix, function in STEPS:
        seconds, _ = cumulative(suffix, function)
        rows.append([label, f"{seconds / downloads * 1e3:.3f}", f"{seconds / total:.0%}"])
    headers = ["step (nested steps are part of the one above)", "CPU ms/download", "share"]
    return downloads, table(headers, rows)


# ---------------------------------------------------------------- orchestration


async def measure(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    async with data(kind) as (directory, url):
        seeded = await seed(directory, url)
        body_file = directory / "floor.json"
        body_file.write_bytes(seeded.body)
        download = (
            f"/api/v0/projects/{seeded.project_id}/environments/dev/secrets/download?format=json"
        )
        auth = {"Authorization": f"Bearer {seeded.token}"}
        runs: list[Run] = []
        with server(directory, url, body_file) as (base, pid):
            for connections in args.connections:
                for endpoint, path, headers in (
                    ("floor", FLOOR_PATH, {}),
                    ("download", download, auth),
                ):
                    latencies, wall, server_cpu, client_cpu, busy = await load(
                        base, path, headers, seeded.body, connections, args.duration,
                        args.warmup, pid,
                    )  # fmt: skip
                    run = Run(endpoint, connections, wall, latencies, server_cpu, client_cpu, busy)
                    runs.append(run)
                    print(
                        f"  {kind} {endpoint:8} c={connections}: {run.requests / wall:7.0f} req/s"
                        f"  p50 {statistics.median(latencies) / 1e6:.2f} ms",
                        flush=True,
                    )
        parts = await time_parts(url, directory, seeded, args.part_rounds)
        profile = None
        if args.profile:
            stats_file = directory / "server.prof"
            with server(directory, url, body_file, profile_to=stats_file) as (base, pid):
                marks = (
                    lambda: os.kill(pid, signal.SIGUSR1),
                    lambda: os.kill(pid, signal.SIGUSR2),
                )
                await load(
                    base, download, auth, seeded.body, max(args.connections), args.duration,
                    args.warmup, pid, marks,
                )  # fmt: skip
                for _ in range(200):  # the stats are written once the server handles SIGUSR2
                    if stats_file.exists():
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)
            profile = profile_summary(stats_file)
        return {
            "kind": kind,
            "version": await server_version(kind),
            "runs": runs,
            "parts": parts,
            "profile": profile,
            "body_bytes": len(seeded.body),
        }


def p(latencies_ns: list[int], fraction: float) -> float:
    ordered = sorted(latencies_ns)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--connections", default="8,1", help="concurrent connections per run")
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds before each")
    parser.add_argument("--part-rounds", type=int, default=300, help="in-process timings")
    parser.add_argument("--profile", action="store_true", help="profile one more server run")
    # the server child (internal)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--floor-body", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_with_floor(args)
        return
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    started = time.perf_counter()
    results = []
    for kind in kinds:
        print(f"{kind}:", flush=True)
        results.append(asyncio.run(measure(kind, args)))
    elapsed = time.perf_counter() - started
    report(results, args, elapsed)


def report(results: list[dict[str, Any]], args: argparse.Namespace, elapsed: float) -> None:
    headers = [
        "database", "endpoint", "conns", "requests", "req/s", "p50 ms", "p99 ms",
        "server CPU ms/req", "client CPU ms/req", "machine busy",
    ]  # fmt: skip
    rows, ratios = [], []
    for r in results:
        by = {(run.endpoint, run.connections): run for run in r["runs"]}
        for run in r["runs"]:
            rows.append(
                [
                    r["kind"],
                    "floor" if run.endpoint == "floor" else "download",
                    run.connections,
                    f"{run.requests:,}",
                    f"{run.requests / run.seconds:,.0f}",
                    f"{p(run.latencies_ns, 0.5):.2f}",
                    f"{p(run.latencies_ns, 0.99):.2f}",
                    f"{run.per_request_ms(run.server_cpu):.2f}",
                    f"{run.per_request_ms(run.client_cpu):.2f}",
                    f"{run.machine_busy:.0%}",
                ]
            )
        for connections in args.connections:
            floor, download = by[("floor", connections)], by[("download", connections)]
            throughput = (download.requests / download.seconds) / (floor.requests / floor.seconds)
            cpu = floor.per_request_ms(floor.server_cpu) / download.per_request_ms(
                download.server_cpu
            )
            ratios.append(
                [
                    r["kind"],
                    connections,
                    f"{throughput:.2f}",
                    f"{cpu:.2f}",
                    "pass" if throughput >= TARGET else "FAIL",
                ]
            )
    runs_table = table(headers, rows)
    ratio_table = table(
        ["database", "conns", "download/floor req/s", "floor/download server CPU", "target >= 0.5"],
        ratios,
    )
    parts_sections = []
    for r in results:
        parts = r["parts"]
        whole = parts[-1][1]
        parts_sections.append(
            f"{r['kind']}: median µs of each step, in-process on the same database, server "
            f"stopped, {args.part_rounds} rounds",
        )
        parts_sections.append(
            table(
                ["step", "median µs", "share of all"],
                [[label, f"{us:,.0f}", f"{us / whole:.0%}"] for label, us in parts],
            )
        )
    profile_sections = []
    for r in results:
        if r["profile"]:
            downloads, steps = r["profile"]
            profile_sections += [
                f"{r['kind']}: CPU of the server's main thread per download, by step, from "
                f"cProfile (thread CPU clock) over {downloads:,} downloads at "
                f"{max(args.connections)} connections. Profiling slows everything several "
                "fold: read the shares, not the milliseconds. SQLite statements run in "
                "aiosqlite's thread and PostgreSQL's in its own processes, so neither is here.",
                steps,
            ]
    print(f"\n{runs_table}\n\n{ratio_table}\n")
    for section in [*parts_sections, *profile_sections]:
        print(f"{section}\n")
    print(f"total run time {elapsed:.0f}s")
    body_bytes = results[0]["body_bytes"] if results else 0
    sections = [
        f"`GET /api/v0/projects/{{p}}/environments/dev/secrets/download?format=json` of an "
        f"environment of {SECRETS} secrets (realistic names, {VALUE_CHARS}-character random "
        f"values; a {body_bytes:,}-byte body) with a read-only API token, next to the floor: "
        f"`GET {FLOOR_PATH}`, mounted on the same app in the same server process (same "
        "uvicorn settings as `sigillo server`, same middleware and guards), answering the "
        "same bytes with the same headers. Load: one httpx.AsyncClient in the benchmark "
        f"process, N connections requesting back to back, {args.warmup:g} s warm-up then "
        f"{args.duration:g} s timed per row. Every download appends a `secrets.read` audit "
        "event in a write transaction holding the writer slot, so downloads are serialized "
        "by design (reads are audited, security.md promise 7).",
        runs_table,
        "CPU per request: the server process's user+system time over the timed window, and "
        "the load generator's (this process), divided by the requests. The machine has "
        f"{os.cpu_count()} cores, shared by the load generator, the server and PostgreSQL; "
        "'machine busy' is the share of all cores in use during the window. Ratios: "
        "download req/s over floor req/s (the target), and floor server CPU per request "
        "over download server CPU per request (the same ratio without the load generator's "
        "share of the machine).",
        ratio_table,
        *parts_sections,
        *profile_sections,
        "\n".join(
            [
                *environment(sorted({r["version"] for r in results})),
                f"- server: uvicorn {_version('uvicorn')} (http: "
                f"{'httptools' if _importable('httptools') else 'h11'}, loop: "
                f"{'uvloop' if _importable('uvloop') else 'asyncio'}), litestar "
                f"{_version('litestar')}, httpx {_version('httpx')} client",
                f"- total run time: {elapsed:.0f}s",
            ]
        ),
    ]
    path = write_results("download_throughput", "B3: download throughput over HTTP", sections)
    print(f"written to {path}")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
