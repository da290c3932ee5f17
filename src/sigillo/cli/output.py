"""Terminal output: colours only on terminals, YAML-like blocks, and safe quoting.

behaviour.md 10.2: success output goes to stdout and errors to stderr; ANSI colours are
written to a stream only when that stream is a terminal (and `NO_COLOR` is unset).
Strings coming from the server (names of orgs, projects, secrets) are printed through
`quote` or `printable`, which show control characters as escapes: a name can never move
the cursor, change the title or hide text in the user's terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TextIO

__all__ = ["Output", "printable", "quote", "scalar"]

_CODES = {"bold": 1, "dim": 2, "red": 31, "green": 32, "yellow": 33, "blue": 34, "cyan": 36}
# DEL and the C1 controls (CSI is U+009B) are not escaped by JSON; a terminal obeys them.
_UNSAFE_AFTER_JSON = re.compile("[\u007f-\u009f\u2028\u2029]")
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029]")


def quote(value: str) -> str:
    """A string as a JSON string (behaviour.md 7.1), with DEL and C1 controls escaped too."""
    return _UNSAFE_AFTER_JSON.sub(_escape, json.dumps(value, ensure_ascii=False))


def printable(text: str) -> str:
    """Text for an unquoted place (a hint, a table): every control character escaped."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def scalar(value: object) -> str:
    """A value of a `key: value` line: strings quoted, booleans and numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return quote(str(value))


class Output:
    """The two streams of a command, each knowing whether it may be coloured."""

    def __init__(
        self,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        env = os.environ if env is None else env
        self.stdout_tty = _isatty(self.stdout)
        self.stderr_tty = _isatty(self.stderr)
        colour = not env.get("NO_COLOR")
        self._colour = {
            self.stdout: colour and self.stdout_tty,
            self.stderr: colour and self.stderr_tty,
        }

    def style(self, text: str, *styles: str, stream: TextIO | None = None) -> str:
        if not styles or not self._colour.get(stream or self.stdout):
            return text
        codes = ";".join(str(_CODES[name]) for name in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def line(self, text: str = "", *, end: str = "\n") -> None:
        self.stdout.write(text + end)

    def write(self, data: bytes) -> None:
        """Bytes to stdout exactly as given (values, downloads)."""
        self.stdout.flush()
        self.stdout.buffer.write(data)
        self.stdout.buffer.flush()

    def note(self, text: str, *styles: str) -> None:
        self.stderr.write(self.style(text, *styles, stream=self.stderr) + "\n")
        self.stderr.flush()

    def error(self, message: str, hint: Iterable[str] = ()) -> None:
        word = self.style("error", "bold", "red", stream=self.stderr)
        self.stderr.write(f"{word}: {message}\n")
        for line in hint:
            self.stderr.write(line + "\n")
        self.stderr.flush()

    def block(self, fields: Iterable[tuple[str, object]], indent: str = "") -> None:
        """`key: value` lines (behaviour.md 10.2)."""
        for key, value in fields:
            self.line(f"{indent}{key}: {scalar(value)}")

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[str]],
        styles: Callable[[int, str], Sequence[str]] | None = None,
    ) -> None:
        """An aligned table for a terminal: a bold header row, then one line per row, each
        cell escaped (`printable`) and padded to its column's width; no trailing spaces.
        `styles(column, cell)` names the styles of a cell (colours on a terminal only)."""
        cells = [[printable(str(cell)) for cell in row] for row in rows]
        widths = [len(header) for header in headers]
        for row in cells:
            for index, cell in enumerate(row):
                widths[index] = max(widths[index], len(cell))
        last = len(headers) - 1

        def line(row: Sequence[str], style: Callable[[int, str], str]) -> str:
            padded = [
                style(index, cell) + ("" if index == last else " " * (widths[index] - len(cell)))
                for index, cell in enumerate(row)
            ]
            return "  ".join(padded).rstrip()

        named = styles or (lambda _index, _cell: ())
        self.line(line(headers, lambda _, cell: self.style(cell, "bold")))
        for row in cells:
            self.line(line(row, lambda index, cell: self.style(cell, *named(index, cell))))

    def success(self, text: str) -> None:
        """`✔ text`, the check mark green on a terminal."""
        self.line(f"{self.style('✔', 'green')} {text}")

    def json(self, document: object) -> None:
        """Machine-readable output; control characters escaped like `quote` does."""
        self.line(
            _UNSAFE_AFTER_JSON.sub(_escape, json.dumps(document, ensure_ascii=False, indent=2))
        )


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
