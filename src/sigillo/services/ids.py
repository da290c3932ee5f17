"""Ids and time: the only randomness and clock services use, passed into the domain."""

from __future__ import annotations

import os
import time

__all__ = ["Clock", "UlidFactory"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Clock:
    def now(self) -> int:
        """Milliseconds since the Unix epoch."""
        return time.time_ns() // 1_000_000


class UlidFactory:
    """Monotonic ULIDs: ids made in the same millisecond still sort in creation order."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or Clock()
        self._last_time = -1
        self._last_random = 0

    def __call__(self) -> str:
        now = self._clock.now()
        if now <= self._last_time:
            now = self._last_time
            self._last_random += 1
        else:
            self._last_random = int.from_bytes(os.urandom(10), "big") >> 1  # room to increment
        self._last_time = now
        value = (now << 80) | self._last_random
        return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
