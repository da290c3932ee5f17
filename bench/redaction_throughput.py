"""B5: throughput of the redactor of `sigillo run`, next to copying floors and `cat`.

The stream: realistic log lines (timestamps, levels, paths, request ids, durations) with
100 protected values (40-character tokens with a prefix, as STRIPE_SECRET_KEY and friends
look) written into it, each value ~100 times, each time in one of its protected forms (the
value itself, base64 at any alignment, hex, JSON or percent-encoded): >= 10^4 occurrences.
The forms come from `sigillo.cli.run.redaction.protect`, as `sigillo run` builds them (~1,600
patterns for 100 values). A 4 MiB block of that stream is made once and cycled to
--size-mib (default 256 MiB), cut into --chunk (default 64 KiB) pieces; every occurrence is
counted, and a first, untimed pass checks that the redacted stream holds exactly one mask
per occurrence and nothing else changed.

Timed, --repeat times each, interleaved (medians and best reported):

  - copy + write to /dev/null: every chunk copied once and written, the least an I/O
    layer that hands on new bytes does (floor);
  - Redactor.feed + write: every chunk through the redactor, the result written;
  - cat: the chunks piped through `cat` to /dev/null (the reference for `sigillo run`);
  - pipe -> reader -> /dev/null: a writer thread pipes the chunks, this process reads
    64 KiB at a time and writes them out: the I/O of `sigillo run` without redaction;
  - pipe -> reader -> Redactor -> /dev/null: the same with redaction, the model of
    `sigillo run` end to end (target: >= 0.8 x cat).

Peak memory: the peak RSS (ru_maxrss) of a separate process that imports only the redactor,
builds it and redacts the whole stream (target: <= 64 MiB); this process's peak RSS before
and after; the peak of Python allocations while the redactor handles 16 MiB (tracemalloc).
With --matchers, the raw scan speed of each candidate matcher on the same patterns (those
that are installed).

    python bench/redaction_throughput.py [--size-mib 256] [--chunk 65536] [--repeat 3]
        [--values 100] [--occurrences 100] [--matchers]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

from _support import environment, table, write_results
from sigillo.cli.run.redaction import HEAD, MASK, Redactor, protect

BLOCK = 4 * 1024 * 1024
PREFIXES = ["sk_live_", "ghp_", "xoxb-", "AKIA", "glpat-", "npm_", "SG.", ""]
LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
PATHS = ["/api/v1/items", "/api/v1/users", "/healthz", "/api/v1/orders/search", "/login"]


def make_values(count: int, rng: random.Random) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits
    return {
        f"SERVICE_{i}_SECRET_KEY": rng.choice(PREFIXES) + "".join(rng.choices(alphabet, k=40))
        for i in range(count)
    }


def log_line(rng: random.Random) -> bytes:
    return (
        f"2026-11-30T13:{rng.randrange(60):02d}:{rng.randrange(60):02d}."
        f"{rng.randrange(1000):03d}Z {rng.choice(LEVELS)} [worker-{rng.randrange(8)}] "
        f"{rng.choice(['GET', 'POST'])} {rng.choice(PATHS)}/{rng.randrange(100000)} "
        f"status={rng.choice([200, 200, 201, 404, 500])} "
        f"duration_ms={rng.random() * 250:.1f} request_id={rng.randbytes(8).hex()}\n"
    ).encode()


def make_block(
    values: dict[str, str], per_block: int, rng: random.Random
) -> tuple[bytes, list[bytes]]:
    """4 MiB of log text with `per_block` occurrences of protected forms (each at the end of
    a log line, after ` token=`, the values taken in turn), and all the forms."""
    forms = protect(values)[0]
    by_value = [protect({"X": value})[0] for value in values.values()]
    room = BLOCK - per_block * (max(map(len, forms)) + 8) - 1
    lines: list[bytes] = []
    size = 0
    while size < room:
        lines.append(log_line(rng))
        size += len(lines[-1])
    for turn, index in enumerate(sorted(rng.sample(range(len(lines) - 1), per_block))):
        form = rng.choice(by_value[turn % len(by_value)])
        lines[index] = lines[index][:-1] + b" token=" + form + b"\n"
    text = b"".join(lines)
    return text + b" " * (BLOCK - len(text) - 1) + b"\n", forms


def chunks(block: bytes, total: int, size: int) -> Iterator[bytes]:
    """The block cycled to `total` bytes (a multiple of its size), in pieces of `size`."""
    pieces = [block[i : i + size] for i in range(0, len(block), size)]
    for _ in range(total // len(block)):
        yield from pieces


# ---------------------------------------------------------------- the timed runs


def run_floor(data: Callable[[], Iterator[bytes]], sink: int) -> None:
    for chunk in data():
        os.write(sink, bytearray(chunk))  # one copy, as the redactor's output is one


def run_redactor(data: Callable[[], Iterator[bytes]], sink: int, forms: list[bytes]) -> None:
    redactor = Redactor(forms)
    for chunk in data():
        out = redactor.feed(chunk)
        if out:
            os.write(sink, out)
    os.write(sink, redactor.flush())


def run_cat(data: Callable[[], Iterator[bytes]], sink: int) -> None:
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=sink)
    assert cat.stdin is not None
    for chunk in data():
        cat.stdin.write(chunk)
    cat.stdin.close()
    cat.wait()


def run_pipe(
    data: Callable[[], Iterator[bytes]], sink: int, forms: list[bytes] | None, read_size: int
) -> None:
    """A writer thread plays the child; this thread reads, (redacts,) writes."""
    read_end, write_end = os.pipe()

    def child() -> None:
        try:
            for chunk in data():
                view = memoryview(chunk)
                while view:
                    view = view[os.write(write_end, view) :]
        finally:
            os.close(write_end)

    writer = threading.Thread(target=child)
    writer.start()
    redactor = Redactor(forms) if forms is not None else None
    try:
        while piece := os.read(read_end, read_size):
            out = redactor.feed(piece) if redactor else piece
            if out:
                os.write(sink, out)
        if redactor:
            os.write(sink, redactor.flush())
    finally:
        writer.join()
        os.close(read_end)


def check(data: Callable[[], Iterator[bytes]], forms: list[bytes], expected_masks: int) -> None:
    """The redacted stream: one mask per occurrence, and the rest unchanged."""
    redactor = Redactor(forms)
    masks = 0
    carry = b""
    for chunk in data():
        out = carry + redactor.feed(chunk)
        cut = max(0, len(out) - len(MASK) + 1)  # a mask may straddle two outputs
        masks += out[:cut].count(MASK)
        carry = out[cut:]
    masks += (carry + redactor.flush()).count(MASK)
    if masks != expected_masks:
        raise SystemExit(f"check failed: {masks} masks for {expected_masks} occurrences")


CHILD = """
import json, os, sys
from sigillo.cli.run.redaction import Redactor, protect
values, path, total, size = json.loads(sys.stdin.read())
redactor = Redactor(protect(values)[0])
with open(path, "rb") as file:
    block = file.read()
