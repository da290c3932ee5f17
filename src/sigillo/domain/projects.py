"""A project and its environments: one aggregate, one stream.

Slugs are unique within a project, so the project stream is where that rule is decided
(optimistic concurrency on the stream makes two concurrent creations of one slug
impossible). Every new project gets Dev/dev, Preview/preview and Prod/prod, in that order.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from sigillo.domain.errors import Conflict, InvalidInput, NotFound
from sigillo.domain.events import (
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentRenamed,
    Event,
    ProjectCreated,
    ProjectDeleted,
    ProjectRenamed,
    TokenCreated,
    TokenRevoked,
)
from sigillo.domain.values import display_name, slug

__all__ = [
    "DEFAULT_ENVIRONMENTS",
    "SLUG_TAKEN",
    "Command",
    "CreateEnvironment",
    "CreateProject",
    "CreateToken",
    "DeleteEnvironment",
    "DeleteProject",
    "EnvironmentState",
    "ProjectState",
    "RenameEnvironment",
    "RenameProject",
    "RevokeToken",
    "TokenState",
    "decide",
    "evolve",
    "replay",
]

DEFAULT_ENVIRONMENTS: tuple[tuple[str, str], ...] = (
    ("Dev", "dev"),
    ("Preview", "preview"),
    ("Prod", "prod"),
)
SLUG_TAKEN = "an environment with this slug already exists in this project"


class EnvironmentState(msgspec.Struct, frozen=True):
    name: str
    slug: str


class TokenState(msgspec.Struct, frozen=True):
    environment_id: str | None
    revoked: bool = False


class ProjectState(msgspec.Struct, frozen=True):
    project_id: str = ""
    exists: bool = False
    deleted: bool = False
    name: str = ""
    environments: dict[str, EnvironmentState] = msgspec.field(default_factory=dict)
    tokens: dict[str, TokenState] = msgspec.field(default_factory=dict)


class CreateProject(msgspec.Struct, frozen=True):
    project_id: str
    org_id: str
    name: str


class RenameProject(msgspec.Struct, frozen=True):
    name: str


class DeleteProject(msgspec.Struct, frozen=True):
    pass


class CreateEnvironment(msgspec.Struct, frozen=True):
    name: str
    slug: str


class RenameEnvironment(msgspec.Struct, frozen=True):
    environment_id: str
    name: str | None = None
    slug: str | None = None


class DeleteEnvironment(msgspec.Struct, frozen=True):
    environment_id: str


class CreateToken(msgspec.Struct, frozen=True):
    """The key is made outside (crypto); the domain sees its hash and display prefix."""

    token_id: str
    name: str
    prefix: str
    token_hash: str
    access: str = "read"
    environment_id: str | None = None
    expires_at: int | None = None


class RevokeToken(msgspec.Struct, frozen=True):
    token_id: str


Command = (
    CreateProject
    | RenameProject
    | DeleteProject
    | CreateEnvironment
    | RenameEnvironment
    | DeleteEnvironment
    | CreateToken
    | RevokeToken
)


def evolve(state: ProjectState, event: Event) -> ProjectState:
    if isinstance(event, ProjectCreated):
        return msgspec.structs.replace(
            state, project_id=event.project_id, exists=True, name=event.name
        )
    if isinstance(event, ProjectRenamed):
        return msgspec.structs.replace(state, name=event.name)
    if isinstance(event, ProjectDeleted):
        return msgspec.structs.replace(state, deleted=True, environments={})
    if isinstance(event, EnvironmentCreated | EnvironmentRenamed):
        return msgspec.structs.replace(
            state,
            environments={
                **state.environments,
                event.environment_id: EnvironmentState(event.name, event.slug),
            },
        )
    if isinstance(event, EnvironmentDeleted):
        remaining = dict(state.environments)
        remaining.pop(event.environment_id, None)
        return msgspec.structs.replace(state, environments=remaining)
    if isinstance(event, TokenCreated):
        token = TokenState(event.environment_id)
        return msgspec.structs.replace(state, tokens={**state.tokens, event.token_id: token})
    if isinstance(event, TokenRevoked):
        revoked = msgspec.structs.replace(state.tokens[event.token_id], revoked=True)
        return msgspec.structs.replace(state, tokens={**state.tokens, event.token_id: revoked})
    return state


def replay(events: list[Event]) -> ProjectState:
    state = ProjectState()
    for event in events:
        state = evolve(state, event)
    return state


def decide(
    state: ProjectState, command: Command, *, now: int, new_id: Callable[[], str]
) -> list[Event]:
    if isinstance(command, CreateProject):
        if state.exists:
            raise Conflict("project already exists")
        project = ProjectCreated(command.project_id, command.org_id, display_name(command.name))
        return [
            project,
            *(
                EnvironmentCreated(new_id(), command.project_id, env_name, env_slug)
                for env_name, env_slug in DEFAULT_ENVIRONMENTS
            ),
        ]
    if not state.exists or state.deleted:
        raise NotFound("project")
    project_id = state.project_id
    if isinstance(command, RenameProject):
        return [ProjectRenamed(project_id, display_name(command.name))]
    if isinstance(command, DeleteProject):
        return [ProjectDeleted(project_id)]
    if isinstance(command, CreateEnvironment):
        name, new_slug = display_name(command.name), slug(command.slug)
        if _slug_taken(state, new_slug):
            raise Conflict(SLUG_TAKEN)
        return [EnvironmentCreated(new_id(), project_id, name, new_slug)]
    if isinstance(command, CreateToken):
        return [_create_token(state, command, now=now)]
    if isinstance(command, RevokeToken):
        token = state.tokens.get(command.token_id)
        if token is None:
            raise NotFound("token")
        return [] if token.revoked else [TokenRevoked(project_id, command.token_id)]
    if command.environment_id not in state.environments:
        raise NotFound("environment")
    if isinstance(command, DeleteEnvironment):
        # Tokens scoped to the environment are revoked, never widened to the project [D2].
        return [
            EnvironmentDeleted(command.environment_id),
            *(
                TokenRevoked(project_id, token_id, "environment deleted")
                for token_id, token in state.tokens.items()
                if token.environment_id == command.environment_id and not token.revoked
            ),
        ]
    return [_rename_environment(state, command)]


def _create_token(state: ProjectState, command: CreateToken, *, now: int) -> TokenCreated:
    if command.token_id in state.tokens:
        raise Conflict("token already exists")
    if command.access not in ("read", "read-write"):
        raise InvalidInput("access", "must be read or read-write")
    if command.environment_id is not None and command.environment_id not in state.environments:
        raise InvalidInput("environmentId", "Environment not found in this project")
    if command.expires_at is not None and command.expires_at <= now:
        raise InvalidInput("expiresAt", "must be in the future")
    return TokenCreated(
        project_id=state.project_id,
        token_id=command.token_id,
        name=display_name(command.name),
        prefix=command.prefix,
        token_hash=command.token_hash,
        access="read-write" if command.access == "read-write" else "read",
        environment_id=command.environment_id,
        expires_at=command.expires_at,
    )


def _rename_environment(state: ProjectState, command: RenameEnvironment) -> EnvironmentRenamed:
    if command.name is None and command.slug is None:
        raise InvalidInput("body", "at least one of name or slug required")
    current = state.environments[command.environment_id]
    name = current.name if command.name is None else display_name(command.name)
    new_slug = current.slug if command.slug is None else slug(command.slug)
    if new_slug != current.slug and _slug_taken(state, new_slug):
        raise Conflict(SLUG_TAKEN)
    return EnvironmentRenamed(command.environment_id, name, new_slug)


def _slug_taken(state: ProjectState, candidate: str) -> bool:
    return any(env.slug == candidate for env in state.environments.values())
