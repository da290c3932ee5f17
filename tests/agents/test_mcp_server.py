"""`sigillo mcp` driven by the MCP SDK's own client over stdio, against a real server:
initialize, list the tools, call each with good and malformed arguments, a read-only
token refused on writes, and the audit log recording the reads as `mcp`."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import pytest

from tests.agents.mcp_support import Mcp, use
from tests.cli.conftest import Project, Server, Sigillo

TOOLS = {
    "list_projects",
    "list_environments",
    "list_secrets",
    "missing_secrets",
    "set_secret",
    "mark_secrets",
    "run_command",
    "run_with_mount",
}


@pytest.fixture
def env(sigillo: Sigillo, cli_server: Server, project: Project) -> dict[str, str]:
    """The MCP server's environment: configured as CI is (SIGILLO_TOKEN, SIGILLO_PROJECT,
    SIGILLO_ENVIRONMENT=dev), HOME the test's."""
    return {
        **sigillo.env,
        "SIGILLO_TOKEN": cli_server.session,
        "SIGILLO_PROJECT": project.id,
        "SIGILLO_ENVIRONMENT": "dev",
    }


def put(
    server: Server, project: Project, environment: str, name: str, value: str, **more: Any
) -> None:
    with server.api() as api:
        done = api.post(
            f"/api/v0/projects/{project.id}/environments/{environment}/secrets",
            json={"name": name, "value": value, **more},
        )
    assert done.status_code == 200, done.text


def listing(server: Server, project: Project, environment: str) -> dict[str, dict[str, Any]]:
    with server.api() as api:
        done = api.get(f"/api/v0/projects/{project.id}/environments/{environment}/secrets")
    assert done.status_code == 200, done.text
    return {item["name"]: item for item in done.json()["secrets"]}


def value_of(server: Server, project: Project, environment: str, name: str) -> str:
    with server.api() as api:
        done = api.get(f"/api/v0/projects/{project.id}/environments/{environment}/secrets/{name}")
    assert done.status_code == 200, done.text
    return str(done.json()["value"])


def test_initialize_and_list_tools(env: dict[str, str], sigillo: Sigillo) -> None:
    async def body(mcp: Mcp) -> dict[str, Any]:
        listed = await mcp.session.list_tools()
        return {tool.name: tool for tool in listed.tools}

    tools = use(env, sigillo.cwd, body)
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description
        assert tool.input_schema["type"] == "object"
    assert tools["set_secret"].input_schema["required"] == ["name", "value"]
    assert tools["run_command"].input_schema["required"] == ["command"]
    assert tools["list_secrets"].annotations.read_only_hint is True


