"""Resolving secret references at read time (issue 18; syntax: domain.references).

A read that hands values out (download, get, run, the dashboard's reveal) passes them
through `resolve`: every `${…}` is replaced by the referenced value, itself resolved, so
changing a referenced secret changes every reader. Rules:

- Each referenced secret is read as if the reader had read it: its environment must be
  one the reader may read (an API token only in its project, and only its environment
  when scoped to one; a person only in projects of their orgs), and the read is recorded
  in that environment's log like the reader's own (`how`, and `at` for the past).
- A reference that names no environment, no secret, or one the reader may not read is a
  `BrokenReference` naming the reference and the secret holding it; so are a cycle (named
  in full) and a chain deeper than 8. Nothing is ever silently empty.
- A read of the past resolves against the referenced environments at the same moment.
- Kinds: a value that holds a secret-kind value is a secret, whatever its own kind; the
  secret-kind values it holds are handed back (`parts`) so `sigillo run` protects them
  on their own too.
- Values written before this release (`since`: store.reference_start) stay literal, as
  they were read before; so does every value read raw (`secrets get --raw`, the editor).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sigillo.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from sigillo.domain.events import Actor, SecretKind
from sigillo.domain.moments import Moment
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow, ProjectRow
from sigillo.domain.references import MAX_DEPTH, Reference, Template, parse, template
from sigillo.services.access import AccessService
from sigillo.services.catalog import CatalogService
from sigillo.services.ports import EventStore
from sigillo.services.secrets import ReadHow, SecretsService

__all__ = ["BrokenReference", "ReadScope", "ReferenceResolver", "Resolved"]

Key = tuple[str, str]  # (environment id, name)


class BrokenReference(Conflict):
    """A reference that cannot be resolved: the message names it, never a value."""


class ReadScope(NamedTuple):
    """Who reads: the actor, and for an API token its project and (if scoped) environment."""

    actor: Actor
    token_project_id: str | None = None
    token_environment_id: str | None = None


class Resolved(NamedTuple):
    row: CurrentSecretRow
    value: str
    kind: SecretKind
    parts: tuple[str, ...] = ()  # secret-kind values it holds through references
    references: tuple[str, ...] = ()  # the references it holds, as written
    error: str | None = None  # (not strict) why it could not be resolved; value: raw

    def __repr__(self) -> str:  # never a value
        return f"Resolved(name={self.row.name!r}, kind={self.kind!r})"


class _Known(NamedTuple):
    environment: EnvironmentRow
    row: CurrentSecretRow
    value: str


class ReferenceResolver:
    def __init__(
        self,
        store: EventStore,
        secrets: SecretsService,
        catalog: CatalogService,
        access: AccessService,
        since: int = 0,
    ) -> None:
        self._store, self._secrets, self._catalog, self._access = store, secrets, catalog, access
        self.since = since  # values set before this time (ms) are literal

    def template_of(self, row: CurrentSecretRow, value: str) -> Template | None:
        """The value as a template, or None when it is literal (no `${`, or written before
        references existed). A malformed one (written before, or raw SQL) is broken."""
        if row.updated_at < self.since or not template(value):
            return None
        try:
            return parse(value)
        except InvalidInput as error:
            raise BrokenReference(f"{row.name}: {error.message}") from None

    async def resolve(
        self,
        environment: EnvironmentRow,
        revealed: Sequence[tuple[CurrentSecretRow, str]],
        scope: ReadScope,
        how: ReadHow,
        moment: Moment | None = None,
        *,
        strict: bool = True,
    ) -> list[Resolved]:
        """`revealed` (a read of `environment`, already recorded) with every reference
        resolved; the referenced secrets' reads are recorded before they are opened. A
        broken reference raises BrokenReference, or (not `strict`: the dashboard) leaves
        that value raw with the `error` said."""
        known = {(environment.id, row.name): _Known(environment, row, v) for row, v in revealed}
        templates: dict[Key, Template | None] = {}
        errors: dict[Key, str] = {}
        for key, found in known.items():
            try:
                templates[key] = self.template_of(found.row, found.value)
            except BrokenReference as broken:
                if strict:
                    raise
                templates[key], errors[key] = None, str(broken)
        if not any(templates.values()) and not errors:
            return [Resolved(row, value, row.kind) for row, value in revealed]
        run = _Run(self, scope, how, moment, known, templates)
        run.malformed({key: BrokenReference(error) for key, error in errors.items()})
        await run.fetch()
        answers = []
        for row, value in revealed:
            key = (environment.id, row.name)
            try:
                if key in errors:
                    raise BrokenReference(errors[key])
                answers.append(run.resolved(key))
            except BrokenReference as broken:
                if strict:
                    raise
                answers.append(Resolved(row, value, row.kind, error=str(broken)))
        return answers

    async def sources(self, environment: EnvironmentRow, scope: ReadScope) -> list[EnvironmentRow]:
        """`environment` and every environment its live values refer to, directly or not,
        that the reader may read: what `sigillo run --watch` watches. Values are opened
        here but none leaves the server, so no read is recorded."""
        found = {environment.id: environment}
        pending = [environment]
        for _ in range(MAX_DEPTH + 1):
            following: list[EnvironmentRow] = []
            for here in pending:
                for row in await self._secrets.current(here.id):
                    text = self._secrets.open(row)
                    try:
                        parsed = self.template_of(row, text)
                    except BrokenReference:
                        continue
                    for reference in parsed.references if parsed else []:
                        try:
                            there = await self.environment_of(here, reference, scope)
                        except BrokenReference:
                            continue
                        if there.id not in found:
                            found[there.id] = there
                            following.append(there)
            pending = following
        return list(found.values())

    async def environment_of(
        self, here: EnvironmentRow, reference: Reference, scope: ReadScope
    ) -> EnvironmentRow:
        """The environment `reference` (held by a value of `here`) names, if the reader
        may read it; BrokenReference otherwise (the same words for "no such" and "not
        yours": an outsider's project is never confirmed)."""
        if reference.environment is None:
            return here
        project_id = here.project_id
        if reference.project is not None:
            project = await self._project(here, reference.project)
            if project is None:
                raise BrokenReference(_unknown(reference, "project"))
            project_id = project.id
        there = await self._catalog.find_environment(project_id, reference.environment)
        if there is None or there.project_id != project_id:
            raise BrokenReference(_unknown(reference, "environment"))
        if not await self._may_read(there, scope):
            raise BrokenReference(f"{reference.text}: not readable with this credential")
        return there

    async def _project(self, here: EnvironmentRow, ref: str) -> ProjectRow | None:
        own = await self._store.get(ProjectRow, (here.project_id,))
        if own is None:
            return None
        projects = await self._store.select(ProjectRow, "org_id", own.org_id)
        by_id = [p for p in projects if p.id == ref]
        named = by_id or [p for p in projects if p.name == ref]
        if len(named) > 1:
            raise BrokenReference(f"${{{ref}…}}: several projects are named {ref}; use its id")
        return named[0] if named else None

    async def _may_read(self, environment: EnvironmentRow, scope: ReadScope) -> bool:
        if scope.token_project_id is not None:
            return environment.project_id == scope.token_project_id and (
                scope.token_environment_id in (None, environment.id)
            )
        try:
            await self._access.project_for(environment.project_id, scope.actor)
        except (Forbidden, NotFound):
            return False
        return True

    async def _reveal(
        self,
        environment: EnvironmentRow,
        names: list[str],
        scope: ReadScope,
        how: ReadHow,
        moment: Moment | None,
    ) -> dict[str, tuple[CurrentSecretRow, str]]:
        """The named values of `environment` (names not live are left out), read as the
        reader would, the read recorded first."""
        if moment is None:
            live = {row.name for row in await self._secrets.current(environment.id)}
            present = [name for name in names if name in live]
            if not present:
                return {}
            opened = await self._secrets.reveal(environment.id, present, scope.actor, how)
        else:
            try:
                past = await self._secrets.at(environment, moment)
            except NotFound:  # the environment did not exist yet then
                return {}
            live = {row.name for row in past.live()}
            present = [name for name in names if name in live]
            if not present:
                return {}
            opened = await self._secrets.reveal_past(past, moment, present, scope.actor, how)
        return {row.name: (row, value) for row, value in opened}


class _Run:
    """One resolution: fetch what the templates need, level by level, then render."""

    def __init__(
        self,
        resolver: ReferenceResolver,
        scope: ReadScope,
        how: ReadHow,
        moment: Moment | None,
        known: dict[Key, _Known],
        templates: dict[Key, Template | None],
    ) -> None:
        self._resolver, self._scope, self._how, self._moment = resolver, scope, how, moment
        self._known, self._templates = known, templates
        self._targets: dict[tuple[Key, Reference], Key | BrokenReference] = {}
        self._done: dict[Key, Resolved] = {}
        self._malformed: dict[Key, BrokenReference] = {}  # referenced values not templates

    def malformed(self, found: dict[Key, BrokenReference]) -> None:
        """Values already read that are no templates: their readers say so."""
        self._malformed.update(found)

    async def fetch(self) -> None:
        """Open every secret the templates reach, up to one level past the deepest chain
        allowed (so that a deeper one is seen, and named, when rendering)."""
        pending = [key for key, parsed in self._templates.items() if parsed]
        for _ in range(MAX_DEPTH + 1):
            wanted: dict[str, tuple[EnvironmentRow, list[str]]] = {}
            for key in pending:
                here = self._known[key].environment
                parsed = self._templates[key]
                for reference in parsed.references if parsed else []:
                    try:
                        there = await self._resolver.environment_of(here, reference, self._scope)
                    except BrokenReference as broken:
                        self._targets[(key, reference)] = _named(broken, key)
                        continue
                    target = (there.id, reference.name)
                    self._targets[(key, reference)] = target
                    if target not in self._known:
                        names = wanted.setdefault(there.id, (there, []))[1]
                        if reference.name not in names:
                            names.append(reference.name)
            pending = []
            for environment, names in wanted.values():
                opened = await self._resolver._reveal(
                    environment, names, self._scope, self._how, self._moment
                )
                for name, (row, value) in opened.items():
                    key = (environment.id, name)
                    self._known[key] = _Known(environment, row, value)
                    try:
                        self._templates[key] = self._resolver.template_of(row, value)
                    except BrokenReference as broken:  # said by its readers, when rendering
                        self._templates[key], self._malformed[key] = None, broken
                        continue
                    pending.append(key)
            if not pending:
                return

    def resolved(self, key: Key, chain: tuple[Key, ...] = ()) -> Resolved:
        done = self._done.get(key)
        if done is not None:
            return done
        known = self._known[key]
        if key in chain:
            raise BrokenReference("reference cycle: " + self._path((*chain, key)))
        if len(chain) > MAX_DEPTH:
            raise BrokenReference(
                f"references deeper than {MAX_DEPTH}: " + self._path((*chain, key))
            )
        parsed = self._templates.get(key)
        if parsed is None:
            answer = Resolved(known.row, known.value, known.row.kind)
            self._done[key] = answer
            return answer
        kind: SecretKind = known.row.kind
        parts: list[str] = []
        values: dict[Reference, str] = {}
        for reference in parsed.references:
            target = self._targets.get((key, reference))
            if isinstance(target, BrokenReference):
                raise target
            if target is None or target not in self._known:
                raise BrokenReference(f"{reference.text} in {known.row.name}: no such secret")
            if target in self._malformed:
                raise BrokenReference(
                    f"{reference.text} in {known.row.name}: {self._malformed[target]}"
                )
            inner = self.resolved(target, (*chain, key))
            values[reference] = inner.value
            parts.extend(inner.parts)
            if inner.kind == "secret":
                kind = "secret"
                parts.append(inner.value)
        value = parsed.render(values.__getitem__)
        answer = Resolved(
            known.row,
            value,
            kind,
            tuple(dict.fromkeys(parts)),
            tuple(reference.text for reference in parsed.references),
        )
        self._done[key] = answer
        return answer

    def _path(self, keys: tuple[Key, ...]) -> str:
        """`dev.A → dev.B → dev.A`: environments by slug, never a value."""
        return " → ".join(f"{self._known[k].environment.slug}.{k[1]}" for k in keys)


def _unknown(reference: Reference, what: str) -> str:
    return f"{reference.text}: no such {what}, or not readable with this credential"


def _named(broken: BrokenReference, key: Key) -> BrokenReference:
    return BrokenReference(f"{broken} (in {key[1]})")
