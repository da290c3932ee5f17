"""B7: the dashboard's Secrets tab for 500 secrets, next to the JSON list of the same secrets.

The budget of issue 6: server time to render the Secrets tab of an environment holding 500
secrets ≤ 2 x the time of the JSON list endpoint (GET /api/v0/projects/{p}/environments/
{e}/secrets) for the same environment, and the page under 300 KB.

A real `sigillo server` process on 127.0.0.1 (as bench/cli_start.py starts one), on a fresh
data directory and a fresh database of each kind (`--databases`); everything is made through
the public interfaces: the account with `sigillo admin create-user`, a session from the
sign-in endpoint, the org, the project (dev, preview, prod) and the secrets with the API.
`dev` holds 500 secrets (40-character random values); `prod` holds the same 500 names and
10 of its own, which dev's tab shows as missing rows (the tab reads the other environments'
names, as the JSON list does for `allNames`).

Timed, over one keep-alive connection, one request at a time, interleaved round by round
(order rotated every round so load weighs on all alike), after warm-up requests:
  - `GET /dash/projects/{p}/envs/dev`: the whole Secrets tab page, as a browser loads it;
  - the same with `HX-Request: true`: the fragment htmx swaps in (context, not the target);
  - `GET /api/v0/projects/{p}/environments/dev/secrets`: the JSON list.
All three with the same session cookie, so authentication costs the same. Wall time is
measured from the request to the last byte of the answer, in the benchmark process; the
server's CPU per request comes from /proc (its user + system ticks around each request:
the server is otherwise idle, so the ticks of a request are its own; 10 ms ticks, so only
the mean over many requests means anything). Every answer is checked: status 200, the 500
names and the 10 missing ones present in the page, and none of the 500 values anywhere in
it (values never leave before a reveal [D5]).

    python bench/dashboard_render.py [--requests 200] [--warmup 20] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import random
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from _support import (
    DATABASES,
    POSTGRES_ADMIN_URL,
    environment,
    percentile_ms,
    table,
    write_results,
)
from download_throughput import KINDS, SERVICES, free_port
from sigillo import __version__

SECRETS = 500
MISSING = 10  # names live in prod only: rows marked missing on dev's tab
VALUE_CHARS = 40
TARGET_RATIO = 2.0
TARGET_BYTES = 300_000  # "under 300 KB", read strictly: 300,000 bytes
START_TIMEOUT = 30.0
EMAIL, PASSWORD = "bench@example.com", "bench-password-" * 2
COOKIE = "sigillo_session"  # the session cookie's name over plain HTTP
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

PAGE, FRAGMENT, JSON = "Secrets tab (page)", "Secrets tab (htmx fragment)", "JSON list"


def names(count: int, start: int = 0) -> list[str]:
    """Realistic names: SERVICE_KIND, numbered once the combinations run out."""
    found = []
    for i in range(start, start + count):
        service, kind = SERVICES[i % len(SERVICES)], KINDS[(i // len(SERVICES)) % len(KINDS)]
        rank = i // (len(SERVICES) * len(KINDS))
        found.append(f"{service}_{kind}" + (f"_{rank + 1}" if rank else ""))
    return found


def values(keys: list[str], seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    return {key: "".join(rng.choices(alphabet, k=VALUE_CHARS)) for key in keys}


# ---------------------------------------------------------------- the server and its data


def clean_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    env.update(SIGILLO_DATABASE_URL=database_url, SIGILLO_DATA_DIR=str(data_dir))
    return env


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (the server migrates it); dropped at exit."""
    import asyncio

    import asyncpg

    name = f"sigillo_bench_{uuid.uuid4().hex[:10]}_render"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def database(kind: str, root: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{root}/sigillo.db"
    elif kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        raise SystemExit(f"unknown database {kind!r}: choose from {', '.join(DATABASES)}")


@contextlib.contextmanager
def server(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """`sigillo server` on a free port, healthy: (its URL, its pid); stopped with SIGTERM."""
    port = free_port()
    command = [sys.executable, "-m", "sigillo", "server", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Seeded:
    project: str
    session: str
    dev_values: dict[str, str]
    prod_only: list[str]


def seed(url: str, env: dict[str, str]) -> Seeded:
    """The account (admin CLI), a session (sign-in), org, project and secrets (API)."""
    subprocess.run(
        [sys.executable, "-m", "sigillo", "admin", "create-user", EMAIL, "--password-stdin"],
        input=PASSWORD,
        text=True,
        capture_output=True,
        env=env,
        check=True,
    )
    signed = httpx.post(
        f"{url}/api/auth/sign-in/email", json={"email": EMAIL, "password": PASSWORD}
    )
    signed.raise_for_status()
    session = signed.json()["token"]
    dev = values(names(SECRETS), seed=7)
    prod_only = names(MISSING, start=SECRETS)
    prod = {**values(list(dev), seed=8), **values(prod_only, seed=9)}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {session}"}) as api:
        org = api.post("/api/v0/orgs", json={"name": "Bench Org"}).json()["id"]
        project = api.post("/api/v0/projects", json={"name": "Bench", "orgId": org}).json()["id"]
        for slug, secrets in (("dev", dev), ("prod", prod)):
            written = api.put(
                f"/api/v0/projects/{project}/environments/{slug}/secrets",
                json={"secrets": secrets},
                timeout=60,
            )
            written.raise_for_status()
    return Seeded(project, session, dev, prod_only)


# ---------------------------------------------------------------- timing


def server_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


@dataclass
class Target:
    path: str
    headers: dict[str, str]
    check: Callable[[httpx.Response], None]  # raises on a wrong answer
    wall_ns: list[int] = field(default_factory=list)
    ticks: int = 0
    size: int = 0
    gzip_size: int = 0


def check_page(seeded: Seeded, fragment: bool) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        if response.status_code != 200:
            raise RuntimeError(f"page: {response.status_code}\n{response.text[:500]}")
        text = response.text
        if fragment == ("<html" in text):
            raise RuntimeError("a full page where a fragment was expected, or the reverse")
        missing = [name for name in [*seeded.dev_values, *seeded.prod_only] if name not in text]
        if missing:
            raise RuntimeError(f"the page lacks {len(missing)} names, such as {missing[0]}")
        leaked = [name for name, value in seeded.dev_values.items() if value in text]
        if leaked:
            raise RuntimeError(f"the page holds {len(leaked)} values: values must stay hidden")

    return check


def check_json(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"json: {response.status_code}\n{response.text[:500]}")
    if len(response.json()["secrets"]) != SECRETS:
        raise RuntimeError("the JSON list does not hold every secret")


def measure(url: str, pid: int, seeded: Seeded, requests: int, warmup: int) -> dict[str, Target]:
    targets = {
        PAGE: Target(f"/dash/projects/{seeded.project}/envs/dev", {}, check_page(seeded, False)),
        FRAGMENT: Target(
            f"/dash/projects/{seeded.project}/envs/dev",
            {"HX-Request": "true"},
            check_page(seeded, True),
        ),
        JSON: Target(
            f"/api/v0/projects/{seeded.project}/environments/dev/secrets",
            {"Accept": "application/json"},
            check_json,
        ),
    }
    with httpx.Client(base_url=url, timeout=60) as client:
        client.cookies.set(COOKIE, seeded.session, domain="127.0.0.1", path="/")
        for _ in range(warmup):
            for target in targets.values():
                target.check(client.get(target.path, headers=target.headers))
        order = list(targets.values())
        for round_ in range(requests):
            shift = round_ % len(order)
            for target in order[shift:] + order[:shift]:
                ticks = server_ticks(pid)
                started = time.perf_counter_ns()
                response = client.get(target.path, headers=target.headers)
                body = response.content
                target.wall_ns.append(time.perf_counter_ns() - started)
                target.ticks += server_ticks(pid) - ticks
                if round_ == 0:
                    target.check(response)
                    target.size, target.gzip_size = len(body), len(gzip.compress(body))
                elif response.status_code != 200:
                    raise RuntimeError(f"{target.path}: {response.status_code}")
    return targets


# ---------------------------------------------------------------- report


def run(kind: str, args: argparse.Namespace) -> dict[str, Target]:
    root = Path(tempfile.mkdtemp(prefix="sigillo_bench_render_"))
    try:
        with database(kind, root) as url:
            env = clean_environment(url, root / "data")
            with server(env, root / "server.log") as (base, pid):
                seeded = seed(base, env)
                return measure(base, pid, seeded, args.requests, args.warmup)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def kb(size: int) -> str:
    return f"{size / 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests of each")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests of each first")
    parser.add_argument("--databases", default=",".join(DATABASES))
    args = parser.parse_args()
    began, load_before = time.monotonic(), os.getloadavg()[0]
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    results = {kind: run(kind, args) for kind in kinds}
    load = (load_before, os.getloadavg()[0])
    report(results, args, time.monotonic() - began, load)


def report(
    results: dict[str, dict[str, Target]],
    args: argparse.Namespace,
    elapsed: float,
    load: tuple[float, float],
) -> None:
    timings, verdicts = [], []
    for kind, targets in results.items():
        for name, target in targets.items():
            ns = target.wall_ns
            cpu_ms = target.ticks / CLOCK_TICKS * 1000 / len(ns)
            timings.append(
                (
                    kind,
                    name,
                    len(ns),
                    f"{statistics.median(ns) / 1e6:.2f}",
                    f"{percentile_ms(ns, 0.95):.2f}",
                    f"{cpu_ms:.2f}",
                    kb(target.size),
                    kb(target.gzip_size),
                )
            )
        page, json = targets[PAGE], targets[JSON]
        median = statistics.median(page.wall_ns) / statistics.median(json.wall_ns)
        p95 = percentile_ms(page.wall_ns, 0.95) / percentile_ms(json.wall_ns, 0.95)
        cpu = page.ticks / max(1, json.ticks)
        verdicts.append(
            (
                kind,
                f"{median:.2f}",
                f"{p95:.2f}",
                f"{cpu:.2f}",
                "PASS" if median <= TARGET_RATIO else "FAIL",
                kb(page.size),
                "PASS" if page.size < TARGET_BYTES else "FAIL",
            )
        )
    intro = (
        f"The Secrets tab of an environment of {SECRETS} secrets (and {MISSING} names live only "
        "in another environment: missing rows), next to the JSON list of the same environment, "
        "on a real `sigillo server` process over 127.0.0.1, one keep-alive connection, one "
        f"request at a time: {args.requests} timed requests of each after {args.warmup} "
        "warm-up requests, interleaved (order rotated every round). Wall time from the request "
        "to the last byte, in the benchmark process; server CPU per request from /proc (mean "
        "of 10 ms ticks). Sizes are the uncompressed bodies (the server does not compress), "
        f"gzip for context. Every page checked: all {SECRETS + MISSING} names present (the "
        "missing rows too), no value anywhere in it."
    )
    sections = [
        intro,
        table(
            ["database", "request", "n", "median ms", "p95 ms", "server CPU ms", "KB", "gzip KB"],
            timings,
        ),
        table(
            [
                "database",
                "page / JSON median",
                "p95",
                "server CPU",
                f"target <= {TARGET_RATIO}",
                "page KB",
                f"target < {TARGET_BYTES // 1000}",
            ],
            verdicts,
        ),
        "\n".join(
            [
                *environment([f"sigillo {__version__}", f"httpx {httpx.__version__}"]),
                f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}",
                f"- total run time: {elapsed:.0f}s",
            ]
        ),
    ]
    path = write_results(
        "dashboard_render", "B7: the Secrets tab for 500 secrets next to the JSON list", sections
    )
    print("\n\n".join(sections))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
