"""The HTTP client of the CLI: a small HTTP/1.1 client over `socket`, one kept-alive connection.

Not httpx: importing it costs more than a whole `sigillo secrets` round trip, and the CLI
makes a handful of plain requests (bench/cli_start.py measures the difference). Not the
standard library's http.client either: it imports the `email` package (to parse headers),
`ssl` and more. Timed with time.perf_counter under `python -S`, `import http.client, json`
takes ~55 ms, `import socket, ssl, json` ~27 ms; with http.client this module took ~47 ms
to import (`python -X importtime`, median of 10), without it ~15 ms, `ssl` being imported
only for an https URL. tests/cli/test_fast_start.py keeps http.client and `email` out.

What of HTTP/1.1 (RFC 9112) this implements, and no more:
- requests: `METHOD target HTTP/1.1`; Host (the port unless the scheme's default, an IPv6
  literal in brackets), Accept-Encoding: identity, Accept, User-Agent, Authorization when
  there is a token; Content-Type and Content-Length for a body (Content-Length: 0 for
  POST, PUT and PATCH without one, as http.client sends);
- responses: the status line must read `HTTP/1.x NNN`; header lines until the blank line,
  names case-insensitive, at most 65,536 bytes a line and 100 headers (http.client's
  limits); interim 1xx answers (100 Continue…) are skipped; the body is delimited by
  Transfer-Encoding: chunked (extensions ignored, trailers skipped), else Content-Length,
  else the connection closing; HEAD, 1xx, 204 and 304 answers have none;
- one connection, kept alive unless the answer says otherwise (`Connection: close`,
  HTTP/1.0 without keep-alive, a body delimited by the close); a GET or HEAD the server
  answered by closing a kept-alive connection is retried once, on a fresh one;
- https: `ssl.create_default_context()` (certificates and host name verified, as
  http.client does by default), the host name sent for SNI, ALPN `http/1.1`.
No proxies, redirects, compression, pipelining or 100-continue expectations.

Every transport failure becomes a CliError with a plain message; a response of any status
is returned to the caller, which knows what the status means for its command, except
answers that show the API URL is wrong (issue 16: the error names the real cause, not
"env dev was not found"): a URL ending in `/api/v0` (the client adds that path itself)
is refused before anything is sent, and an answer to an `/api/…` request that is a
success, a 404 or a 405 but not JSON comes from a server that is not Sigillo.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from sigillo import __version__
from sigillo.cli.errors import CliError
from sigillo.cli.http11 import (
    DEFAULT_PORTS,
    Connection,
    Cut,
    Disconnected,
    Invalid,
    host_header,
    plain,
)
from sigillo.cli.output import printable

__all__ = ["Client", "Response", "Unreachable", "checked_token", "path"]

TIMEOUT = 30.0
_METHODS_EXPECTING_BODY = ("POST", "PUT", "PATCH")


def path(*segments: str) -> str:
    """`/api/v0/…` from segments, each percent-encoded (ids and slugs may hold anything)."""
    return "/api/v0/" + "/".join(quote(segment, safe="") for segment in segments)


class Unreachable(CliError):
    """A transport failure before any answer: connection refused, a name that does not
    resolve, a timeout, a connection closed or reset before an answer (issue 18: when the
    offline copy may stand in, cli/fallback.py). The message is the one users always saw;
    `reason` is its cause in a few words, for a note. Not TLS failures, answers cut short
    or invalid, nor any status, 5xx included: something answered."""

    def __init__(self, message: str, *hint: str, reason: str) -> None:
        super().__init__(message, *hint)
        self.reason = reason


class Response:
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def message(self) -> str:
        """The error text of an answer (behaviour.md 10.2): `error_description`, else
        `error`, else "unknown error"."""
        document = self.json()
        if isinstance(document, dict):
            for key in ("error_description", "error"):
                if isinstance(document.get(key), str):
                    return str(document[key])
        return "unknown error"

    def _details(self) -> list[str]:
        document = self.json()
        detail = document.get("detail") if isinstance(document, dict) else None
        return [
            f"{printable(str(item.get('field')))} {printable(str(item.get('message')))}"
            for item in (detail if isinstance(detail, list) else [])[:10]
            if isinstance(item, dict) and item.get("message")
        ]

    def failure(self, action: str) -> CliError:
        """`failed to <action> (<status>): <message>`, with a hint where one helps."""
        message = f"failed to {action} ({self.status}): {printable(self.message())}"
        if self.status == 422 and (details := self._details()):
            return CliError(f"{message}: {'; '.join(details)}")  # never a value: api/errors
        if self.status == 401:
            return CliError(message, "  sigillo login")
        if self.status >= 500:
            return CliError(message, "  the server failed; its log tells why")
        return CliError(message)


def checked_token(token: str | None) -> str | None:
    """A token as sent: surrounding whitespace (a newline from `$(cat file)`) removed; any
    other space or control character refused without quoting the token, which would
    otherwise surface in an exception about an invalid header."""
    if token is None:
        return None
    token = token.strip()
    if any(character.isspace() or not character.isprintable() for character in token):
        raise CliError(
            "the token holds spaces or control characters",
            "  check SIGILLO_TOKEN, --token or the saved login (sigillo login)",
        )
    return token or None


class Client:
    def __init__(self, api_url: str, token: str | None, *, timeout: float = TIMEOUT) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = checked_token(token)
        self._timeout = timeout
        host = None
        try:
            parts = urlsplit(self.api_url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
            if valid:
                host = host_header(parts.scheme, parts.hostname or "", parts.port)
        except ValueError:
            valid = False
        if not valid or host is None or not plain(parts.path):
            raise CliError(
                f"invalid API URL {printable(api_url)}", "  expected http(s)://host[:port]"
            )
        base = parts.path.rstrip("/")
        if base.endswith(("/api/v0", "/api")):
            address = api_url.rstrip("/").removesuffix("/v0").removesuffix("/api")
            tail = printable(base[base.rindex("/api") :])
            raise CliError(
                f"the API URL {printable(api_url)} ends in {tail}:"
                " give the server's address, Sigillo adds the API's path itself",
                f"  use {printable(address)} (--api-url, $SIGILLO_API_URL or sigillo login)",
            )
        self._parts = parts
        self._host = host
        self._connection: Connection | None = None

    def __repr__(self) -> str:
        return f"Client({self.api_url!r})"  # never the token

    def request(
        self,
        method: str,
        target: str,
        body: object = None,
        *,
        query: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> Response:
        url = self._parts.path.rstrip("/") + target
        if query:
            url += "?" + urlencode(query)
        if not (plain(method) and plain(url) and url.startswith("/") and plain(accept)):
            raise CliError(f"invalid request {printable(method)} {printable(url)}")
        head = [
            f"{method} {url} HTTP/1.1",
            f"Host: {self._host}",
            "Accept-Encoding: identity",
            f"Accept: {accept}",
            f"User-Agent: sigillo-cli/{__version__}",
        ]
        if self._token:
            head.append(f"Authorization: Bearer {self._token}")
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            head += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        elif method in _METHODS_EXPECTING_BODY:
            head.append("Content-Length: 0")
        try:
            message = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data
        except UnicodeEncodeError:  # only the token can hold such a character
            raise CliError(
                "the token holds characters that cannot be sent",
                "  check SIGILLO_TOKEN, --token or the saved login (sigillo login)",
            ) from None
        for attempt in (1, 2):
            try:
                connection = self._connect()
                status, answer = connection.exchange(method, message)
                if not connection.reusable:
                    self.close()
                response = Response(status, answer)
                if accept == "application/json" and target.startswith("/api/"):
                    self._check_sigillo(response)
                return response
            except (Disconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # a kept-alive connection the server closed: retry once, fresh
                if attempt == 2 or method not in ("GET", "HEAD"):
                    raise Unreachable(
                        f"the connection to {self.api_url} was closed", reason="connection closed"
                    ) from None
            except Cut:
                self.close()
                raise CliError(
                    f"the connection to {self.api_url} was closed in the middle of an answer"
                ) from None
            except Invalid as error:
                self.close()
                raise CliError(f"invalid response from {self.api_url}: {error}") from None
            except TimeoutError:
                self.close()
                raise Unreachable(
                    f"{self.api_url} did not answer within {self._timeout:g} s",
                    reason=f"no answer within {self._timeout:g} s",
                ) from None
            except OSError as error:
                self.close()
                raise self._failure(error) from None
            except BaseException:
                self.close()  # interrupted mid-answer: never reused
                raise
        raise AssertionError("unreachable")

    def _check_sigillo(self, response: Response) -> None:
        """A success, 404 or 405 that is not a JSON object was not written by Sigillo (its
        API answers JSON, errors included): some other server listens at the API URL.
        Other statuses may be a proxy's page in front of Sigillo and are left to callers."""
        if not (response.ok or response.status in (404, 405)) or not response.body:
            return
        if isinstance(response.json(), dict):
            return
        raise CliError(
            f"{self.api_url} answered {response.status} without JSON: it is not a Sigillo server",
            "  check the API URL (--api-url, $SIGILLO_API_URL or sigillo login --api-url):"
            " `sigillo server` listens on http://127.0.0.1:8080 by default",
        )

    def _failure(self, error: OSError) -> CliError:
        """A TLS failure is a CliError (a certificate or configuration problem, or an
        attack: never a reason to run offline); any other is Unreachable."""
        ssl = sys.modules.get("ssl")  # loaded only if an https connection was opened
        if ssl is not None and isinstance(error, ssl.SSLError):
            reason = error.reason or error.strerror or type(error).__name__
            return CliError(f"TLS failure talking to {self.api_url}: {reason}")
        if isinstance(error, ConnectionRefusedError):
            return Unreachable(
                f"cannot connect to {self.api_url}: connection refused",
                "  is the server running? start one with: sigillo server",
                reason="connection refused",
            )
        reason = error.strerror or type(error).__name__
        return Unreachable(f"cannot reach {self.api_url}: {reason}", reason=reason)

    def get(self, target: str, **options: Any) -> Response:
        return self.request("GET", target, **options)

    def _connect(self) -> Connection:
        if self._connection is None:
            host = self._parts.hostname or ""
            port = self._parts.port or DEFAULT_PORTS[self._parts.scheme]
            sock = socket.create_connection((host, port), self._timeout)
            try:
                with contextlib.suppress(OSError):  # as http.client: not every system has it
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._parts.scheme == "https":
                    import ssl  # here only: ~10 ms to import, which plain http never needs

                    context = ssl.create_default_context()  # verifies certificate and name
                    context.set_alpn_protocols(["http/1.1"])
                    sock = context.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
            self._connection = Connection(sock)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
