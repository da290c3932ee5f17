"""DELETE of a secret that is not live (issue 16): 404 `secret NAME not found`, and
nothing is appended to the environment's stream. A live name is deleted as before."""

from __future__ import annotations

import pytest

from sigillo.domain.streams import environment_stream
from tests.api.conftest import Api
from tests.api.helpers import project

pytestmark = pytest.mark.asyncio


async def _types(api: Api, environment_id: str) -> list[str]:
    events = await api.services.store.read_stream(environment_stream(environment_id))
    return [type(e.event).__name__ for e in events]


async def test_delete_of_a_name_never_set_is_404_and_appends_nothing(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    response = await api.call("DELETE", f"{dev}/NEVER_SET", headers=made.admin)
    assert (response.status_code, response.json()) == (404, {"error": "secret NEVER_SET not found"})
    assert await _types(api, made.environments["dev"]) == []


async def test_delete_of_a_live_name_then_again(api: Api) -> None:
    made = await project(api)
    dev = made.path("dev")
    body = {"name": "OLD_KEY", "value": "x"}
    assert (await api.call("POST", dev, headers=made.admin, json=body)).status_code == 200
    first = await api.call("DELETE", f"{dev}/OLD_KEY", headers=made.admin)
    assert (first.status_code, first.json()) == (200, {"ok": True, "name": "OLD_KEY"})
    again = await api.call("DELETE", f"{dev}/OLD_KEY", headers=made.admin)
    assert again.status_code == 404
    assert again.json() == {"error": "secret OLD_KEY not found"}
    assert await _types(api, made.environments["dev"]) == ["SecretSet", "SecretDeleted"]


async def test_delete_in_an_unknown_environment_is_still_the_environment(api: Api) -> None:
    made = await project(api)
    response = await api.call("DELETE", f"{made.path('nope')}/X", headers=made.admin)
    assert response.status_code == 404
    assert "secret" not in response.json()["error"]
