"""Secrets of an environment: set (one or many, all or nothing), delete, mark as secret or
plain [D18], list, read, history, and the dashboard's multi-environment writes (save to
several environments, delete from several, copy missing names across, compare pasted
values), each in one transaction.

A write that names kinds is decided on the live kinds (a kind change records the kind it
replaces) and appended at the version it was decided on, again if another write got there
first; every other write appends at the stream's end, whatever it is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, NamedTuple

from sigillo.domain import secrets as aggregate
from sigillo.domain.errors import ConcurrencyError, NotFound
from sigillo.domain.events import (
    Actor,
    RecordedEvent,
    SealedValue,
    SecretKind,
    SecretsRead,
)
from sigillo.domain.moments import Moment
from sigillo.domain.projections.history import HistoryEntry, history
from sigillo.domain.projections.past_secrets import PastSecrets
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.references import parse, template
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.domain.values import secret_name, secret_value
from sigillo.services.group_commit import GroupCommit
from sigillo.services.ports import Append, Cipher, EventStore
from sigillo.services.recent_rows import RecentRows
from sigillo.services.time_travel import NotYet, TimeTravel
from sigillo.services.writing import ATTEMPTS, Writer

__all__ = ["Comparison", "ReadHow", "SecretsService"]

ReadHow = Literal["get", "download", "reveal", "run", "mcp", "compare"]
Comparison = Literal["added", "changed", "unchanged"]

# How long the ciphertext of the empty plaintext is, per storage format of SealedValue.
# Format 1 is AES-256-GCM with the 16-byte tag appended: a ciphertext is exactly as long as
# its plaintext plus 16 bytes, so the empty value is the one ciphertext of 16 bytes. This
# lets a listing say whether a value is empty without decrypting it, so without a read.
_EMPTY_CIPHERTEXT_BYTES = {1: 16}


class _Write(NamedTuple):
    """One environment's part of a write: deletes, then sets, then kinds. Kinds without
    sets mark live names; with sets they name the kinds of the names set."""

    environment_id: str
    deletes: Sequence[str] = ()
    sets: Mapping[str, str] = {}
    kinds: Mapping[str, SecretKind] = {}


def _kinds(kinds: Mapping[str, str] | None) -> dict[str, SecretKind]:
    return {
        secret_name(name, "kinds"): aggregate.secret_kind(kind)
        for name, kind in (kinds or {}).items()
    }


class SecretsService:
    def __init__(
        self,
        store: EventStore,
        cipher: Cipher,
        writer: Writer,
        time_travel: TimeTravel | None = None,
    ) -> None:
        self._store, self._cipher, self._writer = store, cipher, writer
        self._reads = GroupCommit(writer)
        self._recent = RecentRows(store)
        self._time_travel = time_travel or TimeTravel(store)  # without snapshots: replays

    async def set(
        self,
        environment_id: str,
        values: Mapping[str, str],
        actor: Actor,
        kinds: Mapping[str, str] | None = None,
    ) -> list[RecordedEvent]:
        """Validate every name, value and kind first, then seal and append them in one
        transaction. Names not in `kinds` keep their kind (`secret` when new)."""
        checked = {secret_name(name): secret_value(value) for name, value in values.items()}
        chosen = _kinds(kinds)
        if not checked:  # kinds alone would be a kind change: a set names what it sets
            aggregate.decide(aggregate.SetSecrets(environment_id, {}, chosen))
            return []
        [recorded] = await self._write([_Write(environment_id, (), checked, chosen)], actor)
        return recorded

    async def change_kinds(
        self, environment_id: str, kinds: Mapping[str, str], actor: Actor
    ) -> list[RecordedEvent]:
        """Mark live names `secret` or `plain` [D18]: one event per name whose kind changes,
        none for a name that already has its kind. A name that is not live is NotFound."""
        [recorded] = await self._write([_Write(environment_id, kinds=_kinds(kinds))], actor)
        return recorded

    async def delete(
        self, environment_id: str, names: Sequence[str], actor: Actor
    ) -> list[RecordedEvent]:
        """Delete live names; a name that is not live is NotFound and nothing is appended."""
        if await self._store.get(EnvironmentRow, (environment_id,)) is None:
            raise NotFound("environment")
        live = {row.name for row in await self.current(environment_id)}
        missing = [name for name in names if name not in live]
        if missing:
            raise NotFound(f"secret {missing[0]}")
        events = aggregate.decide(aggregate.DeleteSecrets(environment_id, list(names)))
        return await self._writer.append(environment_stream(environment_id), events, actor)

    async def current(self, environment_id: str) -> list[CurrentSecretRow]:
        """Live secrets in the order they became live; values stay sealed."""
        return await self._recent.current(environment_id)

    async def all_names(self, project_id: str) -> list[str]:
        """The sorted union of the names live in any environment of the project
        (behaviour.md 3.5 `allNames`): code-point order, no values, no read recorded."""
        names: set[str] = set()
        for environment in await self._store.select(EnvironmentRow, "project_id", project_id):
            names.update(row.name for row in await self.current(environment.id))
        return sorted(names)

    def is_empty(self, row: CurrentSecretRow) -> bool:
        """Whether a live value is the empty string, told from its ciphertext's length alone:
        nothing is decrypted, so a listing records no read [D16]. A storage format this
        service does not know is opened instead (a server fault if no key can open it)."""
        empty = _EMPTY_CIPHERTEXT_BYTES.get(row.format)
        if empty is None:
            return self.open(row) == ""
        return len(row.ciphertext) == empty

    def empty_names(self, rows: Iterable[CurrentSecretRow]) -> frozenset[str]:
        """The names among `rows` whose value is the empty string (`is_empty`, in one pass
        over a whole listing)."""
        found = []
        for row in rows:
            empty = _EMPTY_CIPHERTEXT_BYTES.get(row.format)
            if empty is None:
                if self.is_empty(row):
                    found.append(row.name)
            elif len(row.ciphertext) == empty:
                found.append(row.name)
        return frozenset(found)

    async def reveal(
        self, environment_id: str, names: Sequence[str] | None, actor: Actor, how: ReadHow
    ) -> list[tuple[CurrentSecretRow, str]]:
        """Live secrets with their plaintext (all of them when `names` is None), in replay
        order. The read is recorded before any value is decrypted: audit fails closed.
        Reads arriving together are recorded in one transaction (services.group_commit).
        A read of every live secret records the version it read and how many, not the
        names (they are the names live at that version), unless a write landed while the
        rows were read: then it lists them."""
        if names is None:
            version, rows = await self._recent.exact(environment_id)
            if version is not None:
                read = SecretsRead(environment_id, [], how, version=version, count=len(rows))
            else:
                read = SecretsRead(environment_id, [row.name for row in rows], how)
        else:
            rows = await self.current(environment_id)
            wanted = {secret_name(name) for name in names}
            rows = [row for row in rows if row.name in wanted]
            if len(rows) < len(wanted):
                raise NotFound("secret")
            read = SecretsRead(environment_id, [row.name for row in rows], how)
        await self._reads.append(reads_stream(environment_id), [read], actor)
        return [(row, self.open(row)) for row in rows]

    async def value(
        self, environment_id: str, name: str, actor: Actor, how: ReadHow = "get"
    ) -> str:
        """One live value, its read recorded; NotFound when the name is not live."""
        [(_, plaintext)] = await self.reveal(environment_id, [name], actor, how)
        return plaintext

    async def values(
        self, environment_id: str, actor: Actor, how: ReadHow = "download"
    ) -> dict[str, str]:
        """Every live value in replay order, the read recorded."""
        return {
            row.name: plaintext
            for row, plaintext in await self.reveal(environment_id, None, actor, how)
        }

    # --- reads of the past (`at`: an RFC 3339 time or an event id; services.time_travel)

    async def at(self, environment: EnvironmentRow, moment: Moment) -> PastSecrets:
        """The environment's live rows at `moment`, values sealed, no read recorded (a
        listing). NotFound when it did not exist yet then (NotYet), or no event has the id."""
        return await self._time_travel.at(environment, moment)

    async def all_names_at(
        self, project_id: str, moment: Moment, known: PastSecrets | None = None
    ) -> list[str]:
        """`all_names` at `moment`, over the project's environments that existed then (and
        still do); `known` is one of them already folded at that moment."""
        names: set[str] = set()
        for environment in await self._store.select(EnvironmentRow, "project_id", project_id):
            if known is not None and known.environment_id == environment.id:
                past = known
            else:
                try:
                    past = await self._time_travel.at(environment, moment)
                except NotYet:
                    continue
            names.update(row.name for row in past.rows)
        return sorted(names)

    async def reveal_past(
        self,
        past: PastSecrets,
        moment: Moment,
        names: Sequence[str] | None,
        actor: Actor,
        how: ReadHow,
    ) -> list[tuple[CurrentSecretRow, str]]:
        """`reveal` of the rows live at `moment` (`past`, from `at`): the read is recorded
        first, naming the moment (`at`); a read of every row names the version read (the
        moment's last event of the stream) and how many, a read of some names lists them.
        NotFound when a name was not live then."""
        rows, at = past.live(), str(moment)
        if names is None:
            read = SecretsRead(
                past.environment_id, [], how, version=past.version, count=len(rows), at=at
            )
        else:
            wanted = {secret_name(name) for name in names}
            rows = [row for row in rows if row.name in wanted]
            if len(rows) < len(wanted):
                raise NotFound("secret")
            read = SecretsRead(past.environment_id, [row.name for row in rows], how, at=at)
        await self._reads.append(reads_stream(past.environment_id), [read], actor)
        return [(row, self.open(row)) for row in rows]

    async def reveal_each(
        self, environment_id: str, names: Iterable[str] | None, actor: Actor, how: ReadHow
    ) -> list[tuple[CurrentSecretRow, str]]:
        """Live values (all of them when `names` is None; names not live are skipped), each
        read recorded as its own access event, all in one transaction, before any value is
        decrypted: the dashboard's "Show all" is one reveal per value [D5, D16]."""
        rows = await self.current(environment_id)
        if names is not None:
            wanted = {secret_name(name) for name in names}
            rows = [row for row in rows if row.name in wanted]
        if rows:
            reads = [SecretsRead(environment_id, [row.name], how) for row in rows]
            await self._reads.append(reads_stream(environment_id), reads, actor)
        return [(row, self.open(row)) for row in rows]

    async def names_by_environment(self, environment_ids: Iterable[str]) -> dict[str, list[str]]:
        """The live names of each environment, in replay order (no values, no read)."""
        return {
            environment_id: [row.name for row in await self.current(environment_id)]
            for environment_id in environment_ids
        }

    async def save(
        self,
        environment_id: str,
        actor: Actor,
        *,
        values: Mapping[str, str],
        renames: Mapping[str, str] | None = None,
        also: Sequence[str] = (),
        kinds: Mapping[str, str] | None = None,
    ) -> list[str]:
        """The dashboard's Save (behaviour.md 14.4), all environments in one transaction.

        Here, each rename `old -> new` writes `delete old` and then `set new` (with the
        value given for `new`, else the old name's value, copied without leaving the
        server), and every other entry of `values` a `set`. In each environment of `also`
        only the sets are written: a rename is not propagated as a delete there. `kinds`
        names the kind of names set, in every environment written; a renamed name keeps
        the old name's kind unless `kinds` names another. Answers the names set. A renamed
        name that is no longer live is NotFound("secret")."""
        renames = {secret_name(old): secret_name(new) for old, new in (renames or {}).items()}
        sets = {secret_name(name): secret_value(value) for name, value in values.items()}
        chosen = _kinds(kinds)
        if renames:
            live = {row.name: row for row in await self.current(environment_id)}
            for old, new in renames.items():
                if old not in live:
                    raise NotFound("secret")
                if new not in sets:
                    sets[new] = self.open(live[old])
                chosen.setdefault(new, live[old].kind)
        writes = [_Write(environment_id, list(renames), sets, chosen)]
        writes += [_Write(other, (), sets, chosen) for other in also if other != environment_id]
        await self._write(writes, actor)
        return list(sets)

    async def delete_from(self, environment_ids: Sequence[str], name: str, actor: Actor) -> None:
        """One `delete` of `name` in each environment, all in one transaction (the dashboard
        deletes a name from every environment chosen; one where it is not live gets a
        delete too, which changes nothing)."""
        checked = secret_name(name)
        await self._write([_Write(env, [checked]) for env in environment_ids], actor)

    async def copy_missing(
        self, source_id: str, target_id: str, actor: Actor, names: Iterable[str] | None = None
    ) -> list[str]:
        """Copy into the target the names live in the source and not live in the target
        (only those of `names`, when given), re-derived here from both environments; the
        values are opened and sealed again for their new place [D14] without leaving the
        server, and keep their kinds. Answers the names copied (none: nothing is written)."""
        present = {row.name for row in await self.current(target_id)}
        wanted = None if names is None else {secret_name(name) for name in names}
        rows = [
            row
            for row in await self.current(source_id)
            if row.name not in present and (wanted is None or row.name in wanted)
        ]
        if rows:
            values = {row.name: self.open(row) for row in rows}
            await self.set(target_id, values, actor, {row.name: row.kind for row in rows})
        return [row.name for row in rows]

    async def compare(
        self, environment_id: str, values: Mapping[str, str], actor: Actor
    ) -> dict[str, Comparison]:
        """Whether each proposed value would add a name, change a live value or leave it
        as it is. Telling "unchanged" from "changed" says something about a stored value,
        so the names compared against a live value are recorded as a read (`compare`)
        first [D16]; names not live here need no read."""
        live = {row.name: row for row in await self.current(environment_id)}
        known = [name for name in values if name in live]
        if known:
            read = SecretsRead(environment_id, known, "compare")
            await self._reads.append(reads_stream(environment_id), [read], actor)
        result: dict[str, Comparison] = {}
        for name, value in values.items():
            if name not in live:
                result[name] = "added"
            else:
                result[name] = "unchanged" if self.open(live[name]) == value else "changed"
        return result

    async def _write(self, writes: Sequence[_Write], actor: Actor) -> list[list[RecordedEvent]]:
        """Every environment's part, sealed for that environment, appended to its stream in
        one transaction: all land or none. Parts with kinds are decided on the live kinds
        and appended at the version read with them; decided again when it moved."""
        for write in writes:  # a malformed `${…}` is refused, naming the way to write it
            for name, value in write.sets.items():
                if template(value):
                    parse(value, name)
        sealed: list[dict[str, SealedValue]] = []
        for write in writes:
            if await self._store.get(EnvironmentRow, (write.environment_id,)) is None:
                raise NotFound("environment")
            sealed.append(
                {
                    name: self._cipher.seal(value, environment_id=write.environment_id, name=name)
                    for name, value in write.sets.items()
                }
            )
        for attempt in range(ATTEMPTS):
            appends = [
                await self._decided(write, values, actor)
                for write, values in zip(writes, sealed, strict=True)
            ]
            try:
                return await self._writer.store.append_many(appends)
            except ConcurrencyError:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _decided(
        self, write: _Write, sealed: Mapping[str, SealedValue], actor: Actor
    ) -> Append:
        environment_id = write.environment_id
        version: int | None = None
        live: dict[str, SecretKind] = {}
        if write.kinds:
            version, rows = await self._recent.versioned(environment_id)
            live = {row.name: row.kind for row in rows if row.name not in write.deletes}
        events: list[aggregate.SecretEvent] = []
        if write.deletes:
            events += aggregate.decide(aggregate.DeleteSecrets(environment_id, write.deletes))
        if sealed:
            command = aggregate.SetSecrets(environment_id, sealed, write.kinds)
            events += aggregate.decide(command, live)
        elif write.kinds:
            events += aggregate.decide(aggregate.ChangeKinds(environment_id, write.kinds), live)
        return Append(environment_stream(environment_id), version, self._writer.new(events, actor))

    async def history(self, environment_id: str, name: str) -> list[HistoryEntry]:
        return history(await self._store.secret_history(environment_id, secret_name(name)), name)

    def plain_values(self, rows: Iterable[CurrentSecretRow]) -> dict[str, str]:
        """The values of the `plain` rows among `rows`, for the dashboard's table: plain
        values are configuration a person chose to show [D18], so this records no read.
        Secret-kind values only leave through `reveal`, which records one first."""
        return {row.name: self.open(row) for row in rows if row.kind == "plain"}

    def open(self, row: CurrentSecretRow) -> str:
        return self._cipher.open(row.sealed(), environment_id=row.environment_id, name=row.name)
