"""Everything a request handler may use, wired once by the composition root (server.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sigillo.services.access import AccessService
from sigillo.services.accounts import AccountService
from sigillo.services.audit import AuditService
from sigillo.services.catalog import CatalogService
from sigillo.services.device import DeviceService
from sigillo.services.health import HealthService
from sigillo.services.past_values import PastValues
from sigillo.services.ports import EventStore
from sigillo.services.secrets import SecretsService

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    store: EventStore
    accounts: AccountService
    access: AccessService
    catalog: CatalogService
    secrets: SecretsService
    audit: AuditService
    past_values: PastValues  # the event log's reveals of historical values
    health: HealthService
    device: DeviceService
    refresh_keys: Callable[[], Awaitable[None]]  # load data keys made by other servers
    close: Callable[[], Awaitable[None]]
