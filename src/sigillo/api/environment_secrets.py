"""The seed README's REST examples, served as written: `/api/environments/{envId}/secrets`
(list, set, bulk set, download). The work, credentials, audit and errors are those of the
v0 routes (sigillo.api.secrets); only the path names the environment by id alone."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environment_access import At, Purpose
from sigillo.api.environments import PathId
from sigillo.api.secret_bodies import SecretList, SecretSet, SecretsSet, SetSecret, SetSecrets
from sigillo.api.secrets import (
    download_from,
    list_secrets_of,
    set_secret_in,
    set_secrets_in,
)
from sigillo.http.origin import refuse_cross_site_reads
from sigillo.services.container import Services

__all__ = ["ROUTES", "EnvironmentSecretsController"]

Format = Annotated[str, QueryParameter()]


class EnvironmentSecretsController(Controller):
    """The seed README's REST examples: `/api/environments/{envId}/secrets` list, set, bulk
    set and download. Environment ids are unique, so the id alone says which; the same
    handlers' work, credentials, audit and errors as the v0 routes (API tokens: id or slug in
    the token's project, as there). A session naming an environment outside its orgs gets
    the 404 of an unknown id."""

    path = "/api/environments/{environment_id:str}/secrets"
    tags = ["secrets"]

    @get("/", operation_id="listEnvironmentSecrets", summary="List secrets (no values), by id")
    async def list_secrets(
        self,
        environment_id: PathId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        at: At = None,
    ) -> SecretList:
        return await list_secrets_of(services, principal, None, environment_id, at)

    @post(
        "/", operation_id="setEnvironmentSecret", summary="Set one secret, by id", status_code=200
    )
    async def set_secret(
        self,
        environment_id: PathId,
        data: JSONBody[SetSecret],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> SecretSet:
        return await set_secret_in(services, principal, None, environment_id, data)

    @put("/", operation_id="setEnvironmentSecrets", summary="Set several secrets at once, by id")
    async def set_secrets(
        self,
        environment_id: PathId,
        data: JSONBody[SetSecrets],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> SecretsSet:
        return await set_secrets_in(services, principal, None, environment_id, data)

    @get(
        "/download",
        operation_id="downloadEnvironmentSecrets",
        summary="Every live value in a download format, by id",
        guards=[refuse_cross_site_reads],
        opt={"download": True},
    )
    async def download(
        self,
        environment_id: PathId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        format: Format = "json",
        at: At = None,
        purpose: Purpose = "download",
    ) -> Response[bytes]:
        """As `downloadSecrets`: records one read first (`at`: as it was then; `purpose`:
        its `how`)."""
        return await download_from(services, principal, None, environment_id, format, at, purpose)


ROUTES: list[ControllerRouterHandler] = [EnvironmentSecretsController]
