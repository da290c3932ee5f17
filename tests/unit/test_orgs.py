"""The org aggregate: members, roles, invite links, and the rules that span them."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from sigillo.domain import orgs
from sigillo.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from sigillo.domain.events import (
    Event,
    InvitationCreated,
    InvitationRevoked,
    InvitationUsed,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
    OrgCreated,
    OrgDeleted,
)

NOW = 1_000
_COUNTER = itertools.count(1)


def ids() -> Callable[[], str]:
    return lambda: f"ID{next(_COUNTER)}"  # unique across runs, as a stream's ids are


def run(
    state: orgs.OrgState, *commands: orgs.Command, now: int = NOW
) -> tuple[orgs.OrgState, list[Event]]:
    """Decide and apply each command in turn, as the org's stream would."""
    made = ids()
    events: list[Event] = []
    for command in commands:
        decided = orgs.decide(state, command, now=now, new_id=made)
        for event in decided:
            state = orgs.evolve(state, event)
        events += decided
    return state, events


def founded() -> orgs.OrgState:
    return run(orgs.OrgState(), orgs.CreateOrg("O", " Acme ", "alice"))[0]


def membership(state: orgs.OrgState, user_id: str) -> str:
    found = state.membership_of(user_id)
    assert found is not None
    return found


def test_the_creator_becomes_the_first_admin() -> None:
    state, events = run(orgs.OrgState(), orgs.CreateOrg("O", " Acme ", "alice"))
    assert events == [
        OrgCreated("O", "Acme"),
        MemberAdded("O", membership(state, "alice"), "alice", "admin"),
    ]


def test_invitations_admit_once_per_person_until_they_expire_or_are_revoked() -> None:
    state, events = run(founded(), orgs.CreateInvitation("hash1", expires_at=NOW + 10))
    [invitation_id] = state.invitations
    assert events == [InvitationCreated("O", invitation_id, "member", "hash1", NOW + 10)]
    state, joined = run(state, orgs.AcceptInvitation("hash1", "bob"))
    assert joined == [
        InvitationUsed("O", invitation_id, "bob"),
        MemberAdded("O", membership(state, "bob"), "bob", "member"),
    ]
    assert run(state, orgs.AcceptInvitation("hash1", "bob"))[1] == []  # already a member
    with pytest.raises(NotFound, match="invitation"):
        run(state, orgs.AcceptInvitation("hash1", "carol"), now=NOW + 10)  # expired
    with pytest.raises(NotFound, match="invitation"):
        run(state, orgs.AcceptInvitation("unknown", "carol"))
    state, revoked = run(state, orgs.RevokeInvitation(invitation_id))
    assert revoked == [InvitationRevoked("O", invitation_id)]
    with pytest.raises(NotFound, match="invitation"):
        run(state, orgs.AcceptInvitation("hash1", "carol"))


def test_invitation_expiry_and_role_are_checked() -> None:
    with pytest.raises(InvalidInput, match="future"):
        run(founded(), orgs.CreateInvitation("h", expires_at=NOW))
    with pytest.raises(InvalidInput, match="admin or member"):
        run(founded(), orgs.CreateInvitation("h", expires_at=NOW + 1, role="owner"))
    with pytest.raises(InvalidInput, match="members only"):
        run(founded(), orgs.CreateInvitation("h", expires_at=NOW + 1, role="admin"))
    state, _ = run(founded(), orgs.CreateInvitation("h", expires_at=NOW + 1))
    [invitation_id] = state.invitations
    [used, added] = run(state, orgs.AcceptInvitation("h", "bob"))[1]
    assert used == InvitationUsed("O", invitation_id, "bob")
    assert isinstance(added, MemberAdded)
    assert added.role == "member"


