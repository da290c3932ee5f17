"""B4: wall time of `sigillo secrets` next to the floor: the same request from a minimal script.

The timed command is what a user or a CI job runs: `sigillo secrets` with stdout piped (so
it prints the live names, one per line), configured through SIGILLO_TOKEN (a read-only API
token), SIGILLO_PROJECT, SIGILLO_ENVIRONMENT=dev and SIGILLO_API_URL, with an empty HOME,
against a real `sigillo server` on 127.0.0.1 whose `dev` environment holds 100 secrets.

The floor is the least any Python program can do for the same answer: a stdlib-only script
(http.client + json) that sends the same GET …/environments/dev/secrets with the same
token and prints the names. Both run with this interpreter, as new processes, started
with subprocess and timed from spawn to exit; the two alternate (and swap order each
round) so that machine load weighs on both alike. Each run's output is checked.

Also timed, as context: `python -c pass` (the interpreter alone) and `sigillo --version`
(the CLI without any request). Then one `python -X importtime` run of each program gives
the modules the CLI imports that the floor does not, and what they cost.

    python bench/cli_start.py [--runs 30] [--warmup 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from _support import environment, percentile_ms, table, write_results
from download_throughput import SECRETS, free_port, secret_values
from sigillo import __version__

TARGET = 1.5
START_TIMEOUT = 30.0
EMAIL, PASSWORD = "bench@example.com", "bench-password-" * 2

FLOOR = '''\
"""The floor: the request `sigillo secrets` makes, and its piped output, with nothing else."""
import http.client, json, os, sys
from urllib.parse import urlsplit

url = urlsplit(os.environ["SIGILLO_API_URL"])
project, environment = os.environ["SIGILLO_PROJECT"], os.environ["SIGILLO_ENVIRONMENT"]
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
connection.request(
    "GET",
    f"/api/v0/projects/{project}/environments/{environment}/secrets",
    headers={
        "Authorization": "Bearer " + os.environ["SIGILLO_TOKEN"],
        "Accept": "application/json",
    },
)
answer = connection.getresponse()
body = answer.read()
if answer.status != 200:
    sys.exit(f"error: {answer.status}")
sys.stdout.write("".join(item["name"] + "\\n" for item in json.loads(body)["secrets"]))
'''


# ---------------------------------------------------------------- the server and its data


@contextlib.contextmanager
def server(data_dir: Path) -> Iterator[str]:
    """`sigillo server` on a free port, healthy; yields its URL; stopped with SIGTERM."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    command = [sys.executable, "-m", "sigillo", "server", "--data-dir", str(data_dir)]
    log = data_dir.parent / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=output, stderr=subprocess.STDOUT, env=clean
        )
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
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def seed(url: str, data_dir: Path) -> tuple[str, str, list[str]]:
    """A user, org, project with SECRETS secrets in `dev`, and a read-only API token, all
    through the public interfaces. Answers (project id, token, the names listed)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    subprocess.run(
        [
            *(sys.executable, "-m", "sigillo", "admin", "create-user", EMAIL),
            *("--password-stdin", "--data-dir", str(data_dir)),
        ],
        input=PASSWORD,
        text=True,
        capture_output=True,
        env=clean,
        check=True,
    )
    session = httpx.post(
        f"{url}/api/auth/sign-in/email", json={"email": EMAIL, "password": PASSWORD}
    ).json()["token"]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {session}"}) as api:
        org = api.post("/api/v0/orgs", json={"name": "Bench Org"}).json()["id"]
        project = api.post("/api/v0/projects", json={"name": "Bench", "orgId": org}).json()["id"]
        written = api.put(
            f"/api/v0/projects/{project}/environments/dev/secrets",
            json={"secrets": secret_values()},
        )
        written.raise_for_status()
        created = api.post(f"/api/v0/projects/{project}/tokens", json={"name": "bench"})
        created.raise_for_status()
        token = created.json()["key"]
        listed = api.get(f"/api/v0/projects/{project}/environments/dev/secrets").json()
    assert token.startswith("sig_")
    return project, token, [item["name"] for item in listed["secrets"]]


# ---------------------------------------------------------------- timing

UNCACHED = "sigillo secrets, no bytecode cache"


def user_environment(pycache: Path) -> dict[str, str]:
    """This environment as a user's shell has it: no SIGILLO_* of ours, and Python's usual
    defaults (bytecode cached, in a directory of this run; stdout buffered)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SIGILLO_")
        and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONPYCACHEPREFIX")
    }
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def sigillo_command() -> tuple[list[str], str]:
    """The console script next to this interpreter (what users run), else `python -m`."""
    script = Path(sys.executable).parent / "sigillo"
    if script.exists():
        return [str(script)], f"`{script}` (the installed console script)"
    return [sys.executable, "-m", "sigillo"], "`python -m sigillo`"


