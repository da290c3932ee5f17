"""The masked prompt of `sigillo secrets set NAME` at a terminal (behaviour.md 11.7).

The value is typed with the terminal's echo off; each byte typed shows as one `*`, so the
user sees that keys arrive without the value ever being on screen (or in a screen
recording, a shared terminal, the scrollback). When Enter is pressed the line is rewritten
as `✔ Value for NAME: ****`: a fixed mask, so the scrollback does not keep even the
value's length.

Keys: printable bytes (UTF-8 included) are added; Backspace or DEL removes the last
character; Ctrl-U clears the line; Enter (or end of input) finishes; Ctrl-C or Ctrl-D
cancels with `error: cancelled`. Escape sequences (arrow keys and the like) are ignored
rather than typed into the value. Other control bytes are ignored.

The terminal is switched to non-canonical, no-echo, no-signal mode BEFORE the prompt is
written, so nothing typed after the prompt appears is ever echoed, and it is restored
whatever happens (an exception, Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Iterator
from types import ModuleType

from sigillo.cli.errors import CliError
from sigillo.cli.output import Output, printable

__all__ = ["MASK", "read_masked"]

MASK = "****"
_ENTER = (0x0A, 0x0D)
_CANCEL = (0x03, 0x04)  # Ctrl-C, Ctrl-D
_ERASE = (0x08, 0x7F)  # Backspace, DEL
_KILL_LINE = 0x15  # Ctrl-U
_ESCAPE = 0x1B
_ESCAPE_WAIT = 0.05  # seconds: how long the rest of an escape sequence may take to arrive


def read_masked(name: str, out: Output, fd: int = 0) -> bytes:
    """Ask for the value of `name` on stderr, reading keys from the terminal `fd`."""
    label = f"Value for {printable(name)}:"
    err = out.stderr
    try:
        import termios  # imported here: absent on Windows, and only needed by this prompt
    except ImportError:  # no per-key echo there, but still no echo at all
        import getpass

        return getpass.getpass(f"? {label} ", stream=err).encode()
    with _raw_mode(fd, termios):
        err.write(f"{out.style('?', 'blue', stream=err)} {out.style(label, 'bold', stream=err)} ")
        err.flush()
        value = _read_keys(fd, out)
    if out.stderr_tty:
        done = f"{out.style('✔', 'green', stream=err)} {label} {MASK if value else ''}"
        err.write(f"\r\x1b[2K{done.rstrip()}\n")
    else:
        err.write("\n")
    err.flush()
    return value


@contextlib.contextmanager
def _raw_mode(fd: int, termios: ModuleType) -> Iterator[None]:
    saved = termios.tcgetattr(fd)
    changed = termios.tcgetattr(fd)
    changed[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
    changed[6][termios.VMIN] = 1
    changed[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSAFLUSH, changed)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_keys(fd: int, out: Output) -> bytes:
    value = bytearray()
    while True:
        try:
            key = os.read(fd, 1)
        except OSError:  # the terminal went away (hang-up): nothing was confirmed
            raise CliError("cancelled") from None
        if not key or key[0] in _ENTER:
            return bytes(value)
        byte = key[0]
        if byte in _CANCEL:
            _echo(out, "\n")
            raise CliError("cancelled")
        if byte in _ERASE:
            _echo(out, "\b \b" * _drop_last_character(value))
        elif byte == _KILL_LINE:
            _echo(out, "\b \b" * len(value))
            value.clear()
        elif byte == _ESCAPE:
            _skip_escape_sequence(fd)
        elif byte >= 0x20:
            value.append(byte)
            _echo(out, "*")


def _drop_last_character(value: bytearray) -> int:
    """Remove the last UTF-8 character (all its bytes); how many bytes went."""
    removed = 0
    while value:
        byte = value.pop()
        removed += 1
        if not 0x80 <= byte <= 0xBF:  # not a continuation byte: the character's start
            break
    return removed


def _skip_escape_sequence(fd: int) -> None:
    """Swallow the rest of `ESC [ … final` or `ESC O x` when it follows at once."""
    if not _more_within(fd, _ESCAPE_WAIT):
        return
    kind = os.read(fd, 1)
    if kind == b"O":
        if _more_within(fd, _ESCAPE_WAIT):
            os.read(fd, 1)
    elif kind == b"[":
        while _more_within(fd, _ESCAPE_WAIT):
            byte = os.read(fd, 1)
            if not byte or 0x40 <= byte[0] <= 0x7E:
                return


def _more_within(fd: int, seconds: float) -> bool:
    ready, _, _ = select.select([fd], [], [], seconds)
    return bool(ready)


def _echo(out: Output, text: str) -> None:
    if text:
        out.stderr.write(text)
        out.stderr.flush()
