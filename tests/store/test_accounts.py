"""Local accounts and server-side sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
import pytest_asyncio

from sigillo.crypto.credentials import Argon2Passwords, TokenCredentials
from sigillo.domain.errors import Conflict, InvalidInput, Unauthorized
from sigillo.domain.events import Actor, UserRegistered
from sigillo.domain.projections.rows import UserRow
from sigillo.services.accounts import ABSOLUTE_MS, IDLE_MS, AccountService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.writing import Writer
from sigillo.store.accounts import SqlAccountStore
from sigillo.store.database import Database
from sigillo.store.event_store import SqlEventStore

PASSWORD = "correct horse battery staple"


class SettableClock(Clock):
    def __init__(self) -> None:
        self.at = 1_800_000_000_000

    def now(self) -> int:
        return self.at


@dataclass
class World:
    accounts: AccountService
    store: SqlEventStore
    database: Database
    clock: SettableClock


@pytest_asyncio.fixture
async def world(database: Database) -> World:
    clock = SettableClock()
    store = SqlEventStore(database)
    writer = Writer(store, clock, UlidFactory(clock))
    service = AccountService(
        store, SqlAccountStore(database), writer, Argon2Passwords(), TokenCredentials()
    )
    return World(service, store, database, clock)


@pytest.mark.asyncio
async def test_register_then_sign_in_with_a_bearer_session(world: World) -> None:
    assert not await world.accounts.any_user()
    user = await world.accounts.register("  Ada@Example.COM ", " Ada ", PASSWORD)
    assert (user.email, user.name) == ("ada@example.com", "Ada")
    assert await world.accounts.any_user()
    token, session, signed_in = await world.accounts.sign_in(
        "ada@example.com", PASSWORD, ip_address="127.0.0.1", user_agent="pytest"
    )
    assert signed_in == user
    assert len(token) == 32
    assert not token.startswith("sig_")
    assert (session.user_id, session.ip_address, session.user_agent) == (
        user.id,
        "127.0.0.1",
        "pytest",
    )
    assert await world.accounts.authenticate(token) == (session, user)


@pytest.mark.asyncio
async def test_the_log_audits_the_account_but_never_holds_its_password(world: World) -> None:
    user = await world.accounts.register("ada@example.com", "Ada", PASSWORD)
    [event] = await world.store.read_stream(f"user:{user.id}")
    assert event.event == UserRegistered(user.id, "ada@example.com", "Ada")
    dump = repr(await world.database.fetch("SELECT data FROM events"))
    assert PASSWORD not in dump
    assert "argon2" not in dump
    [(stored,)] = await world.database.fetch("SELECT hash FROM passwords")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.asyncio
async def test_wrong_passwords_and_unknown_emails_get_the_same_answer(world: World) -> None:
    await world.accounts.register("ada@example.com", "Ada", PASSWORD)
    for address, password in [
        ("ada@example.com", "wrong horse battery staple"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
        ("ada@example.com", ""),
    ]:
        with pytest.raises(Unauthorized) as raised:
            await world.accounts.sign_in(address, password)
        assert str(raised.value) == "unauthorized"


@pytest.mark.asyncio
async def test_registration_input_is_validated(world: World) -> None:
    for address, name, password, field in [
        ("not-an-email", "Ada", PASSWORD, "email"),
        ("a@b@example.com", "Ada", PASSWORD, "email"),
        ("ada@example.com", "", PASSWORD, "name"),
        ("ada@example.com", "Ada", "short", "password"),
        ("ada@example.com", "Ada", "x" * 1025, "password"),
    ]:
        with pytest.raises(InvalidInput) as raised:
            await world.accounts.register(address, name, password)
        assert raised.value.field == field
        assert password not in str(raised.value) or password == ""
    assert not await world.accounts.any_user()


@pytest.mark.asyncio
async def test_an_email_has_one_account_even_when_sign_ups_race(world: World) -> None:
    outcomes = await asyncio.gather(
        *(world.accounts.register("Ada@example.com", f"Ada {i}", PASSWORD) for i in range(5)),
        return_exceptions=True,
    )
    assert len([o for o in outcomes if isinstance(o, UserRow)]) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, UserRow))
    with pytest.raises(Conflict, match="already exists"):
        await world.accounts.register("ada@EXAMPLE.com", "Again", PASSWORD)


@pytest.mark.asyncio
async def test_sessions_end_at_sign_out_when_idle_and_at_the_absolute_limit(world: World) -> None:
    await world.accounts.register("ada@example.com", "Ada", PASSWORD)
    token, _, _ = await world.accounts.sign_in("ada@example.com", PASSWORD)
    await world.accounts.sign_out(token)
    assert await world.accounts.authenticate(token) is None
    await world.accounts.sign_out(token)  # signing out twice is harmless

    token, _, _ = await world.accounts.sign_in("ada@example.com", PASSWORD)
    world.clock.at += IDLE_MS
    assert await world.accounts.authenticate(token) is None  # idle for a week

    token, _, _ = await world.accounts.sign_in("ada@example.com", PASSWORD)
    started = world.clock.at
    while world.clock.at + IDLE_MS // 2 < started + ABSOLUTE_MS:  # used every half week...
        assert await world.accounts.authenticate(token) is not None
        world.clock.at += IDLE_MS // 2
    world.clock.at = started + ABSOLUTE_MS - 1
    assert await world.accounts.authenticate(token) is not None
    world.clock.at = started + ABSOLUTE_MS
    assert await world.accounts.authenticate(token) is None  # ...but thirty days is the end


@pytest.mark.asyncio
async def test_signing_in_again_rotates_the_presented_session(world: World) -> None:
    await world.accounts.register("ada@example.com", "Ada", PASSWORD)
    first, _, _ = await world.accounts.sign_in("ada@example.com", PASSWORD)
    second, _, _ = await world.accounts.sign_in("ada@example.com", PASSWORD, previous_token=first)
    assert second != first
    assert await world.accounts.authenticate(first) is None
    assert await world.accounts.authenticate(second) is not None
    for forged in [
        "",
        "x" * 32,
        "sig_" + "0" * 64,
        second[:-1] + ("A" if second[-1] != "A" else "B"),
    ]:
        assert await world.accounts.authenticate(forged) is None


@pytest.mark.asyncio
async def test_a_session_token_is_stored_only_as_its_hash(world: World) -> None:
    await world.accounts.register("ada@example.com", "Ada", PASSWORD)
    token, _, _ = await world.accounts.sign_in("ada@example.com", PASSWORD)
    rows = await world.database.fetch("SELECT * FROM sessions")
    assert token not in repr(rows)


@pytest.mark.asyncio
async def test_accounts_survive_a_rebuild_of_the_read_models(world: World) -> None:
    user = await world.accounts.register("ada@example.com", "Ada", PASSWORD, Actor("system", "cli"))
    assert (await world.store.rebuild_projections(check_only=True)).identical
    await world.store.rebuild_projections()
    assert await world.store.get(UserRow, (user.id,)) == user
    assert (await world.accounts.sign_in("ada@example.com", PASSWORD))[2] == user
