"""The Secrets table's rows and value cells, written in Python for speed.

The table is the one part of the dashboard whose size grows with the data: an environment
of 500 secrets must render in no more than twice the time of its JSON listing, and the
page must stay under 300 KB (issue 6's budget, bench/). Through Jinja's template
inheritance every piece of a row passes up four generators, which made the rows alone
several times slower than the JSON answer; here a row is one f-string.

Escaping stays explicit: every name and value goes through `_e` (markupsafe's escape, or
nothing for text without a character HTML reads specially) before it is put in the
markup, and only the finished string is `Markup`. Times are formatted once per distinct moment
(bulk writes share one). No value is written unless the caller passes it as revealed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from markupsafe import Markup, escape

from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.web.engine import iso_time, relative_time

__all__ = ["BULLETS", "live_rows", "masked_cell", "missing_rows", "revealed_cell", "revealed_cells"]

BULLETS = "••••••••••••"  # 12, as behaviour.md 14.4 shows a hidden value
SAVED_TAG = '<span class="tag">saved</span>'
MAX_ROWS_SHOWN = 8  # a revealed value's textarea grows up to this many lines


_PLAIN = re.compile(r"[A-Za-z0-9_.:/ -]*")  # nothing HTML would read as markup


def _e(text: str) -> str:
    """`text` escaped for HTML text and quoted attributes (a plain name as it is: the
    check is cheaper than escaping, and the answer is the same)."""
    return text if _PLAIN.fullmatch(text) else str(escape(text))


def _built(html: str) -> Markup:
    """Markup assembled here from `escape`d pieces and constant text only."""
    return Markup(html)  # noqa: S704 (every interpolated piece went through escape())


def _masked(n: str, empty: bool) -> str:
    flag = ' class="empty"' if empty else ""
    return (
        f'<td id="v-{n}"><button type="submit" form="s-rv" name="name" value="{n}"{flag}'
        f' aria-label="Reveal value">{BULLETS}</button></td>'
    )


def masked_cell(name: str, empty: bool = False) -> Markup:
    return _built(_masked(_e(name), empty))


def revealed_cell(name: str, value: str, url: str, *, oob: bool = False) -> Markup:
    """A value shown for editing. The newline after `<textarea>` is eaten by the HTML
    parser, so a value's own leading newline survives."""
    n, v, u = _e(name), escape(value), _e(url)
    lines = min(value.count("\n") + 1, MAX_ROWS_SHOWN)
    swap = ' hx-swap-oob="true"' if oob else ""
    return _built(
        f'<td id="v-{n}" class="on"{swap}><textarea name="v:{n}" rows="{lines}"'
        f' aria-label="Value of {n}">\n{v}</textarea>'
        f'<a href="{u}" class="hide" data-hide>Hide value</a></td>'
    )


def revealed_cells(values: Mapping[str, str], url: str) -> Markup:
    """Every revealed cell as an out-of-band swap ("Show all")."""
    return Markup("").join(revealed_cell(n, v, url, oob=True) for n, v in values.items())


def live_rows(
    rows: Iterable[CurrentSecretRow],
    *,
    url: str,
    empty: Collection[str],
    saved: Collection[str],
    revealed: Mapping[str, str],
    now_ms: int,
) -> Markup:
    """One row per live secret: key input (`k:<name>`), value cell, last update, delete."""
    times: dict[int, str] = {}
    parts = []
    for row in rows:
        name = row.name
        n = _e(name)
        when = times.get(row.updated_at)
        if when is None:
            moment = row.updated_at
            when = f'<time datetime="{iso_time(moment)}">{relative_time(moment, now_ms)}</time>'
            times[moment] = when
        cell: str
        if name in revealed:
            cell = revealed_cell(name, revealed[name], url)
        else:
            cell = _masked(n, name in empty)
        mark, tag = ("", "") if name not in saved else (' class="saved"', SAVED_TAG)
        parts.append(
            f'<tr{mark}><td><input name="k:{n}" value="{n}" aria-label="Key">{tag}</td>{cell}'
            f'<td>{when}</td><td><button form="s-del" name="delete" value="{n}"'
            f' aria-label="Delete {n}"></button></td></tr>\n'
        )
    return _built("".join(parts))


def missing_rows(missing: Iterable[tuple[str, list[str]]]) -> Markup:
    """One red row per key live in another environment and not here: a value typed into
    it (`m:<name>`) creates it on Save."""
    parts = []
    for name, where in missing:
        n = _e(name)
        places = _e(", ".join(where))
        parts.append(
            f'<tr class="missing" data-name="{n}"><td><span class="key">{n}</span>'
            f'<span class="tag">missing</span></td><td><textarea name="m:{n}" rows="1"'
            f' placeholder="Missing — add a value" aria-label="Value of {n}"></textarea></td>'
            f'<td class="where">in {places}</td><td></td></tr>\n'
        )
    return _built("".join(parts))
