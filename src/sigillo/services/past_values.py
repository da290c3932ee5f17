"""Past values from an environment's log, revealed one at a time (behaviour.md 14.8, [D5]).

The dashboard's event log shows every `secret.set` of an environment with its value hidden.
A reveal names one event by its log position. This finds that very event through the
store's (stream, position) index (one row: nothing replays or scans the log), checks that
it is a set in this environment's own secrets stream, records the read (`secrets.read`,
how "reveal", with the reader as actor and the secret's name) and only then opens the
value: audit fails closed (security.md promise 7) [D16]. The value is the one that event
stored, whether or not the secret is still live or has been set again since.

The caller has checked that the reader may reach the environment (as for the audit log).
"""

from __future__ import annotations

import msgspec

from sigillo.domain.errors import NotFound
from sigillo.domain.events import Actor, SecretSet, SecretsRead
from sigillo.domain.projections.rows import EnvironmentRow
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.services.ports import Cipher, EventStore
from sigillo.services.writing import Writer

__all__ = ["MAX_POSITION", "PastValue", "PastValues"]

# Log positions are 64-bit signed integers in both databases; the lookup asks for the
# events below `position + 1`, so the largest position it can be asked about is one less.
MAX_POSITION = 2**63 - 2


class PastValue(msgspec.Struct, frozen=True):
    """One revealed value: which event (position), which secret, when it was set."""

    position: int
    name: str
    value: str
    at: int

    def __repr__(self) -> str:  # never a value in a log line or a traceback
        return f"PastValue(position={self.position}, name={self.name!r}, value=<hidden>)"


class PastValues:
    def __init__(self, store: EventStore, cipher: Cipher, writer: Writer) -> None:
        self._store, self._cipher, self._writer = store, cipher, writer

    async def name_at(self, environment: EnvironmentRow, position: int) -> str:
        """The secret's name of the `secret.set` at `position`: nothing is opened and no
        read recorded (a page names the secret of a hidden value with it)."""
        _, event = await self._set_at(environment, position)
        return event.name

    async def reveal(self, environment: EnvironmentRow, position: int, actor: Actor) -> PastValue:
        """The value the `secret.set` at `position` stored, its read recorded first."""
        at, event = await self._set_at(environment, position)
        read = SecretsRead(environment.id, [event.name], "reveal")
        await self._writer.append(reads_stream(environment.id), [read], actor)
        value = self._cipher.open(event.value, environment_id=environment.id, name=event.name)
        return PastValue(position, event.name, value, at)

    async def _set_at(self, environment: EnvironmentRow, position: int) -> tuple[int, SecretSet]:
        """(when, the event) of the environment's `secret.set` at `position`, still sealed.
        NotFound("event") when that position holds no set of this environment (another
        environment's event, a delete, a read, or nothing)."""
        if not 1 <= position <= MAX_POSITION:
            raise NotFound("event")
        found = await self._store.read_streams_backward(
            [environment_stream(environment.id)], before=position + 1, limit=1
        )
        if not found or found[0].position != position:
            raise NotFound("event")
        event = found[0].event
        if not isinstance(event, SecretSet) or event.environment_id != environment.id:
            raise NotFound("event")
        return found[0].occurred_at, event
