"""B6: `sigillo run` start-up, relay throughput and latency, each next to its floor (issue 14).

Against a real `sigillo server` whose `dev` environment holds 100 secrets (40 random
letters and digits each), with a read-only API token in SIGILLO_TOKEN:

1. Start-up: `sigillo run -- true` next to the floor, the venv's `python -S` running a
   script that fetches `download?format=json` with `urllib.request` and `os.execvpe`s
   `true`; and next to `dotenvx run -f .env -- true` (the same 100 secrets in a local file,
   no network, no redaction) when a dotenvx executable is found.
2. Relay: F = 256 MiB of base64 text (76-character lines) in which each of the 100 values
   appears once per MiB. `sigillo run -- cat F` with sigillo's stdout a pipe read by
   `cat > /dev/null`, a regular file, /dev/null; next to `cat F | cat` and to the bare
   Python relay (`os.read` 1 MiB, Hyperscan `scan` with the heads of the 1,000 forms
   sigillo protects, `os.write`) into the same three destinations. Peak RSS of sigillo.
3. Latency: a prompt written without a newline, and 2,000 lines written 1 ms apart, from
   the child's write to the bytes arriving on sigillo's stdout (a pipe read here).

    python bench/run_bench.py [--runs 30] [--warmup 3] [--rounds 5] [--dotenvx PATH]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import httpx
import hyperscan

from _support import environment, percentile_ms, table, write_results
from cli_start import interleaved, seed, server, sigillo_command, user_environment
from sigillo import __version__
from sigillo.cli.run.matcher import HEAD
from sigillo.cli.run.redaction import MASK, protect

START_TARGET, START_MUST = 1.5, 2.0  # sigillo run -- true / floor, medians
RELAY_TARGET = 0.8  # sigillo / bare Python relay, MiB/s, per destination
RSS_TARGET_MIB = 64
PROMPT_TARGET_MS = 50
LINE = 76  # base64 characters per line, as `base64` writes them
BLOCK_LINES = 13_618  # lines per block of F: 13,618 x 77 bytes = 1 MiB + 10 bytes
PROMPT = b"password: "

# The start-up floor, exactly as issue 14 describes it: run with `python -S`.
FLOOR = """\
import json, os, urllib.request

url, token = os.environ["SIGILLO_API_URL"], os.environ["SIGILLO_TOKEN"]
project, environment = os.environ["SIGILLO_PROJECT"], os.environ["SIGILLO_ENVIRONMENT"]
request = urllib.request.Request(
    f"{url}/api/v0/projects/{project}/environments/{environment}/secrets/download?format=json",
    headers={"Authorization": "Bearer " + token},
)
with urllib.request.urlopen(request, timeout=30) as answer:
    secrets = json.load(answer)
os.execvpe("true", ["true"], {**os.environ, **secrets})
"""

# The bare Python relay: sigillo's Hyperscan database, none of its redaction.
RELAY = """\
import os, sys
import hyperscan

heads = [bytes.fromhex(line) for line in open(sys.argv[1]).read().split()]
database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
database.compile(
    expressions=heads, ids=list(range(len(heads))), elements=len(heads), literal=True
)
hits = []
on_match = lambda i, start, end, flags, context: hits.append((end, i))
while data := os.read(0, 1 << 20):
    database.scan(data, match_event_handler=on_match)
    hits.clear()
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
"""

PROMPTER = """\
import os, sys, time

written = time.monotonic_ns()
print("password: ", end="", flush=True)
with open(sys.argv[1] + ".tmp", "w") as side:
    side.write(f"{os.getpid()} {written}")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(2)
"""

LINER = """\
import os, sys, time

lines, start = int(sys.argv[1]), time.monotonic_ns()
for i in range(lines):
    delay = start + i * 1_000_000 - time.monotonic_ns()
    if delay > 0:
        time.sleep(delay / 1e9)
    os.write(1, b"%d %d\\n" % (i, time.monotonic_ns()))
