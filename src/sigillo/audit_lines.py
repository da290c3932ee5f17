"""The audit trail as JSON lines: one line per event, shared by `sigillo admin audit export`
(sigillo.audit_export) and the live audit sink (sigillo.audit_sink), so both write the
same thing.

A line holds the event's place in the log (`position`, `id`, `time` in RFC 3339 UTC,
`stream`, `version`), its `type`, who caused it (`actor`: kind, id, and the user's email or
the token's name where known) and the event's fields under `event`, less every field that
is or derives from a secret: a value (a SecretSet says which name of which environment was
set, never the sealed value: no ciphertext, nonce or key id), a token or invitation hash,
a token's display prefix. Which fields are withheld is decided per event type from the
fields' types and names (`WITHHELD`), so a new event with a sealed value or a hash is
covered without a change here; tests/server/test_audit_export.py checks every type.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Mapping

import msgspec

from sigillo.domain.events import Event, RecordedEvent, SealedValue

__all__ = ["WITHHELD", "actor_fields", "audit_line", "rfc3339"]

# Fields that hold no secret but are part of one: the first characters of an API token.
_ALSO_WITHHELD = frozenset({"prefix"})


def _withheld(event_type: type[msgspec.Struct]) -> frozenset[str]:
    hints = typing.get_type_hints(event_type)
    withheld = set()
    for field in msgspec.structs.fields(event_type):
        hint = str(hints[field.name])  # e.g. "<class 'bytes'>", "str | None"
        sealed = SealedValue.__name__ in hint or "bytes" in hint
        if sealed or "hash" in field.name or field.name in _ALSO_WITHHELD:
            withheld.add(field.encode_name)
    return frozenset(withheld)


WITHHELD: dict[type[msgspec.Struct], frozenset[str]] = {
    event_type: _withheld(event_type) for event_type in typing.get_args(Event)
}

_encoder = msgspec.json.Encoder()


def rfc3339(milliseconds: int) -> str:
    """A time of the log (milliseconds since the epoch) in RFC 3339, UTC, to the millisecond."""
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(milliseconds // 1000))
    return f"{seconds}.{milliseconds % 1000:03d}Z"


def actor_fields(recorded: RecordedEvent, label: str | None) -> dict[str, str]:
    """The actor as a line names it: `email` for a user, `name` for a token, when known."""
    actor = recorded.actor
    fields = {"kind": actor.kind, "id": actor.id}
    if label is not None and actor.kind in ("user", "token"):
        fields["email" if actor.kind == "user" else "name"] = label
    return fields


def audit_line(recorded: RecordedEvent, actors: Mapping[str, str] | None = None) -> bytes:
    """One event as a JSON line (newline included). `actors` maps actor ids to the user's
    email or the token's name, for those that are known."""
    event = recorded.event
    fields = msgspec.to_builtins(event)
    del fields["type"]
    for name in WITHHELD[type(event)]:
        fields.pop(name, None)
    label = (actors or {}).get(recorded.actor.id)
    line = {
        "position": recorded.position,
        "id": recorded.event_id,
        "time": rfc3339(recorded.occurred_at),
        "stream": recorded.stream,
        "version": recorded.version,
        "type": _tag(event),
        "actor": actor_fields(recorded, label),
        "event": fields,
    }
    return _encoder.encode(line) + b"\n"


def _tag(event: Event) -> str:
    return str(type(event).__struct_config__.tag)
