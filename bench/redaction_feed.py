"""Redactor.feed per chunk, in process, next to the bare Hyperscan scan it is built on.

The forms: `protect()` of 100 random 40-character base64url values (~1,000 forms). The
stream: lines of 76 base64 characters (random bytes), with each value written once per
MiB at the start of a line (100 values per MiB). A --block-mib block of it is made once and
cycled to --size-mib, cut into chunks of 64 KiB, 256 KiB and 1 MiB (--chunks).

Timed, --repeat times each, interleaved (best and median MiB/s):

  - scan: the matcher's own Hyperscan database scans every chunk, the callback collecting
    (id, end) of each hit: what a relay that only reads, scans and writes pays beyond I/O;
  - feed: Redactor.feed on every chunk (then flush).

A first, untimed pass checks that the output holds exactly one mask per value written and
is otherwise the input.

    python bench/redaction_feed.py [--size-mib 64] [--block-mib 4] [--repeat 5]
        [--chunks 65536,262144,1048576] [--profile CHUNK]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import os
import pstats
import random
import statistics
import string
import time
from collections.abc import Callable

from sigillo.cli.run.redaction import MASK, Redactor, protect

MIB = 1024 * 1024
ALPHABET = string.ascii_letters + string.digits + "-_"


def make_values(count: int, rng: random.Random) -> list[str]:
    return ["".join(rng.choices(ALPHABET, k=40)) for _ in range(count)]


def make_block(values: list[str], mib: int, rng: random.Random) -> bytes:
    """`mib` MiB of base64 lines (76 characters and LF), each value at the start of one
    line in every MiB. The block is cut mid-line, so that chunk edges fall anywhere."""
    lines_per_mib = MIB // 77 + 1
    lines: list[bytes] = []
    for _ in range(mib):
        mib_lines = [base64.b64encode(rng.randbytes(57)) + b"\n" for _ in range(lines_per_mib)]
        starts = rng.sample(range(lines_per_mib - 100), len(values))  # none cut at the end
        for value, index in zip(values, starts, strict=True):
            mib_lines[index] = value.encode() + mib_lines[index]
        lines += mib_lines
    return b"".join(lines)[: mib * MIB]


def pieces(block: bytes, size: int) -> list[bytes]:
    return [block[i : i + size] for i in range(0, len(block), size)]


def run_scan(chunks: list[bytes], cycles: int, redactor: Redactor) -> None:
    database = redactor._text._database  # the matcher's own database
    assert database is not None
    hits: list[tuple[int, int]] = []

    def on_hit(index: int, _start: int, end: int, _flags: int, _context: object) -> None:
        hits.append((index, end))

    for _ in range(cycles):
        for chunk in chunks:
            hits.clear()
            database.scan(chunk, match_event_handler=on_hit)


def run_feed(chunks: list[bytes], cycles: int, redactor: Redactor) -> None:
    feed = redactor.feed
    for _ in range(cycles):
        for chunk in chunks:
            feed(chunk)
    redactor.flush()


def check(block: bytes, chunks: list[bytes], values: list[str], forms: list[bytes]) -> None:
    redactor = Redactor(forms)
    out = b"".join(redactor.feed(chunk) for chunk in chunks) + redactor.flush()
    expected = block
    for value in values:
        expected = expected.replace(value.encode(), MASK)
    if out != expected:
        raise SystemExit("the redacted stream differs from the expected one")
    assert out.count(MASK) == len(values) * (len(block) // MIB)


def timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--block-mib", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--values", type=int, default=100)
    parser.add_argument("--chunks", default="65536,262144,1048576")
    parser.add_argument("--profile", type=int, default=0, help="cProfile feed at this chunk")
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    values = make_values(args.values, rng)
    forms = protect({f"VALUE_{i}": value for i, value in enumerate(values)})[0]
    block = make_block(values, args.block_mib, rng)
    cycles = max(1, args.size_mib // args.block_mib)
    total = cycles * len(block) / MIB
    print(f"{len(forms)} forms, {len(values)} values per MiB, {total:.0f} MiB per run")
    if args.profile:
        chunks = pieces(block, args.profile)
        profile = cProfile.Profile()
        profile.runcall(run_feed, chunks, cycles, Redactor(forms))
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)
        return
    print(f"{'chunk':>9}  {'scan best':>10} {'median':>8}  {'feed best':>10} {'median':>8}  ratio")
    redactor = Redactor(forms)  # built once: the timings are per chunk, not start-up
    for size in (int(s) for s in args.chunks.split(",")):
        chunks = pieces(block, size)
        check(block, chunks, values, forms)
        times: dict[str, list[float]] = {"scan": [], "feed": []}
        for _ in range(args.repeat):
            times["scan"].append(timed(lambda c=chunks: run_scan(c, cycles, redactor)))
            times["feed"].append(timed(lambda c=chunks: run_feed(c, cycles, redactor)))
        rate = {k: (total / min(v), total / statistics.median(v)) for k, v in times.items()}
        print(
            f"{size // 1024:>6} KiB  {rate['scan'][0]:>10.0f} {rate['scan'][1]:>8.0f}"
            f"  {rate['feed'][0]:>10.0f} {rate['feed'][1]:>8.0f}"
            f"  {rate['feed'][0] / rate['scan'][0]:.2f}"
        )
    print(f"MiB/s; pid {os.getpid()}")


if __name__ == "__main__":
    main()