"""

DESTINATIONS = {
    "pipe": "a pipe read by `cat > /dev/null`",
    "file": "a regular file",
    "null": "/dev/null",
}


# ---------------------------------------------------------------- the data


def write_base64_file(path: Path, mib: int, values: list[str], seed_: int = 14) -> int:
    """`mib` blocks of BLOCK_LINES random base64 lines, each block holding every value
    once, at a random line and column; answers the file's size."""
    rng = random.Random(seed_)
    raw_per_block = LINE * 3 // 4 * BLOCK_LINES
    with path.open("wb") as out:
        for _ in range(mib):
            block = bytearray(base64.encodebytes(rng.randbytes(raw_per_block)))
            for value, line in zip(
                values, rng.sample(range(BLOCK_LINES), len(values)), strict=True
            ):
                at = line * (LINE + 1) + rng.randrange(LINE - len(value) + 1)
                block[at : at + len(value)] = value.encode()
            out.write(block)
    return path.stat().st_size


def sigillo_heads(secrets: dict[str, str]) -> tuple[list[bytes], int]:
    """The literals sigillo's matcher compiles for these secrets: the first HEAD bytes of
    every form `protect` gives, each once (matcher.Matcher); and the number of forms."""
    forms, short = protect(secrets)
    assert not short, short
    ordered = sorted(set(forms) - {b""}, key=len, reverse=True)
    return list(dict.fromkeys(form[:HEAD] for form in ordered)), len(forms)


def literal_database(literals: Sequence[bytes]) -> hyperscan.Database:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=list(literals),
        ids=list(range(len(literals))),
        elements=len(literals),
        literal=True,
    )
    return database


def count_in_lines(path: Path, values: list[str]) -> tuple[int, int]:
    """(occurrences of the values, of MASK) in a file of lines (neither spans a line)."""
    database = literal_database([value.encode() for value in values])
    found: list[int] = []
    masks = 0
    with path.open("rb") as data:
        rest = b""
        while chunk := data.read(8 << 20):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            chunk, rest = chunk[:cut], chunk[cut:]
            database.scan(chunk, match_event_handler=lambda *match: found.append(1))
            masks += chunk.count(MASK)
        database.scan(rest or b" ", match_event_handler=lambda *match: found.append(1))
        masks += rest.count(MASK)
    return len(found), masks


# ---------------------------------------------------------------- relay runs


