"""GET …/environments/{env}/verify: the environment's tamper-evident chain through the API
(issue 17), the same walk as the Event Log tab's. SQLite and PostgreSQL (the `api` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest

from sigillo.store.database import open_database
from tests.api.conftest import Api
from tests.api.helpers import Project, add_member, bearer, create_token, project

pytestmark = pytest.mark.asyncio


def verify_path(made: Project, environment: str) -> str:
    return f"/api/v0/projects/{made.id}/environments/{environment}/verify"


async def verified(api: Api, headers: dict[str, str], path: str) -> dict[str, Any]:
    response = await api.call("GET", path, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def put(api: Api, made: Project, environment: str, **values: str) -> None:
    for name, value in values.items():
        response = await api.call(
            "POST", made.path(environment), headers=made.admin, json={"name": name, "value": value}
        )
        assert response.status_code == 200, response.text


async def positions(database_url: str, environment_id: str) -> list[int]:
    database = await open_database(database_url)
    try:
        rows = await database.fetch(
            "SELECT position FROM events WHERE stream_id = $1 ORDER BY position",
            f"env:{environment_id}",
        )
    finally:
        await database.close()
    return [int(row[0]) for row in rows]


async def test_an_intact_chain_and_then_a_tampered_one(api: Api, database_url: str) -> None:
    made = await project(api)
    dev = made.environments["dev"]
    assert await verified(api, made.admin, verify_path(made, "prod")) == {
        "intact": True,
        "through": 0,
        "checked": 0,
        "partial": False,
        "problem": None,
        "stream": None,
        "position": None,
    }
    await put(api, made, "dev", API_KEY="one", DB_URL="two")
    written = await positions(database_url, dev)
    assert len(written) == 2
    answer = await verified(api, made.admin, verify_path(made, "dev"))
    assert answer["intact"] is True
    assert answer["through"] == written[-1]
    assert answer["checked"] == 2
    assert answer["problem"] is None
    assert await verified(api, made.admin, verify_path(made, dev)) == answer  # id or slug

    database = await open_database(database_url)
    try:
        async with database.writing() as tx:
            await tx.execute(
                "UPDATE events SET actor_id = 'mallory' WHERE position = $1", written[0]
            )
    finally:
        await database.close()
    broken = await verified(api, made.admin, verify_path(made, "dev"))
    assert broken["intact"] is False
    assert broken["problem"].startswith(f"event {written[0]} of env:{dev}")
    assert "was edited" in broken["problem"]
    assert broken["stream"] == f"env:{dev}"
    assert broken["position"] == written[0]


async def test_members_may_verify_and_nobody_else(api: Api) -> None:
    made = await project(api)
    member = await api.user("Member")
    await add_member(api, made, member)
    assert (await verified(api, member, verify_path(made, "dev")))["intact"] is True

    outsider = await api.user("Outsider")
    response = await api.call("GET", verify_path(made, "dev"), headers=outsider)
    assert response.status_code == 403, response.text
    assert "intact" not in response.json()
    # Another org's environment by id, under the outsider's own project's URL: refused too.
    theirs = await project(api, outsider)
    response = await api.call(
        "GET", verify_path(theirs, made.environments["dev"]), headers=outsider
    )
    assert response.status_code == 403, response.text
    assert "intact" not in response.json()

    response = await api.call("GET", verify_path(made, "dev"))
    assert response.status_code == 401, response.text
    token = await create_token(api, made)
    response = await api.call("GET", verify_path(made, "dev"), headers=bearer(token["key"]))
    assert response.status_code == 401, response.text
