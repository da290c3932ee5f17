"""One secret's history and the diff (issue 17), through the API, on both databases.

History: every set, delete and kind change, oldest first, who (a user's email, a token's
name) and when; values only with `show_values=true`, recorded first as one read (how
`history`, the versions read). Diff: two environments, or one at two moments; values only
when asked, and telling changed from unchanged is recorded as a `compare` read.
"""

from __future__ import annotations

from typing import Any

import pytest

from sigillo.domain.events import SecretsRead
from sigillo.domain.streams import environment_stream, reads_stream
from tests.api.conftest import Api
from tests.api.helpers import Project, bearer, create_token, project

pytestmark = pytest.mark.asyncio


def env_path(made: Project, environment: str, rest: str) -> str:
    return f"/api/v0/projects/{made.id}/environments/{environment}{rest}"


async def put(api: Api, made: Project, secrets: dict[str, Any], environment: str = "dev") -> None:
    response = await api.call(
        "PUT", made.path(environment), headers=made.admin, json={"secrets": secrets}
    )
    assert response.status_code == 200, response.text


async def reads(api: Api, made: Project, environment: str = "dev") -> list[SecretsRead]:
    stream = reads_stream(made.environments[environment])
    found = [r.event for r in await api.services.store.read_stream(stream)]
    return [event for event in found if isinstance(event, SecretsRead)]


async def last_event_id(api: Api, made: Project, environment: str = "dev") -> str:
    stream = environment_stream(made.environments[environment])
    return (await api.services.store.read_stream(stream))[-1].event_id


async def test_history_lists_sets_deletes_and_kind_changes_with_their_authors(api: Api) -> None:
    made = await project(api)
    token = await create_token(api, made, name="deployer", access="read-write")
    robot = bearer(token["key"])
    await put(api, made, {"API_KEY": "first"})
    response = await api.call(
        "PUT", made.path("dev"), headers=robot, json={"secrets": {"API_KEY": "second"}}
    )
    assert response.status_code == 200, response.text
    kinds = env_path(made, "dev", "/secret-kinds")
    marked = await api.call(
        "PATCH", kinds, headers=made.admin, json={"kinds": {"API_KEY": "plain"}}
    )
    assert marked.status_code == 200, marked.text
    deleted = await api.call("DELETE", made.path("dev", "/API_KEY"), headers=robot)
    assert deleted.status_code == 200, deleted.text

    response = await api.call("GET", made.path("dev", "/API_KEY/history"), headers=made.admin)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert document["name"] == "API_KEY"
    assert document["valuesShown"] is False
    entries = document["entries"]
    assert [e["operation"] for e in entries] == ["set", "set", "kind", "delete"]
    assert [e["version"] for e in entries] == [1, 2, 3, 4]
    assert [e["actor"]["kind"] for e in entries] == ["user", "token", "user", "token"]
    assert entries[1]["actor"]["name"] == "deployer"
    assert entries[0]["actor"]["name"].endswith("@example.com")  # the user's email
    assert entries[2]["kind"] == "plain"
    assert entries[2]["previousKind"] == "secret"
    assert all("value" not in e for e in entries)
    assert all(e["time"].endswith("Z") and e["at"] > 0 for e in entries)
    assert await reads(api, made) == []  # no value left: no read recorded


async def test_show_values_is_one_audited_read_of_exactly_those_versions(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"OTHER": "x"})
    await put(api, made, {"DB_URL": "postgres://one"})
    await put(api, made, {"DB_URL": ""})
    gone = await api.call("DELETE", made.path("dev", "/DB_URL"), headers=made.admin)
    assert gone.status_code == 200
    response = await api.call(
        "GET",
        made.path("dev", "/DB_URL/history"),
        headers=made.admin,
        params={"show_values": "true"},
    )
    assert response.status_code == 200, response.text
    entries = response.json()["entries"]
    assert [e.get("value") for e in entries] == ["postgres://one", "", None]
    [read] = await reads(api, made)
    assert (read.names, read.how, read.versions) == (["DB_URL"], "history", [2, 3])
    log = await api.call("GET", env_path(made, "dev", "/events"), headers=made.admin)
    [shown] = [e for e in log.json()["events"] if e.get("how") == "history"]
    assert (shown["names"], shown["versions"]) == (["DB_URL"], [2, 3])


async def test_history_of_an_unknown_or_invalid_name(api: Api) -> None:
    made = await project(api)
    missing = await api.call("GET", made.path("dev", "/NEVER/history"), headers=made.admin)
    assert missing.status_code == 404
    invalid = await api.call("GET", made.path("dev", "/1BAD/history"), headers=made.admin)
    assert invalid.status_code == 422


async def test_a_secret_named_download_has_a_history_too(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"download": "v"})
    response = await api.call("GET", made.path("dev", "/download/history"), headers=made.admin)
    assert response.status_code == 200, response.text
    assert [e["operation"] for e in response.json()["entries"]] == ["set"]


async def test_a_token_scoped_to_dev_cannot_read_the_past_of_prod(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"SECRET": "dev"}, "dev")
    await put(api, made, {"SECRET": "prod"}, "prod")
    scoped = await create_token(api, made, environmentId="dev")
    headers = bearer(scoped["key"])
    allowed = await api.call("GET", made.path("dev", "/SECRET/history"), headers=headers)
    assert allowed.status_code == 200  # a read-only token reads history
    refused = await api.call("GET", made.path("prod", "/SECRET/history"), headers=headers)
    assert refused.status_code == 403
    moment = await last_event_id(api, made, "prod")
    for params in ({"to": "prod"}, {"to": "prod", "to_at": moment}):
        diffed = await api.call(
            "GET", env_path(made, "dev", "/diff"), headers=headers, params=params
        )
        assert diffed.status_code == 403, params
    past = await api.call(
        "GET", env_path(made, "prod", "/diff"), headers=headers, params={"from_at": moment}
    )
    assert past.status_code == 403
    assert await reads(api, made, "prod") == []