def test_every_tool_with_good_arguments(
    env: dict[str, str], sigillo: Sigillo, cli_server: Server, project: Project
) -> None:
    put(cli_server, project, "dev", "API_KEY", "sk-live-abcdefghijklmnop")
    put(cli_server, project, "dev", "PORT", "3000", kind="plain")
    put(cli_server, project, "prod", "ONLY_PROD", "prod-value-1234")
    put(cli_server, project, "prod", "API_KEY", "sk-prod-abcdefghijklmnop")

    async def body(mcp: Mcp) -> dict[str, dict[str, Any]]:
        return {
            "projects": await mcp.ok("list_projects"),
            "environments": await mcp.ok("list_environments"),
            "secrets": await mcp.ok("list_secrets"),
            "prod": await mcp.ok("list_secrets", {"environment": "prod"}),
            "missing": await mcp.ok("missing_secrets", {"compare_with": "prod"}),
            "set": await mcp.ok("set_secret", {"name": "NEW_KEY", "value": "generated-0123456789"}),
            "set_plain": await mcp.ok(
                "set_secret", {"name": "LOG_LEVEL", "value": "debug", "kind": "plain"}
            ),
            "mark": await mcp.ok("mark_secrets", {"names": ["PORT", "API_KEY"], "kind": "plain"}),
            "mark_back": await mcp.ok(
                "mark_secrets", {"names": ["PORT", "API_KEY"], "kind": "secret"}
            ),
            "run": await mcp.ok(
                "run_command",
                {"command": "echo $API_KEY; echo $LOG_LEVEL; echo to-stderr >&2; exit 3"},
            ),
            "mount": await mcp.ok(
                "run_with_mount",
                {
                    "command": 'test -f "$SIGILLO_MOUNT" && grep -c = "$SIGILLO_MOUNT"',
                    "format": "env",
                },
            ),
            "mount_json": await mcp.ok(
                "run_with_mount",
                {"command": 'cat "$SIGILLO_MOUNT"', "format": "json", "environment": "prod"},
            ),
        }

    got = use(env, sigillo.cwd, body)
    dev = {"id": project.environments["dev"], "slug": "dev", "name": "Dev"}
    expected = {
        "org": {"id": cli_server.org_id, "name": "Acme"},
        "project": {"id": project.id, "name": project.name},
        "environment": dev,
    }
    listed = {p["id"]: p for p in got["projects"]["projects"]}
    assert listed[project.id]["org"] == expected["org"]
    assert got["projects"]["configured"] == {"project": project.id, "environment": "dev"}
    assert [e["slug"] for e in got["environments"]["environments"]] == ["dev", "preview", "prod"]
    assert got["environments"]["actingOn"] == {k: expected[k] for k in ("org", "project")}
    for key in ("secrets", "missing", "set", "set_plain", "mark", "run", "mount"):
        assert got[key]["actingOn"] == expected, key
    assert got["prod"]["actingOn"]["environment"]["slug"] == "prod"
    assert got["mount_json"]["actingOn"]["environment"]["slug"] == "prod"

    secrets = {item["name"]: item for item in got["secrets"]["secrets"]}
    assert secrets["API_KEY"]["kind"] == "secret"
    assert secrets["PORT"]["kind"] == "plain"
    assert secrets["API_KEY"]["lastChanged"].endswith("Z")
    assert got["secrets"]["missingHere"] == ["ONLY_PROD"]
    assert got["missing"]["missing"] == ["ONLY_PROD"]
    assert got["missing"]["onlyHere"] == ["PORT"]
    assert got["missing"]["comparedWith"]["slug"] == "prod"

    assert value_of(cli_server, project, "dev", "NEW_KEY") == "generated-0123456789"
    assert listing(cli_server, project, "dev")["LOG_LEVEL"]["kind"] == "plain"
    assert [c["name"] for c in got["mark"]["changed"]] == ["API_KEY"]
    assert got["mark"]["unchanged"] == ["PORT"]
    assert listing(cli_server, project, "dev")["API_KEY"]["kind"] == "secret"

    run = got["run"]
    assert run["exitStatus"] == 3
    assert run["timedOut"] is False
    assert run["stdout"] == "********\ndebug\n"  # the secret masked, the plain value shown
    assert run["stderr"] == "to-stderr\n"

    mount = got["mount"]
    assert mount["exitStatus"] == 0
    assert mount["stdout"] == "4\n"  # API_KEY, PORT, NEW_KEY, LOG_LEVEL
    assert mount["mount"]["removed"] is True
    assert not os.path.exists(mount["mount"]["path"])
    assert got["mount_json"]["stdout"] == '{"ONLY_PROD":"********","API_KEY":"********"}'


