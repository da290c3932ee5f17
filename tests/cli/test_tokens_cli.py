"""`sigillo tokens` (behaviour.md 11.10, 6.8, [D15]): create, list and revoke API tokens
with the real executable against a live server, and use the keys it prints.

Piped, `tokens create` prints the key and a newline, nothing else; on a terminal a block
with a reminder that the key is shown once. Lists never show a key.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_catalog_cli import (
    ESC_SHOWN,
    EVIL,
    EVIL_SHOWN,
    Stranger,
    api_token,
    assert_no_raw_controls,
    assert_one_line_error,
    assert_usage_error,
    hostile_server,
    make_stranger,
    parse,
    team_project,
    terminal,
)

KEY = re.compile(r"sig_[0-9a-f]{64}")
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def stranger(cli_server: Server) -> Stranger:
    return make_stranger(cli_server)


def listed(cli_server: Server, project_id: str) -> list[dict[str, object]]:
    with cli_server.api() as api:
        tokens: list[dict[str, object]] = api.get(f"/api/v0/projects/{project_id}/tokens").json()[
            "tokens"
        ]
    return tokens


def secrets_with(sigillo: Sigillo, project: Project, key: str) -> int:
    """What the key is worth on a secrets route: the status of listing dev's secrets."""
    with sigillo.server.api(key) as api:
        return api.get(f"/api/v0/projects/{project.id}/environments/dev/secrets").status_code


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- errors every action shares --------------------------------------------------------

ACTIONS = [("tokens",), ("tokens", "create", "--name", "ci"), ("tokens", "revoke", "t1")]


@pytest.mark.parametrize("argv", ACTIONS, ids=" ".join)
def test_not_logged_in(sigillo: Sigillo, argv: tuple[str, ...]) -> None:
    done = sigillo(*argv, env={"SIGILLO_PROJECT": "p"})
    assert done.returncode == 1
    assert done.stderr == "error: not logged in\n  sigillo login\n"


@pytest.mark.parametrize("argv", ACTIONS, ids=" ".join)
def test_no_project(sigillo: Sigillo, cli_server: Server, argv: tuple[str, ...]) -> None:
    done = sigillo(*argv, env={"SIGILLO_TOKEN": cli_server.session})
    assert_one_line_error(done, f"project not configured for {sigillo.cwd}")


