"""The live audit sink (SIGILLO_AUDIT_SINK, issue 15, item 11): every committed event, and
only committed ones, as the same JSON line the export writes, to a private file or to
syslog; a sink that fails never fails a write and says so in the log once a minute.

Real parts only: services opened as the server opens them on SQLite and PostgreSQL, a real
file, a real UDP socket standing in for the syslog server.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sigillo.audit_export import export
from sigillo.audit_sink import FileSink, SyslogSink, open_audit_sink
from sigillo.domain.errors import ConcurrencyError, Conflict, StartupError
from sigillo.domain.events import Actor, NewEvent, OrgCreated, SecretsRead
from sigillo.domain.streams import org_stream, reads_stream
from sigillo.server import open_services
from sigillo.services.container import Services
from sigillo.services.ids import Clock, UlidFactory
from sigillo.services.ports import Append
from sigillo.services.writing import Writer
from sigillo.settings import Settings
from sigillo.store.database import open_database
from sigillo.store.event_store import SqlEventStore

PASSWORD = "correct horse battery staple"
MARK = "zq-audit-sink-value"
ids = UlidFactory()


def settings_for(database_url: str, data_dir: Path, sink: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
        audit_sink=sink,
    )


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def exported(settings: Settings) -> list[dict[str, Any]]:
    out = io.BytesIO()
    await export(settings, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def busy_day(services: Services) -> Actor:
    """Accounts, an org, secrets, a token, reads, a refused write: a bit of everything."""
    user = await services.accounts.register("ada@example.com", "Ada Admin", PASSWORD)
    ada = Actor("user", user.id)
    org = await services.catalog.create_org("Acme", ada)
    project = await services.catalog.create_project(org.id, "App", ada)
    [dev] = [e for e in await services.catalog.environments(project.id) if e.slug == "dev"]
    await services.secrets.set(dev.id, {"API_KEY": f"{MARK}-1", "PORT": "8080"}, ada)
    token, _ = await services.access.create_token(project.id, ada, name="CI deploy")
    await services.secrets.values(dev.id, Actor("token", token.id), "download")
    with pytest.raises(Conflict):  # refused: nothing appended, nothing told
        await services.catalog.create_environment(project.id, "Dev again", "dev", ada)
    await services.secrets.value(dev.id, "API_KEY", ada, "get")
    return ada


@pytest_asyncio.fixture
async def sql_store(database_url: str) -> AsyncIterator[SqlEventStore]:
    database = await open_database(database_url)
    try:
        yield SqlEventStore(database)
    finally:
        await database.close()


# -- the file ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_file_receives_every_committed_event_as_the_export_writes_it(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "logs" / "audit.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"kept":"what was there"}\n')  # appended to, never truncated
    path.chmod(0o644)
    settings = settings_for(database_url, tmp_path, f"file:{path}")
    services = await open_services(settings)
    try:
        await busy_day(services)
    finally:
        await services.close()  # delivers what is pending
    assert path.stat().st_mode & 0o777 == 0o600
    [kept, *lines] = lines_of(path)
    assert kept == {"kept": "what was there"}
    assert sorted(lines, key=lambda line: line["position"]) == await exported(settings)
    types = [line["type"] for line in lines]
    assert types.count("secrets.read") == 2
    assert "token.created" in types
    assert MARK not in path.read_text()
    [download] = [line for line in lines if line["event"].get("how") == "download"]
    assert download["actor"]["name"] == "CI deploy"


@pytest.mark.asyncio
async def test_an_append_rolled_back_never_reaches_the_sink(
    sql_store: SqlEventStore, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    sink = FileSink(path)
    writer = Writer(sql_store, Clock(), ids, sink)
    actor = Actor("user", "u1")
    try:
        org_id = ids()
        [created] = await writer.append(org_stream(org_id), [OrgCreated(org_id, "Acme")], actor)
        with pytest.raises(ConcurrencyError):  # a stale version: refused
            await writer.store.append(
                org_stream(org_id), 0, writer.new([OrgCreated(org_id, "Again")], actor)
            )
        read = SecretsRead("env1", ["A"], "get")
        good = Append(reads_stream("env1"), None, writer.new([read], actor))
        stale = Append(org_stream(org_id), 0, writer.new([OrgCreated(org_id, "Late")], actor))
        with pytest.raises(ConcurrencyError):  # all or nothing: the good part rolls back too
            await writer.store.append_many([good, stale])
        duplicate = NewEvent(created.event_id, 1, actor, read)
        with pytest.raises(Conflict):  # an event id already in the log
            await writer.store.append(reads_stream("env1"), None, [duplicate])
        [last] = await writer.append(reads_stream("env2"), [read], actor)
    finally:
        sink.close()
    lines = lines_of(path)
    assert [line["position"] for line in lines] == [created.position, last.position]
    assert [line["stream"] for line in lines] == [org_stream(org_id), reads_stream("env2")]
    assert await sql_store.read_stream(reads_stream("env1")) == []


@pytest.mark.asyncio
async def test_a_failing_sink_never_fails_a_write_and_logs_once_a_minute(
    sql_store: SqlEventStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.jsonl"
    sink = FileSink(path)
    writer = Writer(sql_store, Clock(), ids, sink)
    actor = Actor("user", "u1")
    try:
        await writer.append(reads_stream("e"), [SecretsRead("e", ["A"], "get")], actor)
        sink.flush()
        path.unlink()
        path.mkdir()  # the path now names a directory: reopening it fails, every time
        caplog.set_level(logging.ERROR, logger="sigillo.audit")
        for _ in range(3):
            recorded = await writer.append(
                reads_stream("e"), [SecretsRead("e", ["B"], "get")], actor
            )
            assert recorded[0].version >= 2  # committed all the same
            sink.flush()
    finally:
        sink.close()
    assert len(await sql_store.read_stream(reads_stream("e"))) == 4
    said = [r.getMessage() for r in caplog.records if r.name == "sigillo.audit"]
    assert len(said) == 1, said  # once a minute, not once per write
    assert said[0].startswith(f"audit sink file:{path}: 1 events not delivered")
    assert "writes go on, the database keeps every event" in said[0]


@pytest.mark.asyncio
async def test_a_rotated_file_is_reopened(sql_store: SqlEventStore, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = FileSink(path)
    writer = Writer(sql_store, Clock(), ids, sink)
    actor = Actor("user", "u1")
    try:
        await writer.append(reads_stream("e"), [SecretsRead("e", ["A"], "get")], actor)
        sink.flush()
        path.rename(tmp_path / "audit.jsonl.1")  # logrotate's move
        await writer.append(reads_stream("e"), [SecretsRead("e", ["B"], "get")], actor)
    finally:
        sink.close()
    assert [line["event"]["names"] for line in lines_of(tmp_path / "audit.jsonl.1")] == [["A"]]
    assert [line["event"]["names"] for line in lines_of(path)] == [["B"]]
    assert path.stat().st_mode & 0o777 == 0o600


# -- syslog --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_syslog_gets_one_message_per_committed_event(
    database_url: str, tmp_path: Path
) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    try:
        settings = settings_for(database_url, tmp_path, f"syslog://127.0.0.1:{port}")
        services = await open_services(settings)
        try:
            await busy_day(services)
        finally:
            await services.close()
        expected = await exported(settings)
        messages = [receiver.recv(65535) for _ in expected]
        receiver.settimeout(0.2)
        with pytest.raises(TimeoutError):
            receiver.recv(65535)  # nothing more: the refused write told nothing
    finally:
        receiver.close()
    auth_info = b"<%d>" % (4 * 8 + 6)  # facility auth, severity info
    assert all(m.startswith(auth_info + b"sigillo: {") for m in messages), messages[0]
    lines = [json.loads(m.removeprefix(auth_info + b"sigillo: ")) for m in messages]
    assert sorted(lines, key=lambda line: line["position"]) == expected


def test_syslog_sink_over_udp_to_nobody_does_not_raise() -> None:
    """UDP to a port nobody listens on: the datagrams are lost, nothing raises."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sink = SyslogSink(("127.0.0.1", port))
    sink.committed([], {})
    sink.flush()
    sink.close()


# -- the setting ---------------------------------------------------------------------------


def test_the_setting_names_a_file_or_syslog_and_nothing_else(tmp_path: Path) -> None:
    assert Settings.load({"SIGILLO_AUDIT_SINK": " file:/var/log/a.jsonl "}).audit_sink == (
        "file:/var/log/a.jsonl"
    )
    assert Settings.load({}).audit_sink is None
    assert open_audit_sink(None) is None
    assert open_audit_sink("  ") is None
    sink = open_audit_sink(f"file:{tmp_path / 'a.jsonl'}")
    assert isinstance(sink, FileSink)
    sink.close()
    syslog = open_audit_sink("syslog://127.0.0.1:5514")
    assert isinstance(syslog, SyslogSink)
    syslog.close()
    for bad in (
        "file:relative/a.jsonl",
        "syslog://:514",
        "syslog://host:port",
        "stdout",
        "udp://x",
    ):
        with pytest.raises(StartupError, match="SIGILLO_AUDIT_SINK must be"):
            open_audit_sink(bad)
    with pytest.raises(StartupError, match=r"cannot open .* for appending"):
        open_audit_sink(f"file:{tmp_path / 'missing' / 'a.jsonl'}")
