"""A data key as it is stored: its material sealed by a master key (crypto.envelope)."""

from __future__ import annotations

import msgspec

from sigillo.domain.events import SealedValue

__all__ = ["NEVER_SEALS", "KeyRotation", "WrappedKey"]

# `active_from` of a former master key kept as a data key: it opens the values it sealed
# before data keys existed and never seals another.
NEVER_SEALS = -1


class WrappedKey(msgspec.Struct, frozen=True):
    key_id: str  # what values sealed with it name; derived from the material
    wrapped: SealedValue  # the material, sealed by master key `wrapped.key_id`
    created_at: int  # ms
    active_from: int  # ms: new values are sealed with the newest active key


class KeyRotation(msgspec.Struct, frozen=True):
    """A rotation to master key `target`: begun, and finished once every data key is
    wrapped by it and the master keys it replaced are retired."""

    target: str
    started_at: int
    finished_at: int | None
