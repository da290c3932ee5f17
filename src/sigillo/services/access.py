"""Who may do what: org membership and roles, invite links and API tokens.

The policy of behaviour.md 5.3 and [D3]: members read and write secrets and create
projects and environments; only admins manage members, invitations, tokens and deletions.
Every check reads the current read models, so no cache outlives a change [D4]: a removed
member's very next request is refused, and so is a revoked or expired token's.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from sigillo.domain import orgs, projects
from sigillo.domain.errors import Forbidden, InvalidInput, NotFound
from sigillo.domain.events import Actor, Event, InvitationRevoked, InvitationUsed, Role
from sigillo.domain.projections.rows import (
    ApiTokenRow,
    InvitationRow,
    MembershipRow,
    OrgRow,
    ProjectRow,
    UserRow,
)
from sigillo.domain.streams import org_stream, project_stream
from sigillo.services import sign_in_policy, signed_in
from sigillo.services.accounts import SYSTEM
from sigillo.services.ports import Credentials, EventStore
from sigillo.services.writing import Writer

__all__ = [
    "INVITATION_DAYS",
    "INVITATION_LIFETIME_MS",
    "AccessService",
    "InvitationUse",
    "Invitee",
]

DAY_MS = 24 * 3600 * 1000
INVITATION_DAYS = (1, 30)  # the shortest and longest lifetime an invite link may be given
INVITATION_LIFETIME_MS = 7 * DAY_MS
FORBIDDEN = "forbidden"
ADMIN_REQUIRED = "admin role required"


class AccessService:
    def __init__(self, store: EventStore, writer: Writer, credentials: Credentials) -> None:
        self._store, self._writer, self._credentials = store, writer, credentials

    # -- membership and roles ------------------------------------------------------------

    async def role(self, org_id: str, actor: Actor) -> Role | None:
        """The actor's role in the org, or None. API tokens belong to no org. A member whose
        session does not meet the org's sign-in policy is refused here, in words that say
        what to do (Forbidden): every route of the org asks this first."""
        if actor.kind != "user":
            return None
        rows = await self._store.select(MembershipRow, "user_id", actor.id)
        role = next((_role(row.role) for row in rows if row.org_id == org_id), None)
        if role is not None:
            org = await self._store.get(OrgRow, (org_id,))
            if org is not None:
                sign_in_policy.check(org, signed_in.current())
        return role

    async def require_member(self, org_id: str, actor: Actor) -> Role:
        role = await self.role(org_id, actor)
        if role is None:
            raise Forbidden(FORBIDDEN)
        return role

    async def require_admin(self, org_id: str, actor: Actor) -> None:
        if await self.require_member(org_id, actor) != "admin":
            raise Forbidden(ADMIN_REQUIRED)

    async def project_for(
        self, project_id: str, actor: Actor, *, admin: bool = False
    ) -> ProjectRow:
        """The project, if it exists (404) and the actor may reach it (403)."""
        project = await self._store.get(ProjectRow, (project_id,))
        if project is None:
            raise NotFound("project")
        if admin:
            await self.require_admin(project.org_id, actor)
        else:
            await self.require_member(project.org_id, actor)
        return project

    async def orgs_of(self, actor: Actor) -> list[tuple[OrgRow, Role]]:
        """The actor's orgs with its role in each, oldest membership first."""
        if actor.kind != "user":
            return []
        result = []
        for membership in await self._store.select(MembershipRow, "user_id", actor.id):
            org = await self._store.get(OrgRow, (membership.org_id,))
            if org is not None:
                result.append((org, _role(membership.role)))
        return result

    async def members(self, org_id: str, actor: Actor) -> list[MembershipRow]:
        await self.require_member(org_id, actor)
        return await self._store.select(MembershipRow, "org_id", org_id)

    async def members_with_users(
        self, org_id: str, actor: Actor
    ) -> list[tuple[MembershipRow, UserRow | None]]:
        """The org's memberships in the order they were made, each with its account."""
        return [
            (membership, await self._store.get(UserRow, (membership.user_id,)))
            for membership in await self.members(org_id, actor)
        ]

    async def change_role(self, org_id: str, membership_id: str, role: str, actor: Actor) -> None:
        await self._as_admin(org_id, orgs.ChangeRole(membership_id, role), actor)

    async def remove_member(self, org_id: str, membership_id: str, actor: Actor) -> None:
        """Admins remove anyone; a member may remove only themself (leave the org). The last
        admin stays, whoever asks (the domain refuses with LAST_ADMIN)."""
        user_id = actor.id if actor.kind == "user" else ""

        def needs_admin(state: orgs.OrgState) -> bool:
            member = state.members.get(membership_id)
            return member is None or member.user_id != user_id

        await self._as_admin(org_id, orgs.RemoveMember(membership_id), actor, admin=needs_admin)

    async def delete_org(self, org_id: str, actor: Actor) -> None:
        await self._as_admin(org_id, orgs.DeleteOrg(), actor)

    async def set_sign_in_policy(
        self,
        org_id: str,
        actor: Actor,
        *,
        require_sso: bool,
        require_two_factor: bool,
        sso_offered: bool,
    ) -> OrgRow:
        """Admins decide how members must have signed in. Refused (InvalidInput) when it
        would shut out the admin asking, signed in as they are now, or when this server
        offers no single sign-on to require."""
        wanted = OrgRow(org_id, "", 0, 0, 0, require_sso, require_two_factor)
        if require_sso and not sso_offered:
            raise InvalidInput("requireSso", sign_in_policy.NO_PROVIDER)
        sign_in_policy.check_own(wanted, signed_in.current())
        await self._as_admin(org_id, orgs.SetSignInPolicy(require_sso, require_two_factor), actor)
        org = await self._store.get(OrgRow, (org_id,))
        if org is None:
            raise NotFound("org")
        return org

    # -- invite links ----------------------------------------------------------------------

    async def create_invitation(
        self, org_id: str, actor: Actor, *, role: str = "member", days: int | None = None
    ) -> tuple[InvitationRow, str]:
        """A new invite link's record and its token (shown once; only its hash is kept). It
        admits for `days` days (1 to 30), seven unless given."""
        lifetime = INVITATION_LIFETIME_MS
        if days is not None:
            shortest, longest = INVITATION_DAYS
            if not shortest <= days <= longest:
                raise InvalidInput("expiresInDays", f"must be {shortest} to {longest}")
            lifetime = days * DAY_MS
        token, token_hash = self._credentials.issue_invite_token()
        expires_at = self._writer.clock.now() + lifetime
        await self._as_admin(org_id, orgs.CreateInvitation(token_hash, expires_at, role), actor)
        [row] = await self._store.select(InvitationRow, "token_hash", token_hash)
        return row, token

    async def invitations(self, org_id: str, actor: Actor) -> list[InvitationRow]:
        await self.require_admin(org_id, actor)
        return await self._store.select(InvitationRow, "org_id", org_id)

    async def revoke_invitation(self, org_id: str, invitation_id: str, actor: Actor) -> None:
        await self._as_admin(org_id, orgs.RevokeInvitation(invitation_id), actor)

    async def invitation_uses(self, org_id: str, actor: Actor) -> dict[str, list[InvitationUse]]:
        """Who joined through each of the org's links, and when, oldest first (admins)."""
        await self.require_admin(org_id, actor)
        uses: dict[str, list[InvitationUse]] = {}
        for recorded in await self._store.read_stream(org_stream(org_id)):
            if isinstance(used := recorded.event, InvitationUsed):
                use = InvitationUse(used.user_id, recorded.occurred_at)
                uses.setdefault(used.invitation_id, []).append(use)
        return uses

    async def revoke_admin_links(self) -> int:
        """An upgrade step, run as the server starts: links admit members only now, so the
        live links of before that admit admins are revoked, in the log, by the system.
        Idempotent, and safe with several servers starting at once. Returns how many."""
        revoked = 0
        admin_links = await self._store.select(InvitationRow, "role", "admin")
        for org_id in sorted({i.org_id for i in admin_links if i.revoked_at is None}):

            def decide(history: list[Event], org_id: str = org_id) -> list[Event]:
                state = orgs.replay(history)
                return [
                    InvitationRevoked(org_id, invitation_id)
                    for invitation_id, invitation in state.invitations.items()
                    if invitation.role == "admin" and not invitation.revoked
                ]

            revoked += len(await self._writer.decide(org_stream(org_id), decide, SYSTEM))
        return revoked

    async def invitation(self, token: str) -> Invitee:
        """What an invite link offers, for anyone holding it (no session needed). Unknown,
        expired and revoked links, and links of a deleted org, all answer
        NotFound("invitation")."""
        token_hash = self._credentials.hash_invite_token(token)
        found = await self._store.select(InvitationRow, "token_hash", token_hash)
        now = self._writer.clock.now()
        live = [
            i for i in found if i.revoked_at is None and i.expires_at > now and i.role == "member"
        ]
        org = await self._store.get(OrgRow, (live[0].org_id,)) if live else None
        if org is None:
            raise NotFound("invitation")
        inviter = await self._store.get(UserRow, (live[0].created_by,))
        return Invitee(live[0], org, inviter)

    async def accept_invitation(self, token: str, actor: Actor) -> MembershipRow:
        """Join the link's org (once; accepting again changes nothing). Unknown, expired and
        revoked links all answer NotFound("invitation")."""
        if actor.kind != "user":
            raise Forbidden("only a signed-in user can accept an invitation")
        token_hash = self._credentials.hash_invite_token(token)
        found = await self._store.select(InvitationRow, "token_hash", token_hash)
        if not found:
            raise NotFound("invitation")
        org_id = found[0].org_id
        command = orgs.AcceptInvitation(token_hash, actor.id)
        await self._writer.command(org_stream(org_id), orgs, command, actor)
        memberships = await self._store.select(MembershipRow, "user_id", actor.id)
        return next(m for m in memberships if m.org_id == org_id)

    # -- API tokens ------------------------------------------------------------------------

    async def create_token(
        self,
        project_id: str,
        actor: Actor,
        *,
        name: str,
        access: str = "read",
        environment_id: str | None = None,
        expires_at: int | None = None,
    ) -> tuple[ApiTokenRow, str]:
        """A new token's record and its key (shown once; only its hash is kept). Admins only."""
        await self.project_for(project_id, actor, admin=True)
        key, prefix, token_hash = self._credentials.issue_api_token()
        token_id = self._writer.ids()
        command = projects.CreateToken(
            token_id, name, prefix, token_hash, access, environment_id, expires_at
        )
        await self._writer.command(project_stream(project_id), projects, command, actor)
        row = await self._store.get(ApiTokenRow, (token_id,))
        assert row is not None  # the append above projected it
        return row, key

    async def tokens(self, project_id: str, actor: Actor) -> list[ApiTokenRow]:
        """Newest first. Members may see the list; only admins create and revoke."""
        await self.project_for(project_id, actor)
        return list(reversed(await self._store.select(ApiTokenRow, "project_id", project_id)))

    async def revoke_token(self, project_id: str, token_id: str, actor: Actor) -> None:
        await self.project_for(project_id, actor, admin=True)
        command = projects.RevokeToken(token_id)
        await self._writer.command(project_stream(project_id), projects, command, actor)

    async def authenticate_token(self, key: str) -> ApiTokenRow | None:
        """The live token a key belongs to: unknown, revoked and expired keys get None."""
        token_hash = self._credentials.hash_api_token(key)
        token = next(iter(await self._store.select(ApiTokenRow, "token_hash", token_hash)), None)
        if token is None or token.revoked_at is not None:
            return None
        if token.expires_at is not None and token.expires_at <= self._writer.clock.now():
            return None
        return token

    async def _as_admin(
        self,
        org_id: str,
        command: orgs.Command,
        actor: Actor,
        *,
        admin: Callable[[orgs.OrgState], bool] | bool = True,
    ) -> None:
        """Decide an admin's change on the org's stream, checking the role on the very state
        the change is decided on (and again on every retry), so nobody acts on a role they
        lost a moment before. `admin` may depend on that state (leaving needs no admin).

        Membership is checked before existence: a caller who is not a member gets the same
        403 `forbidden` for an org that does not exist (or no longer does) as for another
        tenant's org, and so never learns which ids exist."""
        await self.require_member(org_id, actor)  # cheap: refuse strangers before any read

        def decide(history: list[Event]) -> list[Event]:
            state = orgs.replay(history)
            needs_admin = admin(state) if callable(admin) else admin
            orgs.authorize(state, actor.id if actor.kind == "user" else "", admin=needs_admin)
            if not state.exists or state.deleted:
                raise NotFound("org")
            return orgs.decide(
                state, command, now=self._writer.clock.now(), new_id=self._writer.ids
            )

        await self._writer.decide(org_stream(org_id), decide, actor)


class InvitationUse(msgspec.Struct, frozen=True):
    """One join through an invite link: who, and when."""

    user_id: str
    at: int


class Invitee(msgspec.Struct, frozen=True):
    """A live invite link as its holder may see it: the link, its org and who made it."""

    invitation: InvitationRow
    org: OrgRow
    inviter: UserRow | None


def _role(stored: str) -> Role:
    return "admin" if stored == "admin" else "member"
