"""The HTTP client of the CLI: the standard library's http.client, one kept-alive connection.

Not httpx: importing it costs more than a whole `sigillo secrets` round trip, and the CLI
makes a handful of plain requests (bench/cli_start.py measures the difference). Every
transport failure becomes a CliError with a plain message; a response of any status is
returned to the caller, which knows what the status means for its command.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from sigillo import __version__
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable

__all__ = ["Client", "Response", "checked_token", "path"]

TIMEOUT = 30.0


def path(*segments: str) -> str:
    """`/api/v0/…` from segments, each percent-encoded (ids and slugs may hold anything)."""
    return "/api/v0/" + "/".join(quote(segment, safe="") for segment in segments)


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

    def failure(self, action: str) -> CliError:
        """`failed to <action> (<status>): <message>`, with a hint where one helps."""
        message = f"failed to {action} ({self.status}): {printable(self.message())}"
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
        try:
            parts = urlsplit(self.api_url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            valid = False
        if not valid:
            raise CliError(
                f"invalid API URL {printable(api_url)}", "  expected http(s)://host[:port]"
            )
        self._parts = parts
        self._connection: http.client.HTTPConnection | None = None

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
        headers = {"Accept": accept, "User-Agent": f"sigillo-cli/{__version__}"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = self._parts.path.rstrip("/") + target
        if query:
            url += "?" + urlencode(query)
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request(method, url, body=data, headers=headers)
                answer = connection.getresponse()
                return Response(answer.status, answer.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # a kept-alive connection the server closed: retry once, fresh
                if attempt == 2 or method not in ("GET", "HEAD"):
                    raise CliError(f"the connection to {self.api_url} was closed") from None
            except TimeoutError:
                self.close()
                raise CliError(
                    f"{self.api_url} did not answer within {self._timeout:g} s"
                ) from None
            except ssl.SSLError as error:
                self.close()
                raise CliError(f"TLS failure talking to {self.api_url}: {error.reason}") from None
            except ConnectionRefusedError:
                self.close()
                raise CliError(
                    f"cannot connect to {self.api_url}: connection refused",
                    "  is the server running? start one with: sigillo server",
                ) from None
            except OSError as error:
                self.close()
                reason = error.strerror or type(error).__name__
                raise CliError(f"cannot reach {self.api_url}: {reason}") from None
        raise AssertionError("unreachable")

    def get(self, target: str, **options: Any) -> Response:
        return self.request("GET", target, **options)

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            host, port = self._parts.hostname or "", self._parts.port
            if self._parts.scheme == "https":
                self._connection = http.client.HTTPSConnection(host, port, timeout=self._timeout)
            else:
                self._connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
