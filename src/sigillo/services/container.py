"""Everything a request handler may use, wired once by the composition root (server.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sigillo.services.access import AccessService
from sigillo.services.accounts import AccountService
from sigillo.services.audit import AuditService
from sigillo.services.catalog import CatalogService
from sigillo.services.device import DeviceService
from sigillo.services.diff import DiffService
from sigillo.services.health import HealthService
from sigillo.services.log_chain import ChainReport
from sigillo.services.past_values import PastValues
from sigillo.services.ports import EventStore
from sigillo.services.references import ReferenceResolver
from sigillo.services.rollback import RollbackService
from sigillo.services.secret_history import SecretHistoryService
from sigillo.services.secrets import SecretsService
from sigillo.services.sign_ins import SignIns
from sigillo.services.sso import SsoService
from sigillo.services.two_factor import TwoFactorService
from sigillo.services.watch import ChangeFeed

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    store: EventStore
    accounts: AccountService
    sign_ins: SignIns  # after the first factor: the session, or a second step (issue 20)
    two_factor: TwoFactorService  # TOTP and recovery codes (issue 20)
    sso: SsoService  # single sign-on through OpenID Connect providers (issue 20)
    access: AccessService
    catalog: CatalogService
    secrets: SecretsService
    references: ReferenceResolver  # `${…}` in values, resolved at read time (issue 18)
    audit: AuditService
    past_values: PastValues  # the event log's reveals of historical values
    history: SecretHistoryService  # one secret's changes (issue 17)
    diff: DiffService  # two environments, or two moments, compared
    rollback: RollbackService  # back to a moment, by appending
    health: HealthService
    device: DeviceService
    watch: ChangeFeed  # long polls of stream versions (issue 18: `sigillo run --watch`)
    refresh_keys: Callable[[], Awaitable[None]]  # load data keys made by other servers
    close: Callable[[], Awaitable[None]]
    # the tamper-evident chain of some streams (store.log_verify); None: not chained here
    verify_streams: Callable[[list[str]], Awaitable[ChainReport]] | None = None
