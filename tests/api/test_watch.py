"""GET …/environments/{env}/watch: the long poll behind `sigillo run --watch` (issue 18).
SQLite and PostgreSQL (the `api` fixture): answers at once without `since` or with a stale
one, waits for a change made through the API and answers within about a second, times out
unchanged, is not woken by another environment, admits exactly the environment's readers,
refuses bad parameters, ends at once when the server shuts down, and bounds its waiters."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from sigillo.domain.events import OrgCreated
from sigillo.services.watch import ChangeFeed
from sigillo.store.memory import MemoryEventStore
from tests.api.conftest import Api
from tests.api.helpers import Project, bearer, create_token, project
from tests.store.helpers import new, new_id

pytestmark = pytest.mark.asyncio


def watch_path(made: Project, environment: str) -> str:
    return f"/api/v0/projects/{made.id}/environments/{environment}/watch"


async def watch(
    api: Api, made: Project, environment: str, headers: dict[str, str] | None = None, **query: Any
) -> dict[str, Any]:
    response = await api.call(
        "GET", watch_path(made, environment), headers=headers or made.admin, params=query
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer: dict[str, Any] = response.json()
    assert set(answer) == {"token", "changed"}
    return answer


async def put(api: Api, made: Project, environment: str, name: str, value: str) -> None:
    response = await api.call(
        "POST", made.path(environment), headers=made.admin, json={"name": name, "value": value}
    )
    assert response.status_code == 200, response.text


async def test_answers_at_once_without_since_and_with_a_stale_token(api: Api) -> None:
    made = await project(api)
    first = await watch(api, made, "dev")
    assert first["changed"] is False
    assert first == await watch(api, made, "dev")  # nothing changed: the same token
    await put(api, made, "dev", "API_KEY", "value-one-1234")
    started = time.monotonic()
    stale = await watch(api, made, "dev", since=first["token"], timeout=30)
    assert time.monotonic() - started < 2
    assert stale["changed"] is True
    assert stale["token"] != first["token"]
    assert "value-one" not in str(stale)
    assert "API_KEY" not in str(stale)
    # the token of one environment means nothing to another: answered at once
    other = await watch(api, made, "prod", since=stale["token"], timeout=30)
    assert other["changed"] is True


async def test_waits_for_a_change_and_answers_within_a_second(api: Api) -> None:
    made = await project(api)
    token = (await watch(api, made, "dev"))["token"]
    waiting = asyncio.create_task(watch(api, made, "dev", since=token, timeout=30))
    await asyncio.sleep(0.8)
    assert not waiting.done()
    changed_at = time.monotonic()
    await put(api, made, "dev", "API_KEY", "value-two-1234")
    answer = await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - changed_at < 1.5
    assert answer["changed"] is True
    assert answer["token"] != token
    assert answer["token"] == (await watch(api, made, "dev"))["token"]  # the token of now


async def test_times_out_unchanged(api: Api) -> None:
    made = await project(api)
    token = (await watch(api, made, "dev"))["token"]
    started = time.monotonic()
    answer = await watch(api, made, "dev", since=token, timeout=1)
    assert 0.9 < time.monotonic() - started < 3
    assert answer == {"token": token, "changed": False}
    assert api.services.watch.waiting == 0


async def test_a_change_elsewhere_does_not_wake_it(api: Api) -> None:
    made = await project(api)
    token = (await watch(api, made, "dev"))["token"]
    waiting = asyncio.create_task(watch(api, made, "dev", since=token, timeout=2))
    await asyncio.sleep(0.2)
    await put(api, made, "prod", "API_KEY", "prod-value-1234")
    await put(api, made, "preview", "API_KEY", "preview-value-1234")
    other = await project(api, made.admin, org_id=made.org_id, name="Other")
    await put(api, other, "dev", "API_KEY", "other-value-1234")
    answer = await asyncio.wait_for(waiting, 6)
    assert answer == {"token": token, "changed": False}


async def test_a_change_in_a_referenced_environment_wakes_it(api: Api) -> None:
    """dev's values refer to prod's (issue 18): a change there changes what dev reads."""
    made = await project(api)
    await put(api, made, "prod", "DB_HOST", "db.prod.internal")
    await put(api, made, "dev", "DATABASE_URL", "postgres://${prod.DB_HOST}/app")
    token = (await watch(api, made, "dev"))["token"]
    waiting = asyncio.create_task(watch(api, made, "dev", since=token, timeout=30))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await put(api, made, "prod", "DB_HOST", "db2.prod.internal")
    answer = await asyncio.wait_for(waiting, 5)
    assert answer["changed"] is True
    # preview is referred to by nothing: a change there wakes no one
    quiet = asyncio.create_task(watch(api, made, "dev", since=answer["token"], timeout=2))
    await asyncio.sleep(0.3)
    await put(api, made, "preview", "DB_HOST", "db.preview.internal")
    assert (await asyncio.wait_for(quiet, 6))["changed"] is False


async def test_a_scoped_token_does_not_follow_what_it_may_not_read(api: Api) -> None:
    """A token scoped to dev is not told when prod changes, even through a reference."""
    made = await project(api)
    await put(api, made, "prod", "DB_HOST", "db.prod.internal")
    await put(api, made, "dev", "DATABASE_URL", "postgres://${prod.DB_HOST}/app")
    key = (await create_token(api, made, name="dev-only", environmentId="dev"))["key"]
    robot = bearer(key)
    token = (await watch(api, made, "dev", headers=robot))["token"]
    waiting = asyncio.create_task(watch(api, made, "dev", headers=robot, since=token, timeout=2))
    await asyncio.sleep(0.3)
    await put(api, made, "prod", "DB_HOST", "db2.prod.internal")
    assert (await asyncio.wait_for(waiting, 6))["changed"] is False


async def test_a_token_reads_what_it_may_read_only(api: Api) -> None:
    made = await project(api)
    dev_only = bearer((await create_token(api, made, environmentId="dev"))["key"])
    assert (await watch(api, made, "dev", headers=dev_only))["changed"] is False
    refused = await api.call("GET", watch_path(made, "prod"), headers=dev_only)
    assert refused.status_code in (403, 404), refused.text
    outsider = await api.user("Outsider")
    hidden = await api.call("GET", watch_path(made, "dev"), headers=outsider)
    assert hidden.status_code in (403, 404), hidden.text
    anonymous = await api.call("GET", watch_path(made, "dev"))
    assert anonymous.status_code == 401, anonymous.text
    missing = await api.call("GET", watch_path(made, "nope"), headers=made.admin)
    assert missing.status_code == 404, missing.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"timeout": "0"}, "timeout"),
        ({"timeout": "61"}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"since": "x" * 200}, "since"),
        ({"since": "not a token!"}, "since"),
        ({"since": ""}, "since"),
    ],
)
async def test_bad_parameters_are_422(api: Api, query: dict[str, str], field: str) -> None:
    made = await project(api)
    response = await api.call("GET", watch_path(made, "dev"), headers=made.admin, params=query)
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    assert detail["field"] == field
    assert query[field] not in detail["message"] or not query[field]


async def test_shutdown_ends_a_pending_poll_at_once(api: Api) -> None:
    made = await project(api)
    token = (await watch(api, made, "dev"))["token"]
    waiting = asyncio.create_task(watch(api, made, "dev", since=token, timeout=30))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    api.services.watch.close()
    assert await asyncio.wait_for(waiting, 2) == {"token": token, "changed": False}
    assert time.monotonic() - started < 1
    closed = await api.call("GET", watch_path(made, "dev"), headers=made.admin)
    assert closed.status_code == 503
    assert closed.headers["retry-after"] == "1"


async def test_waiters_are_bounded(api: Api) -> None:
    made = await project(api)
    token = (await watch(api, made, "dev"))["token"]
    feed = api.services.watch
    feed._limit = 2  # a small bound, not a thousand requests
    waiting = [
        asyncio.create_task(watch(api, made, "dev", since=token, timeout=30)) for _ in range(2)
    ]
    await asyncio.sleep(0.3)
    refused = await api.call(
        "GET", watch_path(made, "dev"), headers=made.admin, params={"since": token}
    )
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "5"
    await put(api, made, "dev", "API_KEY", "value-three-1234")
    for task in waiting:
        assert (await asyncio.wait_for(task, 5))["changed"] is True


class _Failing:
    def __init__(self) -> None:
        self.calls = 0

    async def stream_versions(self, streams: Any) -> dict[str, int]:
        self.calls += 1
        if self.calls < 3:
            raise OSError("the database went away")
        return dict.fromkeys(streams, 7)


async def test_a_failing_store_does_not_end_the_poller(caplog: pytest.LogCaptureFixture) -> None:
    store = _Failing()
    feed = ChangeFeed(store, every=0.05)
    moved = await feed.wait({"env:x": 1}, within=5)
    assert moved == {"env:x": 7}
    assert store.calls == 3
    said = [r.getMessage() for r in caplog.records if r.name == "sigillo.watch"]
    assert len([line for line in said if "failed" in line]) == 1  # said once, not per round
    assert any("works again" in line for line in said)
    feed.close()


async def test_the_memory_store_answers_many_versions_and_wakes_a_waiter() -> None:
    store = MemoryEventStore()
    await store.append("org:a", None, [new(OrgCreated(new_id(), "A"))])
    assert await store.stream_versions(["org:a", "org:b"]) == {"org:a": 1, "org:b": 0}
    feed = ChangeFeed(store, every=0.05)
    quiet = await feed.wait({"org:a": 1, "org:b": 0}, within=0.3)
    assert quiet is None  # nothing moved
    waiting = asyncio.create_task(feed.wait({"org:a": 1, "org:b": 0}, within=5))
    await asyncio.sleep(0.1)
    await store.append("org:b", None, [new(OrgCreated(new_id(), "B"))])
    assert await asyncio.wait_for(waiting, 2) == {"org:a": 1, "org:b": 1}
    feed.close()
    assert await feed.wait({"org:a": 1}, within=5) is None  # closed: at once
