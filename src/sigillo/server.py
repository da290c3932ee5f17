"""The composition root: settings in, a wired application out. Nothing happens at import.

`open_services(settings)` reads the configured key, opens the database, migrates it and
checks the key against it (making a key only for a database that has none), then wires
adapters into services. `create_app(settings)` builds the Litestar app around them.
`serve(settings)` does the checks before any port is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware

from sigillo import metrics
from sigillo.api.allow import answer_options
from sigillo.api.bodies import JsonDepthLimit
from sigillo.api.errors import EXCEPTION_HANDLERS
from sigillo.api.hosts import WILDCARD_BINDS, AllowedHosts, allowed_hosts
from sigillo.api.openapi import document_errors, openapi_config
from sigillo.api.ratelimit import RateLimits, rate_limited
from sigillo.api.routes import DEPENDENCIES, ROUTES
from sigillo.audit_sink import open_audit_sink
from sigillo.crypto import tokens
from sigillo.crypto.chain import chain_of
from sigillo.crypto.credentials import Argon2Passwords, TokenCredentials
from sigillo.crypto.envelope import Envelope
from sigillo.crypto.keys import KeySources
from sigillo.domain.errors import StartupError, StorageUnavailable
from sigillo.http.media import json_bodies_only
from sigillo.http.request_log import RequestLog
from sigillo.http.sign_in_scope import SignInScope
from sigillo.services.access import AccessService
from sigillo.services.accounts import AccountService
from sigillo.services.audit import AuditService
from sigillo.services.catalog import CatalogService
from sigillo.services.container import Services
from sigillo.services.data_keys import REFRESH_EVERY, open_data_keys, refresh_data_keys
from sigillo.services.device import DeviceService
from sigillo.services.diff import DiffService
from sigillo.services.hashing import stop_workers
from sigillo.services.health import HealthService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.keys import open_keys
from sigillo.services.oidc import OidcClient
from sigillo.services.past_values import PastValues
from sigillo.services.ports import PasswordHasher
from sigillo.services.references import ReferenceResolver
from sigillo.services.rollback import RollbackService
from sigillo.services.secret_history import SecretHistoryService
from sigillo.services.secrets import SecretsService
from sigillo.services.sign_ins import SignIns
from sigillo.services.sso import SsoService
from sigillo.services.time_travel import TimeTravel
from sigillo.services.two_factor import TwoFactorService
from sigillo.services.watch import ChangeFeed
from sigillo.services.writing import Writer
from sigillo.settings import Settings
from sigillo.store.accounts import SqlAccountStore
from sigillo.store.data_keys import SqlDataKeys
from sigillo.store.database import open_database, wait_for_database
from sigillo.store.device_codes import SqlDeviceCodeStore
from sigillo.store.event_store import SqlEventStore
from sigillo.store.key_registry import SqlKeyRegistry
from sigillo.store.log_chain import begin_chain
from sigillo.store.migrate import migrate
from sigillo.store.reference_start import begin_references
from sigillo.store.sign_in_challenges import SqlChallengeStore
from sigillo.store.snapshots import SqlSnapshots
from sigillo.store.sso import SqlSsoStore
from sigillo.store.stream_verify import verify_streams
from sigillo.store.two_factor import SqlTwoFactorStore
from sigillo.web.api_docs import ApiDocsPage
from sigillo.web.routes import WEB_ROUTES, template_config

__all__ = ["MAX_BODY_BYTES", "bind", "create_app", "open_services", "serve"]

# Room for a bulk set of a hundred 64 KiB values, JSON-escaped; anything larger is a 413.
# Dashboard forms have a far smaller cap of their own (sigillo.http.forms).
MAX_BODY_BYTES = 16 * 1024 * 1024


async def open_services(settings: Settings, *, passwords: PasswordHasher | None = None) -> Services:
    """The services over the configured database and keys. `passwords` is Argon2id
    (crypto/passwords.py) unless given: tests give Argon2id that hashes each password once
    (tests/passwords.py)."""
    keys = KeySources(settings)  # checks the configured key; writes nothing
    database = await open_database(
        settings.database_url, operation_timeout=settings.database_timeout
    )
    metrics.watch_database(database)  # its pool, read only when metrics are scraped
    try:
        await migrate(settings.database_url)
        clock, ids = Clock(), UlidFactory()
        # A key file is created only for a database with no key yet (services.keys).
        registry = SqlKeyRegistry(database)
        cipher = Envelope(await open_keys(registry, keys, clock.now()))
        # Values are sealed with data keys wrapped by the master key (services.data_keys).
        data_keys = SqlDataKeys(database)
        await open_data_keys(data_keys, registry, cipher, clock.now(), resume=True)
        # The tamper-evident log (store.log_chain): its key, and where the chain starts.
        seals = chain_of(await data_keys.wrapped_keys(), cipher.chain_key)
        await begin_chain(database, seals)
        since = await begin_references(database, clock.now())  # older values stay literal
        sink = open_audit_sink(settings.audit_sink)  # every committed event, as a JSON line
    except BaseException:
        await database.close()
        raise
    store = SqlEventStore(database, seals)
    writer = Writer(store, clock, ids, sink)
    feed = ChangeFeed(store)  # its poller runs while requests wait (services.watch)

    oidc = OidcClient()  # the HTTP client of single sign-on, with its caches

    async def close() -> None:
        feed.close()
        try:
            await oidc.close()
            await database.close()
        finally:
            if sink is not None:
                sink.close()

    past = TimeTravel(store, SqlSnapshots(database))  # one memory of the snapshots kept
    access = AccessService(store, writer, TokenCredentials())
    catalog = CatalogService(store, writer)
    secrets = SecretsService(store, cipher, writer, past)
    accounts = AccountService(
        store,
        SqlAccountStore(database),
        writer,
        passwords or Argon2Passwords(),
        TokenCredentials(),
    )
    two_factor = TwoFactorService(SqlTwoFactorStore(database), cipher, accounts, writer)
    sign_ins = SignIns(
        accounts, SqlChallengeStore(database), writer, TokenCredentials(), two_factor
    )
    services = Services(
        store=store,
        accounts=accounts,
        sign_ins=sign_ins,
        two_factor=two_factor,
        sso=SsoService(
            settings.oidc_providers,
            oidc,
            SqlSsoStore(database),
            store,
            accounts,
            SqlChallengeStore(database),
            writer,
            public_url=settings.public_url,
            allow_signup=settings.allow_signup,
        ),
        access=access,
        catalog=catalog,
        secrets=secrets,
        references=ReferenceResolver(store, secrets, catalog, access, since),
        audit=AuditService(store),
        past_values=PastValues(store, cipher, writer),
        history=SecretHistoryService(store, cipher, writer),
        diff=DiffService(store, cipher, writer, past),
        rollback=RollbackService(store, cipher, writer, past, since),
        health=HealthService(database),
        device=DeviceService(
            SqlDeviceCodeStore(database),
            SqlAccountStore(database),
            TokenCredentials(),
            tokens,
            clock,
            ids,
            public_url=settings.public_url,
        ),
        watch=feed,
        refresh_keys=lambda: refresh_data_keys(data_keys, cipher),
        close=close,
        verify_streams=lambda streams: verify_streams(database, seals, streams, newest=10_000),
    )
    await services.access.revoke_admin_links()  # an upgrade step: links admit members only
    return services


def create_app(settings: Settings, *, services: Services | None = None) -> Litestar:
    """The ASGI app. It closes its services at shutdown; given none, it opens them at start-up.
    Given services are usable at once, before any lifespan event (tests rely on it)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if services is None:
            await wait_for_database(settings.database_url, settings.database_startup_timeout)
            app.state.services = await open_services(settings)
        refreshing = asyncio.create_task(_refresh_keys(app.state.services))
        try:
            yield
        finally:
            refreshing.cancel()
            app.state.services.watch.close()  # pending long polls answer now
            await app.state.services.close()

    def provide_services(state: State) -> Services:
        return state.services  # type: ignore[no-any-return]

    def provide_settings(state: State) -> Settings:
        return state.settings  # type: ignore[no-any-return]

    app = Litestar(
        route_handlers=[*ROUTES, *WEB_ROUTES],  # the API, then the dashboard (sigillo.web)
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            **DEPENDENCIES,
        },
        request_max_body_size=MAX_BODY_BYTES,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        # JSON handlers read only `application/json` bodies (415 otherwise).
        guards=[rate_limited, json_bodies_only],
        before_request=answer_options,  # OPTIONS: 204 with every method of the path
        openapi_config=openapi_config(ApiDocsPage()),
        template_config=template_config(settings),
        # how the request's session signed in, for org sign-in policies; the allowed hosts
        # before routing; then the JSON depth limit on what is read
        middleware=[
            SignInScope,
            DefineMiddleware(AllowedHosts, hosts=allowed_hosts(settings)),
            JsonDepthLimit,
        ],
        logging_config=None,  # the process configures logging once (server_commands)
    )
    document_errors(app)
    bind(app, settings, services)
    return app