@pytest.mark.parametrize("argv", ACTIONS, ids=" ".join)
def test_unreachable_server(signed_in: Sigillo, argv: tuple[str, ...]) -> None:
    done = signed_in(*argv, env={"SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert_one_line_error(done, "cannot connect to http://127.0.0.1:1")


@pytest.mark.parametrize("argv", ACTIONS, ids=" ".join)
def test_api_token_is_told_to_sign_in(
    signed_in: Sigillo, cli_server: Server, project: Project, argv: tuple[str, ...]
) -> None:
    key = api_token(cli_server, project.id, access="read-write")["key"]
    done = signed_in(*argv, env={"SIGILLO_TOKEN": key})
    assert_one_line_error(done, "failed to ")
    assert "(401): API tokens (sig_…) only work for secrets commands" in done.stderr
    assert key not in done.stderr


@pytest.mark.parametrize(
    ("argv", "action"),
    list(zip(ACTIONS, ("list tokens", "create token", "revoke token"), strict=True)),
    ids=["list", "create", "revoke"],
)
def test_another_orgs_project_is_forbidden(
    signed_in: Sigillo, stranger: Stranger, argv: tuple[str, ...], action: str
) -> None:
    done = signed_in(*argv, "-p", stranger.project_id)
    assert_one_line_error(done, f"failed to {action} (403): forbidden")


@pytest.mark.parametrize(
    ("argv", "missing"),
    [(("tokens", "create"), "--name"), (("tokens", "revoke"), "ID_OR_NAME")],
    ids=["create", "revoke"],
)
def test_missing_arguments_are_usage_errors(
    signed_in: Sigillo, argv: tuple[str, ...], missing: str
) -> None:
    assert_usage_error(signed_in(*argv), missing)


def test_an_unknown_project(signed_in: Sigillo) -> None:
    done = signed_in("tokens", "-p", "no-such-project")
    assert_one_line_error(done, "failed to list tokens (404): project not found")
    assert "available projects:" in done.stderr


# --- create ----------------------------------------------------------------------------


def test_create_piped_prints_the_key_alone(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("tokens", "create", "--name", "ci")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    key = done.stdout.removesuffix("\n")
    assert KEY.fullmatch(key), done.stdout
    assert done.stdout == key + "\n"
    (token,) = listed(cli_server, project.id)
    assert token["name"] == "ci"
    assert token["prefix"] == key[4:16]
    assert token["access"] == "read"
    assert token["environmentId"] is None
    assert token["expiresAt"] is None
    assert secrets_with(signed_in, project, key) == 200


def test_create_with_every_option(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    before = int(time.time() * 1000)
    done = signed_in(
        "tokens", "create", "--name", "deploy", "--env", "prod", "--read-write",
        "--expires-in", "30d", "--json",
    )  # fmt: skip
    after = int(time.time() * 1000)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert list(document) == [
        "ok", "id", "key", "prefix", "name", "projectId", "environmentId", "access",
        "expiresAt", "createdAt",
    ]  # fmt: skip
    assert KEY.fullmatch(document["key"])
    assert document["environmentId"] == project.environments["prod"]
    assert document["access"] == "read-write"
    assert before + 30 * DAY_MS <= document["expiresAt"] <= after + 30 * DAY_MS
    assert document["projectId"] == project.id
    (token,) = listed(cli_server, project.id)
    assert token["id"] == document["id"]


@pytest.mark.parametrize(
    ("duration", "ms"),
    [("30m", 30 * 60_000), ("12h", 12 * 3_600_000), ("2w", 14 * DAY_MS), ("1y", 365 * DAY_MS)],
)
def test_expires_in_units(
    signed_in: Sigillo, cli_server: Server, project: Project, duration: str, ms: int
) -> None:
    before = int(time.time() * 1000)
    done = signed_in("tokens", "create", "--name", "t", "--expires-in", duration)
    after = int(time.time() * 1000)
    assert done.returncode == 0, done.stderr
    (token,) = listed(cli_server, project.id)
    assert isinstance(token["expiresAt"], int)
    assert before + ms <= token["expiresAt"] <= after + ms


@pytest.mark.parametrize("duration", ["30", "30 days", "0d", "-1d", "d", "1.5h", "10s"])
def test_expires_in_must_be_a_number_and_a_unit(
    signed_in: Sigillo, cli_server: Server, project: Project, duration: str
) -> None:
    done = signed_in("tokens", "create", "--name", "t", f"--expires-in={duration}")
    assert_one_line_error(done, f"invalid --expires-in {duration!r}")
    assert "e.g. 30m, 12h, 30d, 1y" in done.stderr
    assert listed(cli_server, project.id) == []


def test_create_for_an_unknown_environment_lists_the_available(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    done = signed_in("tokens", "create", "--name", "t", "--env", "staging")
    assert_one_line_error(done, f"env staging was not found in project {project.id}")
    assert done.stderr.splitlines()[1:] == [
        "available envs:",
        "  - Dev (dev)",
        "  - Preview (preview)",
        "  - Prod (prod)",
    ]
    assert listed(cli_server, project.id) == []


def test_create_for_another_projects_environment_id_is_refused(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    """For sessions the server finds an environment id in any project (16)."""
    with cli_server.api() as api:
        other = api.post("/api/v0/projects", json={"name": "o", "orgId": cli_server.org_id})
        other_dev = api.get(f"/api/v0/projects/{other.json()['id']}/environments/dev").json()
    done = signed_in("tokens", "create", "--name", "t", "--env", other_dev["id"])
    assert_one_line_error(done, f"env {other_dev['id']} was not found in project {project.id}")
    assert listed(cli_server, project.id) == []


def test_create_on_a_terminal_shows_a_block_and_a_reminder(
    signed_in: Sigillo, project: Project
) -> None:
    code, output = terminal(
        signed_in, "tokens", "create", "--name", "ci", "--env", "dev", "--expires-in", "1d"
    )
    assert code == 0, output
    assert f'writing as ada@example.com to org "Acme", project "{project.name}"' in output
    assert "the key is shown only this once: store it now" in output
    start = output.index("id: ")
    block = parse(output[start : output.index("\n", output.index("expires_at: ")) + 1])
    assert list(block) == ["id", "key", "scope", "access", "expires_at"]
    assert KEY.fullmatch(block["key"])
    assert block["scope"] == "env dev"
    assert block["access"] == "read"
    expires = datetime.strptime(block["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(expires.timestamp() - time.time() - 86_400) < 120
    assert secrets_with(signed_in, project, block["key"]) == 200


def test_an_outsider_cannot_create_tokens_in_the_project(
    signed_in: Sigillo, stranger: Stranger, project: Project
) -> None:
    done = signed_in("tokens", "create", "--name", "t", env={"SIGILLO_TOKEN": stranger.session})
    assert_one_line_error(done, "failed to create token (403): forbidden")


def test_members_list_but_do_not_manage_tokens(
    sigillo: Sigillo, cli_server: Server, stranger: Stranger
) -> None:
    """Decided point 2: members see the list; only admins create and revoke [D3]."""
    _, project_id = team_project(cli_server, stranger)
    token = api_token(cli_server, project_id)
    sigillo.env.update(SIGILLO_TOKEN=stranger.session, SIGILLO_PROJECT=project_id)
    done = sigillo("tokens")
    assert done.returncode == 0, done.stderr
    assert [t["id"] for t in parse(done.stdout)["tokens"]] == [token["id"]]
    for argv, action in (
        (("tokens", "create", "--name", "mine"), "create token"),
        (("tokens", "revoke", token["id"]), "revoke token"),
    ):
        assert_one_line_error(sigillo(*argv), f"failed to {action} (403): admin role required")
    assert [t["revokedAt"] for t in listed(cli_server, project_id)] == [None]


# --- list ------------------------------------------------------------------------------


def test_list_piped_is_yaml_without_keys(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    empty = signed_in("tokens")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == "tokens: []\n"
    everywhere = api_token(cli_server, project.id)
    scoped = api_token(cli_server, project.id, environmentId="dev", access="read-write")
    done = signed_in("tokens")
    assert done.returncode == 0, done.stderr
    assert everywhere["key"] not in done.stdout
    assert scoped["key"] not in done.stdout
    tokens = parse(done.stdout)["tokens"]
    assert [t["id"] for t in tokens] == [scoped["id"], everywhere["id"]]  # newest first
    assert tokens[0] == {
        "id": scoped["id"],
        "name": "ci",
        "prefix": f"sig_{scoped['prefix']}••••",
        "scope": "env dev",
        "access": "read-write",
        "expires_at": None,
        "created_at": iso(scoped["createdAt"]),
        "revoked_at": None,
    }
    assert tokens[1]["scope"] == "all environments"
    assert tokens[1]["access"] == "read"


def test_list_json_is_the_servers(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    api_token(cli_server, project.id)
    done = signed_in("tokens", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"tokens": listed(cli_server, project.id)}


def test_list_by_project_flag(signed_in: Sigillo, cli_server: Server, project: Project) -> None:
    with cli_server.api() as api:
        other = api.post("/api/v0/projects", json={"name": "o", "orgId": cli_server.org_id})
    other_id = other.json()["id"]
    token = api_token(cli_server, other_id)
    done = signed_in("tokens", "-p", other_id)
    assert [t["id"] for t in parse(done.stdout)["tokens"]] == [token["id"]]


def test_token_names_with_terminal_controls_are_shown_escaped(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    created = signed_in("tokens", "create", "--name", EVIL, "--json")
    assert created.returncode == 0, created.stderr
    done = signed_in("tokens")
    assert_no_raw_controls(done.stdout)
    assert f'    name: "{EVIL_SHOWN}"' in done.stdout.splitlines()
    assert parse(done.stdout)["tokens"][0]["name"] == EVIL
    code, output = terminal(signed_in, "tokens")
    assert code == 0
    assert_no_raw_controls(output)


@pytest.fixture
def hostile(sigillo: Sigillo) -> Iterator[Sigillo]:
    with hostile_server() as url:
        sigillo.env.update(SIGILLO_API_URL=url, SIGILLO_TOKEN="session", SIGILLO_PROJECT="p1")
        yield sigillo


def test_escape_sequences_from_the_server_are_shown_escaped(hostile: Sigillo) -> None:
    done = hostile("tokens")
    assert done.returncode == 0, done.stderr
    assert_no_raw_controls(done.stdout)
    assert f'    name: "{ESC_SHOWN}"' in done.stdout.splitlines()
    assert f'    scope: "env {ESC_SHOWN}"' in done.stdout.splitlines()
    failed = hostile("tokens", "revoke", "t2")
    assert_no_raw_controls(failed.stderr)
    assert f"(404): {ESC_SHOWN} not found" in failed.stderr


# --- revoke, end to end ------------------------------------------------------------------


def test_create_list_revoke_end_to_end(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    created = signed_in("tokens", "create", "--name", "e2e", "--read-write", "--env", "dev")
    key = created.stdout.removesuffix("\n")
    assert KEY.fullmatch(key), created
    assert secrets_with(signed_in, project, key) == 200

    (token,) = parse(signed_in("tokens").stdout)["tokens"]
    assert token["prefix"] == f"{key[:16]}••••"
    assert token["revoked_at"] is None

    revoked = signed_in("tokens", "revoke", token["id"])
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == f'ok: true\nid: "{token["id"]}"\n'
    assert parse(revoked.stdout) == {"ok": True, "id": token["id"]}
    assert secrets_with(signed_in, project, key) == 401  # at once

    (after,) = parse(signed_in("tokens").stdout)["tokens"]
    assert after["id"] == token["id"]  # the record is kept [D1]
    assert isinstance(after["revoked_at"], str)

    again = signed_in("tokens", "revoke", token["id"], "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"ok": True, "id": token["id"]}


def test_revoke_on_a_terminal_names_the_target(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    token = api_token(cli_server, project.id)
    code, output = terminal(signed_in, "tokens", "revoke", token["id"])
    assert code == 0, output
    assert f'writing as ada@example.com to org "Acme", project "{project.name}"' in output
    assert parse(output[output.index("ok: true") :]) == {"ok": True, "id": token["id"]}


def test_revoke_an_unknown_token(signed_in: Sigillo) -> None:
    done = signed_in("tokens", "revoke", "no-such-token")
    assert_one_line_error(done, "failed to revoke token (404): ")


@pytest.mark.skipif(
    importlib.util.find_spec("sigillo.cli.commands.secrets") is None,
    reason="`sigillo secrets` is not implemented yet",
)
def test_a_revoked_token_fails_on_the_very_next_secrets_call(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    with cli_server.api() as api:
        api.post(
            f"/api/v0/projects/{project.id}/environments/dev/secrets",
            json={"name": "API_KEY", "value": "s3cr3t-value"},
        ).raise_for_status()
    key = signed_in("tokens", "create", "--name", "ci").stdout.removesuffix("\n")
    with_key = {"SIGILLO_TOKEN": key}
    listed_names = signed_in("secrets", env=with_key)
    assert listed_names.returncode == 0, listed_names.stderr
    assert listed_names.stdout == "API_KEY\n"

    (token,) = parse(signed_in("tokens").stdout)["tokens"]
    assert signed_in("tokens", "revoke", token["id"]).returncode == 0

    refused = signed_in("secrets", env=with_key)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("error: ")
    assert "(401)" in refused.stderr
    assert key not in refused.stderr
    assert "s3cr3t-value" not in refused.stderr
