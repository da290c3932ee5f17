"""Reading a file of secrets for `sigillo secrets upload`: .env, JSON or a flat YAML subset.

Each reader turns text into an ordered mapping name -> value and never echoes a value in
an error (errors name the line and the key, never what follows the `=`).

* `.env` follows behaviour.md section 13 through sigillo.domain.dotenv (pure Python, the
  parser the server's importer uses), so that a file written by `secrets download
  --format env` uploads back to the same values (13.3).
* JSON: one object whose values are all strings (what `--format json` downloads).
* YAML, without a YAML library: only a flat mapping of `KEY: value` lines, each value
  either a JSON-quoted string (what `--format yaml` downloads) or a plain scalar taken as
  written (so `true`, `123` and `null` become those very strings). Anything else, such as
  nesting, lists, block scalars (`|`, `>`), single quotes, anchors or tags, is refused with
  the line number rather than guessed at.
"""

from __future__ import annotations

import json
import re
from typing import Final

__all__ = ["FORMATS", "FileError", "format_for", "parse", "parse_env", "parse_json", "parse_yaml"]

FORMATS: Final = ("env", "json", "yaml")


class FileError(ValueError):
    """The text is not a file of the expected format; the message never holds a value."""


def format_for(filename: str) -> str:
    """The format a file name suggests: .json, .yaml/.yml, else env (`.env`, `.env.local`)."""
    lowered = filename.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return "env"


def parse(text: str, format: str) -> dict[str, str]:
    if format == "json":
        return parse_json(text)
    if format == "yaml":
        return parse_yaml(text)
    return parse_env(text)


_AFTER_CLOSING_QUOTE: Final = re.compile(r"[ \t]*(?:#.*)?")


# --- .env (behaviour.md 13) -----------------------------------------------------------


def parse_env(text: str) -> dict[str, str]:
    """Pairs of .env text (13.1), by the very parser the server's importer uses; a later
    duplicate key wins, keeping its first position."""
    from sigillo.domain.dotenv import parse as parse_dotenv  # pure, standard library only

    return dict(parse_dotenv(text))


# --- JSON -----------------------------------------------------------------------------


def parse_json(text: str) -> dict[str, str]:
    """One JSON object of strings; a key given twice is refused (which value was meant?)."""
    try:
        document = json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as error:
        raise FileError(f"not valid JSON (line {error.lineno}, column {error.colno})") from None
    if not isinstance(document, dict):
        raise FileError("expected a JSON object of names and string values")
    for name, value in document.items():
        if not isinstance(value, str):
            raise FileError(
                f"the value of {json.dumps(name)} is not a string (write it in double quotes)"
            )
    return document


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise FileError(f"{json.dumps(key)} appears twice")
        result[key] = value
    return result


# --- YAML (a flat subset) ---------------------------------------------------------------

_YAML_LINE: Final = re.compile(
    r'(?P<key>[A-Za-z0-9_.-]+|"(?:[^"\\]|\\.)*")[ \t]*:(?:[ \t]+(?P<value>.*))?'
)
_YAML_COMMENT: Final = re.compile(r"[ \t]+#.*")
_YAML_UNSUPPORTED: Final = "only flat KEY: value lines are supported, values JSON-quoted or plain"
_YAML_INDICATORS: Final = "'|>[]{}&*!%@`,"


def parse_yaml(text: str) -> dict[str, str]:
    """A flat `KEY: value` mapping (see the module's docstring for what is supported)."""
    found: dict[str, str] = {}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    seen_content = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        if stripped == "---" and not seen_content:
            seen_content = True
            continue
        seen_content = True
        match = _YAML_LINE.fullmatch(line.rstrip(" \t"))
        if match is None:
            raise FileError(f"line {number}: {_YAML_UNSUPPORTED}")
        key = _yaml_key(match.group("key"), number)
        if key in found:
            raise FileError(f"line {number}: {json.dumps(key)} appears twice")
        found[key] = _yaml_value(match.group("value") or "", number)
    return found


def _yaml_key(raw: str, number: int) -> str:
    if not raw.startswith('"'):
        return raw
    try:
        key: str = json.loads(raw)
    except json.JSONDecodeError:
        raise FileError(f"line {number}: a double-quoted key must be a JSON string") from None
    return key


def _yaml_value(raw: str, number: int) -> str:
    if raw.startswith("#"):  # `KEY: # comment`: nothing but a comment
        return ""
    if raw.startswith('"'):
        return _yaml_json_string(raw, number)
    plain = _YAML_COMMENT.sub("", raw, count=1).strip(" \t")
    if (
        (plain and plain[0] in _YAML_INDICATORS)
        or plain in ("-", "?", ":")
        or plain.startswith(("- ", "? ", ": "))
        or ": " in plain
        or plain.endswith(":")
    ):
        raise FileError(f"line {number}: {_YAML_UNSUPPORTED}")
    return plain


def _yaml_json_string(raw: str, number: int) -> str:
    try:
        value, end = json.JSONDecoder().raw_decode(raw)
    except json.JSONDecodeError:
        raise FileError(
            f"line {number}: a double-quoted value must be a JSON string "
            "(YAML-only escapes and multi-line quotes are not supported)"
        ) from None
    if not isinstance(value, str) or not _AFTER_CLOSING_QUOTE.fullmatch(raw, end):
        raise FileError(f"line {number}: {_YAML_UNSUPPORTED}")
    return value