def bind(app: Litestar, settings: Settings, services: Services | None = None) -> None:
    """Point `app` at these settings and services, with rate limits of its own: its state,
    which handlers, guards and the credential lookup read (sigillo.http.served). Tests
    rebind one app per shape of settings, as building one costs a few hundred ms; the
    settings built into the app itself (allowed hosts, the sign-in page's providers) must
    be the same."""
    app.state.settings = settings
    app.state.rate_limits = RateLimits(settings.trusted_proxies)
    if services is not None:
        app.state.services = services


class _Server(uvicorn.Server):
    """uvicorn's server, which also ends pending long polls (services.watch) as soon as it
    starts shutting down: uvicorn waits for open requests before the lifespan ends."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)


async def _refresh_keys(services: Services) -> None:
    """Load data keys other servers made (a rotation's new key) before they seal with it."""
    while True:
        await asyncio.sleep(REFRESH_EVERY)
        with contextlib.suppress(StorageUnavailable):  # the outage log says it; retried
            await services.refresh_keys()


async def _offer_setup(settings: Settings, services: Services) -> None:
    """While no account exists, log the one-time URL that creates the first one (one line).
    Only the token's hash is stored; each start issues a new token."""
    token = await services.accounts.issue_setup_token()
    if token is not None:
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        origin = settings.public_url or f"http://{host}:{settings.port}"
        logging.getLogger("sigillo.server").warning(
            "no account exists yet: create the first one at %s/setup?token=%s", origin, token
        )


async def serve(settings: Settings) -> None:
    """Check everything, then listen. SIGTERM and SIGINT shut down gracefully."""
    if settings.host in WILDCARD_BINDS and not settings.allowed_hosts:
        raise StartupError(
            f"--host {settings.host or '0.0.0.0'} answers to any host name: set "  # noqa: S104
            "SIGILLO_ALLOWED_HOSTS to the names clients use (or '*' to allow any)"
        )
    metrics_at = metrics.parse_address(settings.metrics_address, settings.port)
    # PostgreSQL may still be starting (or its name not yet resolvable): retry for a while,
    # one log line per failed attempt, then exit saying which host and what failed.
    await wait_for_database(settings.database_url, settings.database_startup_timeout)
    services = await open_services(settings)
    await _offer_setup(settings, services)
    app = create_app(settings, services=services)
    config = uvicorn.Config(
        RequestLog(app),  # one line per request, its id in X-Request-Id
        host=settings.host,
        port=settings.port,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,  # requests in flight end within the database timeout
        log_config=None,
        # Paths can hold credentials (invite links, setup tokens): uvicorn's access log
        # would write them out, so it is off.
        access_log=False,
    )
    listener = metrics.start(*metrics_at) if metrics_at else None  # its own port, off by default
    try:
        await _Server(config, services.watch.close).serve()
    finally:
        if listener is not None:
            listener.close()
        stop_workers()  # the password hashing processes
