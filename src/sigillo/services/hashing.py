"""Password hashing off the event loop, at most `HASHING_WORKERS` at once (issue 13,
finding 5).

Argon2 as `cryptography` runs it holds the GIL for its whole ~100 ms (measured: a thread
running it stops every other Python thread), so a worker *thread* would not free the event
loop. Hashes run in a small pool of worker *processes* instead, made on first use and
shared by the whole server process; an anyio CapacityLimiter bounds how many hashes are in
flight, so a burst of sign-ins waits its turn instead of queueing without limit. The
function and its arguments (a password, a stored hash) cross a local pipe to a child of the
server, nowhere else.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import anyio

__all__ = ["HASHING_WORKERS", "off_loop", "stop_workers"]

T = TypeVar("T")
# Argon2 hashes at once (46 MiB each): one per core, at most four.
HASHING_WORKERS = max(1, min(4, os.cpu_count() or 1))

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_limiters: dict[int, anyio.CapacityLimiter] = {}


def _executor() -> ProcessPoolExecutor:
    global _pool  # one pool per server process, made on first use
    with _pool_lock:
        if _pool is None:
            # spawn: a fresh interpreter, never a fork of a process with database threads.
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                max_workers=HASHING_WORKERS,
                mp_context=context,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        return _pool


def _exit_with_parent(parent: int) -> None:
    """In each worker: end when the server that made it is gone, however it ended (a
    `kill -9` runs no exit handler, and a worker would otherwise wait for work forever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def stop_workers() -> None:
    """At server shutdown: end the worker processes (their semaphores are released, not
    reported as leaked at exit)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def _limiter() -> anyio.CapacityLimiter:
    loop = id(asyncio.get_running_loop())
    found = _limiters.get(loop)
    if found is None:
        _limiters.clear()  # a new event loop (tests make many): the old limiters are idle
        found = _limiters[loop] = anyio.CapacityLimiter(HASHING_WORKERS)
    return found


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a worker process; `function` must be importable by name (a
    module-level function, or a method of a picklable object). A pool whose worker died is
    replaced, and the call tried once more."""
    async with _limiter():
        for attempt in (1, 2):
            pool = _executor()
            try:
                return await asyncio.wrap_future(pool.submit(function, *args))
            except BrokenProcessPool:
                _discard(pool)
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")
