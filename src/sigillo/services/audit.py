"""The audit log: an environment's events, or an org's, newest first, a page at a time.

What a page reads. An environment's log is its secrets stream (`env:`) and its reads
stream (`reads:`), paged by the store's (stream, position) index, merged with the events
of its project's stream that concern it (its own creation, renames and deletion, and the
tokens scoped to it), which are read whole: a project stream holds only environment and
token changes, so it stays short. An org's log is its own stream, the streams of every
project it ever had (the OrgProjectRow read model, which keeps deleted projects) and the
`env:` and `reads:` streams of every environment those projects ever had (found in the
project streams, so deleted environments are included), all paged by the index. The
project streams are read whole for that, one per project. Nothing replays or scans the log.

The dashboard's event log reads an environment's page with `secrets_only` (its secrets'
sets and deletes and the reads of their values, without the project's events about the
environment), and offers its author filter from `environment_actors`: who can appear
there, from the org's stream and the project's tokens, never from the log's secret events.

What a page never holds: a value, a ciphertext, a nonce, a token or invitation hash. An
entry names secrets, versions, how values were read, roles, and token names and access.

A read of a whole environment (a download, `sigillo run`) is recorded by its scope, not its
names: the version of the environment's secrets it read and how many were live there
(domain/events.py SecretsRead). Its entry says so (`secrets_version`, `count`, no `names`);
listing the names would mean replaying the environment's stream to that version. The
`secret` filter keeps such a read when the secret was live at its version, from that
secret's own history (one index range per environment, read once per request).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from sigillo.domain.errors import NotFound
from sigillo.domain.events import (
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentRenamed,
    Event,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
    RecordedEvent,
    SecretDeleted,
    SecretKindChanged,
    SecretSet,
    SecretsRead,
    TokenCreated,
    TokenRevoked,
)
from sigillo.domain.projections.rows import (
    ApiTokenRow,
    EnvironmentRow,
    OrgProjectRow,
    ProjectRow,
    UserRow,
)
from sigillo.domain.streams import environment_stream, org_stream, project_stream, reads_stream
from sigillo.domain.values import secret_name
from sigillo.services.audit_entries import (
    ActorChoice,
    AuditPage,
    Names,
    Place,
    Tokens,
    entry,
)
from sigillo.services.ports import EventStore

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "AuditService"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# With a `secret` filter the store cannot tell which reads name the secret (a read's names
# are in its payload), so pages are read in batches of at least this many and filtered here.
FILTER_BATCH = 200


class _Filter:
    """Which events a page keeps: those of one actor, those about one secret. A read of a
    whole environment is about the secret when it was live at the version read: `prepare`
    learns that from the secret's history in each environment, before `__call__` asks."""

    def __init__(self, store: EventStore, secret: str | None, actor: str | None) -> None:
        self._store = store
        self.secret, self.actor = secret, actor
        # environment id -> (versions where the secret's liveness changed, live after each)
        self._lives: dict[str, tuple[list[int], list[bool]]] = {}

    async def prepare(self, events: Sequence[RecordedEvent]) -> None:
        if self.secret is None:
            return
        for recorded in events:
            event = recorded.event
            if isinstance(event, SecretsRead) and event.whole:
                env_id = event.environment_id
                if env_id not in self._lives:
                    history = await self._store.secret_history(env_id, self.secret)
                    changes = [
                        (e.version, isinstance(e.event, SecretSet))
                        for e in history
                        if isinstance(e.event, SecretSet | SecretDeleted)
                    ]
                    self._lives[env_id] = ([v for v, _ in changes], [live for _, live in changes])

    def _live_at(self, environment_id: str, version: int) -> bool:
        versions, lives = self._lives.get(environment_id, ([], []))
        index = bisect_right(versions, version)
        return index > 0 and lives[index - 1]

    def __call__(self, recorded: RecordedEvent) -> bool:
        if self.actor is not None and recorded.actor.id != self.actor:
            return False
        if self.secret is None:
            return True
        event = recorded.event
        if isinstance(event, SecretSet | SecretDeleted | SecretKindChanged):
            return event.name == self.secret
        if not isinstance(event, SecretsRead):
            return False
        if event.whole and event.version is not None:
            return self._live_at(event.environment_id, event.version)
        return self.secret in event.names


