"""The Secrets table's rows and value cells, written in Python for speed.

The table is the one part of the dashboard whose size grows with the data: an environment
of 500 secrets must render in no more than twice the time of its JSON listing, and the
page must stay under 300 KB (issue 6's budget, bench/). Through Jinja's template
inheritance every piece of a row passes up four generators, which made the rows alone
several times slower than the JSON answer; here a row is one f-string. Every control of
a row is named with its secret's name ("Key of X", "Plain: X", "Reveal value of X",
"Delete X"), so that a screen reader's list of controls tells the rows apart. To pay for
those names within the budget, a row leaves out the end tags the HTML parser implies
(`</td>` but the value cell's, `</tr>`), and a hidden value's twelve bullets (behaviour.md
14.4) are drawn by secrets.css, not written 500 times.

Escaping stays explicit: every name and value goes through `_e` (markupsafe's escape, or
nothing for text without a character HTML reads specially) before it is put in the
markup, and only the finished string is `Markup`. Times are formatted once per distinct moment
(bulk writes share one). No value is written unless the caller passes it as revealed, or as
the value of a `plain` row [D18].

A value cell (`#v-<name>`) starts with the row's kind button [D18], a toggle of the form
`s-kd` with `aria-pressed`: not pressed, a lock (`secret`), sends `plain=<name>`; pressed,
the "plain" marker, sends `secret=<name>`. Then, for a secret, the mask that reveals it (or
the revealed value, with "Hide value"); for a plain row, its value, shown and editable
(class `pl`). The selection boxes of the bulk "Mark as plain/secret" (`sel=<name>`, in the
key cell) cost a row about 100 bytes, which 500 rows cannot afford (bench B7), so
secret_kinds.js adds them; a page asked for with `?select=1` has them here, for browsers
without scripts.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from markupsafe import Markup, escape

from sigillo.domain.errors import InvalidInput
from sigillo.domain.projections.rows import CurrentSecretRow
from sigillo.domain.references import parse, template
from sigillo.web.engine import iso_time, relative_time

__all__ = [
    "Resolution",
    "kind_cells",
    "live_rows",
    "masked_cell",
    "missing_rows",
    "revealed_cell",
    "revealed_cells",
    "shown_rows",
]

SAVED_TAG = '<span class="tag">saved</span>'
# A revealed (or plain) value is shown whole (issue 16): its textarea gets a line for each
# line of the value and for each WRAP_COLUMNS characters of a long one (a token, a URL),
# which the browser wraps; CSS `field-sizing: content` fits it exactly where supported.
# Past MAX_ROWS_SHOWN lines (a long certificate chain) the box scrolls.
MAX_ROWS_SHOWN = 40
WRAP_COLUMNS = 60


# What a revealed value holding references resolves to, or why it cannot be (issue 18):
# (resolved value, None) or (None, the reason); the note under the value says it.
Resolution = tuple[str | None, str | None]

_SAFE = re.compile(r"[A-Za-z0-9_.:/ -]*")  # nothing HTML would read as markup


def _e(text: str) -> str:
    """`text` escaped for HTML text and quoted attributes (a plain name as it is: the
    check is cheaper than escaping, and the answer is the same)."""
    return text if _SAFE.fullmatch(text) else str(escape(text))


def _built(html: str) -> Markup:
    """Markup assembled here from `escape`d pieces and constant text only."""
    return Markup(html)  # noqa: S704 (every interpolated piece went through escape())


def _toggle(n: str, plain: bool) -> str:
    """The kind button of the row `n` (escaped): pressed when the secret is plain."""
    if plain:
        return (
            f'<button form="s-kd" name="secret" value="{n}" aria-pressed="true"'
            f' aria-label="Plain: {n}"></button>'
        )
    return (
        f'<button form="s-kd" name="plain" value="{n}" aria-pressed="false"'
        f' aria-label="Plain: {n}"></button>'
    )


def _masked(n: str, empty: bool, oob: bool = False) -> str:
    flag = ' class="empty"' if empty else ""
    swap = ' hx-swap-oob="true"' if oob else ""
    return (  # the row's kind button (_toggle of a secret) written out: this runs per row
        f'<td id="v-{n}"{swap}><button form="s-kd" name="plain" value="{n}" aria-pressed="false"'
        f' aria-label="Plain: {n}"></button><button form="s-rv" name="name" value="{n}"{flag}'
        f' aria-label="Reveal value of {n}"></button></td>'
    )


def masked_cell(name: str, empty: bool = False) -> Markup:
    return _built(_masked(_e(name), empty))


def _shown(
    name: str,
    value: str,
    url: str,
    *,
    plain: bool,
    oob: bool,
    note: str = "",
) -> str:
    """A value shown for editing, as stored (references unresolved): a revealed secret
    (with "Hide value") or a plain value, and the `note` on its references. The newline
    after `<textarea>` is eaten by the HTML parser, so a value's own leading newline
    survives."""
    n, v = _e(name), escape(value)
    lines = min(shown_rows(value), MAX_ROWS_SHOWN)
    swap = ' hx-swap-oob="true"' if oob else ""
    hide = "" if plain else f'<a href="{_e(url)}" class="hide" data-hide>Hide value</a>'
    return (
        f'<td id="v-{n}" class="{"pl" if plain else "on"}"{swap}>{_toggle(n, plain)}'
        f'<textarea name="v:{n}" rows="{lines}" aria-label="Value of {n}">\n{v}</textarea>'
        f"{hide}{note}</td>"
    )


def reference_note(name: str, value: str, resolution: Resolution | None = None) -> str:
    """The line under a shown value that holds references (issue 18): what it resolves
    to (once revealed: the referenced reads are recorded), why it cannot be resolved, or
    (a plain value, not revealed) which references it holds. Empty for any other value."""
    n = _e(name)
    if resolution is not None:
        resolved, error = resolution
        if error is not None:
            return f'<p class="ref bad" id="r-{n}" role="alert">Cannot resolve: {_e(error)}</p>'
        if resolved is not None:
            shown = escape(resolved)
            return f'<p class="ref" id="r-{n}">Resolves to <code>{shown}</code></p>'
    if not template(value):
        return ""
    try:
        held = parse(value).references
    except InvalidInput as error:
        reason = _e(error.message)
        return f'<p class="ref bad" id="r-{n}" role="alert">Not a reference: {reason}</p>'
    if not held:  # only `$${` escapes
        return ""
    listed = _e(", ".join(reference.text for reference in held))
    return (
        f'<p class="ref" id="r-{n}">Refers to <code>{listed}</code>'
        f' <button form="s-rv" name="name" value="{n}" class="link-button">Resolve</button></p>'
    )


def shown_rows(value: str) -> int:
    """How many lines a value takes once wrapped at WRAP_COLUMNS (one at least)."""
    return sum(max(1, -(-len(line) // WRAP_COLUMNS)) for line in value.split("\n"))


def revealed_cell(
    name: str,
    value: str,
    url: str,
    *,
    plain: bool = False,
    oob: bool = False,
    resolution: Resolution | None = None,
) -> Markup:
    """The cell of a value just revealed (or of a plain value, which needs no reveal);
    `resolution` for a value that holds references."""
    note = "" if resolution is None else reference_note(name, value, resolution)
    return _built(_shown(name, value, url, plain=plain, oob=oob, note=note))


def revealed_cells(
    values: Mapping[str, str], url: str, resolutions: Mapping[str, Resolution] | None = None
) -> Markup:
    """Every revealed cell as an out-of-band swap ("Show all")."""
    found = resolutions or {}
    return Markup("").join(
        revealed_cell(n, v, url, oob=True, resolution=found.get(n)) for n, v in values.items()
    )


def kind_cells(
    rows: Iterable[CurrentSecretRow], plain: Mapping[str, str], empty: Collection[str], url: str
) -> Markup:
    """The value cells of `rows` as out-of-band swaps, after a kind change: a plain row with
    its value (from `plain`), a secret masked. Wrapped in a <template>, so that the answer
    can carry other out-of-band parts besides table cells (htmx swaps both)."""
    cells = []
    for row in rows:
        if row.name in plain:
            cells.append(_shown(row.name, plain[row.name], url, plain=True, oob=True))
        else:
            cells.append(_masked(_e(row.name), row.name in empty, oob=True))
    return _built("<template>" + "".join(cells) + "</template>")


def _select(n: str) -> str:
    """A row's selection box for the bulk kind buttons (secret_kinds.js makes the same)."""
    return f'<input type="checkbox" form="s-kd" name="sel" value="{n}" aria-label="Select {n}">'


