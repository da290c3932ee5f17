"""The tamper-evident log, as services and the dashboard see it: the port that seals events
(crypto.chain implements it) and what a verification found (store.log_verify walks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

__all__ = ["ChainReport", "Seals"]


class Seals(Protocol):
    """Keyed hashes over the log (crypto.chain.ChainKey): hex strings."""

    def stream_hash(self, previous: str | None, row: Sequence[Any]) -> str: ...

    def log_hash(self, previous: str | None, stream_hash: str) -> str: ...

    def head_mac(self, starts_at: int, position: int, log_hash: str | None) -> str: ...


class ChainReport(msgspec.Struct, frozen=True):
    """What a walk of the chain found: `problem` None when every link held."""

    checked: int  # chained events whose seals were checked
    starts_at: int  # the first chained position (0: the log is not chained)
    through: int  # the last position checked
    head_position: int
    head_mac: str
    problem: str | None = None  # the first broken link, in words
    stream: str | None = None
    position: int | None = None
    scope: str = "log"  # "log", or "streams" when only some streams' own chains were walked
    partial: bool = False  # only a stream's newest events were checked (the dashboard)

    @property
    def intact(self) -> bool:
        return self.problem is None
