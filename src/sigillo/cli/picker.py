"""The interactive list picker of `sigillo setup` (behaviour.md 11.4).

On a terminal the picker reads keys one at a time: arrows or `j`/`k` move, Enter chooses,
Ctrl-C or Ctrl-D cancels (`error: setup cancelled`). The terminal is put in a raw-like
mode (no echo, no line buffering, no signals from Ctrl-C, which arrives as a key) and the
cursor is hidden; both are restored on every way out (`finally`): a choice, a cancel, an
error, or a KeyboardInterrupt sent by another process. Output processing is left on, so
`\\n` still returns the carriage.

Where the terminal cannot be switched (termios missing, as on Windows, or the descriptor
refusing it), a numbered list is shown instead and one line is read: `Enter number: `;
an answer that is not a listed number picks the default.

Options are shown as given; callers pass them through `output.printable` (they hold names
from the server).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from sigillo.cli.errors import CliError
from sigillo.cli.output import Output

__all__ = ["CANCELLED", "pick"]

CANCELLED = "setup cancelled"
PAGE = 12  # options shown at once; the list scrolls under the cursor

_HIDE_CURSOR = "\x1b[?25l"
_SHOW_CURSOR = "\x1b[?25h"
_CLEAR_TO_END = "\x1b[J"
_UP = (b"\x1b[A", b"\x1bOA", b"k")
_DOWN = (b"\x1b[B", b"\x1bOB", b"j")
_ENTER = (b"\r", b"\n")
_CANCEL = (b"\x03", b"\x04")
_SEQUENCES = (*_UP, *_DOWN)


def pick(
    prompt: str,
    options: Sequence[str],
    out: Output,
    *,
    default: int = 0,
    fd: int | None = None,
    read_line: Callable[[], str] | None = None,
) -> int:
    """The index of the option the user chose.

    `fd` is the terminal to read keys from (stdin by default); `read_line` reads the
    fallback's answer (`input` by default). Raises CliError(`setup cancelled`) on Ctrl-C
    or Ctrl-D (and on end of input in the fallback).
    """
    if not options:
        raise ValueError("nothing to pick from")
    default = default if 0 <= default < len(options) else 0
    fd = _stdin_fd() if fd is None else fd
    saved = _raw_mode(fd) if fd is not None else None
    if fd is None or saved is None:
        return _numbered(prompt, options, out, default, read_line or input)
    try:
        return _Picker(prompt, options, out, default, fd).run()
    finally:
        _restore(fd, saved)


# --- the terminal -----------------------------------------------------------------------


def _stdin_fd() -> int | None:
    import sys

    try:
        return sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):
        return None


def _raw_mode(fd: int) -> list[Any] | None:
    """Switch `fd` to raw input and answer its previous attributes; None when impossible."""
    try:
        import termios
    except ImportError:  # Windows
        return None
    try:
        saved: list[Any] = termios.tcgetattr(fd)
        mode = termios.tcgetattr(fd)
        mode[0] &= ~(termios.ICRNL | termios.IXON | termios.INLCR | termios.IGNCR)  # iflag
        mode[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)  # lflag
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(fd, termios.TCSADRAIN, mode)
    except (termios.error, OSError):
        return None
    return saved


def _restore(fd: int, saved: list[Any]) -> None:
    import termios

    with contextlib.suppress(termios.error, OSError):  # a terminal gone needs no restoring
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _height(fd: int) -> int:
    try:
        return os.get_terminal_size(fd).lines
    except OSError:
        return 24


def _width(fd: int) -> int:
    try:
        return os.get_terminal_size(fd).columns
    except OSError:
        return 80


# --- the raw-mode picker ----------------------------------------------------------------


class _Picker:
    """One prompt on screen: draws the visible window of options and follows the keys."""

    def __init__(
        self, prompt: str, options: Sequence[str], out: Output, current: int, fd: int
    ) -> None:
        self.prompt, self.options, self.out, self.current, self.fd = (
            prompt,
            options,
            out,
            current,
            fd,
        )
        self.stream: TextIO = out.stdout
        # Long lists scroll: at most PAGE options at once, and never more lines than the
        # terminal has, or the redraw (which moves up by the lines drawn) would leave copies.
        self.window = max(1, min(len(options), PAGE, _height(fd) - 2))
        self.top = 0
        self.drawn = 0
        self.pending = b""

    def run(self) -> int:
        self._write(_HIDE_CURSOR)
        try:
            self._draw()
            while True:
                key = self._key()
                if key in _CANCEL:
                    self._finish(None)
                    raise CliError(CANCELLED)
                if key in _ENTER:
                    self._finish(self.current)
                    return self.current
                if key in _UP:
                    self.current = (self.current - 1) % len(self.options)
                elif key in _DOWN:
                    self.current = (self.current + 1) % len(self.options)
                else:
                    continue
                self._draw()
        finally:
            self._write(_SHOW_CURSOR)

    def _key(self) -> bytes:
        """The next key: an arrow's escape sequence whole, else one byte."""
        while True:
            if not self.pending:
                self.pending = self._read()
            for sequence in _SEQUENCES:
                if self.pending.startswith(sequence):
                    self.pending = self.pending[len(sequence) :]
                    return sequence
            if self.pending.startswith(b"\x1b") and len(self.pending) < 3:
                # Part of an escape sequence: wait briefly for the rest of it.
                more = self._read(timeout=0.05)
                if more:
                    self.pending += more
                    continue
            key, self.pending = self.pending[:1], self.pending[1:]
            if key == b"\x1b":
                self.pending = _skip_sequence(self.pending)  # an unknown sequence: ignore
            return key

    def _read(self, timeout: float | None = None) -> bytes:
        if timeout is not None:
            import select

            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return b""
        data = os.read(self.fd, 64)
        if not data:
            return b"\x04"  # end of input: the terminal is gone; treat as Ctrl-D
        return data

    def _lines(self) -> list[str]:
        if self.current < self.top:
            self.top = self.current
        elif self.current >= self.top + self.window:
            self.top = self.current - self.window + 1
        room = max(10, _width(self.fd) - 5)
        arrow = self.out.style("\u276f", "cyan")  # heavy right-pointing angle quotation mark
        lines = [f"{self.out.style('?', 'blue')} {self.out.style(self.prompt, 'bold')}"]
        for index in range(self.top, self.top + self.window):
            text = _fit(self.options[index], room)
            if index == self.current:
                lines.append(f"  {arrow} {self.out.style(text, 'bold')}")
            else:
                lines.append(f"    {text}")
        return lines

    def _draw(self) -> None:
        self._rewind()
        lines = self._lines()
        self._write("\n".join(lines) + "\n")
        self.drawn = len(lines)

    def _finish(self, chosen: int | None) -> None:
        """Replace the list by one line: `✔ prompt choice`, or nothing when cancelled."""
        self._rewind()
        if chosen is not None:
            check = self.out.style("✔", "green")
            self._write(f"{check} {self.prompt} {self.out.style(self.options[chosen], 'cyan')}\n")
        self.drawn = 0

    def _rewind(self) -> None:
        """Back to the prompt's line and clear everything drawn since."""
        if self.drawn:
            self._write(f"\x1b[{self.drawn}A\r{_CLEAR_TO_END}")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _fit(text: str, room: int) -> str:
    """One screen line at most: a wrapped option would break the redraw's line count."""
    return text if len(text) <= room else text[: room - 1] + "…"


