"""The device flow's service and store on SQLite and PostgreSQL: single-use under races."""

from __future__ import annotations

import asyncio

import pytest

from sigillo.crypto import tokens
from sigillo.crypto.credentials import TokenCredentials
from sigillo.domain.device import DeviceFlowError
from sigillo.services.device import DeviceService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.store.accounts import SqlAccountStore
from sigillo.store.database import Database
from sigillo.store.device_codes import SqlDeviceCodeStore


class SettableClock(Clock):
    def __init__(self) -> None:
        self.at = 1_800_000_000_000

    def now(self) -> int:
        return self.at


def service(database: Database, clock: Clock) -> DeviceService:
    return DeviceService(
        SqlDeviceCodeStore(database),
        SqlAccountStore(database),
        TokenCredentials(),
        tokens,
        clock,
        UlidFactory(clock),
        public_url="https://secrets.example.com/",
    )


@pytest.mark.asyncio
async def test_one_decision_wins_a_race_between_approve_and_deny(database: Database) -> None:
    device = service(database, SettableClock())
    issued = await device.request("sigillo-cli", "", ip_address="192.0.2.1")
    decisions = [
        device.approve(issued.user_code, "a") if i % 2 else device.deny(issued.user_code, "b")
        for i in range(6)
    ]
    results = await asyncio.gather(*decisions, return_exceptions=True)
    refused = [r for r in results if isinstance(r, DeviceFlowError)]
    assert len(refused) == 5
    assert {r.refusal.description for r in refused} == {"Device code already processed"}
    assert [r for r in results if not isinstance(r, DeviceFlowError)] == [None]


@pytest.mark.asyncio
async def test_an_approved_code_makes_one_session(database: Database) -> None:
    clock = SettableClock()
    device = service(database, clock)
    issued = await device.request("sigillo-cli", "", ip_address="192.0.2.1")
    assert device.verification_uri("http://ignored") == "https://secrets.example.com/device"
    await device.approve(issued.user_code.lower().replace("-", ""), "user-1")
    results = await asyncio.gather(
        *(device.exchange(issued.device_code, "sigillo-cli") for _ in range(6)),
        return_exceptions=True,
    )
    tokens_issued = [r for r in results if not isinstance(r, BaseException)]
    assert len(tokens_issued) == 1
    assert all(
        isinstance(r, DeviceFlowError) and r.refusal.error == "invalid_grant"
        for r in results
        if isinstance(r, BaseException)
    )
    rows = await database.fetch("SELECT user_id, ip_address FROM sessions")
    assert rows == [("user-1", "")]