Program = tuple[list[str], str, dict[str, str]]  # command, expected stdout, environment


def run_once(command: Sequence[str], env: dict[str, str], expected: str) -> int:
    """Spawn to exit, in ns; the output is checked (a fast wrong answer is no answer)."""
    started = time.perf_counter_ns()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter_ns() - started
    if done.returncode != 0 or done.stdout != expected:
        raise RuntimeError(f"{command}: exit {done.returncode}\n{done.stdout[:500]}{done.stderr}")
    return elapsed


def interleaved(programs: dict[str, Program], runs: int, warmup: int) -> dict[str, list[int]]:
    """`runs` timed runs of each program, alternating, the order reversed every round."""
    for _ in range(warmup):
        for command, expected, env in programs.values():
            run_once(command, env, expected)
    samples: dict[str, list[int]] = {name: [] for name in programs}
    order = list(programs)
    for round_ in range(runs):
        for name in order if round_ % 2 == 0 else reversed(order):
            command, expected, env = programs[name]
            samples[name].append(run_once(command, env, expected))
    return samples


def import_costs(command: Sequence[str], env: dict[str, str]) -> dict[str, tuple[int, int]]:
    """module -> (self µs, cumulative µs) from one `-X importtime` run."""
    done = subprocess.run(
        list(command), env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    costs: dict[str, tuple[int, int]] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, module = line.removeprefix("import time:").split("|")
        costs[module.strip()] = (int(own), int(cumulative))
    return costs


def parser_build_ms(rounds: int = 50) -> tuple[float, float]:
    """Median ms to build the CLI's whole argparse parser (every command does, once), and
    the same with argparse's gettext lookups cached: argparse translates each help string
    through gettext, which looks for message catalogs on disk at every call."""
    import argparse as argparse_module
    import functools

    from sigillo.__main__ import parser

    def median() -> float:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter_ns()
            parser()
            samples.append(time.perf_counter_ns() - started)
        return statistics.median(samples) / 1e6

    as_is = median()
    translate = argparse_module._  # type: ignore[attr-defined]
    argparse_module._ = functools.lru_cache(maxsize=None)(translate)  # type: ignore[attr-defined]
    try:
        cached = median()
    finally:
        argparse_module._ = translate  # type: ignore[attr-defined]
    return as_is, cached


# ---------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each program")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs of each first")
    args = parser.parse_args()
    began, load_before = time.monotonic(), os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="sigillo_bench_cli_"))
    try:
        data_dir, home = root / "data", root / "home"
        home.mkdir()
        floor = root / "floor.py"
        floor.write_text(FLOOR)
        with server(data_dir) as url:
            project, token, names = seed(url, data_dir)
            env = user_environment(root / "pycache")
            env.update(
                HOME=str(home),
                SIGILLO_API_URL=url,
                SIGILLO_TOKEN=token,
                SIGILLO_PROJECT=project,
                SIGILLO_ENVIRONMENT="dev",
            )
            # As where bytecode is never written (this sandbox sets PYTHONDONTWRITEBYTECODE):
            # every module of the CLI is compiled from source on every run
            # (the standard library keeps its installed bytecode).
            uncached = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
            del uncached["PYTHONPYCACHEPREFIX"]
            cli, cli_label = sigillo_command()
            listing = "".join(f"{name}\n" for name in names)
            programs: dict[str, Program] = {
                "sigillo secrets": ([*cli, "secrets"], listing, env),
                "floor (stdlib script)": ([sys.executable, str(floor)], listing, env),
                "sigillo --version": ([*cli, "--version"], f"sigillo {__version__}\n", env),
                "python -c pass": ([sys.executable, "-c", "pass"], "", env),
                UNCACHED: ([*cli, "secrets"], listing, uncached),
            }
            samples = interleaved(programs, args.runs, args.warmup)
            cli_imports = import_costs([sys.executable, "-m", "sigillo", "secrets"], env)
            floor_imports = import_costs([sys.executable, str(floor)], env)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    build = parser_build_ms()
    load = (load_before, os.getloadavg()[0])
    report(
        samples, cli_imports, floor_imports, build, cli_label, args, time.monotonic() - began, load
    )