class AuditService:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def environment_log(
        self,
        environment: EnvironmentRow,
        *,
        before: int | None = None,
        limit: int = DEFAULT_LIMIT,
        secret: str | None = None,
        actor: str | None = None,
        secrets_only: bool = False,
    ) -> AuditPage:
        """The environment's secret and read events, and its project's events about it
        (unless `secrets_only`: then its secrets' sets and deletes and their reads alone,
        as the dashboard's event log shows them, without reading the project's stream).
        The caller has checked that the requester may reach the environment."""
        keep = self._filter(secret, actor)
        env_id, project_id = environment.id, environment.project_id
        project = await self._store.get(ProjectRow, (project_id,))
        if project is None:
            raise NotFound("project")
        place = Place(project.org_id, project_id, env_id)
        project_events = (
            [] if secrets_only else await self._store.read_stream(project_stream(project_id))
        )
        tokens = Tokens(project_events)
        extras = [
            e
            for e in project_events
            if _concerns(e.event, env_id, tokens.scopes)
            and keep(e)
            and (before is None or e.position < before)
        ]
        streams = {environment_stream(env_id): place, reads_stream(env_id): place}
        found = await self._page(list(streams), before, limit, keep)
        places = {**streams, project_stream(project_id): place}
        return await self._answer(_merge(found, extras, limit), places, limit, tokens)

    async def environment_actors(self, environment: EnvironmentRow) -> list[ActorChoice]:
        """Who can appear as the author of the environment's secret events and reads:
        every user who has ever been a member of its org (the org's stream: former
        members too) and every token of its project that reaches it (project-wide or
        scoped to it; revoked ones too [D1]). Users by name, then tokens by name.

        A superset of the authors actually in the log, found without reading the log's
        secret events (no index finds the distinct authors of a stream, and an
        environment's log grows without bound), so a filter's list costs the same on a
        log of ten events or of a million."""
        project = await self._store.get(ProjectRow, (environment.project_id,))
        if project is None:
            raise NotFound("project")
        user_ids: dict[str, None] = {}
        for recorded in await self._store.read_stream(org_stream(project.org_id)):
            if isinstance(recorded.event, MemberAdded):
                user_ids.setdefault(recorded.event.user_id)
        users = []
        for user_id in user_ids:
            row = await self._store.get(UserRow, (user_id,))
            users.append(ActorChoice("user", user_id, row.name if row else None))
        tokens = [
            ActorChoice("token", row.id, row.name, revoked=row.revoked_at is not None)
            for row in await self._store.select(ApiTokenRow, "project_id", project.id)
            if row.environment_id in (None, environment.id)
        ]

        def by_name(choice: ActorChoice) -> tuple[str, str]:
            return ((choice.name or "").casefold(), choice.id)

        return sorted(users, key=by_name) + sorted(tokens, key=by_name)

    async def org_log(
        self,
        org_id: str,
        *,
        before: int | None = None,
        limit: int = DEFAULT_LIMIT,
        secret: str | None = None,
        actor: str | None = None,
    ) -> AuditPage:
        """The org's own events, its projects' and their environments' (deleted projects
        and environments included). The caller has checked that the requester is a member."""
        keep = self._filter(secret, actor)
        places, tokens = await self._org_places(org_id)
        streams = [s for s, p in places.items() if secret is None or p.environment_id]
        found = await self._page(streams, before, limit, keep)
        return await self._answer(_merge(found, [], limit), places, limit, tokens)

    async def org_streams(self, org_id: str) -> list[str]:
        """Every stream of the org's log: its own, its projects' (deleted ones too) and
        their environments' `env:` and `reads:` streams (deleted ones too)."""
        places, _ = await self._org_places(org_id)
        return list(places)

    async def _org_places(self, org_id: str) -> tuple[dict[str, Place], Tokens]:
        places: dict[str, Place] = {org_stream(org_id): Place(org_id)}
        tokens = Tokens([])
        for project in await self._store.select(OrgProjectRow, "org_id", org_id):
            project_id = project.project_id
            project_events = await self._store.read_stream(project_stream(project_id))
            tokens.learn(project_events)
            places[project_stream(project_id)] = Place(org_id, project_id)
            for recorded in project_events:
                if isinstance(recorded.event, EnvironmentCreated):
                    env_id = recorded.event.environment_id
                    place = Place(org_id, project_id, env_id)
                    places[environment_stream(env_id)] = places[reads_stream(env_id)] = place
        return places, tokens

    def _filter(self, secret: str | None, actor: str | None) -> _Filter:
        checked = None if secret is None else secret_name(secret, "secret")
        return _Filter(self._store, checked, actor)

    async def _page(
        self,
        streams: Sequence[str],
        before: int | None,
        limit: int,
        keep: _Filter,
    ) -> list[RecordedEvent]:
        """Up to limit + 1 events of `streams` that `keep` accepts, newest first (the extra
        one tells whether an older page exists). The actor filter is the store's; only the
        secret filter makes this read more than one batch."""
        wanted = limit + 1
        batch = wanted if keep.secret is None else max(wanted, FILTER_BATCH)
        found: list[RecordedEvent] = []
        cursor = before
        while True:
            events = await self._store.read_streams_backward(
                streams, before=cursor, limit=batch, actor_id=keep.actor
            )
            await keep.prepare(events)
            found.extend(e for e in events if keep(e))
            if len(found) >= wanted or len(events) < batch:
                return found[:wanted]
            cursor = events[-1].position

    async def _answer(
        self,
        events: list[RecordedEvent],
        places: dict[str, Place],
        limit: int,
        tokens: Tokens,
    ) -> AuditPage:
        page = events[:limit]
        next_before = page[-1].position if len(events) > limit else None
        names = Names(self._store, tokens)
        memberships = await self._memberships(page, places)
        entries = []
        for recorded in page:
            place = places.get(recorded.stream) or Place("")
            entries.append(await entry(recorded, place, names, memberships))
        return AuditPage(entries, next_before)

    async def _memberships(
        self, page: list[RecordedEvent], places: dict[str, Place]
    ) -> dict[str, str]:
        """Membership id -> user id, from the org stream, only when the page needs it
        (role changes and removals name the membership, not the user)."""
        orgs = {
            places[e.stream].org_id
            for e in page
            if isinstance(e.event, MemberRoleChanged | MemberRemoved) and e.stream in places
        }
        found: dict[str, str] = {}
        for org_id in orgs:
            for recorded in await self._store.read_stream(org_stream(org_id)):
                if isinstance(recorded.event, MemberAdded):
                    found[recorded.event.membership_id] = recorded.event.user_id
        return found


def _merge(
    found: list[RecordedEvent], extras: list[RecordedEvent], limit: int
) -> list[RecordedEvent]:
    """Newest first, at most limit + 1: `found` holds the newest limit + 1 of its streams,
    `extras` every candidate of the others, so the union's newest limit + 1 are exact."""
    merged = sorted([*found, *extras], key=lambda e: e.position, reverse=True)
    return merged[: limit + 1]


def _concerns(event: Event, environment_id: str, scopes: dict[str, str | None]) -> bool:
    """Whether a project-stream event is about this environment."""
    if isinstance(event, EnvironmentCreated | EnvironmentRenamed | EnvironmentDeleted):
        return event.environment_id == environment_id
    if isinstance(event, TokenCreated):
        return event.environment_id == environment_id
    if isinstance(event, TokenRevoked):
        return scopes.get(event.token_id) == environment_id
    return False
