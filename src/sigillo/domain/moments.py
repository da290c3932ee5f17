"""A moment in the log, as people name one: an RFC 3339 time or the id of an event."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec

from sigillo.domain.errors import InvalidInput

__all__ = ["Moment", "parse_moment"]

_EVENT_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")  # a ULID
_RULE = "must be an RFC 3339 time (2026-12-07T09:30:00Z) or an event id"
_MAX_TEXT = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


class Moment(msgspec.Struct, frozen=True):
    """Exactly one of `time` (ms since the epoch, UTC) and `event_id` is set. A time means
    every event that occurred at or before it; an event id, that event and those before."""

    time: int | None = None
    event_id: str | None = None

    def __str__(self) -> str:
        if self.event_id is not None:
            return self.event_id
        stamp = _EPOCH + (self.time or 0) * _MS  # exact: no float on the way
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_moment(text: str, field: str = "at") -> Moment:
    """`2026-12-07T09:30:00Z`, `2026-12-07T10:30:00+01:00` (a time needs its offset or Z),
    or an event id such as `01JEX7Q7W4T2R3N8M9P0A1B2C3`. InvalidInput otherwise."""
    given = text.strip()
    if not given or len(given) > _MAX_TEXT:
        raise InvalidInput(field, _RULE)
    if _EVENT_ID.fullmatch(given.upper()):
        return Moment(event_id=given.upper())
    try:
        when = datetime.fromisoformat(given.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(field, _RULE) from None
    if when.tzinfo is None or "T" not in given.upper():
        raise InvalidInput(field, _RULE)
    if not _EPOCH <= when <= _LATEST:  # compared in UTC; nothing in the log is older
        raise InvalidInput(field, "must be a time between 1970 and 9999 (UTC)")
    return Moment(time=(when - _EPOCH) // _MS)  # whole ms, exactly (a float loses some)
