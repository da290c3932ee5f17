"""The server's log: one line per record on stderr, as text (the default) or as JSON lines
(`SIGILLO_LOG_FORMAT=json`) for log shippers. A request's line (sigillo.http.request_log)
carries its fields as attributes of the record, which the JSON form writes as keys."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping

from sigillo.domain.errors import StartupError

__all__ = ["REQUEST_FIELDS", "JsonLines", "configure"]

REQUEST_FIELDS = ("request_id", "method", "route", "status", "duration_ms")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, RFC 3339), level, logger, message, the
    request's fields when it has them, and the exception's traceback as `error`."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, object] = {
            "time": f"{seconds}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(env: Mapping[str, str] | None = None) -> None:
    """The process's logging, once: INFO and up to stderr in the chosen format."""
    env = os.environ if env is None else env
    chosen = env.get("SIGILLO_LOG_FORMAT", "").strip().lower() or "text"
    if chosen not in FORMATS:
        raise StartupError("SIGILLO_LOG_FORMAT must be text or json")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if chosen == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("piccolo").setLevel(logging.WARNING)
    # asyncpg warns with a traceback each time it fails to reconnect its pool; the store
    # says the same once, in words (sigillo.store.outage).
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
