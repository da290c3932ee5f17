"""Is the server able to serve: liveness needs nothing; readiness needs the database.

`database_ok` is `/health`'s check, unchanged: a read answers. `ready` is `/health/ready`'s:
the database answers a read and takes a tiny write (one row of `health_checks`), all within
`READY_TIMEOUT`. A probe that outlives its caller is not started again while it runs (a
hung database costs one probe, not one per request), and an answer is reused for
`READY_REUSE` seconds, so probes, each a write, arrive at most once a second whoever asks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from sigillo.domain.errors import StorageUnavailable

__all__ = ["READY_REUSE", "READY_TIMEOUT", "HealthService", "Probed"]

READY_TIMEOUT = 2.0  # seconds a readiness probe may take before the answer is 503
READY_REUSE = 1.0  # seconds an answer is reused

_log = logging.getLogger("sigillo.health")


class Probed(Protocol):
    """What health checks need of the database (sigillo.store.database.Database has it)."""

    async def ping(self) -> None: ...

    async def probe(self, seconds: float) -> None:
        """A read, then a one-row write; StorageUnavailable (with why) if not in `seconds`."""
        ...


class HealthService:
    def __init__(
        self,
        database: Probed,
        *,
        ready_timeout: float = READY_TIMEOUT,
        reuse: float = READY_REUSE,
    ) -> None:
        self._db = database
        self._timeout = ready_timeout
        self._reuse = reuse
        self._probe: asyncio.Task[None] | None = None
        self._answer: tuple[float, str | None] | None = None  # (when, problem or None)

    async def database_ok(self) -> bool:
        try:
            await self._db.ping()
        except StorageUnavailable:
            return False
        return True

    async def ready(self) -> str | None:
        """None when the database is ready; else what is wrong, in a few words."""
        now = time.monotonic()
        if self._answer is not None and now - self._answer[0] < self._reuse:
            return self._answer[1]
        probe = self._probe
        if probe is None or probe.done():
            probe = self._probe = asyncio.ensure_future(self._db.probe(self._timeout))
            probe.add_done_callback(self._remember)
        # asyncio.wait neither cancels the probe nor waits for it past the timeout, so a
        # database that hangs (even inside a thread) cannot hold this answer back.
        done, _ = await asyncio.wait({probe}, timeout=self._timeout)
        if not done:
            return f"the database did not answer within {self._timeout:g} s"
        return _problem(probe)

    def _remember(self, probe: asyncio.Task[None]) -> None:
        """Keep the answer (and take the probe's exception, so none goes unretrieved)."""
        self._answer = (time.monotonic(), _problem(probe))
        if not probe.cancelled() and not isinstance(
            probe.exception(), (StorageUnavailable, type(None))
        ):
            _log.warning("the readiness probe failed: %s", type(probe.exception()).__name__)


def _problem(probe: asyncio.Task[None]) -> str | None:
    if probe.cancelled():
        return "the database check was cancelled"
    error = probe.exception()
    if error is None:
        return None
    if isinstance(error, StorageUnavailable):
        return str(error)
    return "the database check failed"
