"""`sigillo admin verify [--org ORG] [--head N:MAC]`: prove the event log was not edited.

Opens the database and the configured keys (the chain key comes from the first data key,
crypto.chain), then walks the chain (store.log_verify): the whole log, its head and its
read models; or, with `--org`, only that org's streams' own chains and the head record.
Writes nothing, makes no key.
"""

from __future__ import annotations

import re

from sigillo.crypto.chain import chain_of
from sigillo.crypto.envelope import Envelope
from sigillo.crypto.keys import KeySources
from sigillo.domain.errors import StartupError
from sigillo.services.log_chain import ChainReport
from sigillo.settings import Settings
from sigillo.store.data_keys import SqlDataKeys
from sigillo.store.database import open_database
from sigillo.store.migrate import migrate

__all__ = ["describe", "parse_head", "verify"]

_HEAD = re.compile(r"^\s*(\d{1,18}):([0-9a-fA-F]{64})\s*$")


def parse_head(text: str) -> tuple[int, str]:
    """`N:MAC` as `verify` prints it; ValueError in words otherwise."""
    found = _HEAD.match(text)
    if found is None:
        raise ValueError(
            "--head must be POSITION:MAC as `sigillo admin verify` printed it "
            "(a number, a colon and 64 hex digits)"
        )
    return int(found[1]), found[2].lower()


async def verify(
    settings: Settings, *, org: str | None = None, head: tuple[int, str] | None = None
) -> ChainReport:
    """Raises StartupError when there is no key, or the key opens no data key; LookupError
    for an unknown `org`."""
    from sigillo.audit_export import ExportError, _org_streams
    from sigillo.store.event_store import SqlEventStore
    from sigillo.store.log_verify import verify_log
    from sigillo.store.stream_verify import verify_streams

    keyring = KeySources(settings).load()
    if keyring is None:
        raise StartupError(KeySources(settings).missing())
    database = await open_database(settings.database_url)
    try:
        await migrate(settings.database_url)
        keys = await SqlDataKeys(database).wrapped_keys()
        cipher = Envelope(keyring)
        if cipher.learn(keys):
            raise StartupError(
                "the configured key does not open this database's data keys: the chain "
                "cannot be checked without them"
            )
        seals = chain_of(keys, cipher.chain_key)
        if org is None:
            return await verify_log(database, seals, recorded_head=head)
        try:
            streams = await _org_streams(database, SqlEventStore(database), org)
        except ExportError as error:
            raise LookupError(str(error)) from None
        return await verify_streams(database, seals, streams)
    finally:
        await database.close()


def describe(report: ChainReport) -> list[str]:
    """What to print when the chain holds."""
    if report.scope == "streams":
        return [
            f"the org's streams are intact: {report.checked} chained events, every link of "
            "each stream holds; the head record is sound",
            "(only these streams' own chains were checked; run without --org to walk the "
            "whole log and compare the read models)",
        ]
    return [
        f"the log is intact: {report.through} event{'s' if report.through != 1 else ''}, "
        f"{report.checked} of them chained "
        f"(from event {report.starts_at}); every link holds and the read models match a replay",
        f"head: {report.head_position}:{report.head_mac}",
        "(write the head down elsewhere: `sigillo admin verify --head "
        f"{report.head_position}:{report.head_mac}` later proves the log still holds it)",
    ]
