"""B5: `sigillo run` throughput and start-up, each next to its floor (issue 5).

1. Throughput: a child writes 256 MB (a 1 MiB block, 256 times) in which every one of the
   environment's 100 protected values appears; through `sigillo run` (stdout a pipe read
   by `cat`, as in CI logs), next to the same child piped through `cat` alone. Peak
   resident memory of the sigillo process is sampled from /proc every 20 ms.
2. Start-up: wall time of `sigillo run -- true` next to a standard-library script that
   makes the same download request and then execs `true`.

Run from the repository root: `python bench/run_bench.py` (about a minute).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _support import environment, table, write_results
from cli_start import interleaved, seed, server, sigillo_command, user_environment
from sigillo.cli.run.redaction import MASK

THROUGHPUT_TARGET, START_TARGET = 0.8, 1.3
MEGABYTES = 256  # MiB written by the child
SMALL = 32  # MiB: the short run the marginal rate is taken against
ROUNDS = 5

CHILD = """\
import os, sys
secrets = [v for k, v in sorted(os.environ.items()) if k.startswith("BENCH_")]
line = b"2026-11-30T12:00:00Z INFO request served path=/api/items status=200 took=3ms\\n"
block = bytearray()
for value in secrets:
    block += line * 100 + b"token=" + value.encode() + b"\\n"