def report(
    samples: dict[str, list[int]],
    cli_imports: dict[str, tuple[int, int]],
    floor_imports: dict[str, tuple[int, int]],
    build: tuple[float, float],
    cli_label: str,
    args: argparse.Namespace,
    elapsed: float,
    load: tuple[float, float],
) -> None:
    rows = [
        (
            name,
            len(ns),
            f"{statistics.median(ns) / 1e6:.1f}",
            f"{percentile_ms(ns, 0.9):.1f}",
            f"{min(ns) / 1e6:.1f}",
        )
        for name, ns in samples.items()
    ]
    cli, floor = samples["sigillo secrets"], samples["floor (stdlib script)"]
    median_ratio = statistics.median(cli) / statistics.median(floor)
    p90_ratio = percentile_ms(cli, 0.9) / percentile_ms(floor, 0.9)
    verdict = "PASS" if median_ratio <= TARGET else "FAIL"
    ratios = table(
        ["measure", "sigillo secrets / floor", f"target <= {TARGET}"],
        [
            ("median", f"{median_ratio:.2f}", verdict),
            ("p90", f"{p90_ratio:.2f}", ""),
            ("min (least disturbed by other load)", f"{min(cli) / min(floor):.2f}", ""),
        ],
    )
    extra = {m: c for m, c in cli_imports.items() if m not in floor_imports}
    extra_self_ms = sum(own for own, _ in extra.values()) / 1e3
    top = sorted(extra.items(), key=lambda item: -item[1][0])[:15]
    imports = table(
        ["module (imported by sigillo secrets, not by the floor)", "self ms", "cumulative ms"],
        [(module, f"{own / 1e3:.2f}", f"{total / 1e3:.2f}") for module, (own, total) in top],
    )
    intro = (
        f"Wall time from spawn to exit of `sigillo secrets` (list, stdout piped: {SECRETS} "
        "names printed) against a local `sigillo server` (SQLite) with a read-only API token "
        "in SIGILLO_TOKEN, next to the floor: a stdlib-only script (http.client + json) "
        "making the same GET …/environments/dev/secrets and printing the names. "
        f"{args.runs} timed runs of each after {args.warmup} warm-up runs, interleaved "
        f"(order reversed every round); every run's output checked. CLI: {cli_label}. "
        "Programs run with Python's defaults, as in a user's shell: bytecode cached (in a "
        "directory of this run, filled by the warm-up runs) and stdout buffered; the last row "
        "is the CLI where bytecode is never written (PYTHONDONTWRITEBYTECODE=1, as in this "
        "sandbox), compiling its own modules from source on every run: context, not the target."
    )
    sections = [
        intro,
        table(["program", "runs", "median ms", "p90 ms", "min ms"], rows),
        ratios,
        (
            f"What the CLI imports beyond the floor (one `-X importtime` run of `python -m "
            f"sigillo secrets`): {len(extra)} modules, {extra_self_ms:.1f} ms of import time "
            "in all (importtime's own overhead included; the command's own module, loaded "
            "with importlib.import_module, is not reported by importtime, its imports are); "
            "the 15 costliest by self time:"
        ),
        imports,
        (
            f"Besides imports, every run builds the whole argparse parser (all commands and "
            f"actions) before parsing: {build[0]:.1f} ms (median, in-process), of which "
            f"argparse's gettext lookups are {build[0] - build[1]:.1f} ms "
            f"({build[1]:.1f} ms with them cached)."
        ),
        "\n".join(
            [
                *environment([f"sigillo {__version__}"]),
                f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}",
                f"- total run time: {elapsed:.0f}s",
            ]
        ),
    ]
    path = write_results(
        "cli_start", "B4: `sigillo secrets` start-up next to a stdlib floor", sections
    )
    print("\n\n".join(sections))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