sink = os.open(os.devnull, os.O_WRONLY)
for _ in range(total // len(block)):
    for i in range(0, len(block), size):
        os.write(sink, redactor.feed(block[i : i + size]))
os.write(sink, redactor.flush())
# VmHWM: the peak of this program's own memory (ru_maxrss would count the parent's too,
# which it keeps across exec on Linux)
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def child_peak_rss(values: dict[str, str], block: bytes, total: int, size: int) -> float:
    """Peak RSS (MiB) of a process that imports only the redactor, builds it from `values`
    and redacts the whole stream: what the redaction costs `sigillo run` in memory."""
    with tempfile.NamedTemporaryFile() as file:
        file.write(block)
        file.flush()
        done = subprocess.run(
            [sys.executable, "-c", CHILD],
            input=json.dumps([values, file.name, total, size]),
            capture_output=True,
            text=True,
            check=True,
        )
    return int(done.stdout) / 1024


# ---------------------------------------------------------------- matchers (--matchers)


def matchers(block: bytes, forms: list[bytes]) -> list[list[str]]:
    """Raw scan speed of each candidate matcher over the same forms, MB/s."""
    candidates: dict[str, Callable[[], Callable[[bytes], int]]] = {
        "re: alternation, longest first": lambda: _re_alternation(forms),
        "re: 4-byte prefixes, then verify": lambda: _re_prefixes(forms),
        "pyahocorasick (latin-1 str), iter": lambda: _pyahocorasick(forms),
        "ahocorasick_rs, leftmost-longest": lambda: _ahocorasick_rs(forms, "auto"),
        "ahocorasick_rs, leftmost-longest, DFA": lambda: _ahocorasick_rs(forms, "DFA"),
        f"hyperscan, {HEAD}-byte heads (chosen)": lambda: _hyperscan(forms),
    }
    rows = []
    for name, build in candidates.items():
        try:
            began = time.perf_counter()
            scan = build()
            built = (time.perf_counter() - began) * 1000
        except ImportError:
            rows.append([name, "not installed", "", ""])
            continue
        sample = block[: 1024 * 1024]
        began = time.perf_counter()
        scan(sample)
        speed = len(sample) / (time.perf_counter() - began) / 1e6
        size = len(sample)
        if speed > 20:  # fast enough to time on the whole block
            began = time.perf_counter()
            for i in range(0, len(block), 65536):
                scan(block[i : i + 65536])
            speed = len(block) / (time.perf_counter() - began) / 1e6
            size = len(block)
        rows.append([name, f"{speed:,.1f}", f"{size / 2**20:.0f} MiB", f"{built:.1f}"])
    return rows


def _re_alternation(forms: list[bytes]) -> Callable[[bytes], int]:
    pattern = re.compile(b"|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
    return lambda data: sum(1 for _ in pattern.finditer(data))


def _re_prefixes(forms: list[bytes]) -> Callable[[bytes], int]:
    by_prefix: dict[bytes, list[bytes]] = {}
    for form in sorted(forms, key=len, reverse=True):
        by_prefix.setdefault(form[:4], []).append(form)
    pattern = re.compile(b"|".join(re.escape(p) for p in by_prefix))

    def scan(data: bytes) -> int:
        hits = 0
        for match in pattern.finditer(data):
            start = match.start()
            hits += any(data.startswith(f, start) for f in by_prefix[match.group()])
        return hits

    return scan


def _pyahocorasick(forms: list[bytes]) -> Callable[[bytes], int]:
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for form in forms:
        automaton.add_word(form.decode("latin-1"), len(form))
    automaton.make_automaton()
    return lambda data: sum(1 for _ in automaton.iter(data.decode("latin-1")))


def _ahocorasick_rs(forms: list[bytes], implementation: str) -> Callable[[bytes], int]:
    import ahocorasick_rs

    options = (
        {} if implementation == "auto" else {"implementation": ahocorasick_rs.Implementation.DFA}
    )
    automaton = ahocorasick_rs.BytesAhoCorasick(
        forms, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST, **options
    )
    return lambda data: len(automaton.find_matches_as_indexes(data))


def _hyperscan(forms: list[bytes]) -> Callable[[bytes], int]:
    redactor = Redactor(forms)
    return lambda data: len(redactor._text._hits(data))


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256, help="a multiple of 4")
    parser.add_argument("--chunk", type=int, default=65536)
    parser.add_argument("--read-size", type=int, default=65536)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--values", type=int, default=100)
    parser.add_argument("--occurrences", type=int, default=100, help="of each value")
    parser.add_argument("--matchers", action="store_true")
    args = parser.parse_args()
    if BLOCK % args.chunk or args.size_mib % 4 or args.size_mib <= 0:
        raise SystemExit(f"--chunk must divide {BLOCK} and --size-mib be a multiple of 4")
    total = args.size_mib * 2**20
    rng = random.Random(2026)
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    values = make_values(args.values, rng)
    cycles = total // BLOCK
    per_block = -(-args.values * args.occurrences // cycles)
    block, forms = make_block(values, per_block, rng)
    assert block.count(b" token=") == per_block
    assert len(block) == BLOCK

    def data() -> Iterator[bytes]:
        return chunks(block, total, args.chunk)

    occurrences = cycles * per_block
    began = time.perf_counter()
    Redactor(forms)
    build_ms = (time.perf_counter() - began) * 1000
    check(data, forms, occurrences)

    sink = os.open(os.devnull, os.O_WRONLY)
    tracemalloc.start()
    run_redactor(lambda: chunks(block, 4 * BLOCK, args.chunk), sink, forms)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    runs: dict[str, Callable[[], None]] = {
        "copy + write to /dev/null (floor)": lambda: run_floor(data, sink),
        "Redactor.feed + write": lambda: run_redactor(data, sink, forms),
        "cat (a process) to /dev/null": lambda: run_cat(data, sink),
        "pipe -> reader -> /dev/null": lambda: run_pipe(data, sink, None, args.read_size),
        "pipe -> reader -> Redactor -> /dev/null": lambda: run_pipe(
            data, sink, forms, args.read_size
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, run in runs.items():
            began = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - began)
    os.close(sink)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_rss = child_peak_rss(values, block, total, args.chunk)

    def mbs(name: str, pick: Callable[[list[float]], float]) -> float:
        return total / pick(times[name]) / 1e6

    rows = [
        [name, f"{mbs(name, statistics.median):,.0f}", f"{mbs(name, min):,.0f}"] for name in runs
    ]
    cat = "cat (a process) to /dev/null"
    ratios = [
        ["Redactor.feed / cat", _ratio(mbs, "Redactor.feed + write", cat), ""],
        [
            "pipe -> reader -> Redactor / cat (target >= 0.8)",
            _ratio(mbs, "pipe -> reader -> Redactor -> /dev/null", cat),
            "PASS"
            if mbs("pipe -> reader -> Redactor -> /dev/null", statistics.median)
            >= 0.8 * mbs(cat, statistics.median)
            else "FAIL",
        ],
        [
            "pipe -> reader -> Redactor / pipe -> reader",
            _ratio(mbs, "pipe -> reader -> Redactor -> /dev/null", "pipe -> reader -> /dev/null"),
            "",
        ],
    ]
    memory = [
        [
            "peak RSS of a process that imports only the redactor and redacts the stream",
            f"{child_rss:.1f} MiB",
        ],
        ["peak RSS of this process before the data was made", f"{rss_start / 1024:.1f} MiB"],
        ["peak RSS of this process at the end", f"{rss_peak / 1024:.1f} MiB"],
        ["the 4 MiB block the stream is cycled from (included above)", "4.0 MiB"],
        [
            "Python allocations at their peak, redacting 16 MiB (tracemalloc)",
            f"{traced_peak / 2**20:.2f} MiB",
        ],
    ]
    sections = [
        f"{total / 2**20:,.0f} MiB of log text in {args.chunk:,}-byte chunks "
        f"({args.read_size:,}-byte reads from the pipe), {args.values} protected values, "
        f"{occurrences:,} occurrences of "
        f"their forms ({len(forms):,} forms; the Redactor is built in {build_ms:.1f} ms). "
        f"Checked before timing: the redacted stream holds exactly {occurrences:,} masks. "
        f"{args.repeat} runs of each row, interleaved.",
        table(["run", "median MB/s", "best MB/s"], rows),
        table(["ratio (medians)", "value", "target"], ratios),
        table(["memory", "value"], memory),
    ]
    if args.matchers:
        sections += [
            "Raw scan speed of the candidate matchers on the same forms (64 KiB pieces of the "
            "block; a matcher slower than 20 MB/s on the first MiB is timed on that MiB only):",
            table(["matcher", "MB/s", "timed on", "build ms"], matchers(block, forms)),
        ]
    sections.append("\n".join(environment([f"hyperscan {_version('hyperscan')}"])))
    print("\n\n".join(sections))
    path = write_results("redaction_throughput", "B5: redaction throughput", sections)
    print(f"\nwritten to {path}")


def _ratio(mbs: Callable[[str, Callable[[list[float]], float]], float], a: str, b: str) -> str:
    return f"{mbs(a, statistics.median) / mbs(b, statistics.median):.2f}"


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
