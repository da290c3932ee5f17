"""What the log says while the database is unavailable: one line in words when it starts
(and once a minute while it lasts), one when it ends; never a pool traceback per request.

Each request it fails still answers 503 with the reason (sigillo.api.errors) and has its
own request line (sigillo.http.request_log); this is the operator's summary of them.
"""

from __future__ import annotations

import logging
import time

__all__ = ["Outage"]

log = logging.getLogger("sigillo.store")

REPEAT_EVERY = 60.0  # seconds between reminders while an outage lasts


class Outage:
    def __init__(self, what: str) -> None:
        self._what = what  # "PostgreSQL at db:5432", "the SQLite database"
        self._since: float | None = None
        self._said_at = 0.0
        self._refused = 0

    def failed(self, reason: str) -> None:
        """An operation failed because the database could not do it (`reason`, in words)."""
        now = time.monotonic()
        self._refused += 1
        if self._since is None:
            self._since, self._said_at = now, now
            log.error(
                "%s is unavailable: %s; requests answer 503 until it answers", self._what, reason
            )
        elif now - self._said_at >= REPEAT_EVERY:
            self._said_at = now
            log.error(
                "%s is still unavailable (%.0f s, %d operations refused): %s",
                self._what,
                now - self._since,
                self._refused,
                reason,
            )

    def answered(self) -> None:
        """An operation succeeded: an outage, if there was one, is over."""
        if self._since is not None:
            log.warning(
                "%s answers again after %.0f s unavailable (%d operations refused)",
                self._what,
                time.monotonic() - self._since,
                self._refused,
            )
            self._since, self._refused = None, 0
