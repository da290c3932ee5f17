"""Download formats: one environment's secrets rendered as bytes (behaviour.md section 7).

`render(format, secrets)` takes the (name, value) pairs in replay order and returns the
body byte for byte as the reference wrote it, with its content type. The pairs are the
items of the replayed mapping, so names are unique; each pair is rendered as given (only
`dotnet-json` merges, by its own rule in 7.3). Names are assumed to have passed
`values.secret_name` and values `values.secret_value` (no NUL, no lone surrogates).

"The value as a JSON string" (7.1) is `json.dumps(value, ensure_ascii=False)` (computed by
its C core, `json.encoder.encode_basestring`): it escapes
`"`, `\\`, LF, CR, TAB, backspace and form feed by their short forms, every other
character U+0000-U+001F as lowercase `\\u00xx`, and leaves `/`, DEL, C1 controls,
U+2028/U+2029 and all non-ASCII text as they are. That is exactly the rule of 7.1
(tests/unit/test_formats.py pins it for every code point below U+3000).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from json.encoder import encode_basestring
from typing import Final, TypeAlias

import msgspec

from sigillo.domain.errors import FormatConflict, InvalidInput
from sigillo.domain.events import SecretKind

__all__ = [
    "FORMATS",
    "MOUNT_FORMATS",
    "Rendered",
    "dotnet_json_path",
    "render",
    "render_with_kinds",
]

FORMATS: Final = ("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json")
"""Every format `render` writes, in the order of behaviour.md 7.1."""

WITH_KINDS: Final = "json-kinds"
"""Sigillo's format of values with their kinds [D18], for programs that must know what to
hide (`sigillo run`, a CI job masking values): `render_with_kinds`."""

DOWNLOAD_FORMATS: Final = (*FORMATS, WITH_KINDS)
"""Every format the download route answers."""

MOUNT_FORMATS: Final = tuple(name for name in FORMATS if name != "xargs")
"""Formats `sigillo run --mount` may write: a NUL-separated file is not a config file."""

_TEXT: Final = "text/plain; charset=utf-8"

_CONTENT_TYPES: Final = {
    "json": "application/json",
    "env": _TEXT,
    "env-no-quotes": _TEXT,
    "xargs": "application/octet-stream",
    "yaml": "text/yaml; charset=utf-8",
    "docker": _TEXT,
    "dotnet-json": "application/json; charset=utf-8",
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


def render_with_kinds(secrets: Sequence[tuple[str, str, SecretKind]]) -> Rendered:
    """`json-kinds` of (name, value, kind) triples: `{"NAME":{"value":"…","kind":"secret"},…}`
    in the given order, strings written as in `json`."""
    members = (
        f'{_json_string(name)}:{{"value":{_json_string(value)},"kind":"{kind}"}}'
        for name, value, kind in secrets
    )
    body = "{" + ",".join(members) + "}"
    return Rendered(body=body.encode("utf-8"), content_type=_CONTENT_TYPES[WITH_KINDS])


_json_string: Final[Callable[[str], str]] = encode_basestring


def _lines(entries: Sequence[str]) -> str:
    """Entries joined with LF plus a final LF; an empty environment is a single LF."""
    return "\n".join(entries) + "\n"


def _json(secrets: Pairs) -> str:
    members = (f"{_json_string(name)}:{_json_string(value)}" for name, value in secrets)
    return "{" + ",".join(members) + "}"


def _env(secrets: Pairs) -> str:
    return _lines([f"{name}={_json_string(value)}" for name, value in secrets])


def _env_no_quotes(secrets: Pairs) -> str:
    return _lines([f"{name}={value}" for name, value in secrets])


def _docker(secrets: Pairs) -> str:
    """Each line feed becomes the two characters `\\` `n`; nothing else changes (CR stays raw)."""
    return _lines([name + "=" + value.replace("\n", "\\n") for name, value in secrets])


def _yaml(secrets: Pairs) -> str:
    return _lines([f"{name}: {_json_string(value)}" for name, value in secrets])


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
    root: Tree = {}
    for name, value in secrets:
        *parents, leaf = dotnet_json_path(name)
        node = root
        for key in parents:
            child = node.setdefault(key, {})
            if isinstance(child, str):
                raise FormatConflict(
                    f"dotnet-json format conflict: {name} overlaps with an existing scalar key"
                )
            node = child
        if isinstance(node.get(leaf), dict):
            raise FormatConflict(
                f"dotnet-json format conflict: {name} overlaps with an existing object key"
            )
        node[leaf] = value  # a later name mapping to the same leaf silently wins, in place
    return root


def _dotnet_json(secrets: Pairs) -> str:
    return json.dumps(_dotnet_tree(secrets), ensure_ascii=False, indent=2) + "\n"


_RENDERERS: Final[dict[str, Callable[[Pairs], str]]] = {
    "json": _json,
    "env": _env,
    "env-no-quotes": _env_no_quotes,
    "xargs": _xargs,
    "yaml": _yaml,
    "docker": _docker,
    "dotnet-json": _dotnet_json,
}