def peak_rss_kib(pid: int, stop: threading.Event, found: list[int]) -> None:
    """The process's peak resident set, from /proc every 20 ms: VmHWM is the kernel's
    high-water mark, so only growth in the last 20 ms before exit could be missed."""
    while not stop.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(("VmHWM:", "VmRSS:")):
                    found.append(int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            return
        time.sleep(0.02)


def pipeline(
    stages: list[list[str]], destination: str, out: Path, env: dict[str, str], log: IO[bytes]
) -> tuple[float, float]:
    """Seconds from spawning the first stage to the exit of the last process of
    `stage | stage ... > destination`, and the peak RSS (MiB) of the last stage."""
    started = time.perf_counter()
    processes: list[subprocess.Popen[bytes]] = []
    upstream: Any = subprocess.DEVNULL
    sink = out.open("wb") if destination == "file" else None
    try:
        for index, argv in enumerate(stages):
            last = index == len(stages) - 1
            target: Any = subprocess.PIPE
            if last and destination == "file":
                target = sink
            elif last and destination == "null":
                target = subprocess.DEVNULL
            process = subprocess.Popen(argv, stdin=upstream, stdout=target, stderr=log, env=env)
            if upstream is not subprocess.DEVNULL:
                upstream.close()
            upstream = process.stdout
            processes.append(process)
        if destination == "pipe":
            processes.append(
                subprocess.Popen(["cat"], stdin=upstream, stdout=subprocess.DEVNULL, env=env)
            )
            upstream.close()
        samples: list[int] = []
        stop = threading.Event()
        watched = processes[len(stages) - 1].pid
        sampler = threading.Thread(target=peak_rss_kib, args=(watched, stop, samples))
        sampler.start()
        codes = [process.wait() for process in processes]
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
    finally:
        if sink is not None:
            sink.close()
            # untimed: the file's 256 MiB are written back now, not during the next rows
            # (writeback spilling into them slowed whichever row came next by up to 60%)
            os.sync()
    if any(codes):
        log.flush()
        raise RuntimeError(f"{stages} > {destination}: exit codes {codes}; see {log.name}")
    return elapsed, (max(samples) / 1024 if samples else float("nan"))


def relay_rows(
    sigillo: list[str], relay: list[str], f: str
) -> dict[str, tuple[list[list[str]], str]]:
    rows: dict[str, tuple[list[list[str]], str]] = {
        "cat F | cat > /dev/null": ([["cat", f], ["cat"]], "null")
    }
    for destination in DESTINATIONS:
        rows[f"bare relay > {destination}"] = ([["cat", f], relay], destination)
        rows[f"sigillo run -- cat F > {destination}"] = (
            [[*sigillo, "run", "--", "cat", f]],
            destination,
        )
    return rows


def relay_rounds(
    rows: dict[str, tuple[list[list[str]], str]],
    rounds: int,
    out: Path,
    env: dict[str, str],
    log: IO[bytes],
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """`rounds` runs of every row, interleaved, the order reversed every other round."""
    seconds: dict[str, list[float]] = {name: [] for name in rows}
    peaks: dict[str, list[float]] = {name: [] for name in rows}
    order = list(rows)
    for round_ in range(rounds):
        for name in order if round_ % 2 == 0 else reversed(order):
            stages, destination = rows[name]
            elapsed, peak = pipeline(stages, destination, out, env, log)
            seconds[name].append(elapsed)
            peaks[name].append(peak)
    return seconds, peaks


# ---------------------------------------------------------------- latency


def read_until(fd: int, size: int, deadline: float) -> tuple[bytes, int]:
    """Read `fd` until `size` bytes came (or EOF, or the deadline); answers them and the
    time.monotonic_ns() at which the last of them arrived."""
    got, arrived = b"", 0
    while len(got) < size:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 65536)
        arrived = time.monotonic_ns()
        if not chunk:
            break
        got += chunk
    return got, arrived


def prompt_latency(command: list[str], side: Path, env: dict[str, str], log: IO[bytes]) -> float:
    """ms from the child's write of PROMPT (its own clock, in a side file) to the bytes
    arriving on the pipe this process reads; then the child is ended (SIGTERM to it)."""
    side.unlink(missing_ok=True)
    process = subprocess.Popen([*command, str(side)], stdout=subprocess.PIPE, stderr=log, env=env)
    assert process.stdout is not None
    try:
        got, arrived = read_until(process.stdout.fileno(), len(PROMPT), time.monotonic() + 15)
        if got != PROMPT:
            raise RuntimeError(f"{command}: prompt {got!r}; see {log.name}")
        deadline = time.monotonic() + 5
        while not side.exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        pid, written = (int(part) for part in side.read_text().split())
        os.kill(pid, signal.SIGTERM)
    finally:
        process.stdout.close()
        if process.wait(timeout=10) not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            raise RuntimeError(f"{command}: exit {process.returncode}; see {log.name}")
    return (arrived - written) / 1e6


def line_latencies(
    command: list[str], lines: int, env: dict[str, str], log: IO[bytes]
) -> list[int]:
    """ns from each line's write (the time it holds) to its arrival on the pipe read here."""
    process = subprocess.Popen([*command, str(lines)], stdout=subprocess.PIPE, stderr=log, env=env)
    assert process.stdout is not None
    fd = process.stdout.fileno()
    chunks: list[tuple[int, bytes]] = []
    while chunk := os.read(fd, 65536):
        chunks.append((time.monotonic_ns(), chunk))
    process.stdout.close()
    if process.wait() != 0:
        raise RuntimeError(f"{command}: exit {process.returncode}; see {log.name}")
    latencies, rest = [], b""
    for arrived, chunk in chunks:
        *complete, rest = (rest + chunk).split(b"\n")
        for line in complete:
            index, written = line.split()
            assert int(index) == len(latencies), (index, len(latencies))
            latencies.append(arrived - int(written))
    assert len(latencies) == lines, len(latencies)
    assert not rest, rest
    return latencies


# ---------------------------------------------------------------- main


def find_dotenvx(given: str | None) -> str | None:
    if given:
        if not os.access(given, os.X_OK):
            raise SystemExit(f"--dotenvx {given}: not an executable")
        return given
    local = Path("node_modules/.bin/dotenvx")
    if found := shutil.which("dotenvx"):
        return found
    return str(local.resolve()) if os.access(local, os.X_OK) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed start-up runs of each")
    parser.add_argument("--warmup", type=int, default=3, help="untimed start-up runs of each")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved relay rounds")
    parser.add_argument("--mib", type=int, default=256, help="size of F in MiB")
    parser.add_argument("--prompts", type=int, default=10, help="prompt latency runs")
    parser.add_argument("--lines", type=int, default=2000, help="lines, 1 ms apart")
    parser.add_argument("--dotenvx", help="a dotenvx executable (else PATH, node_modules/.bin)")
    args = parser.parse_args()
    dotenvx = find_dotenvx(args.dotenvx)
    # Children inherit stdin: make it /dev/null, never a terminal of whoever runs this.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    began, load_before = time.monotonic(), os.getloadavg()[0]
    results: dict[str, Any] = {"dotenvx": dotenvx, "args": args}
    with tempfile.TemporaryDirectory(prefix="sigillo_bench_run_") as scratch:
        root = Path(scratch)
        data_dir = root / "data"
        with server(data_dir) as url, (root / "stderr.log").open("wb") as log:
            project, token, _ = seed(url, data_dir)
            secrets = httpx.get(
                f"{url}/api/v0/projects/{project}/environments/dev/secrets/download",
                params={"format": "json"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            values = list(secrets.values())
            env = user_environment(root / "pycache")
            env.update(
                SIGILLO_API_URL=url,
                SIGILLO_TOKEN=token,
                SIGILLO_PROJECT=project,
                SIGILLO_ENVIRONMENT="dev",
            )
            sigillo, results["cli"] = sigillo_command()
            python = sys.executable
            for name, text in (
                ("floor.py", FLOOR),
                ("relay.py", RELAY),
                ("prompter.py", PROMPTER),
                ("liner.py", LINER),
            ):
                (root / name).write_text(text)
            heads, results["forms"] = sigillo_heads(secrets)
            results["heads"] = len(heads)
            (root / "heads.txt").write_text("".join(head.hex() + "\n" for head in heads))
            relay = [python, str(root / "relay.py"), str(root / "heads.txt")]

            # 1. start-up
            programs = {
                "sigillo run -- true": ([*sigillo, "run", "--", "true"], "", env),
                "floor (python -S, urllib.request, execvpe true)": (
                    [python, "-S", str(root / "floor.py")], "", env
                ),
                "bare relay, empty input (context)": (relay, "", env),
            }  # fmt: skip
            if dotenvx:
                dotenv = root / ".env"
                dotenv.write_text("".join(f'{k}="{v}"\n' for k, v in secrets.items()))
                programs["dotenvx run -f .env -- true"] = (
                    [dotenvx, "run", "-f", str(dotenv), "--", "true"], "", env
                )  # fmt: skip
            results["start"] = interleaved(programs, args.runs, args.warmup)

            # 2. relay
            f = root / "F"
            results["size"] = write_base64_file(f, args.mib, values)
            occurrences, stray = count_in_lines(f, values)
            assert occurrences == args.mib * len(values), occurrences
            assert stray == 0, stray
            out = root / "out"
            rows = relay_rows(sigillo, relay, str(f))
            # once, untimed: every value masked, exactly one mask per occurrence
            pipeline(*rows["sigillo run -- cat F > file"], out, env, log)
            left, masks = count_in_lines(out, values)
            shrink = sum(len(v.encode()) - len(MASK) for v in values) * args.mib
            if left or masks != occurrences or out.stat().st_size != results["size"] - shrink:
                raise RuntimeError(
                    f"sigillo's output: {left} values left, {masks} masks for {occurrences} "
                    f"occurrences, {out.stat().st_size} bytes"
                )
            results["checked"] = (occurrences, masks)
            pipeline(*rows["bare relay > file"], out, env, log)
            assert out.stat().st_size == results["size"]
            results["relay"] = relay_rounds(rows, args.rounds, out, env, log)
            out.unlink()
            f.unlink()

            # 3. latency
            prompts: dict[str, list[float]] = {"sigillo run": [], "direct (floor)": []}
            for _ in range(args.prompts):
                prompter = [python, str(root / "prompter.py")]
                side = root / "prompt.side"
                prompts["direct (floor)"].append(prompt_latency(prompter, side, env, log))
                prompts["sigillo run"].append(
                    prompt_latency([*sigillo, "run", "--", *prompter], side, env, log)
                )
            results["prompts"] = prompts
            liner = [python, str(root / "liner.py")]
            results["lines"] = {
                "direct (floor)": line_latencies(liner, args.lines, env, log),
                "sigillo run": line_latencies(
                    [*sigillo, "run", "--", *liner], args.lines, env, log
                ),
            }
    results["elapsed"] = time.monotonic() - began
    results["load"] = (load_before, os.getloadavg()[0])
    report(results)


# ---------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: dict[str, Any]) -> None:
    args = results["args"]
    start: dict[str, list[int]] = results["start"]
    mib = results["size"] / (1 << 20)
    median_ms = {name: statistics.median(ns) / 1e6 for name, ns in start.items()}
    run_name, floor_name, relay_start_name = list(start)[:3]
    dotenvx_name = "dotenvx run -f .env -- true"
    start_rows = [
        (name, len(ns), f"{median_ms[name]:.1f}", f"{percentile_ms(ns, 0.9):.1f}",
         f"{min(ns) / 1e6:.1f}")
        for name, ns in start.items()
    ]  # fmt: skip
    if dotenvx_name not in start:
        start_rows.append((dotenvx_name, "not measured (no dotenvx found)", "", "", ""))
    start_table = table(["program", "runs", "median ms", "p90 ms", "min ms"], start_rows)

    seconds, peaks = results["relay"]
    median_s = {name: statistics.median(values) for name, values in seconds.items()}
    relay_start_s = median_ms[relay_start_name] / 1e3
    run_start_s = median_ms[run_name] / 1e3

    def rate(seconds: float) -> str:  # "n/a" where start-up alone took longer (noise)
        return f"{mib / seconds:.0f}" if seconds > 0 else "n/a"

    floor1 = median_s["cat F | cat > /dev/null"]
    relay_table_rows: list[Sequence[Any]] = [
        (r"cat F \| cat (floor 1)", "/dev/null", f"{floor1:.3f}", rate(floor1), "", "")
    ]
    ratios: dict[str, tuple[float, float]] = {}
    for destination in DESTINATIONS:
        bare, run = f"bare relay > {destination}", f"sigillo run -- cat F > {destination}"
        bare_net, run_net = median_s[bare] - relay_start_s, median_s[run] - run_start_s
        ratios[destination] = (
            median_s[bare] / median_s[run],
            bare_net / run_net if bare_net > 0 and run_net > 0 else float("nan"),
        )
        relay_table_rows += [
            (r"cat F \| bare relay (floor 2)", DESTINATIONS[destination],
             f"{median_s[bare]:.3f}", rate(median_s[bare]), rate(bare_net),
             f"{max(peaks[bare]):.1f}"),
            ("sigillo run -- cat F", DESTINATIONS[destination],
             f"{median_s[run]:.3f}", rate(median_s[run]), rate(run_net),
             f"{max(peaks[run]):.1f}"),
        ]  # fmt: skip
    relay_table = table(
        ["pipeline", "its stdout", "median s", "MiB/s",
         "MiB/s net of start-up", "peak RSS MiB"],
        relay_table_rows,
    )  # fmt: skip
    peak_run = max(max(peaks[f"sigillo run -- cat F > {d}"]) for d in DESTINATIONS)

    prompts: dict[str, list[float]] = results["prompts"]
    prompt_table = table(
        ["prompt `password: ` (no newline)", "runs", "median ms", "max ms"],
        [(name, len(ms), f"{statistics.median(ms):.2f}", f"{max(ms):.2f}")
         for name, ms in prompts.items()],
    )  # fmt: skip
    lines: dict[str, list[int]] = results["lines"]
    line_table = table(
        ["lines, 1 ms apart", "lines", "p50 ms", "p99 ms", "max ms"],
        [(name, len(ns), f"{percentile_ms(ns, 0.5):.2f}", f"{percentile_ms(ns, 0.99):.2f}",
          f"{max(ns) / 1e6:.2f}") for name, ns in lines.items()],
    )  # fmt: skip

    start_ratio = median_ms[run_name] / median_ms[floor_name]
    verdict_rows: list[Sequence[Any]] = [
        ("start-up: sigillo run -- true / floor, medians", f"{start_ratio:.2f}",
         f"<= {START_TARGET} (target)", verdict(start_ratio <= START_TARGET)),
        ("", "", f"<= {START_MUST} (must)", verdict(start_ratio <= START_MUST)),
    ]  # fmt: skip
    if dotenvx_name in start:
        against = median_ms[run_name] / median_ms[dotenvx_name]
        verdict_rows.append(
            ("start-up: sigillo run -- true / dotenvx run, medians", f"{against:.2f}",
             "<= 1.00 (no slower than dotenvx)", verdict(against <= 1.0))
        )  # fmt: skip
    else:
        verdict_rows.append(("start-up: sigillo run -- true / dotenvx run", "not measured", "", ""))
    for destination, (ratio, net) in ratios.items():
        verdict_rows.append(
            (f"relay: sigillo / bare relay, stdout {destination}, MiB/s", f"{ratio:.2f}",
             f">= {RELAY_TARGET}", verdict(ratio >= RELAY_TARGET))
        )  # fmt: skip
        verdict_rows.append((f"  (net of start-up, context: {net:.2f})", "", "", ""))
    prompt_max = max(prompts["sigillo run"])
    p99 = percentile_ms(lines["sigillo run"], 0.99)
    verdict_rows += [
        ("relay: sigillo peak RSS MiB (any destination)", f"{peak_run:.1f}",
         f"<= {RSS_TARGET_MIB}", verdict(peak_run <= RSS_TARGET_MIB)),
        ("prompt: latency through sigillo, max of runs, ms", f"{prompt_max:.2f}",
         f"<= {PROMPT_TARGET_MS}", verdict(prompt_max <= PROMPT_TARGET_MS)),
        ("lines: p99 latency through sigillo, ms", f"{p99:.2f}", "reported", ""),
    ]  # fmt: skip
    verdicts = table(["measure", "value", "target", "verdict"], verdict_rows)

    checked_occurrences, checked_masks = results["checked"]
    sections = [
        (
            "`sigillo run` against a local `sigillo server` (SQLite) whose `dev` environment "
            "holds 100 secrets (40 random letters and digits each), with a read-only API token "
            f"in SIGILLO_TOKEN. CLI: {results['cli']}. Bytecode cached (a directory of this "
            "run, filled by the warm-up runs); stdin /dev/null."
        ),
        (
            "**1. Start-up.** Spawn to exit of `sigillo run -- true` (download, redactor built, "
            "child run) next to the floor: this venv's `python -S` running a script that "
            "fetches `download?format=json` with `urllib.request` and `os.execvpe`s `true`; "
            "and `dotenvx run -f .env -- true` (the same 100 secrets in a local .env given by "
            f"absolute path; dotenvx: {results['dotenvx'] or 'not found'}). The bare relay "
            "below on empty input is context: its start-up (interpreter, Hyperscan import and "
            f"compile). {args.runs} timed runs of each after {args.warmup} warm-up runs, "
            "interleaved (order reversed every round)."
        ),
        start_table,
        (
            f"**2. Relay.** F = {results['size']:,} bytes ({mib:.2f} MiB) of random base64 text "
            f"in 76-character lines, in blocks of {BLOCK_LINES:,} lines (1 MiB + 10 bytes), "
            "each block holding each of the 100 values once at a random line and column "
            f"({checked_occurrences:,} occurrences). Floor 1: `cat F | cat`. Floor 2, the bare "
            "Python relay: `cat F | python relay.py` where relay.py does `os.read(0, 1 MiB)`, "
            f"a Hyperscan block-mode `scan` with the {results['heads']} distinct first-{HEAD}-"
            f"byte heads of the {results['forms']} forms `protect` gives for the 100 values "
            "(sigillo's matcher's database: `literal=True`, as `matcher._compile`; the match "
            "handler appends each hit to a list, cleared per read), then `os.write` of "
            "everything read. Both relays into the same three destinations: a pipe read by "
            "`cat > /dev/null`, a regular file in the temporary directory (truncated every "
            "run), /dev/null. Time: spawn of the first process to the exit of the last; "
            f"medians of {args.rounds} interleaved rounds (order reversed every other round). "
            "*Net of start-up* subtracts the start-up median of section 1 (`sigillo run -- "
            "true`; the bare relay on empty input): context, the verdicts use whole runs. Peak "
            "RSS: VmHWM of the last process of the pipeline (sigillo, or relay.py) read from "
            "/proc every 20 ms. Checked once before timing: sigillo's output (to a file) holds "
            f"none of the values and exactly one mask per occurrence ({checked_masks:,} masks, "
            "size = F's less 32 bytes per occurrence), and the bare relay's output is F's size."
        ),
        relay_table,
        (
            "**3. Latency**, on a pipe read by this process, the child's clock "
            "(`time.monotonic_ns()`, system-wide on Linux) against the arrival time. Prompt: "
            "a child prints `password: ` without a newline, flushes, writes the time taken "
            "just before the print to a side file and sleeps 2 s (ended by SIGTERM once the "
            f"prompt has arrived); {args.prompts} runs, through sigillo and with the child "
            f"piped directly, alternating. Lines: a child writes {args.lines:,} lines 1 ms "
            "apart (paced by a schedule, `os.write` each), each holding its own "
            "`monotonic_ns()`; latency per line to the read that brought it; once through "
            "sigillo, once piped directly (floor)."
        ),
        prompt_table,
        line_table,
        verdicts,
        "\n".join(
            [
                *environment([f"sigillo {__version__}", f"hyperscan {hyperscan.__version__}"]),
                f"- load average (1 min) before / after: {results['load'][0]:.2f} / "
                f"{results['load'][1]:.2f}",
                f"- total run time: {results['elapsed']:.0f}s",
            ]
        ),
    ]
    path = write_results(
        "run_bench", "B6: `sigillo run` start-up, relay and latency next to their floors", sections
    )
    print("\n\n".join(sections))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
