"""Setup shared by the secrets and token API tests.

Orgs and projects are made through the services (not the REST routes): what is under test
here is the secrets and token routes, and only they.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sigillo.domain.events import Actor
from tests.api.conftest import Api

__all__ = [
    "Project",
    "actor_of",
    "add_member",
    "bearer",
    "create_token",
    "project",
    "secrets_path",
]


@dataclass
class Project:
    """A project with its three default environments, made by `admin` (its org's admin)."""

    id: str
    org_id: str
    admin: dict[str, str]
    admin_actor: Actor
    environments: dict[str, str] = field(default_factory=dict)  # slug -> id

    def path(self, environment: str, rest: str = "") -> str:
        """The secrets URL of an environment given by slug or id, as the URL's project."""
        return secrets_path(self.id, environment, rest)

    @property
    def tokens(self) -> str:
        return f"/api/v0/projects/{self.id}/tokens"


def secrets_path(project_id: str, environment: str, rest: str = "") -> str:
    return f"/api/v0/projects/{project_id}/environments/{environment}/secrets{rest}"


async def actor_of(api: Api, headers: dict[str, str]) -> Actor:
    """The user behind a session's Authorization header."""
    found = await api.services.accounts.authenticate(
        headers["Authorization"].removeprefix("Bearer ")
    )
    assert found is not None
    return Actor("user", found[1].id)


async def project(
    api: Api,
    admin: dict[str, str] | None = None,
    *,
    org_id: str | None = None,
    name: str = "My App",
) -> Project:
    """A new project (in a new org "Acme Corp" unless `org_id` is given) owned by `admin`."""
    admin = admin or await api.user("Admin A")
    actor = await actor_of(api, admin)
    if org_id is None:
        org_id = (await api.services.catalog.create_org("Acme Corp", actor)).id
    created = await api.services.catalog.create_project(org_id, name, actor)
    environments = await api.services.catalog.environments(created.id)
    return Project(created.id, org_id, admin, actor, {env.slug: env.id for env in environments})


async def add_member(api: Api, made: Project, headers: dict[str, str]) -> None:
    """Make the user behind `headers` a member of the project's org, by invite link."""
    _, invite = await api.services.access.create_invitation(made.org_id, made.admin_actor)
    await api.services.access.accept_invitation(invite, await actor_of(api, headers))


async def create_token(api: Api, made: Project, **body: Any) -> dict[str, Any]:
    """A token made through POST …/tokens by the project's admin: the create answer."""
    response = await api.call("POST", made.tokens, headers=made.admin, json={"name": "ci", **body})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