def test_malformed_arguments_are_told_not_crashed(env: dict[str, str], sigillo: Sigillo) -> None:
    calls: list[tuple[str, dict[str, Any], str]] = [
        ("list_environments", {"project": 5}, "project"),
        ("list_secrets", {"environment": ["dev"]}, "environment"),
        ("missing_secrets", {}, "compare_with"),
        ("missing_secrets", {"compare_with": ""}, "compare_with"),
        ("set_secret", {"name": "X"}, "value"),
        ("set_secret", {"name": "X", "value": 12}, "value"),
        ("set_secret", {"name": "X", "value": "v", "kind": "public"}, "kind"),
        ("mark_secrets", {"names": "PORT", "kind": "plain"}, "names"),
        ("mark_secrets", {"names": [], "kind": "plain"}, "names"),
        ("mark_secrets", {"names": ["PORT"]}, "kind"),
        ("run_command", {}, "command"),
        ("run_command", {"command": "true", "timeout_seconds": 100000}, "timeout_seconds"),
        ("run_command", {"command": "true", "timeout_seconds": -1}, "timeout_seconds"),
        ("run_with_mount", {"command": "true", "format": "xml"}, "format"),
    ]

    async def body(mcp: Mcp) -> list[str]:
        texts = []
        for name, arguments, _field in calls:
            answer = await mcp.call(name, arguments)
            assert answer.error, (name, arguments)
            texts.append(answer.text)
        texts.append((await mcp.call("no_such_tool", {})).text)
        # our own checks: a wrong name, an empty command, a missing directory
        ours: list[tuple[str, dict[str, Any]]] = [
            ("set_secret", {"name": "1 not a name", "value": "v"}),
            ("mark_secrets", {"names": ["ok", "bad-name"], "kind": "plain"}),
            ("run_command", {"command": "   "}),
            ("run_command", {"command": "true", "cwd": "/no/such/directory"}),
        ]
        for name, arguments in ours:
            answer = await mcp.call(name, arguments)
            assert answer.error, (name, arguments)
            texts.append(answer.text)
        # and the server still answers
        assert (await mcp.ok("list_secrets"))["secrets"] == []
        return texts

    texts = use(env, sigillo.cwd, body)
    for (name, _arguments, field), text in zip(calls, texts, strict=False):
        assert text.startswith(f"Error executing tool {name}: invalid arguments: "), text
        assert field in text, text
        assert "input_value" not in text  # the rejected input is not quoted back
    assert "Unknown tool" in texts[len(calls)]
    assert "not a valid secret name" in texts[len(calls) + 1]
    assert "1 not a name" not in texts[len(calls) + 1]
    assert "not a valid secret name" in texts[len(calls) + 2]
    assert "command is empty" in texts[len(calls) + 3]
    assert "cwd is not a directory" in texts[len(calls) + 4]


def test_unknown_environment_and_project(env: dict[str, str], sigillo: Sigillo) -> None:
    async def body(mcp: Mcp) -> tuple[str, str, str]:
        wrong_env = await mcp.call("list_secrets", {"environment": "production"})
        wrong_project = await mcp.call("list_secrets", {"project": "01JXXXXXXXXXXXXXXXXXXXXXXX"})
        bad_compare = await mcp.call("missing_secrets", {"compare_with": "staging"})
        assert wrong_env.error
        assert wrong_project.error
        assert bad_compare.error
        return wrong_env.text, wrong_project.text, bad_compare.text

    wrong_env, wrong_project, bad_compare = use(env, sigillo.cwd, body)
    assert (
        "environment not found in this project; available: dev (Dev), preview (Preview)"
        in wrong_env
    )
    assert "project not found" in wrong_project
    assert "environment not found" in bad_compare


def test_not_logged_in(sigillo: Sigillo, project: Project) -> None:
    env = {**sigillo.env, "SIGILLO_PROJECT": project.id, "SIGILLO_ENVIRONMENT": "dev"}

    async def body(mcp: Mcp) -> str:
        answer = await mcp.call("list_secrets")
        assert answer.error
        return answer.text

    assert "not logged in" in use(env, sigillo.cwd, body)


def token(server: Server, project: Project, access: str, environment: str | None = None) -> str:
    body: dict[str, Any] = {"name": f"mcp-{access}", "access": access}
    if environment:
        body["environmentId"] = environment
    with server.api() as api:
        done = api.post(f"/api/v0/projects/{project.id}/tokens", json=body)
    assert done.status_code == 200, done.text
    return str(done.json()["key"])


