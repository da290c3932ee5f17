"""What the Secrets tab's query may ask of the page, and the line that says what happened.

A plain (script-less) request ends in a 303 back to the tab; its outcome travels in the
query as a kind and counts (`?done=saved&n=3&e=2`), never as text, so no link can make the
page say what it likes; `Notice.from_query` turns it back into the sentence. A plain
browser also opens dialogs, adds rows and shows the rows' selection boxes through the query
(`page_extras`). Anything in the query that is not understood is ignored: a GET never fails
on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigillo.domain.errors import InvalidInput
from sigillo.domain.values import secret_name

__all__ = [
    "MAX_NEW_ROWS",
    "Notice",
    "kinds_sentence",
    "page_extras",
    "plural",
    "requested_rows",
]

MAX_NEW_ROWS = 20


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass(frozen=True, slots=True)
class Notice:
    """A line above the table: what just happened, or why nothing did."""

    text: str
    error: bool = False
    query: Mapping[str, str] = field(default_factory=dict)  # how a redirect carries it

    @staticmethod
    def from_query(query: Mapping[str, str]) -> Notice | None:
        """The outcome a plain request's redirect named (a kind and counts only)."""
        kind = query.get("done", "")
        n, e = _count(query.get("n")), _count(query.get("e"))
        if kind == "saved":
            return Notice(f"Saved {plural(n, 'secret')} to {plural(e, 'environment')}.")
        if kind == "deleted":
            name = _name(query.get("name", ""))
            what = f'"{name}"' if name else "the secret"
            return Notice(f"Deleted {what} from {plural(e, 'environment')}.")
        if kind == "synced":
            return Notice(f"Copied {plural(n, 'missing secret')} into this environment.")
        if kind == "imported":
            return Notice(f"Imported {plural(n, 'secret')}.")
        if kind == "marked" and query.get("k") in ("plain", "secret"):
            return Notice(kinds_sentence(n, query["k"]))
        return None


def kinds_sentence(count: int, kind: str) -> str:
    """What a kind change did, by count [D18]."""
    if count == 0:
        return f"Nothing changed: already {kind}."
    return f"Marked {plural(count, 'secret')} as {kind}."


def _count(raw: str | None) -> int:
    """A count from a query: ASCII digits (at most nine of them are read), else 0."""
    return int(raw[:9]) if raw and raw.isascii() and raw.isdigit() else 0


def _name(raw: str) -> str:
    try:
        return secret_name(raw)
    except InvalidInput:
        return ""


def requested_rows(raw: str | None) -> int:
    """How many blank "new" rows a plain request asked for (`?add=N`)."""
    return min(_count(raw), MAX_NEW_ROWS)


def page_extras(query: Mapping[str, str]) -> dict[str, Any]:
    """What a GET of the tab asks to show: the outcome of a plain request, a dialog open
    (`?dialog=sync|import`, `?delete=NAME`), blank new rows (`?add=N`), the rows'
    selection boxes (`?select=1`)."""
    extra: dict[str, Any] = {"notice": Notice.from_query(query)}
    delete = _name(query.get("delete", ""))
    if delete:
        extra.update(dialog="delete", delete_name=delete)
    elif query.get("dialog") in ("sync", "import"):
        extra["dialog"] = query["dialog"]
    extra["new_rows"] = requested_rows(query.get("add"))
    extra["select"] = query.get("select") == "1"
    return extra
