"""Numbering an atomic append: global positions and per-stream versions, both contiguous."""

from __future__ import annotations

from collections.abc import Sequence

from sigillo.domain.errors import ConcurrencyError
from sigillo.domain.events import RecordedEvent
from sigillo.services.ports import Append

__all__ = ["number"]


def number(
    appends: Sequence[Append], position: int, versions: dict[str, int]
) -> list[list[RecordedEvent]]:
    """The events of each append as recorded after the log's last `position`, each stream's
    after its last version in `versions` (moved on in place). Raises ConcurrencyError when
    an append expects another version than its stream has by then."""
    results: list[list[RecordedEvent]] = []
    for append in appends:
        version = versions.get(append.stream, 0)
        expected = append.expected_version
        if expected is not None and version != expected:
            raise ConcurrencyError(append.stream, expected, version)
        results.append(
            [
                RecordedEvent(
                    position + i,
                    append.stream,
                    version + i,
                    e.event_id,
                    e.occurred_at,
                    e.actor,
                    e.event,
                )
                for i, e in enumerate(append.events, 1)
            ]
        )
        position += len(append.events)
        versions[append.stream] = version + len(append.events)
    return results
