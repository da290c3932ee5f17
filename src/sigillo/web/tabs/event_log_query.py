"""What an Event Log URL asks for: a page cursor and two filters, checked before any read.

`?before=<position>` is the cursor of an older page (the audit service's `nextBefore`),
`?secret=<NAME>` keeps the events about one secret, `?actor=<id>` those of one user or
token. Everything in a query string is text a visitor can change, so each value is checked
here and a bad one becomes a `Problem` the page shows beside its field, with a 4xx status,
rather than reaching a service (where a malformed cursor or name would be a fault): a
cursor that is not a position is 400, a name that breaks the secret name rule or an actor
who is not one of the list's choices is 422. An empty value means "no filter".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sigillo.domain.errors import InvalidInput
from sigillo.domain.values import secret_name
from sigillo.services.past_values import MAX_POSITION

__all__ = ["LogQuery", "Problem", "parse_position", "parse_query"]

MAX_CURSOR_DIGITS = len(str(MAX_POSITION))


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # "before", "secret" or "actor": where the page shows the message
    message: str
    status: int


@dataclass(frozen=True, slots=True)
class LogQuery:
    before: int | None = None
    secret: str | None = None  # the text as typed (kept in the form even when refused)
    actor: str | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.secret or self.actor)

    def encode(self) -> str:
        """This page's query string (`?…`), or "" when there is nothing to say."""
        fields = {"secret": self.secret, "actor": self.actor, "before": self.before}
        present = {key: str(value) for key, value in fields.items() if value}
        return f"?{urlencode(present)}" if present else ""

    def page(self, before: int | None) -> LogQuery:
        """The same filters on another page (None: the newest)."""
        return replace(self, before=before)


def parse_position(text: str) -> int | None:
    """A log position from text (a path segment or the cursor), or None."""
    if not text.isascii() or not text.isdigit() or len(text) > MAX_CURSOR_DIGITS:
        return None
    position = int(text)
    return position if 1 <= position <= MAX_POSITION else None


def parse_query(
    params: Mapping[str, str], actor_ids: Collection[str]
) -> tuple[LogQuery, Problem | None]:
    """The query, and the first problem with it (None when there is none). The query
    keeps what could be read, so the form shows the visitor's input back."""
    before_text = (params.get("before") or "").strip()
    secret = (params.get("secret") or "").strip() or None
    actor = (params.get("actor") or "").strip() or None
    before = parse_position(before_text) if before_text else None
    query = LogQuery(before, secret, actor)
    if before_text and before is None:
        return query, Problem("before", "This page link is not valid.", 400)
    if secret is not None:
        try:
            secret_name(secret, "secret")
        except InvalidInput as error:
            return query, Problem("secret", f"Secret name {error.message}.", 422)
    if actor is not None and actor not in actor_ids:
        return query, Problem("actor", "Choose a user or token from the list.", 422)
    return query, None
