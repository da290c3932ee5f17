"""Secret references (issue 18) through the REST API: `${NAME}`, `${env.NAME}` and
`${project.env.NAME}` resolved by the server at read time (download in every format, get,
the seed routes), `raw=true` for the value as stored, access checked for each referenced
secret as if the reader had read it (scoped tokens, project tokens, other orgs), cycles
and chains deeper than 8 refused naming them, malformed references refused at write with
422, the referenced reads audited, reads of the past resolved at that moment, kinds
carried through references, and the upgrade of an existing database (values set before
it stay literal, also when rolled back to).

Every test runs on SQLite and PostgreSQL (the `api` fixture). Every secret value here
holds VALUE_MARK, and no error answer may hold it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest

from sigillo.domain.events import Actor, SecretsRead
from sigillo.domain.formats import render
from sigillo.domain.moments import Moment
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.server import create_app, open_services
from sigillo.settings import Settings
from sigillo.store.database import open_database
from tests.api.conftest import Api
from tests.api.helpers import Project, actor_of, add_member, bearer, create_token, project

pytestmark = pytest.mark.asyncio

VALUE_MARK = "zq-ref-value"
PW = f"{VALUE_MARK}-pw-s3cr3t"
ESCAPE = "write $${ for a literal ${"
FORMS = "(${NAME}, ${env.NAME} or ${project.env.NAME})"


# -- helpers ---------------------------------------------------------------------------


async def put(
    api: Api,
    made: Project,
    environment: str,
    secrets: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    response = await api.call(
        "PUT", made.path(environment), headers=headers or made.admin, json={"secrets": secrets}
    )
    assert response.status_code == 200, response.text


async def plain(api: Api, made: Project, environment: str, *names: str) -> None:
    response = await api.call(
        "PATCH",
        f"/api/v0/projects/{made.id}/environments/{environment}/secret-kinds",
        headers=made.admin,
        json={"kinds": dict.fromkeys(names, "plain")},
    )
    assert response.status_code == 200, response.text


async def download(
    api: Api,
    made: Project,
    environment: str = "dev",
    headers: dict[str, str] | None = None,
    **q: str,
) -> httpx.Response:
    return await api.client.get(
        made.path(environment, "/download"), headers=headers or made.admin, params=q
    )


async def downloaded(
    api: Api,
    made: Project,
    environment: str = "dev",
    headers: dict[str, str] | None = None,
    **q: str,
) -> Any:
    response = await download(api, made, environment, headers, **q)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json() if q.get("format", "json").startswith("json") else response.text


async def get(
    api: Api,
    made: Project,
    name: str,
    environment: str = "dev",
    headers: dict[str, str] | None = None,
    **q: str,
) -> httpx.Response:
    response: httpx.Response = await api.call(
        "GET", made.path(environment, f"/{name}"), headers=headers or made.admin, params=q
    )
    return response


async def value(api: Api, made: Project, name: str, environment: str = "dev", **q: str) -> str:
    response = await get(api, made, name, environment, None, **q)
    assert response.status_code == 200, response.text
    found: str = response.json()["value"]
    return found


def broken(response: httpx.Response, message: str, *values: str) -> None:
    """A 409 `{"error": message}` holding none of `values` (nor any secret of this file)."""
    assert response.status_code == 409, response.text
    assert response.json() == {"error": message}
    assert VALUE_MARK not in response.text
    for held in values:
        assert held not in response.text


async def reads_of(api: Api, environment_id: str) -> list[tuple[Actor, SecretsRead]]:
    found = []
    for recorded in await api.services.store.read_stream(reads_stream(environment_id)):
        assert isinstance(recorded.event, SecretsRead)
        found.append((recorded.actor, recorded.event))
    return found


def seed(environment_id: str, rest: str = "") -> str:
    return f"/api/environments/{environment_id}/secrets{rest}"


async def key(api: Api, made: Project, **body: Any) -> dict[str, str]:
    return bearer((await create_token(api, made, **body))["key"])


async def url_scene(api: Api) -> Project:
    """dev: HOST, URL (prod's PW and HOST), LIT (an escape); prod: PW."""
    made = await project(api)
    await put(api, made, "prod", {"PW": PW})
    await put(
        api,
        made,
        "dev",
        {"HOST": "db.internal", "URL": "pg://u:${prod.PW}@${HOST}/x", "LIT": "a $${HOME} b"},
    )
    return made


RESOLVED_URL = f"pg://u:{PW}@db.internal/x"


# -- resolution ------------------------------------------------------------------------


async def test_download_resolves_references_in_every_format(api: Api) -> None:
    made = await url_scene(api)
    expected = [("HOST", "db.internal"), ("URL", RESOLVED_URL), ("LIT", "a ${HOME} b")]
    assert await downloaded(api, made) == dict(expected)
    for format in ("env", "env-no-quotes", "yaml", "shell", "docker", "xargs"):
        response = await download(api, made, format=format)
        assert response.status_code == 200, (format, response.text)
        assert response.content == render(format, expected).body, format
    kinds = await downloaded(api, made, format="json-kinds")
    assert kinds == {
        "HOST": {"value": "db.internal", "kind": "secret"},
        "URL": {"value": RESOLVED_URL, "kind": "secret", "parts": [PW, "db.internal"]},
        "LIT": {"value": "a ${HOME} b", "kind": "secret"},
    }
    # The seed README's route by environment id answers the same bytes.
    dev = made.environments["dev"]
    for format in ("json", "env", "json-kinds"):
        by_id = await api.client.get(
            seed(dev, "/download"), headers=made.admin, params={"format": format}
        )
        v0 = await download(api, made, format=format)
        assert by_id.status_code == 200, by_id.text
        assert by_id.content == v0.content, format


async def test_get_resolves_and_raw_answers_the_value_as_stored(api: Api) -> None:
    made = await url_scene(api)
    assert await value(api, made, "URL") == RESOLVED_URL
    assert await value(api, made, "URL", raw="true") == "pg://u:${prod.PW}@${HOST}/x"
    assert await value(api, made, "LIT") == "a ${HOME} b"
    assert await value(api, made, "LIT", raw="true") == "a $${HOME} b"
    assert await value(api, made, "HOST", raw="true") == "db.internal"
    response = await get(api, made, "URL", raw="false")
    assert response.json()["value"] == RESOLVED_URL
    assert response.headers["cache-control"] == "no-store"


async def test_a_raw_get_opens_and_records_no_referenced_secret(api: Api) -> None:
    made = await url_scene(api)
    await value(api, made, "URL", raw="true")
    assert await reads_of(api, made.environments["prod"]) == []
    [(_, read)] = await reads_of(api, made.environments["dev"])
    assert (read.names, read.how) == (["URL"], "get")


async def test_changing_the_referenced_secret_changes_every_reader(api: Api) -> None:
    made = await url_scene(api)
    await put(api, made, "preview", {"ALSO": "${prod.PW}!"})
    assert await value(api, made, "ALSO", "preview") == PW + "!"
    await put(api, made, "prod", {"PW": f"{VALUE_MARK}-rotated"})
    assert await value(api, made, "URL") == f"pg://u:{VALUE_MARK}-rotated@db.internal/x"
    assert await value(api, made, "ALSO", "preview") == f"{VALUE_MARK}-rotated!"
    assert (await downloaded(api, made))["URL"] == f"pg://u:{VALUE_MARK}-rotated@db.internal/x"
    await put(api, made, "dev", {"HOST": "db2"})
    assert await value(api, made, "URL") == f"pg://u:{VALUE_MARK}-rotated@db2/x"


async def test_references_reach_other_projects_of_the_org_by_name_or_id(api: Api) -> None:
    made = await project(api)
    billing = await project(api, made.admin, org_id=made.org_id, name="Billing")
    dotted = await project(api, made.admin, org_id=made.org_id, name="acme.api.v2")
    await put(api, billing, "prod", {"KEY": "billing-key"})
    await put(api, dotted, "preview", {"KEY": "dotted-key"})
    await put(
        api,
        made,
        "dev",
        {
            "BY_NAME": "${Billing.prod.KEY}",
            "BY_ID": f"${{{billing.id}.prod.KEY}}",
            "DOTTED": "${acme.api.v2.preview.KEY}",
            "ENV_BY_ID": f"${{Billing.{billing.environments['prod']}.KEY}}",
        },
    )
    assert await downloaded(api, made) == {
        "BY_NAME": "billing-key",
        "BY_ID": "billing-key",
        "DOTTED": "dotted-key",
        "ENV_BY_ID": "billing-key",
    }
    # The other project's reads are recorded in its own environment's log.
    [(actor, read)] = await reads_of(api, billing.environments["prod"])
    assert (actor, read.names, read.how) == (made.admin_actor, ["KEY"], "download")


async def test_references_chain_through_secrets_that_hold_references(api: Api) -> None:
    made = await project(api)
    await put(api, made, "prod", {"USER": "app", "PW": PW, "CRED": "${USER}:${PW}"})
    await put(api, made, "preview", {"DSN": "pg://${prod.CRED}@h"})
    await put(api, made, "dev", {"URL": "${preview.DSN}/db", "AGAIN": "${URL}|${URL}"})
    assert await value(api, made, "URL") == f"pg://app:{PW}@h/db"
    assert await value(api, made, "AGAIN") == f"pg://app:{PW}@h/db|pg://app:{PW}@h/db"


async def test_an_empty_referenced_value_resolves_to_nothing(api: Api) -> None:
    made = await project(api)
    await put(api, made, "dev", {"EMPTY": "", "X": "<${EMPTY}>"})
    assert await value(api, made, "X") == "<>"


# -- kinds -----------------------------------------------------------------------------


async def test_a_value_holding_a_secret_is_a_secret_and_lists_its_parts(api: Api) -> None:
    made = await project(api)
    await put(api, made, "prod", {"PW": PW, "REGION": "eu-west-1"})
    await plain(api, made, "prod", "REGION")
    await put(
        api,
        made,
        "dev",
        {
            "PLAIN_ONLY": "region=${prod.REGION}",
            "PLAIN_WITH_SECRET": "pw=${prod.PW} in ${prod.REGION}",
            "SECRET_WITH_PLAIN": "r=${prod.REGION}",
            "NESTED": "[${PLAIN_WITH_SECRET}]",
        },
    )
    await plain(api, made, "dev", "PLAIN_ONLY", "PLAIN_WITH_SECRET", "NESTED")
    kinds = await downloaded(api, made, format="json-kinds")
    assert kinds["PLAIN_ONLY"] == {"value": "region=eu-west-1", "kind": "plain"}
    assert kinds["PLAIN_WITH_SECRET"] == {
        "value": f"pw={PW} in eu-west-1",
        "kind": "secret",
        "parts": [PW],
    }
    assert kinds["SECRET_WITH_PLAIN"] == {"value": "r=eu-west-1", "kind": "secret"}
    # Through a plain value that holds a secret: both the secret and the value holding it.
    assert kinds["NESTED"] == {
        "value": f"[pw={PW} in eu-west-1]",
        "kind": "secret",
        "parts": [PW, f"pw={PW} in eu-west-1"],
    }
    # The listing says the kind it reads as (told from kinds and plain values alone), so a
    # client that trusts it (the CLI's agent-shell guard) does not print it.
    listed = (await api.call("GET", made.path("dev"), headers=made.admin)).json()["secrets"]
    assert {i["name"]: i["kind"] for i in listed}["PLAIN_WITH_SECRET"] == "secret"


async def test_get_of_a_plain_value_holding_a_secret_answers_kind_secret(api: Api) -> None:
    made = await project(api)
    await put(api, made, "prod", {"PW": PW})
    await put(api, made, "dev", {"URL": "u:${prod.PW}"})
    await plain(api, made, "dev", "URL")
    response = await get(api, made, "URL")
    assert response.json()["value"] == f"u:{PW}"
    assert response.json()["kind"] == "secret"


# -- access ----------------------------------------------------------------------------


async def test_a_token_scoped_to_dev_cannot_pull_prod_through_a_reference(api: Api) -> None:
    made = await url_scene(api)
    scoped = await key(api, made, environmentId="dev")
    message = "${prod.PW}: not readable with this credential (in URL)"
    broken(await get(api, made, "URL", headers=scoped), message)
    broken(await download(api, made, headers=scoped), message)
    broken(await download(api, made, headers=scoped, format="json-kinds"), message)
    broken(
        await api.client.get(seed(made.environments["dev"], "/download"), headers=scoped), message
    )
    assert await reads_of(api, made.environments["prod"]) == []  # nothing of prod was read
    # Its own environment's references resolve; raw is the value as stored.
    await put(api, made, "dev", {"URL": "pg://${HOST}"})
    assert (await get(api, made, "URL", headers=scoped)).json()["value"] == "pg://db.internal"
    await put(api, made, "dev", {"URL": "pg://${prod.PW}"})
    raw = await get(api, made, "URL", headers=scoped, raw="true")
    assert (raw.status_code, raw.json()["value"]) == (200, "pg://${prod.PW}")
    # A token scoped to prod reads prod, not dev through prod's values.
    await put(api, made, "prod", {"BACK": "${dev.HOST}"})
    prod_token = await key(api, made, environmentId="prod")
    broken(
        await get(api, made, "BACK", "prod", headers=prod_token),
        "${dev.HOST}: not readable with this credential (in BACK)",
    )


async def test_project_tokens_read_and_write_or_read_only_resolve_their_project(
    api: Api,
) -> None:
    made = await url_scene(api)
    for body in ({"access": "read"}, {"access": "read-write"}):
        token = await key(api, made, **body)
        assert (await downloaded(api, made, headers=token))["URL"] == RESOLVED_URL
        assert (await get(api, made, "URL", headers=token)).json()["value"] == RESOLVED_URL
    # A project token reads its own project only, even of the same org.
    billing = await project(api, made.admin, org_id=made.org_id, name="Billing")
    await put(api, billing, "prod", {"KEY": PW})
    await put(api, made, "dev", {"OTHER": "${Billing.prod.KEY}"})
    token = await key(api, made)
    broken(
        await get(api, made, "OTHER", headers=token),
        "${Billing.prod.KEY}: not readable with this credential (in OTHER)",
    )
    assert await reads_of(api, billing.environments["prod"]) == []
    # The person who made it reads it.
    assert await value(api, made, "OTHER") == PW


async def test_a_member_reads_references_as_the_admin_does(api: Api) -> None:
    made = await url_scene(api)
    member = await api.user("Mo Member")
    await add_member(api, made, member)
    assert (await get(api, made, "URL", headers=member)).json()["value"] == RESOLVED_URL
    [(actor, read)] = await reads_of(api, made.environments["prod"])
    assert actor == await actor_of(api, member)
    assert (read.names, read.how) == (["PW"], "get")


async def test_another_orgs_project_never_resolves_and_is_said_as_a_missing_one(
    api: Api,
) -> None:
    made = await project(api)
    outsider = await api.user("Olga Outsider")
    theirs = await project(api, outsider, name="Vault")
    await put(api, theirs, "prod", {"KEY": PW})
    # The reader is a member of the other org too: it still never resolves from here.
    await add_member(api, theirs, made.admin)
    await put(
        api,
        made,
        "dev",
        {
            "BY_NAME": "${Vault.prod.KEY}",
            "BY_ID": f"${{{theirs.id}.prod.KEY}}",
            "MISSING": "${Nowhere.prod.KEY}",
        },
    )
    said = "no such project, or not readable with this credential"
    broken(await get(api, made, "BY_NAME"), f"${{Vault.prod.KEY}}: {said} (in BY_NAME)")
    broken(await get(api, made, "BY_ID"), f"${{{theirs.id}.prod.KEY}}: {said} (in BY_ID)")
    broken(await get(api, made, "MISSING"), f"${{Nowhere.prod.KEY}}: {said} (in MISSING)")
    broken(await download(api, made), f"${{Vault.prod.KEY}}: {said} (in BY_NAME)")
    assert await reads_of(api, theirs.environments["prod"]) == []
    # Nor through the other org's environment id alone.
    await put(api, made, "dev", {"BY_NAME": "x", "BY_ID": "x", "MISSING": "x"})
    await put(api, made, "dev", {"ENV_ID": f"${{{theirs.environments['prod']}.KEY}}"})
    broken(
        await get(api, made, "ENV_ID"),
        f"${{{theirs.environments['prod']}.KEY}}: no such environment, or not readable with "
        "this credential (in ENV_ID)",
    )
    assert await reads_of(api, theirs.environments["prod"]) == []


async def test_a_project_name_held_by_two_projects_asks_for_the_id(api: Api) -> None:
    made = await project(api)
    one = await project(api, made.admin, org_id=made.org_id, name="Twin")
    await project(api, made.admin, org_id=made.org_id, name="Twin")
    await put(api, one, "prod", {"KEY": "k"})
    await put(api, made, "dev", {"A": "${Twin.prod.KEY}", "B": f"${{{one.id}.prod.KEY}}"})
    response = await get(api, made, "A")
    assert response.status_code == 409, response.text
    assert "several projects are named Twin; use its id" in response.json()["error"]
    assert await value(api, made, "B") == "k"


# -- broken references -----------------------------------------------------------------


async def test_a_missing_name_environment_or_project_is_an_error_naming_it(api: Api) -> None:
    made = await project(api)
    await put(api, made, "prod", {"PW": PW})
    cases = {
        "${NOPE}": "${NOPE} in A: no such secret",
        "${prod.NOPE}": "${prod.NOPE} in A: no such secret",
        "${staging.PW}": (
            "${staging.PW}: no such environment, or not readable with this credential (in A)"
        ),
        "${Nope.prod.PW}": (
            "${Nope.prod.PW}: no such project, or not readable with this credential (in A)"
        ),
        "${My App.staging.PW}": (
            "${My App.staging.PW}: no such environment, or not readable with this credential (in A)"
        ),
    }
    for reference, message in cases.items():
        await put(api, made, "dev", {"A": f"{PW} {reference} {PW}"})
        broken(await get(api, made, "A"), message, PW)
        broken(await download(api, made), message, PW)
        broken(await download(api, made, format="env"), message, PW)
        raw = await get(api, made, "A", raw="true")
        assert raw.json()["value"] == f"{PW} {reference} {PW}"
    # The project's own name reaches it like any other.
    await put(api, made, "dev", {"A": "${My App.prod.PW}"})
    assert await value(api, made, "A") == PW


async def test_a_deleted_secret_breaks_its_readers_and_one_broken_value_fails_a_download(
    api: Api,
) -> None:
    made = await url_scene(api)
    assert (await downloaded(api, made))["URL"] == RESOLVED_URL
    response = await api.call("DELETE", made.path("prod", "/PW"), headers=made.admin)
    assert response.status_code == 200
    broken(await get(api, made, "URL"), "${prod.PW} in URL: no such secret")
    broken(await download(api, made), "${prod.PW} in URL: no such secret")
    # HOST and LIT alone still read.
    assert await value(api, made, "HOST") == "db.internal"


async def test_cycles_are_errors_naming_the_cycle(api: Api) -> None:
    made = await project(api)
    await put(api, made, "dev", {"SELF": f"{PW}${{SELF}}"})
    broken(await get(api, made, "SELF"), "reference cycle: dev.SELF → dev.SELF", PW)
    broken(await download(api, made), "reference cycle: dev.SELF → dev.SELF", PW)
    await put(api, made, "dev", {"SELF": "x", "A": "${B}", "B": f"{PW}${{A}}"})
    broken(await get(api, made, "A"), "reference cycle: dev.A → dev.B → dev.A")
    broken(await get(api, made, "B"), "reference cycle: dev.B → dev.A → dev.B")
    broken(await download(api, made), "reference cycle: dev.A → dev.B → dev.A")
    await put(api, made, "dev", {"A": "a", "B": "b", "X": "${prod.Y}"})
    await put(api, made, "prod", {"Y": "${preview.Z}"})
    await put(api, made, "preview", {"Z": f"{PW}${{dev.X}}"})
    three = "reference cycle: dev.X → prod.Y → preview.Z → dev.X"
    broken(await get(api, made, "X"), three)
    broken(await download(api, made), three)
    broken(
        await get(api, made, "Z", "preview"),
        "reference cycle: preview.Z → dev.X → prod.Y → preview.Z",
    )
    # A value reached twice without a cycle is no cycle.
    await put(api, made, "preview", {"Z": "z"})
    await put(api, made, "dev", {"D": "${X}${X}${prod.Y}"})
    assert await value(api, made, "D") == "zzz"


def chain(names: list[str]) -> dict[str, str]:
    """names[0] refers to names[1] … the last is `end`."""
    found = {a: f"${{{b}}}+" for a, b in itertools.pairwise(names)}
    return {**found, names[-1]: "end"}


async def test_a_chain_of_eight_references_resolves_and_of_nine_is_an_error(api: Api) -> None:
    made = await project(api)
    eight = [f"E{i}" for i in range(9)]  # E0 → E1 → … → E8: eight references deep
    await put(api, made, "dev", chain(eight))
    assert await value(api, made, "E0") == "end" + "+" * 8
    assert (await downloaded(api, made))["E0"] == "end" + "+" * 8
    nine = [f"N{i}" for i in range(10)]  # N0 → … → N9: nine deep
    await put(api, made, "dev", chain(nine))
    path = " → ".join(f"dev.{n}" for n in nine)
    broken(await get(api, made, "N0"), f"references deeper than 8: {path}")
    broken(await download(api, made), f"references deeper than 8: {path}")
    assert await value(api, made, "N1") == "end" + "+" * 8  # from N1 it is eight deep
    # Longer still is the same error, naming the chain as far as it was followed.
    longer = [f"L{i}" for i in range(14)]
    await put(api, made, "dev", {**dict.fromkeys(nine, "x"), **chain(longer)})
    response = await get(api, made, "L0")
    assert response.status_code == 409, response.text
    assert response.json()["error"].startswith("references deeper than 8: dev.L0 → dev.L1 → ")


async def test_a_chain_across_environments_counts_the_same(api: Api) -> None:
    made = await project(api)
    slugs = ["dev", "prod", "preview"]
    # hop i lives in slugs[i % 3]; each refers to the next in the next environment
    for i in range(10):
        here, there = slugs[i % 3], slugs[(i + 1) % 3]
        text = f"${{{there}.H{i + 1}}}." if i < 9 else "end"
        await put(api, made, here, {f"H{i}": text})
    assert await value(api, made, "H1", "prod") == "end" + "." * 8
    path = " → ".join(f"{slugs[i % 3]}.H{i}" for i in range(10))
    broken(await get(api, made, "H0"), f"references deeper than 8: {path}")


# -- write time ------------------------------------------------------------------------


async def test_a_malformed_reference_is_refused_at_write_with_the_escape(api: Api) -> None:
    made = await project(api)
    await put(api, made, "dev", {"KEEP": "kept"})
    for bad, shown in (
        ("${a b}", "${a b}"),
        ("${HOME:-/root}", "${HOME:-/root}"),
        ("${}", "${}"),
        ("${1X}", "${1X}"),
    ):
        body = {"secrets": {"OK": "fine", "BAD": f"{PW} {bad}"}}
        response = await api.call("PUT", made.path("dev"), headers=made.admin, json=body)
        assert response.status_code == 422, response.text
        assert PW not in response.text
        [detail] = response.json()["detail"]
        assert detail["field"] == "BAD"
        assert detail["message"] == (f"holds {shown}, which is not a reference {FORMS}: {ESCAPE}")
    unclosed = await api.call(
        "POST", made.path("dev"), headers=made.admin, json={"name": "ONE", "value": "x ${HOME"}
    )
    assert unclosed.status_code == 422, unclosed.text
    [detail] = unclosed.json()["detail"]
    assert detail["field"] == "ONE"
    assert "(no closing })" in detail["message"]
    assert ESCAPE in detail["message"]
    # Nothing was written: the whole write is refused.
    listed = (await api.call("GET", made.path("dev"), headers=made.admin)).json()["secrets"]
    assert [item["name"] for item in listed] == ["KEEP"]
    # The seed route refuses it the same way.
    seeded = await api.call(
        "POST",
        seed(made.environments["dev"]),
        headers=made.admin,
        json={"name": "ONE", "value": "${a b}"},
    )
    assert seeded.status_code == 422, seeded.text
    # Escaped, it is accepted and reads as written; a reference to a missing name is
    # accepted (it may be written later) and breaks only reads.
    await put(api, made, "dev", {"ESC": "$${a b} $${HOME:-/root}", "LATER": "${NOT_YET}"})
    assert await value(api, made, "ESC") == "${a b} ${HOME:-/root}"
    broken(await get(api, made, "LATER"), "${NOT_YET} in LATER: no such secret")
    await put(api, made, "dev", {"NOT_YET": "now"})
    assert await value(api, made, "LATER") == "now"


async def test_escapes_read_as_literal_text(api: Api) -> None:
    made = await project(api)
    await put(
        api,
        made,
        "dev",
        {
            "HOME": "h",
            "A": "$${HOME}",
            "B": "$$${HOME}",
            "C": "$$ {HOME} $HOME",
            "D": "$${${HOME}}",
        },
    )
    assert await downloaded(api, made) == {
        "HOME": "h",
        "A": "${HOME}",
        "B": "$${HOME}",
        "C": "$$ {HOME} $HOME",
        "D": "${h}",
    }
    assert await value(api, made, "B", raw="true") == "$$${HOME}"


# -- audit -----------------------------------------------------------------------------


async def test_a_read_records_the_referenced_secrets_as_read_the_same_way(api: Api) -> None:
    made = await url_scene(api)
    dev, prod = made.environments["dev"], made.environments["prod"]
    await value(api, made, "URL")
    [(actor, read)] = await reads_of(api, prod)
    assert (actor, read.environment_id, read.names, read.how, read.at) == (
        made.admin_actor,
        prod,
        ["PW"],
        "get",
        None,
    )
    dev_reads = [(a, r.names, r.how) for a, r in await reads_of(api, dev)]
    assert dev_reads == [(made.admin_actor, ["URL"], "get"), (made.admin_actor, ["HOST"], "get")]
    await downloaded(api, made)
    [_, (actor, read)] = await reads_of(api, prod)
    assert (actor, read.names, read.how) == (made.admin_actor, ["PW"], "download")
    # By a token: the token is who read prod.
    created = await create_token(api, made)
    await downloaded(api, made, headers=bearer(created["key"]))
    [*_, (token_actor, read)] = await reads_of(api, prod)
    assert token_actor == Actor("token", created["id"])
    assert (read.names, read.how) == (["PW"], "download")
    [*_, (dev_actor, _)] = await reads_of(api, dev)
    assert dev_actor == token_actor
    # The audit log over the API shows the read of prod.
    log = await api.client.get(
        f"/api/v0/projects/{made.id}/environments/prod/events", headers=made.admin
    )
    assert log.status_code == 200, log.text
    entries = [e for e in log.json()["events"] if e["type"] == "secrets.read"]
    assert len(entries) == 3
    assert all(e["names"] == ["PW"] for e in entries)


async def test_a_value_without_references_records_no_other_read(api: Api) -> None:
    made = await url_scene(api)
    await value(api, made, "HOST")
    await value(api, made, "LIT")  # an escape is no reference
    assert await reads_of(api, made.environments["prod"]) == []
    assert len(await reads_of(api, made.environments["dev"])) == 2


# -- the past --------------------------------------------------------------------------


async def pause() -> None:
    await asyncio.sleep(0.005)


async def test_a_read_of_the_past_resolves_against_that_moment(api: Api) -> None:
    made = await project(api)
    dev, prod = made.environments["dev"], made.environments["prod"]
    await put(api, made, "prod", {"PW": f"{VALUE_MARK}-old"})
    await put(api, made, "dev", {"URL": "u:${prod.PW}"})
    await pause()
    then = (await api.services.store.read_stream(environment_stream(dev)))[-1]
    moment = str(Moment(time=then.occurred_at))
    await pause()
    await put(api, made, "prod", {"PW": f"{VALUE_MARK}-new"})
    await put(api, made, "preview", {"LATER": "l"})
    assert await value(api, made, "URL") == f"u:{VALUE_MARK}-new"
    for at in (moment, then.event_id):
        assert await value(api, made, "URL", at=at) == f"u:{VALUE_MARK}-old", at
        assert (await downloaded(api, made, at=at))["URL"] == f"u:{VALUE_MARK}-old"
        kinds = await downloaded(api, made, at=at, format="json-kinds")
        assert kinds["URL"]["parts"] == [f"{VALUE_MARK}-old"]
    # The referenced read of the past is audited with its moment and the same `how`.
    reads = [(r.names, r.how, r.at) for _, r in await reads_of(api, prod)]
    assert reads[0] == (["PW"], "get", None)
    assert reads[1:] == [
        (["PW"], "get", moment),
        (["PW"], "download", moment),
        (["PW"], "download", moment),
        (["PW"], "get", then.event_id),
        (["PW"], "download", then.event_id),
        (["PW"], "download", then.event_id),
    ]
    # A value changed since still resolves as it was then; a secret not live then is
    # missing then.
    await put(api, made, "dev", {"URL": "${preview.LATER}"})
    assert await value(api, made, "URL", at=moment) == f"u:{VALUE_MARK}-old"
    assert await value(api, made, "URL") == "l"
    await pause()
    await put(api, made, "dev", {"URL2": "${prod.PW}"})
    await api.call("DELETE", made.path("prod", "/PW"), headers=made.admin)
    broken(await get(api, made, "URL2"), "${prod.PW} in URL2: no such secret")
    later = (await api.services.store.read_stream(environment_stream(dev)))[-1].event_id
    assert await value(api, made, "URL2", at=later) == f"{VALUE_MARK}-new"


async def test_a_read_of_the_past_misses_what_did_not_exist_then(api: Api) -> None:
    made = await project(api)
    await put(api, made, "dev", {"URL": "${prod.PW}"})
    await pause()
    moment = str(Moment(time=(await api.services.store.read_all(0, 10**6))[-1].occurred_at))
    await pause()
    await put(api, made, "prod", {"PW": PW})
    assert await value(api, made, "URL") == PW
    broken(await get(api, made, "URL", at=moment), "${prod.PW} in URL: no such secret")
    # An environment made after the moment is not there then either.
    created = await api.call(
        "POST",
        f"/api/v0/projects/{made.id}/environments",
        headers=made.admin,
        json={"name": "Staging", "slug": "staging"},
    )
    assert created.status_code == 200, created.text
    await put(api, made, "staging", {"S": "s"})
    await put(api, made, "dev", {"NEW": "${staging.S}"})
    await pause()
    now = str(Moment(time=(await api.services.store.read_all(0, 10**6))[-1].occurred_at))
    assert await value(api, made, "NEW", at=now) == "s"


# -- the upgrade of an existing database -----------------------------------------------


class Started:
    """The server's services and an API client over them, on a database kept between starts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @asynccontextmanager
    async def start(self) -> AsyncIterator[Api]:
        services = await open_services(self.settings)
        transport = httpx.ASGITransport(app=create_app(self.settings, services=services))
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", cookies=jar
            ) as client:
                yield Api(client, services)
        finally:
            await services.close()


def server_on(database_url: str, tmp_path: Path) -> Started:
    return Started(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            encryption_key=base64.b64encode(os.urandom(32)).decode(),
            allowed_hosts=("testserver",),
        )
    )


async def forget_reference_start(database_url: str) -> None:
    """The database as the previous release left it: events, and no reference_start row."""
    database = await open_database(database_url)
    try:
        async with database.writing() as tx:
            await tx.execute("DELETE FROM reference_start")
    finally:
        await database.close()


async def reference_start(database_url: str) -> list[tuple[int, int]]:
    database = await open_database(database_url)
    try:
        rows = await database.fetch("SELECT id, since FROM reference_start")
        return [(int(a), int(b)) for a, b in rows]
    finally:
        await database.close()


async def test_a_new_database_reads_every_value_as_a_template(api: Api) -> None:
    assert api.services.references.since == 0
    made = await project(api)
    await put(api, made, "dev", {"A": "a", "B": "${A}"})
    assert await value(api, made, "B") == "a"


async def test_an_existing_database_keeps_its_old_values_literal(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = server_on(database_url, tmp_path)
    async with server.start() as old:
        assert old.services.references.since == 0  # no events yet
        made = await project(old)
        # The previous release stored any text: no reference was checked at write.
        with monkeypatch.context() as patched:
            patched.setattr("sigillo.services.secrets.template", lambda _value: False)
            await put(
                old,
                made,
                "dev",
                {
                    "HOME_LIT": "${HOME}",
                    "SHELL_LIT": "${HOME:-/root}",
                    "NAMED": "${OTHER}",
                    "OTHER": "other",
                    "ESC": "$${X}",
                },
            )
    await forget_reference_start(database_url)
    await asyncio.sleep(0.01)
    before = int(1000 * time.time())
    async with server.start() as new:
        since = new.services.references.since
        after = int(1000 * time.time())
        assert before <= since <= after  # begin_references: now, at this start
        assert await reference_start(database_url) == [(1, since)]
        old_values = {
            "HOME_LIT": "${HOME}",
            "SHELL_LIT": "${HOME:-/root}",
            "NAMED": "${OTHER}",  # even a name that exists: it was written as text
            "OTHER": "other",
            "ESC": "$${X}",
        }
        assert await downloaded(new, made) == old_values
        for name, stored in old_values.items():
            assert await value(new, made, name) == stored
            assert await value(new, made, name, raw="true") == stored
        assert await reads_of(new, made.environments["prod"]) == []
        # Values set after the upgrade resolve, and are checked at write.
        await put(new, made, "dev", {"NEW": "${OTHER}", "NEW_ESC": "$${X}"})
        assert await value(new, made, "NEW") == "other"
        assert await value(new, made, "NEW_ESC") == "${X}"
        response = await new.call(
            "PUT", made.path("dev"), headers=made.admin, json={"secrets": {"B": "${HOME:-x}"}}
        )
        assert response.status_code == 422
        # An old value written again is a template from now on.
        await put(new, made, "dev", {"NAMED": "${OTHER}"})
        assert await value(new, made, "NAMED") == "other"
    # The next start keeps the moment first recorded.
    await asyncio.sleep(0.01)
    async with server.start() as again:
        assert again.services.references.since == since
        assert await value(again, made, "HOME_LIT") == "${HOME}"
        assert await value(again, made, "NEW") == "other"


async def test_rolling_back_to_an_old_value_keeps_it_literal(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = server_on(database_url, tmp_path)
    async with server.start() as old:
        made = await project(old)
        with monkeypatch.context() as patched:
            patched.setattr("sigillo.services.secrets.template", lambda _value: False)
            await put(old, made, "dev", {"HOME_LIT": "${HOME}", "BAD": "${a b}", "OTHER": "o"})
    await forget_reference_start(database_url)
    await asyncio.sleep(0.01)
    async with server.start() as new:
        dev = made.environments["dev"]
        await put(new, made, "dev", {"REF": "${OTHER}"})
        await asyncio.sleep(0.005)
        to = (await new.services.store.read_stream(environment_stream(dev)))[-1].event_id
        await put(new, made, "dev", {"HOME_LIT": "changed", "BAD": "changed", "REF": "changed"})
        assert await value(new, made, "HOME_LIT") == "changed"
        response = await new.call(
            "POST",
            f"/api/v0/projects/{made.id}/environments/dev/rollback",
            headers=made.admin,
            json={"to": to},
        )
        assert response.status_code == 200, response.text
        # The old values are written escaped, so they read as they always did...
        assert await value(new, made, "HOME_LIT", raw="true") == "$${HOME}"
        assert await value(new, made, "BAD", raw="true") == "$${a b}"
        assert await downloaded(new, made) == {
            "HOME_LIT": "${HOME}",
            "BAD": "${a b}",
            "OTHER": "o",
            "REF": "o",
        }
        # ...while a reference set after the upgrade is restored as a reference.
        assert await value(new, made, "REF", raw="true") == "${OTHER}"


async def test_an_old_malformed_value_written_by_other_means_is_broken_not_leaked(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await project(api)
    with monkeypatch.context() as patched:  # as raw SQL or an older writer might have
        patched.setattr("sigillo.services.secrets.template", lambda _value: False)
        await put(api, made, "dev", {"BAD": f"{PW} ${{a b}}"})
    response = await get(api, made, "BAD")
    broken(
        response,
        f"BAD: holds ${{a b}}, which is not a reference {FORMS}: {ESCAPE}",
        PW,
    )
    assert await value(api, made, "BAD", raw="true") == f"{PW} ${{a b}}"


async def test_references_follow_renames_and_deletions_of_what_they_name(api: Api) -> None:
    made = await project(api)
    billing = await project(api, made.admin, org_id=made.org_id, name="Billing")
    await put(api, billing, "prod", {"KEY": "k"})
    await put(api, made, "prod", {"PW": "p"})
    await put(api, made, "dev", {"K": "${Billing.prod.KEY}", "P": "${prod.PW}"})
    assert await downloaded(api, made) == {"K": "k", "P": "p"}
    catalog, actor = api.services.catalog, made.admin_actor
    # A reference names by name and slug: a rename breaks it, the new names reach it.
    await catalog.rename_project(billing.id, "Payments", actor)
    broken(
        await get(api, made, "K"),
        "${Billing.prod.KEY}: no such project, or not readable with this credential (in K)",
    )
    await put(api, made, "dev", {"K": "${Payments.prod.KEY}"})
    assert await value(api, made, "K") == "k"
    prod = made.environments["prod"]
    await catalog.rename_environment(made.id, prod, actor, slug="production")
    broken(
        await get(api, made, "P"),
        "${prod.PW}: no such environment, or not readable with this credential (in P)",
    )
    await put(api, made, "dev", {"P": "${production.PW}"})
    assert await value(api, made, "P") == "p"
    # A deleted environment or project is no longer there.
    await catalog.delete_environment(made.id, prod, actor)
    broken(
        await get(api, made, "P"),
        "${production.PW}: no such environment, or not readable with this credential (in P)",
    )
    await catalog.delete_project(billing.id, actor)
    broken(
        await get(api, made, "K"),
        "${Payments.prod.KEY}: no such project, or not readable with this credential (in K)",
    )


async def test_a_reference_to_a_malformed_value_is_broken_naming_the_reference(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await project(api)
    with monkeypatch.context() as patched:  # as raw SQL or an older writer might have
        patched.setattr("sigillo.services.secrets.template", lambda _value: False)
        await put(api, made, "prod", {"BAD": f"{PW} ${{a b}}"})
    await put(api, made, "dev", {"URL": "x${prod.BAD}"})
    said = f"BAD: holds ${{a b}}, which is not a reference {FORMS}: {ESCAPE}"
    broken(await get(api, made, "URL"), f"${{prod.BAD}} in URL: {said}", PW)
    broken(await download(api, made), f"${{prod.BAD}} in URL: {said}", PW)
