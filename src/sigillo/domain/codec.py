"""The wire form of events: how an event's payload is stored, and read back.

The payload is JSON with the tag in a `type` field. The stored form is the contract with
every database that ever held Sigillo data: the golden corpus in `projections/` pins it.
"""

from __future__ import annotations

import msgspec

from sigillo.domain.events import Event, SecretDeleted, SecretKindChanged, SecretSet

__all__ = ["decode_event", "encode_event", "subject_of"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> str:
    return _encoder.encode(event).decode("utf-8")


def decode_event(data: str | bytes) -> Event:
    return _decoder.decode(data)


def subject_of(event: Event) -> str | None:
    """The secret name an event is about, so one secret's history can be read by index."""
    if isinstance(event, SecretSet | SecretDeleted | SecretKindChanged):
        return event.name
    return None
