"""Members, roles, invite links and API tokens through the access service, on every store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
import pytest_asyncio

from sigillo.crypto.credentials import TokenCredentials
from sigillo.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from sigillo.domain.events import Actor, TokenRevoked
from sigillo.domain.orgs import LAST_ADMIN
from sigillo.domain.projections.rows import ApiTokenRow, MembershipRow
from sigillo.domain.streams import project_stream
from sigillo.services.access import INVITATION_LIFETIME_MS, AccessService
from sigillo.services.catalog import CatalogService
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import EventStore
from sigillo.services.writing import Writer

ALICE, BOB, CAROL = Actor("user", "alice"), Actor("user", "bob"), Actor("user", "carol")


class SettableClock(Clock):
    def __init__(self) -> None:
        self.at = 1_800_000_000_000

    def now(self) -> int:
        return self.at


@dataclass
class World:
    store: EventStore
    clock: SettableClock
    access: AccessService
    catalog: CatalogService
    org: str
    project: str
    dev: str
    prod: str


@pytest_asyncio.fixture
async def world(store: EventStore) -> World:
    clock = SettableClock()
    writer = Writer(store, clock, UlidFactory(clock))
    catalog = CatalogService(store, writer)
    access = AccessService(store, writer, TokenCredentials())
    org = await catalog.create_org("Acme", ALICE)
    project = await catalog.create_project(org.id, "App", ALICE)
    dev, _, prod = await catalog.environments(project.id)
    return World(store, clock, access, catalog, org.id, project.id, dev.id, prod.id)


async def join(world: World, actor: Actor) -> MembershipRow:
    _, token = await world.access.create_invitation(world.org, ALICE)
    return await world.access.accept_invitation(token, actor)


@pytest.mark.asyncio
async def test_the_creator_is_admin_and_others_are_strangers(world: World) -> None:
    assert await world.access.role(world.org, ALICE) == "admin"
    assert await world.access.role(world.org, BOB) is None
    [(org, role)] = await world.access.orgs_of(ALICE)
    assert (org.name, role) == ("Acme", "admin")
    assert await world.access.orgs_of(BOB) == []
    with pytest.raises(Forbidden, match="forbidden"):
        await world.access.members(world.org, BOB)
    with pytest.raises(Forbidden, match="forbidden"):
        await world.access.project_for(world.project, BOB)
    with pytest.raises(NotFound, match="project"):
        await world.access.project_for("01NOSUCHPROJECT00000000000", ALICE)
    with pytest.raises(Forbidden):
        await world.catalog.create_org("Robots Inc", Actor("token", "t1"))


@pytest.mark.asyncio
async def test_an_invite_link_makes_a_member_once(world: World) -> None:
    invitation, token = await world.access.create_invitation(world.org, ALICE)
    assert invitation.expires_at == world.clock.at + INVITATION_LIFETIME_MS
    assert token not in repr(invitation)
    assert invitation.token_hash != token
    joined = await world.access.accept_invitation(token, BOB)
    assert (joined.user_id, joined.role) == ("bob", "member")
    assert await world.access.accept_invitation(token, BOB) == joined  # again: nothing changes
    members = await world.access.members(world.org, BOB)
    assert [(m.user_id, m.role) for m in members] == [("alice", "admin"), ("bob", "member")]


@pytest.mark.asyncio
async def test_fifty_parallel_accepts_by_one_user_give_one_membership(world: World) -> None:
    _, token = await world.access.create_invitation(world.org, ALICE)
    results = await asyncio.gather(*(world.access.accept_invitation(token, BOB) for _ in range(50)))
    assert len({r.id for r in results}) == 1
    assert len(await world.access.members(world.org, ALICE)) == 2


@pytest.mark.asyncio
async def test_expired_revoked_and_unknown_links_are_all_not_found(world: World) -> None:
    invitation, token = await world.access.create_invitation(world.org, ALICE)
    world.clock.at += INVITATION_LIFETIME_MS
    with pytest.raises(NotFound, match="invitation"):
        await world.access.accept_invitation(token, BOB)
    world.clock.at -= INVITATION_LIFETIME_MS
    await world.access.revoke_invitation(world.org, invitation.id, ALICE)
    [listed] = await world.access.invitations(world.org, ALICE)
    assert listed.revoked_at == world.clock.at
    for link in (token, "not-a-real-link"):
        with pytest.raises(NotFound, match="invitation"):
            await world.access.accept_invitation(link, CAROL)


@pytest.mark.asyncio
async def test_members_cannot_do_admin_things(world: World) -> None:
    bob = await join(world, BOB)
    [alice] = [m for m in await world.access.members(world.org, ALICE) if m.user_id == "alice"]
    admin_only = [
        world.access.create_invitation(world.org, BOB),
        world.access.invitations(world.org, BOB),
        world.access.change_role(world.org, bob.id, "admin", BOB),
        world.access.remove_member(world.org, alice.id, BOB),  # a member may only leave
        world.access.delete_org(world.org, BOB),
        world.access.create_token(world.project, BOB, name="ci"),
        world.access.project_for(world.project, BOB, admin=True),
    ]
    for attempt in admin_only:
        with pytest.raises(Forbidden, match="admin role required"):
            await attempt
    assert await world.access.project_for(world.project, BOB)  # members reach projects
    assert await world.access.tokens(world.project, BOB) == []  # and see the token list
    await world.access.remove_member(world.org, bob.id, BOB)  # leaving needs no admin
    assert await world.access.role(world.org, BOB) is None


@pytest.mark.asyncio
async def test_a_removed_member_and_a_demoted_admin_lose_access_at_once(world: World) -> None:
    bob = await join(world, BOB)
    await world.access.change_role(world.org, bob.id, "admin", ALICE)
    await world.access.create_invitation(world.org, BOB)  # bob may, as admin
    await world.access.change_role(world.org, bob.id, "member", ALICE)
    with pytest.raises(Forbidden, match="admin role required"):
        await world.access.create_invitation(world.org, BOB)
    await world.access.remove_member(world.org, bob.id, ALICE)
    with pytest.raises(Forbidden, match="forbidden"):
        await world.access.project_for(world.project, BOB)


@pytest.mark.asyncio
async def test_two_admins_demoting_each_other_at_once_leave_one_admin(world: World) -> None:
    bob = await join(world, BOB)
    await world.access.change_role(world.org, bob.id, "admin", ALICE)
    [alice] = [m for m in await world.access.members(world.org, ALICE) if m.user_id == "alice"]
    outcomes = await asyncio.gather(
        world.access.change_role(world.org, bob.id, "member", ALICE),
        world.access.change_role(world.org, alice.id, "member", BOB),
        return_exceptions=True,
    )
    # One change lands. The other is refused: its author already lost the admin role
    # (Forbidden), or it would leave no admin (Conflict); which, depends on the interleaving.
    assert [o for o in outcomes if o is None] == [None]
    [refused] = [o for o in outcomes if o is not None]
    assert isinstance(refused, Forbidden | Conflict)
    if isinstance(refused, Conflict):
        assert str(refused) == LAST_ADMIN
    members = await world.store.select(MembershipRow, "org_id", world.org)
    assert [m.role for m in members].count("admin") == 1
    assert (await world.store.rebuild_projections(check_only=True)).identical


@pytest.mark.asyncio
async def test_tokens_authenticate_until_revoked_or_expired(world: World) -> None:
    token, key = await world.access.create_token(
        world.project, ALICE, name="ci", access="read-write", expires_at=world.clock.at + 1000
    )
    assert key.startswith("sig_")
    assert len(key) == 68
    assert key not in repr(token)
    assert (token.prefix, token.access, token.environment_id) == (key[4:16], "read-write", None)
    assert await world.access.authenticate_token(key) == token
    assert await world.access.authenticate_token("sig_" + "0" * 64) is None
    world.clock.at += 1000
    assert await world.access.authenticate_token(key) is None  # expired on the very next request
    world.clock.at -= 1000
    await world.access.revoke_token(world.project, token.id, ALICE)
    assert await world.access.authenticate_token(key) is None
    await world.access.revoke_token(world.project, token.id, ALICE)  # revoking again succeeds
    [listed] = await world.access.tokens(world.project, ALICE)
    assert listed.revoked_at is not None  # kept, for attribution [D1]


@pytest.mark.asyncio
async def test_token_input_is_validated(world: World) -> None:
    other = await world.catalog.create_project(world.org, "Other", ALICE)
    [other_dev, *_] = await world.catalog.environments(other.id)
    bad = [
        ({"name": " "}, "name"),
        ({"name": "ci", "access": "admin"}, "access"),
        ({"name": "ci", "environment_id": other_dev.id}, "environmentId"),
        ({"name": "ci", "expires_at": world.clock.at}, "expiresAt"),
    ]
    for fields, field in bad:
        with pytest.raises(InvalidInput) as raised:
            await world.access.create_token(world.project, ALICE, **fields)  # type: ignore[arg-type]
        assert raised.value.field == field
    with pytest.raises(NotFound, match="token"):
        await world.access.revoke_token(world.project, "01NOSUCHTOKEN0000000000000", ALICE)


@pytest.mark.asyncio
async def test_deleting_an_environment_revokes_its_tokens_and_no_other(world: World) -> None:
    scoped, scoped_key = await world.access.create_token(
        world.project, ALICE, name="dev", environment_id=world.dev
    )
    _, wide_key = await world.access.create_token(world.project, ALICE, name="all")
    await world.catalog.delete_environment(world.project, world.dev, ALICE)
    assert await world.access.authenticate_token(scoped_key) is None  # revoked, not widened [D2]
    assert await world.access.authenticate_token(wide_key) is not None
    revoked = [e.event for e in await world.store.read_stream(project_stream(world.project))]
    assert TokenRevoked(world.project, scoped.id, "environment deleted") in revoked


@pytest.mark.asyncio
async def test_deleting_the_org_removes_its_read_models_but_not_its_log(world: World) -> None:
    _, key = await world.access.create_token(world.project, ALICE, name="ci")
    await join(world, BOB)
    events_before = len(await world.store.read_all(limit=10_000))
    await world.access.delete_org(world.org, ALICE)
    assert await world.access.role(world.org, ALICE) is None
    assert await world.access.orgs_of(BOB) == []
    assert await world.access.authenticate_token(key) is None
    assert await world.store.select(ApiTokenRow, "project_id", world.project) == []
    assert len(await world.store.read_all(limit=10_000)) == events_before + 1
    assert (await world.store.rebuild_projections(check_only=True)).identical
