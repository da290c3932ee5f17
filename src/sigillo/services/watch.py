"""Waiting for streams to move (issue 18): the long poll behind `sigillo run --watch`.

A watching request (api/watch.py) reads the current versions of the streams it watches,
then waits here until one of them is at another version, or its time is up. While it
waits it holds no database connection: it holds an `asyncio.Event`. One poller per server
process (a task started by the first waiter and ended when none is left, or when the feed
closes) reads the versions of every stream watched at that moment in one statement every
`every` seconds (`StreamVersions.stream_versions`) and wakes the waiters whose streams
moved. Since it reads the database, it sees the commits of every replica on PostgreSQL as
well as this process's own.

The number of waiters is bounded (`limit`): past it `wait` raises `TooManyWatchers` (the
API answers 503 with Retry-After), so watching clients cannot exhaust memory or tasks.
A storage outage while polling is not the poller's end: the store's outage log says it
(any other failure is logged here once), and the next round tries again; waiters time out
as usual meanwhile. `close()` (at shutdown) wakes every waiter at once, unchanged, so a
pending long poll never holds up the server's exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping

from sigillo.domain.errors import StorageUnavailable
from sigillo.services.ports import StreamVersions

__all__ = ["MAX_WATCHERS", "POLL_EVERY", "ChangeFeed", "TooManyWatchers"]

log = logging.getLogger("sigillo.watch")

POLL_EVERY = 0.5  # seconds between two reads of the watched streams' versions
MAX_WATCHERS = 1000  # waiting requests per server process


class TooManyWatchers(Exception):
    """The process already holds `limit` waiting requests."""


class _Waiter:
    __slots__ = ("moved", "versions", "woken")

    def __init__(self, versions: Mapping[str, int]) -> None:
        self.versions = dict(versions)
        self.woken = asyncio.Event()
        self.moved: dict[str, int] | None = None  # the versions seen once one differed


class ChangeFeed:
    """Long polls over stream versions (see the module docstring)."""

    def __init__(
        self, store: StreamVersions, *, every: float = POLL_EVERY, limit: int = MAX_WATCHERS
    ) -> None:
        self._store = store
        self._every = every
        self._limit = limit
        self._waiters: set[_Waiter] = set()
        self._poller: asyncio.Task[None] | None = None
        self._closed = False
        self._failing = False  # a polling failure was logged and has not ended yet

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def versions(self, streams: Collection[str]) -> dict[str, int]:
        """The streams' current versions (0 for a stream with no events), read now."""
        return await self._store.stream_versions(streams)

    async def wait(self, versions: Mapping[str, int], *, within: float) -> dict[str, int] | None:
        """Wait until one of the streams is no longer at its version in `versions`: then
        the versions of those streams as the poller read them. None when `within` seconds
        passed first, or the feed closed. Raises TooManyWatchers when the process holds
        `limit` waiters already."""
        if self._closed:
            return None
        if len(self._waiters) >= self._limit:
            raise TooManyWatchers
        waiter = _Waiter(versions)
        self._waiters.add(waiter)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.woken.wait(), within)
        finally:
            self._waiters.discard(waiter)
        return waiter.moved

    def close(self) -> None:
        """Wake every waiter (unchanged) and stop polling; later waits return None at once."""
        self._closed = True
        for waiter in list(self._waiters):
            waiter.woken.set()
        if self._poller is not None and not self._poller.done():
            self._poller.cancel()

    async def _poll(self) -> None:
        """Until no waiter is left: read every watched stream's version, wake who moved."""
        while self._waiters and not self._closed:
            await asyncio.sleep(self._every)
            waiters = list(self._waiters)
            streams = {stream for waiter in waiters for stream in waiter.versions}
            if not streams:
                continue
            try:
                current = await self._store.stream_versions(streams)
            except StorageUnavailable:
                continue  # the store's outage log says it, once; the next round retries
            except Exception as error:
                if not self._failing:
                    self._failing = True
                    log.error(
                        "watching for changes: reading stream versions failed (%s); retrying",
                        type(error).__name__,
                    )
                continue
            if self._failing:
                self._failing = False
                log.warning("watching for changes: reading stream versions works again")
            for waiter in waiters:
                seen = {stream: current.get(stream, 0) for stream in waiter.versions}
                if seen != waiter.versions:
                    waiter.moved = seen
                    waiter.woken.set()
