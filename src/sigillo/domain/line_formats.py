"""The line formats of behaviour.md 7.1 (`env`, `env-no-quotes`, `docker`, `yaml`) and
Sigillo's `shell`, each judged by what its consumers read back [D19].

`env`: one `NAME=…` line per value, read back identically by Node's `dotenv`, python-dotenv
(without interpolation) and `sigillo.domain.dotenv`. Their quoting rules differ: inside
double quotes Node decodes only `\\n` and `\\r`, python-dotenv also `\\\\ \\' \\" \\a \\b \\f
\\t \\v`, Sigillo the JSON escapes; inside single quotes Node and Sigillo decode nothing and
python-dotenv decodes `\\\\` and `\\'`; every reader turns a raw CR into LF; unquoted values
end at `#` (Node) or ` #` (python-dotenv) and are trimmed. So each value takes the first form
all three read alike:

1. double quotes, LF written `\\n` and CR `\\r`, everything else raw: for a value without `"`
   and without a backslash that some reader would decode (one before `\\ " ' / a b f n r t
   u v`, a line break, or at the end). This is the reference's bytes wherever they were read
   right (a value without `"`, backslash or control character other than LF and CR);
2. single quotes, everything raw: no `'`, no CR, no `\\\\`, no backslash at the end;
3. unquoted: one line, no `#`, no quote first, no white space at either end;
4. otherwise no form satisfies all three: the value is written as the reference wrote it
   (double quotes around its JSON string, exactly what Sigillo decodes, and python-dotenv
   but for `\\uXXXX`), a final backslash as `\\u005c` so that no reader takes the
   closing quote for an escaped one and reads on into the next value. A comment line at
   the top of the file names it: `# NAME: cannot be written so that every .env reader
   agrees (…)`. Names only: the reason says which characters, never the value. `sigillo
   secrets download` repeats those names on stderr.

`shell`: `export NAME='…'` lines, each `'` written `'\\''`: POSIX single quotes, which bash,
dash and zsh read literally (no expansion, no command substitution, any byte but NUL).

`docker`: the reference's `NAME=value`, each LF written as the two characters `\\` `n`.
Docker's `--env-file` reads lines raw and drops a CR at the end of a line, so a value
ending in CR cannot be kept: a comment line at the top names it.

`yaml`: `NAME: "…"`, the value as a JSON string (a YAML double-quoted scalar), with DEL,
C1 controls, U+2028/U+2029, U+FEFF and U+FFFE/U+FFFF escaped as `\\uXXXX` (PyYAML refuses
the raw ones, or reads NEL, LS and PS as line breaks). A name YAML would read as a boolean
or null (`ON`, `no`, `NULL`, …) is quoted. An empty environment stays the reference's
single LF, an empty document (null to both readers), which `sigillo secrets upload` reads
as nothing to upload.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from json.encoder import encode_basestring
from typing import Final, TypeAlias

__all__ = [
    "DOCKER_DROPS",
    "ENV_DISAGREES",
    "disagreements",
    "docker",
    "env",
    "env_no_quotes",
    "shell",
    "yaml",
]

Pairs: TypeAlias = Sequence[tuple[str, str]]

ENV_DISAGREES: Final = "cannot be written so that every .env reader agrees"
DOCKER_DROPS: Final = "cannot be written so that docker reads it back"

_json_string: Final[Callable[[str], str]] = encode_basestring

# A backslash before one of these is decoded by at least one .env reader in double quotes.
_DECODED_AFTER_BACKSLASH: Final = frozenset("\\\"'/abfnrtuv\n\r")
# White space to JavaScript's String.prototype.trim that str.isspace does not count.
_JS_SPACE: Final = frozenset("\ufeff")


def _lines(entries: Sequence[str]) -> str:
    """Entries joined with LF plus a final LF; an empty environment is a single LF."""
    return "\n".join(entries) + "\n"


def _header(notes: Sequence[str], body: str) -> str:
    return "".join(note + "\n" for note in notes) + body


# --- env ----------------------------------------------------------------------------------


def _double_quotable(value: str) -> bool:
    if '"' in value:
        return False
    slash = value.find("\\")
    while slash != -1:
        if slash + 1 == len(value) or value[slash + 1] in _DECODED_AFTER_BACKSLASH:
            return False
        slash = value.find("\\", slash + 2)
    return True


def _single_quotable(value: str) -> bool:
    return not ("'" in value or "\r" in value or "\\\\" in value or value.endswith("\\"))


def _space(char: str) -> bool:
    return char.isspace() or char in _JS_SPACE


def _bare(value: str) -> bool:
    return (
        value != ""
        and not any(char in value for char in "\n\r#\u2028\u2029")
        and value[0] not in "'\"`"
        and not _space(value[0])
        and not _space(value[-1])
    )


def _env_entry(name: str, value: str) -> tuple[str, str | None]:
    """The line of one value, and why no form suits every reader (None when one does)."""
    if _double_quotable(value):
        return f'{name}="' + value.replace("\n", "\\n").replace("\r", "\\r") + '"', None
    if _single_quotable(value):
        return f"{name}='{value}'", None
    if _bare(value):
        return f"{name}={value}", None
    return f"{name}={_fallback(value)}", _why(value)


def _fallback(value: str) -> str:
    """The value as a JSON string, which Sigillo (and mostly python-dotenv) decodes. A final
    backslash is written `\\u005c`: Node's dotenv and python-dotenv take `\\"` for an
    escaped quote and would read on into the next lines, losing the values there."""
    quoted = _json_string(value)
    return quoted[:-3] + '\\u005c"' if quoted.endswith('\\\\"') else quoted


def _why(value: str) -> str:
    """Which characters stand in the way, named in words (never the value)."""
    found = [
        label
        for label, present in (
            ("a double quote", '"' in value),
            ("a single quote", "'" in value),
            ("backslashes", "\\" in value),
            ("a carriage return", "\r" in value),
            ("a line feed", "\n" in value),
            ("a #", "#" in value),
            ("white space at an end", _space(value[0]) or _space(value[-1])),
        )
        if present
    ]
    return (
        "it holds " + ", ".join(found[:-1]) + " and " + found[-1]
        if len(found) > 1
        else ("it holds " + found[0])
    )


def _env_lines(secrets: Pairs) -> tuple[list[str], list[tuple[str, str]]]:
    lines: list[str] = []
    notes: list[tuple[str, str]] = []
    for name, value in secrets:
        line, why = _env_entry(name, value)
        lines.append(line)
        if why is not None:
            notes.append((name, why))
    return lines, notes


def env(secrets: Pairs) -> str:
    lines, notes = _env_lines(secrets)
    header = [
        f"# {name}: {ENV_DISAGREES} ({why}; written in Sigillo's escapes)" for name, why in notes
    ]
    return _header(header, _lines(lines))


def env_no_quotes(secrets: Pairs) -> str:
    return _lines([f"{name}={value}" for name, value in secrets])


# --- docker -------------------------------------------------------------------------------


def docker(secrets: Pairs) -> str:
    """Each line feed becomes the two characters `\\` `n`; nothing else changes (CR stays raw)."""
    lines = [name + "=" + value.replace("\n", "\\n") for name, value in secrets]
    header = [
        f"# {name}: {DOCKER_DROPS} (docker drops the carriage return at its end)"
        for name, value in secrets
        if value.endswith("\r")
    ]
    return _header(header, _lines(lines))


# --- shell --------------------------------------------------------------------------------


def shell(secrets: Pairs) -> str:
    return _lines(
        [f"export {name}='" + value.replace("'", "'\\''") + "'" for name, value in secrets]
    )


# --- yaml ---------------------------------------------------------------------------------

_YAML_RAW_REFUSED: Final = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_YAML_NOT_A_STRING: Final = re.compile(
    r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
    r"|on|On|ON|off|Off|OFF|null|Null|NULL"
)


def _yaml_string(value: str) -> str:
    quoted = _json_string(value)
    return _YAML_RAW_REFUSED.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


def _yaml_key(name: str) -> str:
    return f'"{name}"' if _YAML_NOT_A_STRING.fullmatch(name) else name


def yaml(secrets: Pairs) -> str:
    return _lines([f"{_yaml_key(name)}: {_yaml_string(value)}" for name, value in secrets])


# --- what cannot be written ---------------------------------------------------------------


def disagreements(format: str, secrets: Pairs) -> list[tuple[str, str]]:
    """(name, reason) of each value `format` cannot write so that its readers agree; the
    same names the format's comment lines give."""
    if format == "env":
        return _env_lines(secrets)[1]
    if format == "docker":
        return [
            (name, "docker drops the carriage return at its end")
            for name, value in secrets
            if value.endswith("\r")
        ]
    return []