def test_a_link_of_before_links_admitted_members_only_admits_nobody() -> None:
    admin_link = InvitationCreated("O", "I", "admin", "h", NOW + 10)  # stored by an old version
    state = orgs.evolve(founded(), admin_link)
    with pytest.raises(NotFound, match="invitation"):
        run(state, orgs.AcceptInvitation("h", "bob"))


def test_a_removed_member_rejoins_only_through_a_link_made_after_the_removal() -> None:
    state, _ = run(founded(), orgs.CreateInvitation("old", expires_at=NOW + 10))
    state, _ = run(state, orgs.AcceptInvitation("old", "bob"))
    state, _ = run(state, orgs.RemoveMember(membership(state, "bob")))
    with pytest.raises(Forbidden, match="removed from this organization"):
        run(state, orgs.AcceptInvitation("old", "bob"))
    assert run(state, orgs.AcceptInvitation("old", "carol"))[1]  # others still may join
    state, _ = run(state, orgs.CreateInvitation("new", expires_at=NOW + 10))
    state, joined = run(state, orgs.AcceptInvitation("new", "bob"))
    assert membership(state, "bob") is not None
    assert len(joined) == 2
    state, _ = run(state, orgs.RemoveMember(membership(state, "bob")))  # removed again
    with pytest.raises(Forbidden, match="removed"):
        run(state, orgs.AcceptInvitation("new", "bob"))


def test_the_last_admin_can_be_neither_demoted_nor_removed() -> None:
    state = founded()
    alice = membership(state, "alice")
    with pytest.raises(Conflict, match="at least one admin"):
        run(state, orgs.ChangeRole(alice, "member"))
    with pytest.raises(Conflict, match="at least one admin"):
        run(state, orgs.RemoveMember(alice))
    assert run(state, orgs.ChangeRole(alice, "admin"))[1] == []  # the role it has: a no-op


def test_an_admin_may_step_down_or_leave_when_another_admin_exists() -> None:
    state, _ = run(
        founded(), orgs.CreateInvitation("h", NOW + 5), orgs.AcceptInvitation("h", "bob")
    )
    alice, bob = membership(state, "alice"), membership(state, "bob")
    state, promoted = run(state, orgs.ChangeRole(bob, "admin"))
    assert promoted == [MemberRoleChanged("O", bob, "admin")]
    state, stepped_down = run(state, orgs.ChangeRole(alice, "member"))
    assert stepped_down == [MemberRoleChanged("O", alice, "member")]
    state, _ = run(state, orgs.ChangeRole(alice, "admin"))
    state, removed = run(state, orgs.RemoveMember(alice))
    assert removed == [MemberRemoved("O", alice)]
    assert [(m.user_id, m.role) for m in state.members.values()] == [("bob", "admin")]


def test_unknown_members_and_roles() -> None:
    with pytest.raises(NotFound, match="member"):
        run(founded(), orgs.RemoveMember("nobody"))
    state = founded()
    with pytest.raises(InvalidInput, match="admin or member"):
        run(state, orgs.ChangeRole(membership(state, "alice"), "root"))


def test_a_deleted_org_takes_no_more_commands() -> None:
    state, events = run(founded(), orgs.DeleteOrg())
    assert events == [OrgDeleted("O")]
    with pytest.raises(NotFound, match="org"):
        run(state, orgs.CreateInvitation("h", NOW + 1))
    with pytest.raises(Conflict):
        run(state, orgs.CreateOrg("O", "Again", "alice"))


def test_authorize_checks_membership_and_role_on_the_given_state() -> None:
    state, _ = run(
        founded(), orgs.CreateInvitation("h", NOW + 5), orgs.AcceptInvitation("h", "bob")
    )
    orgs.authorize(state, "alice", admin=True)
    orgs.authorize(state, "bob", admin=False)
    with pytest.raises(Forbidden, match="admin role required"):
        orgs.authorize(state, "bob", admin=True)
    with pytest.raises(Forbidden, match="forbidden"):
        orgs.authorize(state, "mallory", admin=False)
