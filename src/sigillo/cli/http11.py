"""One HTTP/1.1 connection of the CLI's client (client.py): write a request, read its
answer whole. What of HTTP/1.1 (RFC 9112) it implements, and no more, is listed in
client.py's docstring; every limit is http.client's.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from io import BufferedReader

__all__ = [
    "DEFAULT_PORTS",
    "MAX_HEADERS",
    "MAX_LINE",
    "Connection",
    "Cut",
    "Disconnected",
    "Invalid",
    "host_header",
    "plain",
]

MAX_LINE = 65536  # bytes in a status, header, chunk-size or trailer line (http.client's)
MAX_HEADERS = 100  # header (or trailer) lines in an answer (http.client's)
MAX_INTERIM = 100  # 1xx answers before the final one
READ_SIZE = 1 << 20  # a body is read in pieces: a huge Content-Length allocates nothing
DEFAULT_PORTS = {"http": 80, "https": 443}


class Disconnected(Exception):
    """The server closed the connection before the first byte of an answer (a kept-alive
    connection it had given up on): http.client's RemoteDisconnected."""


class Cut(Exception):
    """The connection closed in the middle of an answer."""


class Invalid(Exception):
    """An answer that is not HTTP/1.x as this client reads it; the text says why."""


def plain(text: str) -> bool:
    """Printable ASCII without spaces: fit for a request line or a Host header as is."""
    return text.isascii() and text.isprintable() and " " not in text


def host_header(scheme: str, host: str, port: int | None) -> str | None:
    """The Host header's value, or None for a host name that cannot be sent."""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")  # the codec is loaded only here
        except UnicodeError:
            return None
    if not plain(host) or any(character in host for character in "/?#@"):
        return None
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"


class Connection:
    """An open socket (TLS-wrapped for https) and a buffered reader on it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: BufferedReader = sock.makefile("rb")
        self.reusable = True

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()  # the descriptor closes once the reader let it go

    def exchange(self, method: str, message: bytes) -> tuple[int, bytes]:
        """Send one request and read its answer, whole: its status and body."""
        self.sock.sendall(message)
        interim = 0
        while True:
            version, status = self._status_line(first=interim == 0)
            headers = self._headers()
            if 100 <= status < 200 and status != 101:
                interim += 1  # 100 Continue, 103 Early Hints…: the real answer follows
                if interim > MAX_INTERIM:
                    raise Invalid(f"more than {MAX_INTERIM} interim (1xx) answers")
                continue
            break
        tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
        if "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens):
            self.reusable = False
        if method == "HEAD" or status < 200 or status in (204, 304):
            if status == 101:  # switching protocols, which this client never asks for
                self.reusable = False
            return status, b""
        return status, self._body(headers)

    def _line(self, what: str) -> bytes:
        line = self.reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise Invalid(f"a {what} line longer than {MAX_LINE} bytes")
        return line

    def _status_line(self, *, first: bool) -> tuple[str, int]:
        line = self._line("status")
        if not line:
            if first:
                raise Disconnected
            raise Cut
        parts = line.decode("latin-1").split(None, 2)
        version, status = [*parts, "", ""][:2]
        if (
            version not in ("HTTP/1.0", "HTTP/1.1")
            or len(status) != 3
            or not (status.isascii() and status.isdigit())
            or status[0] == "0"
        ):
            raise Invalid("not an HTTP/1.x status line")  # never quoted: the server's bytes
        return version, int(status)

    def _headers(self, what: str = "header") -> dict[str, str]:
        """Header (or trailer) lines up to the blank line, by lower-case name; repeated
        names joined with ", ", obsolete folded lines joined to the previous one."""
        headers: dict[str, str] = {}
        name = ""
        for count in range(MAX_HEADERS + 1):
            line = self._line(what)
            if line in (b"\r\n", b"\n"):
                return headers
            if not line:
                raise Cut
            if count == MAX_HEADERS:
                break
            text = line.decode("latin-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and name:
                headers[name] += " " + text.strip()
                continue
            name, colon, value = text.partition(":")
            name = name.rstrip(" \t").lower()
            if not colon or not name:
                raise Invalid(f"a malformed {what} line")
            value = value.strip(" \t")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        raise Invalid(f"more than {MAX_HEADERS} {what}s")

    def _body(self, headers: dict[str, str]) -> bytes:
        codings = headers.get("transfer-encoding")
        if codings is not None:
            if codings.rsplit(",", 1)[-1].strip().lower() == "chunked":
                return self._chunked()
            return self._until_close()  # RFC 9112 6.3: the close delimits it
        length = headers.get("content-length")
        if length is None:
            return self._until_close()
        values = {value.strip() for value in length.split(",")}
        value = values.pop()
        if values or not (value.isascii() and value.isdigit()):
            raise Invalid("a malformed Content-Length")
        return self._exact(int(value))

    def _exact(self, size: int) -> bytes:
        pieces = []
        while size > 0:
            piece = self.reader.read(min(size, READ_SIZE))
            if not piece:
                raise Cut
            pieces.append(piece)
            size -= len(piece)
        return b"".join(pieces)

    def _chunked(self) -> bytes:
        pieces = []
        while True:
            line = self._line("chunk size")
            if not line:
                raise Cut
            digits = line.split(b";", 1)[0].strip(b" \t\r\n")  # extensions ignored
            if not digits or digits.strip(b"0123456789abcdefABCDEF"):
                raise Invalid("a malformed chunk size")
            size = int(digits, 16)
            if size == 0:
                break
            pieces.append(self._exact(size))
            end = self._line("chunk end")
            if not end:
                raise Cut
            if end not in (b"\r\n", b"\n"):
                raise Invalid("a chunk longer than its size")
        try:
            self._headers("trailer")  # skipped
        except Cut:
            self.reusable = False  # the body was whole; http.client accepts it too
        return b"".join(pieces)

    def _until_close(self) -> bytes:
        self.reusable = False
        pieces = []
        while piece := self.reader.read1(READ_SIZE):
            pieces.append(piece)
        return b"".join(pieces)