def live_rows(
    rows: Iterable[CurrentSecretRow],
    *,
    url: str,
    empty: Collection[str],
    saved: Collection[str],
    revealed: Mapping[str, str],
    now_ms: int,
    plain: Mapping[str, str] | None = None,
    select: bool = False,
    resolutions: Mapping[str, Resolution] | None = None,
    references_since: int = 0,
) -> Markup:
    """One row per live secret: key input (`k:<name>`), value cell (kind button, value
    masked, revealed or plain), last update, delete. `plain` holds the values of the plain
    rows; `select` adds the selection boxes."""
    shown_plain = plain or {}
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
        value = shown_plain.get(name, revealed.get(name))
        if value is not None:
            note = ""
            if "${" in value and row.updated_at >= references_since:
                note = reference_note(name, value, (resolutions or {}).get(name))
            cell = _shown(name, value, url, plain=name in shown_plain, oob=False, note=note)
        else:
            cell = _masked(n, name in empty)
        mark, tag = ("", "") if name not in saved else (' class="saved"', SAVED_TAG)
        box = _select(n) if select else ""
        parts.append(  # end tags the HTML parser implies are left out (size, above)
            f'<tr{mark}><td>{box}<input name="k:{n}" value="{n}" aria-label="Key of {n}">{tag}'
            f'{cell}<td>{when}<td><button form="s-del" name="delete" value="{n}"'
            f' aria-label="Delete {n}"></button>\n'
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