async def test_diff_of_two_environments(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"ONLY_DEV": "1", "SAME": "same", "DIFFERENT": "dev", "KIND": "k"}, "dev")
    await put(
        api,
        made,
        {
            "SAME": "same",
            "DIFFERENT": "prod",
            "ONLY_PROD": "4",
            "KIND": {"value": "k", "kind": "plain"},
        },
        "prod",
    )
    response = await api.call(
        "GET", env_path(made, "dev", "/diff"), headers=made.admin, params={"to": "prod"}
    )
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["from"]["slug"] == "dev"
    assert document["to"]["slug"] == "prod"
    assert "at" not in document["from"]
    assert document["valuesShown"] is False
    statuses = {e["name"]: e["status"] for e in document["entries"]}
    assert statuses == {
        "DIFFERENT": "changed",
        "KIND": "unchanged",
        "ONLY_DEV": "removed",
        "ONLY_PROD": "added",
        "SAME": "unchanged",
    }
    assert [e["name"] for e in document["entries"]] == sorted(statuses)
    kind = next(e for e in document["entries"] if e["name"] == "KIND")
    assert (kind["fromKind"], kind["toKind"]) == ("secret", "plain")
    assert all("fromValue" not in e and "toValue" not in e for e in document["entries"])
    # Telling changed from unchanged opened the values of the names on both sides.
    for environment in ("dev", "prod"):
        [read] = await reads(api, made, environment)
        assert (read.how, read.names) == ("compare", ["DIFFERENT", "KIND", "SAME"])


async def test_diff_shows_values_only_when_asked_and_records_them(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "dev-a", "B": "b"}, "dev")
    await put(api, made, {"A": "prod-a", "C": "c"}, "prod")
    response = await api.call(
        "GET",
        env_path(made, "dev", "/diff"),
        headers=made.admin,
        params={"to": "prod", "show_values": "true"},
    )
    assert response.status_code == 200, response.text
    entries = {e["name"]: e for e in response.json()["entries"]}
    assert (entries["A"]["fromValue"], entries["A"]["toValue"]) == ("dev-a", "prod-a")
    assert "toValue" not in entries["B"]
    assert entries["C"]["toValue"] == "c"
    [dev_read] = await reads(api, made, "dev")
    [prod_read] = await reads(api, made, "prod")
    assert (dev_read.how, dev_read.names) == ("diff", ["A", "B"])
    assert (prod_read.how, prod_read.names) == ("diff", ["A", "C"])


async def test_diff_of_one_environment_at_two_moments(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1", "B": "1", "GONE": "x"})
    first = await last_event_id(api, made)
    await put(api, made, {"A": "2", "NEW": "n"})
    await put(api, made, {"B": "1"})  # set again to the same value: unchanged
    gone = await api.call("DELETE", made.path("dev", "/GONE"), headers=made.admin)
    assert gone.status_code == 200
    second = await last_event_id(api, made)
    path = env_path(made, "dev", "/diff")
    then_now = await api.call("GET", path, headers=made.admin, params={"from_at": first})
    assert then_now.status_code == 200, then_now.text
    document = then_now.json()
    assert document["from"]["at"] == first
    assert "at" not in document["to"]
    statuses = {e["name"]: e["status"] for e in document["entries"]}
    assert statuses == {"A": "changed", "B": "unchanged", "GONE": "removed", "NEW": "added"}
    both = await api.call(
        "GET", path, headers=made.admin, params={"from_at": first, "to_at": second}
    )
    assert {e["name"]: e["status"] for e in both.json()["entries"]} == statuses
    [read, *_] = await reads(api, made)
    assert read.how == "compare"
    assert read.at == first
    same = await api.call("GET", path, headers=made.admin, params={"from_at": second})
    assert {e["status"] for e in same.json()["entries"]} == {"unchanged"}


async def test_bad_moments_are_a_clear_422_and_unknown_ones_404(api: Api) -> None:
    made = await project(api)
    await put(api, made, {"A": "1"})
    path = env_path(made, "dev", "/diff")
    for field, bad in (
        ("from_at", "yesterday"),
        ("to_at", "2026-12-07 09:30"),
        ("from_at", "2026-12-07T09:30:00"),  # no offset
    ):
        response = await api.call("GET", path, headers=made.admin, params={field: bad})
        assert response.status_code == 422, (field, bad)
        [detail] = response.json()["detail"]
        assert detail["field"] == field
        assert "RFC 3339" in detail["message"]
    unknown = await api.call(
        "GET", path, headers=made.admin, params={"from_at": "01JEX7Q7W4T2R3N8M9P0A1B2C3"}
    )
    assert unknown.status_code == 404
    before = await api.call(
        "GET", path, headers=made.admin, params={"from_at": "2001-01-01T00:00:00Z"}
    )
    assert before.status_code == 404
    assert "did not exist yet" in before.json()["error"]
    other = await api.call("GET", path, headers=made.admin, params={"to": "nope"})
    assert other.status_code == 404
