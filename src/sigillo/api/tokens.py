"""API token management (behaviour.md 6.8, [D15]): create, list and revoke a project's tokens.

Sessions only: an API token cannot manage tokens (401). Members may list; only admins
create and revoke ([D3], decided point 2); the access service enforces both. The key is
answered once, at creation, and never again: lists carry neither the key nor its hash.

`prefix` is the stored display prefix, the 12 hex characters after `sig_` (behaviour.md
5.2), in the create answer and in lists alike: a client shows it as `sig_<prefix>••••`
and can match it against a key it holds (`key.startswith("sig_" + prefix)`). The bullets
are presentation, left to the dashboard and the CLI.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environments import PathId
from sigillo.domain.errors import InvalidInput
from sigillo.domain.projections.rows import ApiTokenRow
from sigillo.services.container import Services

__all__ = ["ROUTES", "TokensController"]

ENVIRONMENT_NOT_IN_PROJECT = "Environment not found in this project"
# Epoch milliseconds up to the last of year 9999: any later number (2^63 and beyond would not
# fit the database's 64-bit column) is refused as bad input, never a 500.
MAX_EXPIRES_AT = 253_402_300_799_999
ExpiresAt = Annotated[int, msgspec.Meta(ge=0, le=MAX_EXPIRES_AT)]


class CreateToken(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str
    environment_id: str | None = None  # id or slug of one of the project's environments
    access: Literal["read", "read-write"] = "read"
    expires_at: ExpiresAt | None = None  # epoch milliseconds, in the future


Access = Literal["read", "read-write"]


class TokenItem(msgspec.Struct, frozen=True, rename="camel"):
    """A token as lists show it: never its key or hash."""

    id: str
    name: str
    prefix: str
    environment_id: str | None
    access: Access
    expires_at: int | None
    created_at: int
    created_by: str
    revoked_at: int | None


class TokenList(msgspec.Struct, frozen=True):
    tokens: list[TokenItem]


class TokenCreated(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The one answer that holds the key."""

    ok: bool = True
    id: str
    key: str
    prefix: str
    name: str
    project_id: str
    environment_id: str | None
    access: Access
    expires_at: int | None
    created_at: int

    def __repr__(self) -> str:  # never the key
        return f"TokenCreated(id={self.id!r}, <key hidden>)"


class TokenRevoked(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool = True
    id: str


def _access(token: ApiTokenRow) -> Access:
    return "read-write" if token.access == "read-write" else "read"


def _listed(token: ApiTokenRow) -> TokenItem:
    return TokenItem(
        token.id, token.name, token.prefix, token.environment_id, _access(token),
        token.expires_at, token.created_at, token.created_by, token.revoked_at,
    )  # fmt: skip


class TokensController(Controller):
    path = "/api/v0/projects/{project_id:str}/tokens"
    tags = ["tokens"]

    @post(
        "/",
        operation_id="createToken",
        summary="Create an API token (admins); the key is shown once",
        status_code=200,
    )
    async def create_token(
        self,
        project_id: PathId,
        data: JSONBody[CreateToken],
        services: NamedDependency[Services],
        session_principal: NamedDependency[Principal],
    ) -> Response[TokenCreated]:
        """`environmentId` (id or slug) scopes the token to one environment of the project;
        absent or null means every environment. `access` is `read` unless `read-write`."""
        actor = session_principal.actor
        await services.access.project_for(project_id, actor, admin=True)
        environment_id = None
        if data.environment_id is not None:
            environment = await services.catalog.find_environment(project_id, data.environment_id)
            if environment is None or environment.project_id != project_id:
                raise InvalidInput("environmentId", ENVIRONMENT_NOT_IN_PROJECT)
            environment_id = environment.id
        token, key = await services.access.create_token(
            project_id,
            actor,
            name=data.name,
            access=data.access,
            environment_id=environment_id,
            expires_at=data.expires_at,
        )
        body = TokenCreated(
            id=token.id,
            key=key,
            prefix=token.prefix,
            name=token.name,
            project_id=token.project_id,
            environment_id=token.environment_id,
            access=_access(token),
            expires_at=token.expires_at,
            created_at=token.created_at,
        )
        return Response(body, status_code=200, headers={"Cache-Control": "no-store"})

    @get("/", operation_id="listTokens", summary="List a project's API tokens, newest first")
    async def list_tokens(
        self,
        project_id: PathId,
        services: NamedDependency[Services],
        session_principal: NamedDependency[Principal],
    ) -> TokenList:
        """Revoked tokens stay listed with `revokedAt` [D1]; no key, no hash."""
        tokens = await services.access.tokens(project_id, session_principal.actor)
        return TokenList([_listed(token) for token in tokens])

    @delete(
        "/{token_id:str}",
        operation_id="revokeToken",
        summary="Revoke an API token (admins); its record and events are kept",
        status_code=200,
    )
    async def revoke_token(
        self,
        project_id: PathId,
        token_id: PathId,
        services: NamedDependency[Services],
        session_principal: NamedDependency[Principal],
    ) -> TokenRevoked:
        """Revoking an already revoked token succeeds again."""
        await services.access.revoke_token(project_id, token_id, session_principal.actor)
        return TokenRevoked(id=token_id)


ROUTES: list[ControllerRouterHandler] = [TokensController]