def test_a_read_only_token_is_refused_on_writes(
    env: dict[str, str], sigillo: Sigillo, cli_server: Server, project: Project
) -> None:
    put(cli_server, project, "dev", "API_KEY", "sk-live-abcdefghijklmnop")
    env = {**env, "SIGILLO_TOKEN": token(cli_server, project, "read")}

    async def body(mcp: Mcp) -> dict[str, Any]:
        return {
            "set": await mcp.call("set_secret", {"name": "NEW", "value": "generated-0123456789"}),
            "mark": await mcp.call("mark_secrets", {"names": ["API_KEY"], "kind": "plain"}),
            "list": await mcp.ok("list_secrets"),
            "run": await mcp.ok("run_command", {"command": "echo $API_KEY"}),
            "projects": await mcp.call("list_projects"),
        }

    got = use(env, sigillo.cwd, body)
    for write in ("set", "mark"):
        assert got[write].error
        assert "this token is read-only: ask a person for a read-write token" in got[write].text
    assert "NEW" not in listing(cli_server, project, "dev")
    assert listing(cli_server, project, "dev")["API_KEY"]["kind"] == "secret"
    assert [s["name"] for s in got["list"]["secrets"]] == ["API_KEY"]
    # a token cannot read names: the ids it acts on, and why
    assert got["list"]["actingOn"]["project"] == {"id": project.id, "name": None}
    assert got["list"]["actingOn"]["environment"]["slug"] == "dev"
    assert "API token" in got["list"]["actingOn"]["note"]
    assert got["run"]["stdout"] == "********\n"
    assert got["projects"].error
    assert "401" in got["projects"].text
    assert "sigillo login" in got["projects"].text


def test_a_read_write_token_may_write(
    env: dict[str, str], sigillo: Sigillo, cli_server: Server, project: Project
) -> None:
    env = {**env, "SIGILLO_TOKEN": token(cli_server, project, "read-write", "dev")}

    async def body(mcp: Mcp) -> dict[str, Any]:
        return await mcp.ok("set_secret", {"name": "NEW", "value": "generated-0123456789"})

    assert use(env, sigillo.cwd, body)["ok"] is True
    assert value_of(cli_server, project, "dev", "NEW") == "generated-0123456789"


def test_time_limit_and_output_cap(env: dict[str, str], sigillo: Sigillo) -> None:
    big = f"{sys.executable} -c \"import sys; sys.stdout.write('x' * 200000 + 'END')\""

    async def body(mcp: Mcp) -> dict[str, Any]:
        return {
            "slow": await mcp.ok(
                "run_command",
                {"command": "echo started; sleep 30; echo never", "timeout_seconds": 1},
            ),
            "big": await mcp.ok("run_command", {"command": big}),
            "killed": await mcp.ok("run_command", {"command": "kill -9 $$"}),
            "missing": await mcp.ok("run_command", {"command": "no-such-program-here"}),
        }

    started = time.monotonic()
    got = use(env, sigillo.cwd, body)
    assert time.monotonic() - started < 25
    slow = got["slow"]
    assert slow["timedOut"] is True
    assert slow["stdout"] == "started\n"
    assert "process group was killed" in slow["note"]
    big_run = got["big"]
    assert len(big_run["stdout"]) == 64 * 1024
    assert big_run["stdout"].endswith("END")
    assert "only its last 65536 bytes" in big_run["truncated"]["stdout"]
    assert got["killed"]["exitStatus"] == 128 + 9
    assert got["missing"]["exitStatus"] == 127


def test_mcp_reads_are_audited_as_mcp(
    env: dict[str, str], sigillo: Sigillo, cli_server: Server, project: Project
) -> None:
    put(cli_server, project, "dev", "API_KEY", "sk-live-abcdefghijklmnop")

    async def body(mcp: Mcp) -> None:
        await mcp.ok("list_secrets")
        await mcp.ok("missing_secrets", {"compare_with": "prod"})
        await mcp.ok("run_command", {"command": "true"})
        await mcp.ok("run_with_mount", {"command": "true"})

    use(env, sigillo.cwd, body)
    with cli_server.api() as api:
        done = api.get(f"/api/v0/projects/{project.id}/environments/dev/events")
    assert done.status_code == 200, done.text
    reads = [e for e in done.json()["events"] if e["type"] == "secrets.read"]
    assert [read["how"] for read in reads] == ["mcp", "mcp"]  # listings record nothing
    assert all(read["count"] == 1 for read in reads)
