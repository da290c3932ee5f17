"""Rollback (issue 17) through the API, on both databases: some names, a whole environment,
deleted names and kinds brought back; one all-or-nothing append on top of the history,
decided again when another write lands first; read-only tokens refused; bad moments 422.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sigillo.domain.errors import ConcurrencyError
from sigillo.domain.events import RecordedEvent, SecretSet
from sigillo.domain.moments import Moment
from sigillo.domain.projections.past_secrets import PastSecrets, fold
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.services.rollback import RollbackService
from tests.api.conftest import Api
from tests.api.helpers import Project, bearer, create_token, project

pytestmark = pytest.mark.asyncio


def rollback_path(made: Project, environment: str = "dev") -> str:
    return f"/api/v0/projects/{made.id}/environments/{environment}/rollback"


async def put(api: Api, made: Project, secrets: dict[str, Any], environment: str = "dev") -> None:
    response = await api.call(
        "PUT", made.path(environment), headers=made.admin, json={"secrets": secrets}
    )
    assert response.status_code == 200, response.text


async def delete(api: Api, made: Project, name: str) -> None:
    response = await api.call("DELETE", made.path("dev", f"/{name}"), headers=made.admin)
    assert response.status_code == 200, response.text


async def stream(api: Api, made: Project, environment: str = "dev") -> list[RecordedEvent]:
    return await api.services.store.read_stream(environment_stream(made.environments[environment]))


async def moment(api: Api, made: Project) -> str:
    return (await stream(api, made))[-1].event_id


async def live(api: Api, made: Project) -> dict[str, tuple[str, str]]:
    """name -> (value, kind), through the services (no read recorded matters here)."""
    env = made.environments["dev"]
    rows = await api.services.secrets.current(env)
    return {row.name: (api.services.secrets.open(row), row.kind) for row in rows}


async def rollback(
    api: Api, made: Project, headers: dict[str, str] | None = None, **body: Any
) -> Any:
    return await api.call("POST", rollback_path(made), headers=headers or made.admin, json=body)


async def test_rollback_of_some_names(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "a1", "B": "b1"})
    then = await moment(api, made)
    await put(api, made, {"A": "a2", "B": "b2", "C": "c1"})
    before = len(await stream(api, made))
    response = await rollback(api, made, to=then, names=["A", "C"])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["restore"], answer["delete"], answer["kinds"]) == (["A"], ["C"], {})
    assert answer["toVersion"] == 2
    assert answer["dryRun"] is False
    assert [(e["type"], e["name"]) for e in answer["events"]] == [
        ("secret.deleted", "C"),
        ("secret.set", "A"),
    ]
    assert await live(api, made) == {"A": ("a1", "secret"), "B": ("b2", "secret")}
    after = await stream(api, made)
    assert len(after) == before + 2  # appended: the history stays
    assert "a1" not in response.text


async def test_rollback_of_a_whole_environment_brings_deleted_names_and_kinds_back(
    api: Api,
) -> None:
    made = await project(api)
    await put(api, made, {"PORT": {"value": "3000", "kind": "plain"}, "KEY": "k1", "SAME": "s"})
    then = await moment(api, made)
    await delete(api, made, "PORT")  # deleted since: comes back, plain again
    await put(api, made, {"KEY": "k2", "NEW": "n"})
    kinds = f"/api/v0/projects/{made.id}/environments/dev/secret-kinds"
    marked = await api.call("PATCH", kinds, headers=made.admin, json={"kinds": {"SAME": "plain"}})
    assert marked.status_code == 200
    response = await rollback(api, made, to=then)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["restore"] == ["KEY", "PORT"]
    assert answer["delete"] == ["NEW"]
    assert answer["kinds"] == {"PORT": "plain", "SAME": "secret"}
    assert await live(api, made) == {
        "PORT": ("3000", "plain"),
        "KEY": ("k1", "secret"),
        "SAME": ("s", "secret"),
    }
    # Nothing left to do: the environment is as it was (values set again since were
    # compared with those then, recorded as a read first).
    again = await rollback(api, made, to=then)
    assert again.json()["events"] == []
    assert again.json()["restore"] == []
    reads = await api.services.store.read_stream(reads_stream(made.environments["dev"]))
    assert [(r.event.how, r.event.names) for r in reads] == [  # type: ignore[union-attr]
        ("compare", ["KEY"]),
        ("compare", ["KEY", "PORT"]),
    ]


async def test_a_name_set_again_to_the_same_value_is_not_set_back(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "same", "B": "b"})
    then = await moment(api, made)
    await put(api, made, {"A": "same", "B": "changed"})
    response = await rollback(api, made, to=then, dryRun=True)
    assert response.json()["restore"] == ["B"]


async def test_a_value_set_back_is_sealed_again_not_copied(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "old"})
    then = await moment(api, made)
    await put(api, made, {"A": "new"})
    response = await rollback(api, made, to=then)
    assert response.status_code == 200, response.text
    sets = [e.event for e in await stream(api, made) if isinstance(e.event, SecretSet)]
    assert sets[-1].value.nonce != sets[0].value.nonce
    assert await live(api, made) == {"A": ("old", "secret")}


async def test_a_dry_run_answers_the_plan_and_writes_nothing(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1"})
    then = await moment(api, made)
    await put(api, made, {"A": "2", "B": "2"})
    before = await stream(api, made)
    response = await rollback(api, made, to=then, dryRun=True)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["restore"], answer["delete"], answer["events"]) == (["A"], ["B"], [])
    assert answer["dryRun"] is True
    assert await stream(api, made) == before


async def test_a_rollback_by_time(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1"})
    then = (await stream(api, made))[-1].occurred_at
    await asyncio.sleep(0.01)
    await put(api, made, {"A": "2"})
    response = await rollback(api, made, to=str(Moment(time=then)))
    assert response.status_code == 200, response.text
    assert await live(api, made) == {"A": ("1", "secret")}


async def test_a_write_landing_first_makes_the_rollback_decide_again(api: Api) -> None:
    """All or nothing: the plan decided before another write landed is not appended; the
    one decided on the new state is, whole."""
    made = await project(api)
    await put(api, made, {"A": "1", "B": "1"})
    then = await moment(api, made)
    await put(api, made, {"A": "2"})
    service = api.services.rollback
    recent = service._recent
    original = recent.versioned
    calls = 0

    async def versioned_then_a_write(environment_id: str) -> Any:
        nonlocal calls
        calls += 1
        found = await original(environment_id)
        if calls == 1:  # another writer gets there between the plan and its append
            await put(api, made, {"B": "2", "C": "3"})
        return found

    recent.versioned = versioned_then_a_write
    try:
        result = await service.rollback(
            await environment(api, made), Moment(event_id=then), made.admin_actor
        )
    finally:
        recent.versioned = original
    assert calls == 2
    assert result.plan.restore == ["A", "B"]
    assert result.plan.delete == ["C"]
    events = await stream(api, made)
    versions = [r.version for r in result.recorded]
    assert versions == list(range(versions[0], versions[0] + len(versions)))
    assert versions[-1] == events[-1].version
    assert await live(api, made) == {"A": ("1", "secret"), "B": ("1", "secret")}


async def test_a_rollback_that_keeps_losing_the_race_writes_nothing(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1"})
    then = await moment(api, made)
    await put(api, made, {"A": "2"})
    service: RollbackService = api.services.rollback
    recent = service._recent
    original = recent.versioned
    writes = 0

    async def always_a_write_first(environment_id: str) -> Any:
        nonlocal writes
        found = await original(environment_id)
        writes += 1
        await put(api, made, {"OTHER": str(writes)})
        return found

    recent.versioned = always_a_write_first
    try:
        with pytest.raises(ConcurrencyError):
            await service.rollback(
                await environment(api, made), Moment(event_id=then), made.admin_actor
            )
    finally:
        recent.versioned = original
    sets_of_a = [
        e for e in await stream(api, made) if isinstance(e.event, SecretSet) and e.event.name == "A"
    ]
    assert len(sets_of_a) == 2  # not one event of it landed
    assert (await live(api, made))["A"] == ("2", "secret")


async def test_rollbacks_racing_other_writes_land_whole(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1", "B": "1", "C": "1"})
    then = await moment(api, made)
    await put(api, made, {"A": "2", "B": "2", "D": "2"})
    writes = [put(api, made, {"W": str(n)}) for n in range(5)]
    rolled = rollback(api, made, to=then, names=["A", "B", "C", "D"])
    *_, response = await asyncio.gather(*writes, rolled)
    assert response.status_code == 200, response.text
    ids = [e["id"] for e in response.json()["events"]]
    events = await stream(api, made)
    positions = [i for i, e in enumerate(events) if e.event_id in ids]
    assert positions == list(range(positions[0], positions[0] + 3))  # contiguous, all there
    upto = events[: positions[-1] + 1]
    state = fold(PastSecrets(made.environments["dev"], 0, 0, 0), upto)
    names = {row.name: api.services.secrets.open(row) for row in state.rows}
    assert {k: v for k, v in names.items() if k != "W"} == {"A": "1", "B": "1", "C": "1"}


async def test_read_only_and_other_environment_tokens_cannot_roll_back(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1"})
    then = await moment(api, made)
    await put(api, made, {"A": "2"})
    read_only = bearer((await create_token(api, made))["key"])
    prod_only = bearer(
        (await create_token(api, made, access="read-write", environmentId="prod"))["key"]
    )
    writer = bearer(
        (await create_token(api, made, access="read-write", environmentId="dev"))["key"]
    )
    for headers in (read_only, prod_only):
        for dry_run in (False, True):
            response = await rollback(api, made, headers, to=then, dryRun=dry_run)
            assert response.status_code == 403, response.text
    assert await live(api, made) == {"A": ("2", "secret")}
    response = await rollback(api, made, writer, to=then)
    assert response.status_code == 200, response.text
    assert await live(api, made) == {"A": ("1", "secret")}
    [*_, last] = await stream(api, made)
    assert last.actor.kind == "token"


async def test_bad_input_is_a_clear_error(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1"})
    for bad in ("yesterday", "", "2026-12-07", "2026-12-07T09:30:00", "x" * 100):
        response = await rollback(api, made, to=bad)
        assert response.status_code == 422, bad
        [detail] = response.json()["detail"]
        assert detail["field"] == "to"
        assert "RFC 3339" in detail["message"]
    before = await rollback(api, made, to="2001-01-01T00:00:00Z")
    assert before.status_code == 404
    assert "did not exist yet" in before.json()["error"]
    unknown_event = await rollback(api, made, to="01JEX7Q7W4T2R3N8M9P0A1B2C3")
    assert unknown_event.status_code == 404
    then = await moment(api, made)
    never = await rollback(api, made, to=then, names=["NEVER_LIVE"])
    assert never.status_code == 404
    assert "NEVER_LIVE" in never.json()["error"]
    invalid = await rollback(api, made, to=then, names=["1BAD"])
    assert invalid.status_code == 422
    extra = await rollback(api, made, to=then, everything=True)
    assert extra.status_code == 422


async def environment(api: Api, made: Project) -> Any:
    found = await api.services.catalog.find_environment(made.id, "dev")
    assert found is not None
    return found
