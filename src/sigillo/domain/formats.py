"""Download formats: one environment's secrets rendered as bytes (behaviour.md section 7).

`render(format, secrets)` takes the (name, value) pairs in replay order and returns the
body with its content type. The pairs are the items of the replayed mapping, so names are
unique; each pair is rendered as given (only `dotnet-json` merges, by its own rule in 7.3).
Names are assumed to have passed `values.secret_name` and values `values.secret_value` (no
NUL, no lone surrogates).

A format is judged by what its consumers read back [D19]; where the reference's bytes are
read back right they are kept. `json`, `xargs` and `dotnet-json` are here; the line formats
(`env`, `env-no-quotes`, `docker`, `yaml` and Sigillo's `shell`) and the reasons for their
bytes are in `sigillo.domain.line_formats`. `disagreements` names the values a format
cannot write so that all its readers agree (the format's comment lines say the same).

"The value as a JSON string" (7.1) is `json.dumps(value, ensure_ascii=False)` (computed by
its C core, `json.encoder.encode_basestring`): it escapes
`"`, `\\`, LF, CR, TAB, backspace and form feed by their short forms, every other
character U+0000-U+001F as lowercase `\\u00xx`, and leaves `/`, DEL, C1 controls,
U+2028/U+2029 and all non-ASCII text as they are. That is exactly the rule of 7.1
(tests/unit/test_formats.py pins it for every code point below U+3000).

`dotnet-json` refuses two names whose paths are equal when case is ignored (.NET reads
configuration keys without case): `db_host` and `DB_HOST` both become `DbHost`, and `A_B`
(`AB`) and `AB` (`Ab`) are one key to .NET. The reference kept the later value silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Final, TypeAlias

import msgspec

from sigillo.domain import line_formats
from sigillo.domain.errors import FormatConflict, InvalidInput
from sigillo.domain.events import SecretKind
from sigillo.domain.line_formats import disagreements

__all__ = [
    "FORMATS",
    "MOUNT_FORMATS",
    "Rendered",
    "disagreements",
    "dotnet_json_path",
    "render",
    "render_with_kinds",
]

FORMATS: Final = ("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json", "shell")
"""Every format `render` writes, in the order of behaviour.md 7.1, then Sigillo's `shell`
(`export NAME='…'` lines for `source` or `eval` [D19])."""

WITH_KINDS: Final = "json-kinds"
"""Sigillo's format of values with their kinds [D18], for programs that must know what to
hide (`sigillo run`, a CI job masking values): `render_with_kinds`."""

DOWNLOAD_FORMATS: Final = (*FORMATS, WITH_KINDS)
"""Every format the download route answers."""

MOUNT_FORMATS: Final = tuple(name for name in FORMATS if name not in ("xargs", "shell"))
"""Formats `sigillo run --mount` may write: a NUL-separated file is not a config file, and
a program reads its environment, not a shell script."""

_TEXT: Final = "text/plain; charset=utf-8"

_CONTENT_TYPES: Final = {
    "json": "application/json",
    "env": _TEXT,
    "env-no-quotes": _TEXT,
    "xargs": "application/octet-stream",
    "yaml": "text/yaml; charset=utf-8",
    "docker": _TEXT,
    "dotnet-json": "application/json; charset=utf-8",
    "shell": _TEXT,
    WITH_KINDS: "application/json",
}


class Rendered(msgspec.Struct, frozen=True):
    """A rendered download: the exact body and the Content-Type to send it with."""

    body: bytes
    content_type: str


Pairs: TypeAlias = Sequence[tuple[str, str]]


def render(format: str, secrets: Pairs) -> Rendered:
    """Render `secrets` ((name, value) pairs, in order) in one of `FORMATS`.

    Raises InvalidInput (field "format") for an unknown format and FormatConflict when
    `dotnet-json` cannot nest the names (7.3). `json-kinds` needs the kinds too: it is
    `render_with_kinds`.
    """
    renderer = _RENDERERS.get(format)
    if renderer is None:
        raise InvalidInput("format", "must be one of " + ", ".join(FORMATS))
    return Rendered(body=renderer(secrets).encode("utf-8"), content_type=_CONTENT_TYPES[format])


def render_with_kinds(
    secrets: Sequence[tuple[str, str, SecretKind]],
    parts: Mapping[str, Sequence[str]] | None = None,
) -> Rendered:
    """`json-kinds` of (name, value, kind) triples: `{"NAME":{"value":"…","kind":"secret"},…}`
    in the given order, strings written as in `json`. A value built from secrets through
    references (issue 18) also lists them: `"parts":["…"]`, for `sigillo run` to protect
    each on its own too."""
    parts = parts or {}

    def extra(name: str) -> str:
        held = parts.get(name)
        return ',"parts":[' + ",".join(map(_json_string, held)) + "]" if held else ""

    members = (
        f'{_json_string(name)}:{{"value":{_json_string(value)},"kind":"{kind}"{extra(name)}}}'
        for name, value, kind in secrets
    )
    body = "{" + ",".join(members) + "}"
    return Rendered(body=body.encode("utf-8"), content_type=_CONTENT_TYPES[WITH_KINDS])


_json_string: Final[Callable[[str], str]] = encode_basestring


def _json(secrets: Pairs) -> str:
    members = (f"{_json_string(name)}:{_json_string(value)}" for name, value in secrets)
    return "{" + ",".join(members) + "}"


def _xargs(secrets: Pairs) -> str:
    return "".join(f"{name}\0{value}\0" for name, value in secrets)


# --- dotnet-json (7.3) --------------------------------------------------------------------

_WORD_START = re.compile(r"(?:^|_)([a-z])")

Tree: TypeAlias = dict[str, "str | Tree"]


def dotnet_json_path(name: str) -> list[str]:
    """The object keys a name becomes: `MY__API_KEY` -> ["My", "ApiKey"], `A___B` -> ["A", "B"].

    The name is split at every `__` from the left; each part is lower-cased, then every
    ASCII letter at the start of the part or right after a `_` is upper-cased and that `_`
    dropped. An `_` not followed by a letter (before a digit, at the end) stays.
    """
    return [
        _WORD_START.sub(lambda match: match.group(1).upper(), part.lower())
        for part in name.split("__")
    ]


def _dotnet_tree(secrets: Pairs) -> Tree:
    """The nested object of 7.3. Keys are compared without case, as .NET reads them: a
    parent object is shared whatever its spelling (the first one is written), and a leaf
    another name already holds is refused [D19] (the reference kept the later value)."""
    root: Tree = {}
    spelled: dict[tuple[int, str], str] = {}  # (id of an object, lower-cased key) -> key
    holders: dict[tuple[str, ...], str] = {}  # lower-cased leaf path -> the name there
    for name, value in secrets:
        path = dotnet_json_path(name)
        *parents, leaf = path
        node = root
        for key in parents:
            key = spelled.setdefault((id(node), key.lower()), key)
            child = node.setdefault(key, {})
            if isinstance(child, str):
                raise FormatConflict(
                    f"dotnet-json format conflict: {name} overlaps with an existing scalar key"
                )
            node = child
        leaf = spelled.setdefault((id(node), leaf.lower()), leaf)
        if isinstance(node.get(leaf), dict):
            raise FormatConflict(
                f"dotnet-json format conflict: {name} overlaps with an existing object key"
            )
        folded = tuple(part.lower() for part in path)
        if folded in holders:
            raise FormatConflict(
                f"dotnet-json format conflict: {holders[folded]} and {name} become the same"
                f" key {':'.join(path)} (.NET ignores case)"
            )
        holders[folded] = name
        node[leaf] = value
    return root


def _dotnet_json(secrets: Pairs) -> str:
    return json.dumps(_dotnet_tree(secrets), ensure_ascii=False, indent=2) + "\n"


_RENDERERS: Final[dict[str, Callable[[Pairs], str]]] = {
    "json": _json,
    "env": line_formats.env,
    "env-no-quotes": line_formats.env_no_quotes,
    "xargs": _xargs,
    "yaml": line_formats.yaml,
    "docker": line_formats.docker,
    "dotnet-json": _dotnet_json,
    "shell": line_formats.shell,
}
