"""`--at TIME|EVENT_ID` (issue 17): reads of an environment as it was at a moment.

The moment is checked here first, loosely (a clear error without a round trip for what
cannot be one: no offset, not a time, not an event id), then sent as the `at` query
parameter; the server checks it exactly (domain/moments.py) and its refusals are said in
words: a 422 names what `--at` takes, a 404 says the environment did not exist yet then,
or that no event has that id.
"""

from __future__ import annotations

import re
from typing import Any

from sigillo.cli.client import Response
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable, quote

__all__ = ["RULE", "at_query", "checked_at", "past_failure"]

RULE = "an RFC 3339 time with its offset (2026-12-07T09:30:00Z) or an event id"
MAX_LENGTH = 64  # the server's limit
_EVENT_ID = r"[0-9A-HJKMNP-TV-Z]{26}"
_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\S*(Z|[+-]\d{2}(:?\d{2})?)"
_MOMENT = re.compile(f"{_EVENT_ID}|{_TIME}", re.ASCII)
# What the server's 404 says of a moment (services/time_travel.py), as opposed to an
# environment it does not know.
_PAST = ("environment: it did not exist yet", "event ")


def checked_at(text: str) -> str:
    given = text.strip()
    if not given or len(given) > MAX_LENGTH or not _MOMENT.fullmatch(given.upper()):
        raise CliError(f"invalid --at {quote(text)}", f"  --at takes {RULE}")
    return given


def at_query(ctx: Context) -> dict[str, str]:
    """The `at` query parameter of `--at`, checked; nothing without it."""
    at = ctx.args.at
    return {} if at is None else {"at": checked_at(at)}


def past_failure(ctx: Context, response: Response, action: str) -> CliError | None:
    """With `--at`: the server's refusal of the moment, in words; None for any other
    answer (the caller's own handling goes on)."""
    if ctx.args.at is None or response.ok:
        return None
    message = response.message()
    if response.status == 404 and message.startswith(_PAST):
        return CliError(f"failed to {action}: {printable(message)}")
    if response.status == 422:
        document: Any = response.json()
        detail = document.get("detail") if isinstance(document, dict) else None
        for item in detail if isinstance(detail, list) else []:
            if isinstance(item, dict) and item.get("field") == "at":
                return CliError(
                    f"invalid --at {quote(ctx.args.at)}: {printable(str(item.get('message')))}",
                    f"  --at takes {RULE}",
                )
    return None
