"""`sigillo admin audit export` (issue 15, item 11): the audit trail as JSON lines in commit
order, never a value, ciphertext, nonce, token hash or invitation hash; `--since` and
`--org` (by id or by name) narrow it, one org's export holds nothing of another's; usage
errors say so and exit 2. And the compact record of a download that makes the trail small:
under 300 bytes stored, its names recoverable from the environment's stream.

On SQLite and PostgreSQL: a scene made through the real services, exported by the real
export, in process (and through the `sigillo` executable for the command line itself).
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
import pytest_asyncio

from sigillo.audit_export import ExportError, export, parse_since
from sigillo.audit_lines import WITHHELD, audit_line
from sigillo.domain.codec import decode_event, encode_event
from sigillo.domain.events import (
    Actor,
    InvitationCreated,
    RecordedEvent,
    SecretDeleted,
    SecretSet,
    SecretsRead,
    TokenCreated,
)
from sigillo.domain.projections.rows import ApiTokenRow, InvitationRow
from sigillo.domain.streams import environment_stream, reads_stream
from sigillo.server import open_services
from sigillo.services.container import Services
from sigillo.settings import Settings
from sigillo.store.database import open_database
from sigillo.store.event_store import EVENT_COLUMNS

PASSWORD = "correct horse battery staple"
MARK = "zq-audit-export-value"  # in every value set here; in no line of any export
NAMES = [
    "DATABASE_URL", "DATABASE_POOL_SIZE", "REDIS_URL", "REDIS_TLS_URL", "SECRET_KEY_BASE",
    "SESSION_SECRET", "JWT_SIGNING_KEY", "JWT_ISSUER", "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET", "STRIPE_PUBLISHABLE_KEY", "SENDGRID_API_KEY", "SMTP_HOST",
    "SMTP_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
    "S3_BUCKET_NAME", "SENTRY_DSN", "DATADOG_API_KEY", "GITHUB_APP_PRIVATE_KEY",
    "GITHUB_WEBHOOK_SECRET", "OPENAI_API_KEY", "TWILIO_AUTH_TOKEN", "SLACK_BOT_TOKEN",
    "GOOGLE_CLIENT_SECRET", "OAUTH_CLIENT_ID", "NODE_ENV", "PORT", "LOG_LEVEL",
]  # fmt: skip


@dataclass
class Scene:
    settings: Settings
    services: Services
    ada: Actor
    token: Actor
    org_a: str
    org_b: str
    dev_a: str
    dev_b: str
    secrets_shown_once: list[str]  # the token's key, the invite link's token


async def _scene(services: Services, settings: Settings) -> Scene:
    user = await services.accounts.register("ada@example.com", "Ada Admin", PASSWORD)
    ada = Actor("user", user.id)
    org_a = await services.catalog.create_org("Acme", ada)
    org_b = await services.catalog.create_org("Globex", ada)
    project_a = await services.catalog.create_project(org_a.id, "App", ada)
    project_b = await services.catalog.create_project(org_b.id, "Other", ada)
    [dev_a] = [e for e in await services.catalog.environments(project_a.id) if e.slug == "dev"]
    [dev_b] = [e for e in await services.catalog.environments(project_b.id) if e.slug == "dev"]
    await services.secrets.set(dev_a.id, {n: f"{MARK}-{n}" for n in NAMES[:5]}, ada)
    await services.secrets.set(dev_b.id, {"GLOBEX_ONLY": f"{MARK}-globex"}, ada)
    row, key = await services.access.create_token(project_a.id, ada, name="CI deploy")
    token = Actor("token", row.id)
    _, invite = await services.access.create_invitation(org_a.id, ada)
    await services.secrets.values(dev_a.id, token, "download")
    await services.secrets.value(dev_a.id, "REDIS_URL", ada, "get")
    await services.secrets.delete(dev_a.id, ["REDIS_URL"], ada)
    await services.secrets.values(dev_b.id, ada, "run")
    return Scene(
        settings, services, ada, token, org_a.id, org_b.id, dev_a.id, dev_b.id, [key, invite]
    )


@pytest_asyncio.fixture
async def scene(database_url: str, tmp_path: Path) -> AsyncIterator[Scene]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
    )
    services = await open_services(settings)
    try:
        yield await _scene(services, settings)
    finally:
        await services.close()


async def exported(scene: Scene, **options: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    count = await export(scene.settings, out, **options)
    lines = out.getvalue().decode("utf-8").splitlines()
    assert len(lines) == count
    return [json.loads(line) for line in lines]


async def whole_log(services: Services) -> list[RecordedEvent]:
    found: list[RecordedEvent] = []
    while batch := await services.store.read_all(found[-1].position if found else 0, 1000):
        found.extend(batch)
    return found


async def withheld_strings(scene: Scene) -> list[str]:
    """Everything secret the log holds, as it would appear in JSON: values' ciphertexts,
    nonces and key ids (base64, as msgspec writes bytes), token and invitation hashes."""
    found = list(scene.secrets_shown_once)
    for recorded in await whole_log(scene.services):
        event = recorded.event
        if isinstance(event, SecretSet):
            for raw in (event.value.ciphertext, event.value.nonce):
                found.append(base64.b64encode(raw).decode())
            found.append(event.value.key_id)
        if isinstance(event, InvitationCreated | TokenCreated):
            found.append(event.token_hash)
    for table in (ApiTokenRow, InvitationRow):
        for row in await scene.services.store.select(table, "created_by", scene.ada.id):
            found.append(row.token_hash)
    return found


# -- the lines -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_whole_trail_in_commit_order_and_no_secret_in_it(scene: Scene) -> None:
    lines = await exported(scene)
    log = await whole_log(scene.services)
    assert [line["position"] for line in lines] == [e.position for e in log]
    assert [(line["id"], line["stream"], line["version"]) for line in lines] == [
        (e.event_id, e.stream, e.version) for e in log
    ]
    for line in lines:
        assert list(line) == [
            "position", "id", "time", "stream", "version", "type", "actor", "event",
        ]  # fmt: skip
        assert line["time"].endswith("Z")
        assert line["time"][10] == "T"
    by_type = {line["type"]: line for line in lines}
    assert by_type["secret.set"]["event"].keys() == {"environment_id", "name"}
    assert by_type["token.created"]["event"].keys() == {
        "project_id", "token_id", "name", "access", "environment_id", "expires_at",
    }  # fmt: skip
    assert "token_hash" not in by_type["invitation.created"]["event"]
    assert by_type["user.registered"]["event"]["email"] == "ada@example.com"

    reads = [line for line in lines if line["type"] == "secrets.read"]
    download, get, run = reads
    assert download["actor"] == {"kind": "token", "id": scene.token.id, "name": "CI deploy"}
    assert download["event"] == {
        "environment_id": scene.dev_a, "names": [], "how": "download", "version": 5, "count": 5,
    }  # fmt: skip
    assert get["actor"] == {"kind": "user", "id": scene.ada.id, "email": "ada@example.com"}
    assert get["event"] == {"environment_id": scene.dev_a, "names": ["REDIS_URL"], "how": "get"}
    assert run["stream"] == reads_stream(scene.dev_b)

    text = "\n".join(json.dumps(line) for line in lines)
    assert MARK not in text
    for secret in await withheld_strings(scene):
        assert secret not in text


def test_every_secret_field_of_every_event_type_is_withheld() -> None:
    """Decided from the fields' types and names, so a new event with a sealed value or a
    hash is withheld without a change to the serializer."""
    withheld = {t.__name__: sorted(fields) for t, fields in WITHHELD.items() if fields}
    assert withheld == {
        "SecretSet": ["value"],
        "InvitationCreated": ["token_hash"],
        "TokenCreated": ["prefix", "token_hash"],
    }
    for event_type, fields in WITHHELD.items():
        for field in msgspec.structs.fields(event_type):
            if "hash" in field.name or field.name in ("value", "nonce", "ciphertext"):
                assert field.name in fields, (event_type, field.name)


def test_a_read_recorded_before_reads_had_a_scope_still_decodes_and_exports() -> None:
    stored = '{"type":"secrets.read","environment_id":"E1","names":["A","B"],"how":"download"}'
    event = decode_event(stored)
    assert event == SecretsRead("E1", ["A", "B"], "download")
    assert isinstance(event, SecretsRead)
    assert (event.version, event.count, event.whole) == (None, None, False)
    assert encode_event(event) == stored  # re-encoded byte for byte: no new keys
    recorded = RecordedEvent(7, "reads:E1", 1, "01J", 1_765_100_000_123, Actor("user", "u"), event)
    line = json.loads(audit_line(recorded))
    assert line["time"] == "2025-12-07T09:33:20.123Z"
    assert line["event"] == {"environment_id": "E1", "names": ["A", "B"], "how": "download"}


# -- --since and --org -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_since_keeps_events_from_that_time_on(scene: Scene) -> None:
    log = await whole_log(scene.services)
    middle = log[len(log) // 2].occurred_at
    lines = await exported(scene, since=middle)
    assert [line["position"] for line in lines] == [
        e.position for e in log if e.occurred_at >= middle
    ]
    assert 0 < len(lines) < len(log)
    assert len(await exported(scene, since=parse_since("2000-01-01"))) == len(log)
    assert await exported(scene, since=parse_since("2999-01-01T00:00:00Z")) == []


def test_since_accepts_rfc3339_and_dates_and_refuses_the_rest() -> None:
    assert parse_since("2026-12-07") == 1_796_601_600_000
    assert parse_since("2026-12-07T00:00:00Z") == 1_796_601_600_000
    assert parse_since("2026-12-07T01:00:00+01:00") == 1_796_601_600_000
    assert parse_since("2026-12-07T00:00:00.250Z") == 1_796_601_600_250
    assert parse_since("2026-12-07 00:00:00") == 1_796_601_600_000  # no offset: UTC
    for bad in ("yesterday", "2026-13-01", "07/12/2026", "", "1796601600"):
        with pytest.raises(ValueError, match="RFC 3339"):
            parse_since(bad)


@pytest.mark.asyncio
async def test_an_orgs_export_holds_its_streams_and_nothing_of_another_org(scene: Scene) -> None:
    by_name = await exported(scene, org="Acme")
    by_id = await exported(scene, org=scene.org_a)
    assert by_name == by_id
    streams = {line["stream"] for line in by_name}
    assert f"org:{scene.org_a}" in streams
    assert {environment_stream(scene.dev_a), reads_stream(scene.dev_a)} <= streams
    assert any(s.startswith("project:") for s in streams)
    assert not any(s.startswith("user:") for s in streams)  # accounts are no org's
    assert {line["type"] for line in by_name} >= {
        "org.created", "member.added", "project.created", "environment.created",
        "secret.set", "secret.deleted", "secrets.read", "token.created", "invitation.created",
    }  # fmt: skip
    text = json.dumps(by_name)
    for other in (scene.org_b, scene.dev_b, "GLOBEX_ONLY", "Globex"):
        assert other not in text
    globex = json.dumps(await exported(scene, org="Globex"))
    assert "GLOBEX_ONLY" in globex
    assert scene.dev_b in globex
    assert scene.dev_a not in globex
    assert "REDIS_URL" not in globex
    positions = [line["position"] for line in by_name]
    assert positions == sorted(positions)


@pytest.mark.asyncio
async def test_an_org_is_found_after_it_was_deleted_by_its_id(scene: Scene) -> None:
    before = await exported(scene, org=scene.org_b)
    await scene.services.access.delete_org(scene.org_b, scene.ada)
    after = await exported(scene, org=scene.org_b)
    assert after[: len(before)] == before
    assert after[-1]["type"] == "org.deleted"
    with pytest.raises(ExportError, match="no org has the id or the name 'Globex'"):
        await exported(scene, org="Globex")  # a name is found among the orgs that exist


@pytest.mark.asyncio
async def test_unknown_and_ambiguous_orgs_are_usage_errors(scene: Scene) -> None:
    with pytest.raises(ExportError, match="no org has the id or the name 'Nope'"):
        await exported(scene, org="Nope")
    twin = await scene.services.catalog.create_org("Acme", scene.ada)
    with pytest.raises(ExportError, match=f"2 orgs are named 'Acme': give one's id .*{twin.id}"):
        await exported(scene, org="Acme")


# -- the command line ---------------------------------------------------------------------


def sigillo(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    return subprocess.run(
        [sys.executable, "-m", "sigillo", *args],
        capture_output=True, text=True, timeout=120, env=clean, check=False,
    )  # fmt: skip


@pytest.mark.asyncio
async def test_the_command_writes_a_private_file_or_stdout_and_refuses_bad_options(
    scene: Scene, tmp_path: Path
) -> None:
    url = ["--database-url", scene.settings.database_url]
    expected = await exported(scene, org="Acme")
    output = tmp_path / "audit.jsonl"
    done = sigillo("admin", "audit", "export", "--org", "Acme", "--output", str(output), *url)
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(expected)} events to {output} (mode 0600)" in done.stderr
    assert output.stat().st_mode & 0o777 == 0o600
    assert [json.loads(line) for line in output.read_text().splitlines()] == expected

    piped = sigillo("admin", "audit", "export", "--since", "2000-01-01", *url)
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.splitlines()) == len(await whole_log(scene.services))
    assert MARK not in piped.stdout

    bad_since = sigillo("admin", "audit", "export", "--since", "last tuesday", *url)
    assert bad_since.returncode == 2
    assert "error: --since 'last tuesday' is neither an RFC 3339 time" in bad_since.stderr
    missing = tmp_path / "never.jsonl"
    unknown = sigillo("admin", "audit", "export", "--org", "Nope", "--output", str(missing), *url)
    assert unknown.returncode == 2
    assert "error: no org has the id or the name 'Nope'" in unknown.stderr
    assert not missing.exists()


# -- the download's record ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_download_is_recorded_in_under_300_bytes_and_its_names_replay(
    scene: Scene,
) -> None:
    """30 realistic names: the stored row (every column, text in UTF-8, integers 8 bytes)
    of the download's read is under 300 bytes; the names it read are those live at the
    version it names, as the environment's stream replays them."""
    services, env = scene.services, scene.dev_a
    await services.secrets.set(env, {n: f"{MARK}-{n}" for n in NAMES}, scene.ada)
    await services.secrets.delete(env, ["PORT"], scene.ada)
    downloaded = await services.secrets.values(env, scene.token, "download")
    database = await open_database(scene.settings.database_url)
    try:
        [row] = await database.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 "
            "ORDER BY position DESC LIMIT 1",
            reads_stream(env),
        )
    finally:
        await database.close()
    size = sum(
        8 if isinstance(value, int) else len(str(value).encode())
        for value in row
        if value is not None
    )
    assert size < 300, (size, row)
    read = decode_event(row[6])
    assert isinstance(read, SecretsRead)
    assert read.whole
    assert read.version is not None
    assert read.count == len(downloaded) == 29

    live: dict[str, None] = {}
    for recorded in await services.store.read_stream(environment_stream(env)):
        if recorded.version > read.version:
            break
        if isinstance(recorded.event, SecretSet):
            live.setdefault(recorded.event.name)
        elif isinstance(recorded.event, SecretDeleted):
            live.pop(recorded.event.name, None)
    assert list(live) == list(downloaded)
