"""Rollback: bring an environment (or some of its names) back to a moment of its history
by appending sets, deletes and kind changes (domain.rollback_plan). The log is never
rewritten: the past stays, and the rollback is one more write on top of it.

The plan is decided on the environment's rows at the moment (services.time_travel) and its
live rows at the version read with them, and appended at that version in one transaction:
all of it lands or none. When another write got there first the plan is decided again on
the new state, so what lands is always the whole way back to the moment.

A name set since is set back only when its value differs from its value then: telling
that opens both values, so the names compared are recorded first as a `compare` read (a
second rollback to the same moment is then a no-op). A value set back is opened and
sealed again for its place [D14] (a fresh nonce under the sealing key of today), as a copy
between environments is; it never leaves the server. The plan names secrets, never values.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from sigillo.domain import secrets as aggregate
from sigillo.domain.errors import ConcurrencyError, NotFound
from sigillo.domain.events import Actor, RecordedEvent, SealedValue, SecretKind, SecretsRead
from sigillo.domain.moments import Moment
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.references import literal
from sigillo.domain.rollback_plan import RollbackPlan, plan
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.domain.values import secret_name
from sigillo.services.ports import Cipher, EventStore
from sigillo.services.recent_rows import RecentRows
from sigillo.services.time_travel import TimeTravel
from sigillo.services.writing import ATTEMPTS, Writer

__all__ = ["RollbackResult", "RollbackService"]


class RollbackResult(msgspec.Struct, frozen=True):
    """The plan, the stream version of the moment it goes back to, and the events appended
    (none for a dry run or an empty plan)."""

    plan: RollbackPlan
    moment_version: int
    recorded: list[RecordedEvent]


class RollbackService:
    def __init__(
        self,
        store: EventStore,
        cipher: Cipher,
        writer: Writer,
        time_travel: TimeTravel | None = None,
        references_since: int = 0,
    ) -> None:
        self._store, self._cipher, self._writer = store, cipher, writer
        self._past = time_travel or TimeTravel(store)
        self._recent = RecentRows(store)
        # a value set before references existed is restored so that it still reads as
        # itself: its `${` written `$${` (services.references)
        self._literal_before = references_since

    async def rollback(
        self,
        environment: EnvironmentRow,
        moment: Moment,
        actor: Actor,
        names: Sequence[str] | None = None,
        *,
        dry_run: bool = False,
    ) -> RollbackResult:
        """Plan and (unless `dry_run`) append the way back to `moment`, for `names` (the
        whole environment when None or empty). NotFound when the moment is before the
        environment existed, or a name was live neither then nor now."""
        wanted = sorted({secret_name(name, "names") for name in names}) if names else None
        past = await self._past.at(environment, moment)
        then = {row.name: row for row in past.rows}
        equal: dict[tuple[str, str], bool] = {}  # (name, set now) -> its value is the one then
        for attempt in range(ATTEMPTS):
            version, now = await self._recent.versioned(environment.id)
            same = await self._same(environment.id, then, now, wanted, equal, actor)
            decided = plan(past.rows, now, wanted, same)
            if decided.unknown:
                raise NotFound(f"secret {decided.unknown[0]}")
            if dry_run or decided.empty:
                return RollbackResult(decided, past.version, [])
            live = {row.name: row.kind for row in now}
            sealed = {name: self._resealed(then, name) for name in decided.restore}
            events = _events(environment.id, decided, sealed, live)
            try:
                recorded = await self._writer.store.append(
                    environment_stream(environment.id), version, self._writer.new(events, actor)
                )
            except ConcurrencyError:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            return RollbackResult(decided, past.version, recorded)
        raise AssertionError("unreachable")

    async def _same(
        self,
        environment_id: str,
        then: dict[str, CurrentSecretRow],
        now: list[CurrentSecretRow],
        wanted: list[str] | None,
        equal: dict[tuple[str, str], bool],
        actor: Actor,
    ) -> set[str]:
        """The names set since whose value now is their value then. Telling that says
        something about stored values, so the names opened for it are recorded first as a
        read (`compare`) [D16], as the import preview and the diff record theirs."""
        fresh = [
            row
            for row in now
            if row.name in then
            and row.secret_id != then[row.name].secret_id
            and (wanted is None or row.name in wanted)
            and (row.name, row.secret_id) not in equal
        ]
        if fresh:
            read = SecretsRead(environment_id, sorted(row.name for row in fresh), "compare")
            await self._writer.append(reads_stream(environment_id), [read], actor)
            for row in fresh:
                equal[row.name, row.secret_id] = self._open(row) == self._open(then[row.name])
        return {row.name for row in now if equal.get((row.name, row.secret_id))}

    def _open(self, row: CurrentSecretRow) -> str:
        return self._cipher.open(row.sealed(), environment_id=row.environment_id, name=row.name)

    def _resealed(self, then: dict[str, CurrentSecretRow], name: str) -> SealedValue:
        row = then[name]
        value = self._cipher.open(row.sealed(), environment_id=row.environment_id, name=name)
        if row.updated_at < self._literal_before:
            value = literal(value)
        return self._cipher.seal(value, environment_id=row.environment_id, name=name)


def _events(
    environment_id: str,
    decided: RollbackPlan,
    sealed: dict[str, SealedValue],
    live: dict[str, SecretKind],
) -> list[aggregate.SecretEvent]:
    """Deletes, then sets (with the kinds of the names set), then the other kind changes."""
    events: list[aggregate.SecretEvent] = []
    if decided.delete:
        events += aggregate.decide(aggregate.DeleteSecrets(environment_id, decided.delete))
    restored = {name: kind for name, kind in decided.kinds.items() if name in sealed}
    if sealed:
        events += aggregate.decide(aggregate.SetSecrets(environment_id, sealed, restored), live)
    marked = {name: kind for name, kind in decided.kinds.items() if name not in sealed}
    if marked:
        events += aggregate.decide(aggregate.ChangeKinds(environment_id, marked), live)
    return events
