"""The six secrets routes of behaviour.md 6.7, for sessions and API tokens alike. Which
environment a request means (6.2), and the query parameters of reads, are
api/environment_access.py's.

Values only leave in the answers of GET one and download; both record a read first [D16]
and are sent `Cache-Control: no-store`. With the session cookie, both answer only this
site's own pages (sigillo.http.origin.refuse_cross_site_reads): a link or a navigation
from another site is a 403 before anything is read or recorded. Listing decrypts nothing
and records nothing. `…/secrets/download` is a literal route and wins over
`…/secrets/{name}` for GET; a secret named `download` is still deleted by DELETE
`…/secrets/download` (section 16).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from sigillo.api.auth import Principal
from sigillo.api.environment_access import (
    NO_STORE,
    NOT_FOUND,
    At,
    DownloadHow,
    Purpose,
    Raw,
    environment_for,
    moment_of,
    read_scope,
)
from sigillo.api.environments import PathId
from sigillo.api.secret_bodies import (
    ChangeKinds,
    KindChange,
    KindsChanged,
    SecretDeleted,
    SecretItem,
    SecretList,
    SecretRead,
    SecretSet,
    SecretsSet,
    SetSecret,
    SetSecrets,
)
from sigillo.domain.errors import InvalidInput, NotFound
from sigillo.domain.events import SecretKind, SecretKindChanged
from sigillo.domain.formats import DOWNLOAD_FORMATS, WITH_KINDS, render, render_with_kinds
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.domain.values import secret_name
from sigillo.http.origin import refuse_cross_site_reads
from sigillo.services.container import Services
from sigillo.services.reference_kinds import effective_kinds

__all__ = [
    "ROUTES",
    "SecretsController",
    "download_from",
    "list_secrets_of",
    "set_secret_in",
    "set_secrets_in",
]


def _item(row: CurrentSecretRow, empty: frozenset[str], kind: SecretKind) -> SecretItem:
    return SecretItem(
        row.secret_id, row.name, row.created_at, row.updated_at, row.name in empty, kind
    )


async def _delete(
    services: Services, principal: Principal, project_id: str, environment_id: str, name: str
) -> SecretDeleted:
    checked = secret_name(name)
    environment = await environment_for(services, principal, project_id, environment_id, write=True)
    await services.secrets.delete(environment.id, [checked], principal.actor)
    return SecretDeleted(name=checked)


# What the v0 routes and the seed's `/api/environments/{id}/secrets` routes both do; the
# handlers only say where the environment comes from (`project_id` None: by id alone).


async def list_secrets_of(
    services: Services,
    principal: Principal,
    project_id: str | None,
    ref: str,
    at: str | None = None,
) -> SecretList:
    moment = moment_of(at)
    environment = await environment_for(services, principal, project_id, ref, write=False)
    if moment is None:
        rows = await services.secrets.current(environment.id)
        all_names = await services.secrets.all_names(environment.project_id)
    else:
        past = await services.secrets.at(environment, moment)
        rows = past.live()
        all_names = await services.secrets.all_names_at(environment.project_id, moment, past)
    empty = services.secrets.empty_names(rows)
    # a plain value holding a secret through a reference is listed as the secret it reads as
    kinds = {row.name: row.kind for row in rows}
    if moment is None:
        kinds = await effective_kinds(
            services.references, services.secrets, environment, rows, read_scope(principal)
        )
    items = [_item(row, empty, kinds[row.name]) for row in rows]
    return SecretList(environment.id, items, all_names)


async def set_secret_in(
    services: Services, principal: Principal, project_id: str | None, ref: str, data: SetSecret
) -> SecretSet:
    environment = await environment_for(services, principal, project_id, ref, write=True)
    kinds = {data.name: data.kind} if data.kind else None
    [event, *_] = await services.secrets.set(
        environment.id, {data.name: data.value}, principal.actor, kinds
    )
    return SecretSet(environment_id=environment.id, id=event.event_id, name=data.name)


async def set_secrets_in(
    services: Services, principal: Principal, project_id: str | None, ref: str, data: SetSecrets
) -> SecretsSet:
    environment = await environment_for(services, principal, project_id, ref, write=True)
    if data.secrets:
        await services.secrets.set(environment.id, data.values(), principal.actor, data.kinds())
    return SecretsSet(environment_id=environment.id, secrets=list(data.secrets))


async def download_from(
    services: Services,
    principal: Principal,
    project_id: str | None,
    ref: str,
    format: str,
    at: str | None = None,
    purpose: DownloadHow = "download",
) -> Response[bytes]:
    if format not in DOWNLOAD_FORMATS:
        raise InvalidInput("format", "must be one of " + ", ".join(DOWNLOAD_FORMATS))
    moment = moment_of(at)
    environment = await environment_for(services, principal, project_id, ref, write=False)
    past = None if moment is None else await services.secrets.at(environment, moment)
    if format == "dotnet-json":
        names = past.live() if past else await services.secrets.current(environment.id)
        render(format, [(row.name, "") for row in names])
    if moment is not None and past is not None:
        revealed = await services.secrets.reveal_past(past, moment, None, principal.actor, purpose)
    else:
        revealed = await services.secrets.reveal(environment.id, None, principal.actor, purpose)
    scope = read_scope(principal)
    resolved = await services.references.resolve(environment, revealed, scope, purpose, moment)
    if format == WITH_KINDS:
        rendered = render_with_kinds(
            [(r.row.name, r.value, r.kind) for r in resolved],
            {r.row.name: r.parts for r in resolved if r.parts},
        )
    else:
        rendered = render(format, [(r.row.name, r.value) for r in resolved])
    return Response(
        rendered.body,
        headers={**NO_STORE, "Content-Type": rendered.content_type},
        status_code=200,
    )


class SecretsController(Controller):
    path = "/api/v0/projects/{project_id:str}/environments/{environment_id:str}/secrets"
    tags = ["secrets"]

    @get("/", operation_id="listSecrets", summary="List an environment's secrets (no values)")
    async def list_secrets(
        self,
        project_id: PathId,
        environment_id: PathId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        at: At = None,
    ) -> SecretList:
        """Live secrets in replay order, without values, and `allNames`: the sorted names
        live anywhere in the environment's own project. Records no read. With `at`, all of
        it as it was then."""
        return await list_secrets_of(services, principal, project_id, environment_id, at)

    @post(
        "/",
        operation_id="setSecret",
        summary="Set one secret (appends a set event)",
        status_code=200,
    )
    async def set_secret(
        self,
        project_id: PathId,
        environment_id: PathId,
        data: JSONBody[SetSecret],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> SecretSet:
        return await set_secret_in(services, principal, project_id, environment_id, data)

    @put("/", operation_id="setSecrets", summary="Set several secrets at once (all or nothing)")
    async def set_secrets(
        self,
        project_id: PathId,
        environment_id: PathId,
        data: JSONBody[SetSecrets],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> SecretsSet:
        """One set event per entry, in the body's order, in one transaction; `{}` is a
        no-op that succeeds with an empty list [D12]."""
        return await set_secrets_in(services, principal, project_id, environment_id, data)

    @get(
        "/download",
        operation_id="downloadSecrets",
        summary="Every live value, rendered in a download format",
        guards=[refuse_cross_site_reads],
        opt={"download": True},
    )
    async def download(
        self,
        project_id: PathId,
        environment_id: PathId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        format: Annotated[str, QueryParameter()] = "json",
        at: At = None,
        purpose: Purpose = "download",
    ) -> Response[bytes]:
        """`format` is one of json (default), env, env-no-quotes, xargs, yaml, docker,
        dotnet-json, shell, json-kinds (else 422); json-kinds is Sigillo's, what `sigillo run`
        reads: `{"NAME": {"value": "…", "kind": "secret"}}`. Records one read [D16], as
        `purpose` says. A format that cannot
        render these names (a dotnet-json conflict, 400) is refused before anything is
        decrypted or recorded: the conflict depends on the names alone."""
        return await download_from(
            services, principal, project_id, environment_id, format, at, purpose
        )

    @get(
        "/{name:str}",
        operation_id="getSecret",
        summary="Read one secret's value",
        guards=[refuse_cross_site_reads],
    )
    async def get_secret(
        self,
        project_id: PathId,
        environment_id: PathId,
        name: PathId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        at: At = None,
        raw: Raw = False,
    ) -> Response[SecretRead]:
        """The live value, or 404 `not found`; records a `get` read [D16] first. With
        `at`, the value live then (404 `not found` if the name was not live then). Its
        references (`${…}`) are resolved, each read recorded too, unless `raw`."""
        checked = secret_name(name)
        moment = moment_of(at)
        environment = await environment_for(
            services, principal, project_id, environment_id, write=False
        )
        past = None if moment is None else await services.secrets.at(environment, moment)
        try:
            if moment is not None and past is not None:
                revealed = await services.secrets.reveal_past(
                    past, moment, [checked], principal.actor, "get"
                )
            else:
                revealed = await services.secrets.reveal(
                    environment.id, [checked], principal.actor, "get"
                )
        except NotFound:
            raise NotFoundException(NOT_FOUND) from None
        [(row, value)] = revealed
        kind = row.kind
        if not raw:  # a value holding a secret through a reference is a secret
            scope = read_scope(principal)
            [found] = await services.references.resolve(environment, revealed, scope, "get", moment)
            value, kind = found.value, found.kind
        body = SecretRead(
            row.secret_id, row.name, value, environment.id, row.created_at, row.updated_at, kind
        )
        return Response(body, headers=NO_STORE, status_code=200)

    @delete(
        "/{name:str}",
        operation_id="deleteSecret",
        summary="Delete one live secret (404 when the name is not live)",
        status_code=200,
    )
    async def delete_secret(
        self,
        project_id: PathId,
        environment_id: PathId,
        name: PathId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> SecretDeleted:
        """404 `secret NAME not found` when the name is not live: nothing is appended."""
        return await _delete(services, principal, project_id, environment_id, name)

    @delete(
        "/download",
        operation_id="deleteSecretNamedDownload",
        summary="Delete the secret named `download`",
        status_code=200,
    )
    async def delete_download(
        self,
        project_id: PathId,
        environment_id: PathId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> SecretDeleted:
        """The literal `download` segment shadows `{name}` (section 16), for every method;
        without this handler DELETE …/secrets/download would be a 405."""
        return await _delete(services, principal, project_id, environment_id, "download")


class SecretKindsController(Controller):
    """Kinds live beside the secrets' own routes: a literal segment under `…/secrets` would
    shadow a secret of that name (section 16)."""

    path = "/api/v0/projects/{project_id:str}/environments/{environment_id:str}/secret-kinds"
    tags = ["secrets"]

    @patch(
        "/",
        operation_id="changeSecretKinds",
        summary="Mark live secrets as secret or plain (values untouched)",
    )
    async def change_kinds(
        self,
        project_id: PathId,
        environment_id: PathId,
        data: JSONBody[ChangeKinds],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> KindsChanged:
        """[D18] Appends one `secret.kind_changed` event per name whose kind changes, all in
        one transaction; a name that already has its kind is left as it is. Needs write
        access; a name that is not live here is 404 and nothing changes. No value is read."""
        environment = await environment_for(
            services, principal, project_id, environment_id, write=True
        )
        recorded = await services.secrets.change_kinds(environment.id, data.kinds, principal.actor)
        changed = [
            KindChange(event.name, event.kind, event.previous)
            for event in (r.event for r in recorded)
            if isinstance(event, SecretKindChanged)
        ]
        return KindsChanged(ok=True, environment_id=environment.id, changed=changed)


ROUTES: list[ControllerRouterHandler] = [
    SecretsController,
    SecretKindsController,
]