def _skip_sequence(rest: bytes) -> bytes:
    """Drop the remainder of an unrecognised escape sequence (`[` or `O`, then up to a
    final byte in @..~), so its bytes are not taken for keys such as `j`."""
    if rest[:1] not in (b"[", b"O"):
        return rest
    for index in range(1, len(rest)):
        if 0x40 <= rest[index] <= 0x7E:
            return rest[index + 1 :]
    return b""


# --- the numbered fallback --------------------------------------------------------------


def _numbered(
    prompt: str,
    options: Sequence[str],
    out: Output,
    default: int,
    read_line: Callable[[], str],
) -> int:
    out.line(f"{out.style('?', 'blue')} {out.style(prompt, 'bold')}")
    for index, option in enumerate(options):
        suffix = " (default)" if index == default else ""
        out.line(f"  {index + 1}) {option}{suffix}")
    out.line("Enter number: ", end="")
    out.stdout.flush()
    try:
        answer = read_line()
    except (EOFError, KeyboardInterrupt):
        out.line()
        raise CliError(CANCELLED) from None
    try:
        chosen = int(answer.strip()) - 1
    except ValueError:
        chosen = default
    if not 0 <= chosen < len(options):
        chosen = default
    out.success(f"{prompt} {options[chosen]}")
    return chosen
