"""Diff: two environments, or one environment at two moments, compared by name.

Each side is an environment now or at a moment (services.time_travel). A name only on the
second side is `added`, only on the first `removed`; a name on both is `changed` or
`unchanged` by its value. Telling those apart says something about stored values, so the
names whose values are opened for it are recorded as a read (`compare`) of each
environment first [D16], as the import preview's comparison is; a name whose value on
both sides is the very same set of the same environment needs no opening. With
`show_values` every value of both sides is returned, recorded first as a read (`diff`) of
each environment. Kinds [D18] are reported per side; they do not make a name `changed`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from sigillo.domain.events import Actor, SecretKind, SecretsRead
from sigillo.domain.moments import Moment
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.streams import reads_stream
from sigillo.services.ports import Append, Cipher, EventStore
from sigillo.services.recent_rows import RecentRows
from sigillo.services.time_travel import TimeTravel
from sigillo.services.writing import Writer

__all__ = ["DiffEntry", "DiffService", "DiffSide", "SecretsDiff", "Status"]

Status = Literal["added", "removed", "changed", "unchanged"]


class DiffSide(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """One side: the environment, the moment asked for (left out: now) and the version of
    the environment's secrets stream it was read at."""

    environment_id: str
    slug: str
    version: int
    at: str | None = None


class DiffEntry(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """A name and what became of it from the first side to the second. Kinds and values
    are left out of a side the name is not on; values unless asked for."""

    name: str
    status: Status
    from_kind: SecretKind | None = None
    to_kind: SecretKind | None = None
    from_value: str | None = None
    to_value: str | None = None

    def __repr__(self) -> str:  # never a value in a log line or a traceback
        return f"DiffEntry(name={self.name!r}, status={self.status!r})"


class SecretsDiff(msgspec.Struct, frozen=True, rename="camel"):
    """Entries sorted by name; `values_shown` says whether values are in them."""

    from_: DiffSide = msgspec.field(name="from")
    to: DiffSide
    entries: list[DiffEntry]
    values_shown: bool


class _Side(msgspec.Struct, frozen=True):
    environment: EnvironmentRow
    moment: Moment | None
    version: int
    rows: dict[str, CurrentSecretRow]

    def answer(self) -> DiffSide:
        at = None if self.moment is None else str(self.moment)
        return DiffSide(
            environment_id=self.environment.id,
            slug=self.environment.slug,
            version=self.version,
            at=at,
        )


class DiffService:
    def __init__(
        self,
        store: EventStore,
        cipher: Cipher,
        writer: Writer,
        time_travel: TimeTravel | None = None,
    ) -> None:
        self._store, self._cipher, self._writer = store, cipher, writer
        self._past = time_travel or TimeTravel(store)
        self._recent = RecentRows(store)

    async def diff(
        self,
        first: tuple[EnvironmentRow, Moment | None],
        second: tuple[EnvironmentRow, Moment | None],
        actor: Actor,
        *,
        show_values: bool = False,
    ) -> SecretsDiff:
        """`first` and `second`: an environment and a moment (None: now). The caller has
        checked that the requester may read both environments."""
        left, right = await self._side(*first), await self._side(*second)
        names = sorted(set(left.rows) | set(right.rows))
        if show_values:
            opened = [(left, list(left.rows)), (right, list(right.rows))]
            await self._record(opened, "diff", actor)
        else:
            both = [n for n in names if n in left.rows and n in right.rows]
            needed = [n for n in both if not _same_set(left.rows[n], right.rows[n])]
            await self._record([(left, needed), (right, needed)], "compare", actor)
        entries = [self._entry(name, left, right, show_values) for name in names]
        return SecretsDiff(left.answer(), right.answer(), entries, show_values)

    async def _side(self, environment: EnvironmentRow, moment: Moment | None) -> _Side:
        if moment is None:
            version, rows = await self._recent.versioned(environment.id)
        else:
            past = await self._past.at(environment, moment)
            version, rows = past.version, past.live()
        return _Side(environment, moment, version, {row.name: row for row in rows})

    async def _record(
        self,
        opened: list[tuple[_Side, list[str]]],
        how: Literal["compare", "diff"],
        actor: Actor,
    ) -> None:
        """One read per environment and moment whose values are opened (one when both
        sides are the same), all in one transaction, before any value is opened. A read of
        the past names its moment (`at`)."""
        names: dict[tuple[str, str | None], list[str]] = {}
        for side, side_names in opened:
            at = None if side.moment is None else str(side.moment)
            listed = names.setdefault((side.environment.id, at), [])
            listed += [name for name in side_names if name not in listed]
        appends = [
            Append(
                reads_stream(environment_id),
                None,
                self._writer.new([SecretsRead(environment_id, sorted(listed), how, at=at)], actor),
            )
            for (environment_id, at), listed in names.items()
            if listed
        ]
        if appends:
            await self._writer.store.append_many(appends)

    def _entry(self, name: str, left: _Side, right: _Side, show_values: bool) -> DiffEntry:
        before, after = left.rows.get(name), right.rows.get(name)
        from_value = self._open(before) if show_values and before else None
        to_value = self._open(after) if show_values and after else None
        if before is None:
            status: Status = "added"
        elif after is None:
            status = "removed"
        elif _same_set(before, after):
            status = "unchanged"
        elif show_values:
            status = "unchanged" if from_value == to_value else "changed"
        else:
            status = "unchanged" if self._open(before) == self._open(after) else "changed"
        return DiffEntry(
            name=name,
            status=status,
            from_kind=before.kind if before else None,
            to_kind=after.kind if after else None,
            from_value=from_value,
            to_value=to_value,
        )

    def _open(self, row: CurrentSecretRow) -> str:
        return self._cipher.open(row.sealed(), environment_id=row.environment_id, name=row.name)


def _same_set(first: CurrentSecretRow, second: CurrentSecretRow) -> bool:
    """Whether both rows hold the value of the very same set (so the very same value)."""
    return first.environment_id == second.environment_id and first.secret_id == second.secret_id