block += line * (((1 << 20) - len(block)) // len(line) + 1)
block = bytes(block[: 1 << 20])
for _ in range(int(sys.argv[1])):
    sys.stdout.buffer.write(block)
"""

FLOOR = """\
import http.client, os, json
from urllib.parse import urlsplit
url = urlsplit(os.environ["SIGILLO_API_URL"])
project, environment = os.environ["SIGILLO_PROJECT"], os.environ["SIGILLO_ENVIRONMENT"]
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
connection.request(
    "GET",
    f"/api/v0/projects/{project}/environments/{environment}/secrets/download?format=json",
    headers={"Authorization": "Bearer " + os.environ["SIGILLO_TOKEN"], "Accept": "*/*"},
)
answer = connection.getresponse()
secrets = json.loads(answer.read())
os.execvpe("true", ["true"], {**os.environ, **secrets, "SIGILLO": "1"})
"""


def peak_rss_kib(pid: int, stop: threading.Event, found: list[int]) -> None:
    while not stop.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found.append(int(line.split()[1]))
        except OSError:
            return
        time.sleep(0.02)


def through_cat(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds for `argv | cat > /dev/null`, and the peak RSS (MiB) of argv's process."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
    cat = subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)
    assert process.stdout is not None
    process.stdout.close()
    samples: list[int] = []
    stop = threading.Event()
    sampler = threading.Thread(target=peak_rss_kib, args=(process.pid, stop, samples))
    sampler.start()
    code = process.wait()
    cat.wait()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    assert code == 0, code
    return elapsed, (max(samples) / 1024 if samples else float("nan"))


def throughput(sigillo: list[str], env: dict[str, str], child: Path) -> dict[str, float]:
    """Whole runs of MEGABYTES (start-up included, as a CI job sees it) and the marginal
    rate between SMALL and MEGABYTES (start-up cancels out: the cost of each further MiB).
    ROUNDS interleaved rounds, medians; peak RSS is the highest seen in a whole run."""
    seconds: dict[tuple[str, int], list[float]] = {}
    peaks: list[float] = []
    for _ in range(ROUNDS):
        for size in (SMALL, MEGABYTES):
            child_argv = [sys.executable, str(child), str(size)]
            floor_s, _ = through_cat(child_argv, env)
            run_s, peak = through_cat([*sigillo, "run", "--", *child_argv], env)
            seconds.setdefault(("floor", size), []).append(floor_s)
            seconds.setdefault(("run", size), []).append(run_s)
            peaks.append(peak)
    median = {key: statistics.median(values) for key, values in seconds.items()}
    extra = MEGABYTES - SMALL

    def marginal(path: str) -> float:
        return extra / (median[(path, MEGABYTES)] - median[(path, SMALL)])

    return {
        "floor_mb_s": MEGABYTES / median[("floor", MEGABYTES)],
        "run_mb_s": MEGABYTES / median[("run", MEGABYTES)],
        "floor_marginal": marginal("floor"),
        "run_marginal": marginal("run"),
        "peak_mib": max(peaks),
    }


def check_masked(sigillo: list[str], env: dict[str, str], child: Path, values: list[str]) -> None:
    """One block through sigillo run: no value survives, every one was masked."""
    done = subprocess.run(
        [*sigillo, "run", "--", sys.executable, str(child), "1"],
        env=env, capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert all(value.encode() not in done.stdout for value in values)
    assert done.stdout.count(b"token=" + MASK) == len(values)


def main() -> None:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sigillo_bench_run_") as scratch:
        root = Path(scratch)
        data_dir = root / "data"
        with server(data_dir) as url:
            project, token, _ = seed(url, data_dir)
            import httpx

            values = httpx.get(
                f"{url}/api/v0/projects/{project}/environments/dev/secrets/download",
                params={"format": "json"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            env = user_environment(root / "pycache")
            env.update(
                SIGILLO_API_URL=url,
                SIGILLO_TOKEN=token,
                SIGILLO_PROJECT=project,
                SIGILLO_ENVIRONMENT="dev",
                **{f"BENCH_{i:03}": value for i, value in enumerate(values.values())},
            )
            child = root / "child.py"
            child.write_text(CHILD)
            floor = root / "floor.py"
            floor.write_text(FLOOR)
            sigillo, _ = sigillo_command()
            check_masked(sigillo, env, child, list(values.values()))
            speed = throughput(sigillo, env, child)
            times = interleaved(
                {
                    "sigillo run -- true": ([*sigillo, "run", "--", "true"], "", env),
                    "floor (stdlib script, then exec true)": (
                        [sys.executable, str(floor)],
                        "",
                        env,
                    ),
                },
                runs=30,
                warmup=3,
            )
    report(speed, times, len(values), time.monotonic() - began)


def report(
    speed: dict[str, float], times: dict[str, list[int]], secrets: int, elapsed: float
) -> None:
    ratio = speed["run_mb_s"] / speed["floor_mb_s"]
    marginal = speed["run_marginal"] / speed["floor_marginal"]
    first = table(
        ["path", "whole run MiB/s", f"marginal MiB/s ({SMALL}->{MEGABYTES} MiB)",
         "sigillo peak RSS MiB"],
        [
            ["child | cat (floor)", f"{speed['floor_mb_s']:.0f}",
             f"{speed['floor_marginal']:.0f}", ""],
            ["sigillo run -- child | cat", f"{speed['run_mb_s']:.0f}",
             f"{speed['run_marginal']:.0f}", f"{speed['peak_mib']:.1f}"],
        ],
    )  # fmt: skip
    medians = {name: statistics.median(ns) / 1e6 for name, ns in times.items()}
    run_ms, floor_ms = medians.values()
    second = table(
        ["program", "runs", "median ms", "min ms"],
        [[n, len(ns), f"{medians[n]:.1f}", f"{min(ns) / 1e6:.1f}"] for n, ns in times.items()],
    )
    verdicts = table(
        ["measure", "ratio", "target", "verdict"],
        [
            ["throughput run/floor (whole run)", f"{ratio:.2f}", f">= {THROUGHPUT_TARGET}",
             "PASS" if ratio >= THROUGHPUT_TARGET else "FAIL"],
            ["throughput run/floor (marginal)", f"{marginal:.2f}", f">= {THROUGHPUT_TARGET}",
             "PASS" if marginal >= THROUGHPUT_TARGET else "FAIL"],
            ["start-up run/floor", f"{run_ms / floor_ms:.2f}", f"<= {START_TARGET}",
             "PASS" if run_ms / floor_ms <= START_TARGET else "FAIL"],
            ["peak memory MiB", f"{speed['peak_mib']:.1f}", "<= 64",
             "PASS" if speed["peak_mib"] <= 64 else "FAIL"],
        ],
    )  # fmt: skip
    print(first, second, verdicts, sep="\n\n")
    write_results(
        "run_bench",
        "B5: `sigillo run` throughput and start-up",
        [
            f"{MEGABYTES} MiB written by a Python child in 1 MiB blocks, each block holding "
            f"every one of the environment's {secrets} values once (all masked: checked on one "
            "block), through `sigillo run` with stdout a pipe read by `cat`, next to the same "
            f"child piped through `cat`; medians of {ROUNDS} interleaved rounds. The whole run "
            "includes start-up (for sigillo: imports, the download, building the matcher); the "
            f"marginal rate is (256 - {SMALL}) MiB over the difference between the {MEGABYTES} "
            f"and {SMALL} MiB runs, the cost of each further MiB. Peak RSS of the sigillo "
            "process sampled every 20 ms.",
            first,
            "Start-up: `sigillo run -- true` (one download, redactor built, child run) next to "
            "a stdlib script making the same request and exec'ing `true`; 30 interleaved runs "
            "each, bytecode cached.",
            second,
            verdicts,
            *environment([]),
            f"- total run time: {elapsed:.0f}s",
        ],
    )


if __name__ == "__main__":
    main()
