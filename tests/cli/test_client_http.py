"""The CLI's own HTTP/1.1 client (sigillo/cli/client.py) against a real local server that
answers scripted bytes: bodies by length, chunks and close; kept-alive connections and
their retry; interim and bodiless answers; malformed answers and limits; timeouts,
refusals, IPv6, TLS; and the token, which no repr or error message may show."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sigillo.cli import client as client_module
from sigillo.cli.client import Client
from sigillo.cli.errors import CliError
from sigillo.cli.http11 import MAX_HEADERS, MAX_LINE

TOKEN = "tok_5ecret-Never-Shown"

CLOSE = "close"  # read the request, then close the connection without answering
SILENT = "silent"  # read the request, then never answer
Action = bytes | str | Callable[[socket.socket], None]  # a callable: run before any read


def answer(body: bytes = b"{}", status: str = "200 OK", *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class Seen:
    connection: int
    line: str
    headers: dict[str, str]
    raw_headers: list[str]
    body: bytes


def read_request(reader: Any, connection: int) -> Seen | None:
    line = reader.readline()
    if not line:
        return None
    raw: list[str] = []
    while (header := reader.readline()) not in (b"\r\n", b""):
        raw.append(header.decode("latin-1").rstrip("\r\n"))
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in raw)}
    body = reader.read(int(headers.get("content-length", "0")))
    return Seen(connection, line.decode("latin-1").rstrip("\r\n"), headers, raw, body)


class Scripted:
    """A server on a fresh port: connection n (from 1) follows scripts[n-1], one action per
    request; once its script is done the connection is closed."""

    def __init__(
        self,
        *scripts: list[Action],
        host: str = "127.0.0.1",
        family: socket.AddressFamily = socket.AF_INET,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.scripts, self.tls = scripts, tls
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.listener.bind((host, 0))
        except OSError:
            self.listener.close()
            raise
        self.listener.listen(8)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.seen: list[Seen] = []
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for number, script in enumerate(self.scripts, 1):
            while True:
                try:
                    raw, _ = self.listener.accept()
                    break
                except TimeoutError:
                    if self.stop.is_set():
                        return
                except OSError:
                    return  # the test closed the listener
            self.accepted = number
            raw.settimeout(10)
            with contextlib.suppress(OSError), raw:
                connection = raw
                if self.tls is not None:
                    connection = self.tls.wrap_socket(raw, server_side=True)
                with connection, connection.makefile("rb") as reader:
                    for action in script:
                        if callable(action):
                            action(connection)
                            continue
                        seen = read_request(reader, number)
                        if seen is None:
                            break  # the client closed it
                        self.seen.append(seen)
                        if action == SILENT:
                            self.stop.wait(10)
                        if action in (CLOSE, SILENT):
                            break
                        assert isinstance(action, bytes)
                        connection.sendall(action)

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http{'s' if self.tls else ''}://{host}:{self.port}"

    def __enter__(self) -> Scripted:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.listener.close()
        assert not self.thread.is_alive()


@contextlib.contextmanager
def client(url: str, token: str | None = TOKEN, timeout: float = 5) -> Iterator[Client]:
    made = Client(url, token, timeout=timeout)
    try:
        yield made
    finally:
        made.close()


# The request as sent


def test_the_request_line_and_headers() -> None:
    with (
        Scripted([answer(b'{"a": 1}'), answer(), answer()]) as server,
        client(server.url() + "/prefix/") as made,
    ):
        got = made.get("/api/v0/x%2Fy", query={"format": "env", "q": "a b"}, accept="*/*")
        made.request("POST", "/api/v0/p", {"name": "n"})
        made.request("POST", "/api/v0/empty")
    assert (got.status, got.ok, got.json()) == (200, True, {"a": 1})
    get, post, empty = server.seen
    assert get.line == "GET /prefix/api/v0/x%2Fy?format=env&q=a+b HTTP/1.1"
    assert get.headers["host"] == f"127.0.0.1:{server.port}"
    assert get.headers["accept"] == "*/*"
    assert get.headers["accept-encoding"] == "identity"
    assert get.headers["user-agent"].startswith("sigillo-cli/")
    assert get.headers["authorization"] == f"Bearer {TOKEN}"
    assert "content-length" not in get.headers
    assert "content-type" not in get.headers
    assert post.line == "POST /prefix/api/v0/p HTTP/1.1"
    assert post.headers["content-type"] == "application/json"
    assert post.headers["content-length"] == str(len(post.body))
    assert post.body == b'{"name": "n"}'
    assert empty.headers["content-length"] == "0"
    assert empty.body == b""
    assert "content-type" not in empty.headers
    assert [seen.connection for seen in server.seen] == [1, 1, 1]  # one kept-alive connection


def test_no_authorization_without_a_token() -> None:
    with Scripted([answer()]) as server, client(server.url(), token=None) as made:
        assert made.get("/x").ok
    assert "authorization" not in server.seen[0].headers
    assert server.seen[0].headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("url", "host", "address"),
    [
        ("http://example.test", "example.test", ("example.test", 80)),
        ("http://EXAMPLE.test:80/", "example.test", ("example.test", 80)),
        ("http://example.test:8080", "example.test:8080", ("example.test", 8080)),
        ("https://example.test:443", "example.test", ("example.test", 443)),
        ("https://example.test:8443", "example.test:8443", ("example.test", 8443)),
        ("http://[::1]:80", "[::1]", ("::1", 80)),
        ("http://[::1]:81", "[::1]:81", ("::1", 81)),
    ],
)
def test_the_host_header_names_the_port_only_when_not_the_default(
    monkeypatch: pytest.MonkeyPatch, url: str, host: str, address: tuple[str, int]
) -> None:
    """The connection is redirected to the scripted server (no binding of port 80 or 443
    needed); the server sees the Host header, the test the address asked for."""
    asked: list[tuple[str, int]] = []
    real = socket.create_connection
    with Scripted([answer()]) as server:

        def redirected(where: tuple[str, int], timeout: float) -> socket.socket:
            asked.append(where)
            return real(("127.0.0.1", server.port), timeout)

        monkeypatch.setattr(client_module.socket, "create_connection", redirected)
        made = Client(url, None, timeout=5)
        monkeypatch.setattr(made, "_parts", made._parts._replace(scheme="http"))  # no TLS
        try:
            assert made.get("/x").ok
        finally:
            made.close()
    assert asked == [address]
    assert server.seen[0].headers["host"] == host


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com", "not a url", "http://", "http://127.0.0.1:99999", "http://a b/",
     "http://example.com/a b", "http://example.com/\u00e4", "http://ex\x7fample.com"],
)  # fmt: skip
def test_an_unusable_address_is_refused(url: str) -> None:
    with pytest.raises(CliError, match=r"^invalid API URL") as refused:
        Client(url, TOKEN)
    assert refused.value.hint == ("  expected http(s)://host[:port]",)


# Bodies


def test_a_content_length_body_and_a_large_one() -> None:
    big = bytes(range(256)) * 12_289  # ~3 MiB: more than one READ_SIZE piece
    with Scripted([answer(b"hello"), answer(big)]) as server, client(server.url()) as made:
        assert made.get("/a").body == b"hello"
        assert made.get("/b").body == big


def test_a_chunked_body_with_an_extension_and_a_trailer_then_the_next_request() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n"
        b"5\r\nhello\r\n"
        b"1;name=value\r\n,\r\n"
        b"A \r\n world!!!!\r\n"
        b"0\r\nX-Trailer: yes\r\nX-Other: too\r\n\r\n"
    )
    with Scripted([chunked, answer(b"next")]) as server, client(server.url()) as made:
        assert made.get("/a").body == b"hello, world!!!!"
        assert made.get("/b").body == b"next"  # trailers consumed: the connection is in step
    assert [seen.connection for seen in server.seen] == [1, 1]


@pytest.mark.parametrize(
    "broken",
    [b"5\r\nhello\r\nzz\r\n", b"5\r\nhelloXX\r\n0\r\n\r\n", b"+5\r\nhello\r\n0\r\n\r\n"],
)
def test_a_malformed_chunk_is_an_invalid_response(broken: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    with (
        Scripted([head + broken]) as server,
        client(server.url()) as made,
        pytest.raises(CliError, match=f"^invalid response from {server.url()}: "),
    ):
        made.get("/a")


def test_a_body_delimited_by_the_close_then_a_fresh_connection() -> None:
    close_delimited = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    with Scripted([close_delimited], [answer(b"second")]) as server, client(server.url()) as made:
        assert made.request("POST", "/a").body == b"until the end"
        assert made.request("POST", "/b").body == b"second"
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_a_body_cut_short_is_one_line() -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    with (
        Scripted([cut], [answer()]) as server,
        client(server.url()) as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")
    assert failed.value.message == (
        f"the connection to {server.url()} was closed in the middle of an answer"
    )


# Kept-alive connections


def test_two_requests_share_one_connection() -> None:
    with (
        Scripted([answer(b"1"), answer(b"2")], [answer(b"new")]) as server,
        client(server.url()) as made,
    ):
        assert made.get("/a").body == b"1"
        assert made.get("/b").body == b"2"  # from connection 2 it would be "new"
    assert server.accepted == 1


@pytest.mark.parametrize(
    "first",
    [
        answer(b"1", "200 OK", "Connection: close"),
        answer(b"1", "200 OK", "Connection: keep-alive, Close"),
        answer(b"1").replace(b"HTTP/1.1", b"HTTP/1.0"),
    ],
)
def test_an_answer_that_closes_is_not_reused(first: bytes) -> None:
    with (
        Scripted([first, answer(b"stale")], [answer(b"fresh")]) as server,
        client(server.url()) as made,
    ):
        assert made.get("/a").body == b"1"
        assert made.get("/b").body == b"fresh"
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_an_http_1_0_answer_with_keep_alive_is_reused() -> None:
    first = answer(b"1", "200 OK", "Connection: Keep-Alive").replace(b"HTTP/1.1", b"HTTP/1.0")
    with (
        Scripted([first, answer(b"2")], [answer(b"fresh")]) as server,
        client(server.url()) as made,
    ):
        assert made.get("/a").body == b"1"
        assert made.get("/b").body == b"2"


@pytest.mark.parametrize("gone", [CLOSE, "idle"])
def test_a_get_on_a_connection_the_server_closed_is_retried_once(gone: str) -> None:
    """CLOSE: the server reads the request and closes; idle: it closed the connection
    after its first answer, before the second request was sent."""
    first = [answer(b"1"), CLOSE] if gone == CLOSE else [answer(b"1")]
    with Scripted(first, [answer(b"retried")]) as server, client(server.url()) as made:
        assert made.get("/a").body == b"1"
        assert made.get("/b").body == b"retried"
    assert server.accepted == 2
    assert [seen.line for seen in server.seen][-1] == "GET /b HTTP/1.1"


def test_a_post_on_a_connection_the_server_closed_is_not_retried() -> None:
    with (
        Scripted([answer(b"1"), CLOSE], [answer(b"retried")]) as server,
        client(server.url()) as made,
    ):
        assert made.get("/a").body == b"1"
        with pytest.raises(CliError) as failed:
            made.request("POST", "/b", {"x": 1})  # a retry would have answered "retried"
        assert failed.value.message == f"the connection to {server.url()} was closed"
        assert made.get("/c").body == b"retried"  # and the client is usable again
    assert [seen.line for seen in server.seen] == [
        "GET /a HTTP/1.1",
        "POST /b HTTP/1.1",
        "GET /c HTTP/1.1",
    ]


def test_a_get_is_retried_only_once() -> None:
    with (
        Scripted([CLOSE], [CLOSE], [answer(b"third")]) as server,
        client(server.url()) as made,
        pytest.raises(CliError, match=r"was closed$"),
    ):
        made.get("/a")
    assert server.accepted == 2


# Answers without a body, interim answers


@pytest.mark.parametrize(
    ("method", "first"),
    [
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: "e"\r\n\r\n'),
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ],
)
def test_answers_without_a_body(method: str, first: bytes) -> None:
    with Scripted([first, answer(b"next")]) as server, client(server.url()) as made:
        empty = made.request(method, "/a")
        assert empty.body == b""
        assert made.get("/b").body == b"next"  # the connection stayed in step
    assert empty.status in (200, 204, 304)
    assert server.accepted == 1


def test_interim_answers_are_skipped() -> None:
    interim = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    )
    with (
        Scripted([interim + answer(b"real", "201 Created")]) as server,
        client(server.url()) as made,
    ):
        got = made.request("POST", "/a", {"x": 1})
    assert (got.status, got.body) == (201, b"real")


# Malformed answers and limits


@pytest.mark.parametrize(
    "status",
    [b"HTTP/2 200 OK", b"HTTP/1.1 2OO OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 099 Low",
     b"ICY 200 OK", b"SSH-2.0-OpenSSH_9.2", b"HTTP/1.1", b"http/1.1 200 OK"],
)  # fmt: skip
def test_a_malformed_status_line_is_an_invalid_response(status: bytes) -> None:
    with (
        Scripted([status + b"\r\nContent-Length: 0\r\n\r\n"]) as server,
        client(server.url()) as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")
    assert failed.value.message == (
        f"invalid response from {server.url()}: not an HTTP/1.x status line"
    )


def test_a_status_line_without_a_reason_is_fine() -> None:
    with (
        Scripted([b"HTTP/1.1 404\r\nContent-Length: 2\r\n\r\n{}"]) as server,
        client(server.url()) as made,
    ):
        assert made.get("/a").status == 404


def header_of(size: int) -> str:
    """`X-Big: aaa…` whose line, with its CRLF, is `size` bytes."""
    return "X-Big: " + "a" * (size - len("X-Big: ") - 2)


def test_a_header_line_at_the_limit_is_read() -> None:
    with (
        Scripted([answer(b"ok", "200 OK", header_of(MAX_LINE))]) as server,
        client(server.url()) as made,
    ):
        assert made.get("/a").body == b"ok"


def test_a_header_line_over_the_limit_is_refused() -> None:
    with (
        Scripted([answer(b"ok", "200 OK", header_of(MAX_LINE + 1))]) as server,
        client(server.url()) as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")
    assert failed.value.message == (
        f"invalid response from {server.url()}: a header line longer than {MAX_LINE} bytes"
    )


def test_a_status_line_over_the_limit_is_refused() -> None:
    with (
        Scripted([b"HTTP/1.1 200 " + b"K" * MAX_LINE + b"\r\n\r\n"]) as server,
        client(server.url()) as made,
        pytest.raises(CliError, match="status line longer"),
    ):
        made.get("/a")


def test_as_many_headers_as_allowed() -> None:
    headers = [f"X-H{n}: {n}" for n in range(MAX_HEADERS - 1)]  # plus Content-Length
    with Scripted([answer(b"ok", "200 OK", *headers)]) as server, client(server.url()) as made:
        assert made.get("/a").body == b"ok"


def test_too_many_headers_are_refused() -> None:
    headers = [f"X-H{n}: {n}" for n in range(MAX_HEADERS)]  # plus Content-Length: 101
    with (
        Scripted([answer(b"ok", "200 OK", *headers)]) as server,
        client(server.url()) as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")
    assert failed.value.message == (
        f"invalid response from {server.url()}: more than {MAX_HEADERS} headers"
    )


@pytest.mark.parametrize(
    "header", ["Content-Length: -1", "Content-Length: 1_0", "Content-Length: 2, 3", "No colon"]
)
def test_a_malformed_header_is_an_invalid_response(header: str) -> None:
    raw = f"HTTP/1.1 200 OK\r\n{header}\r\n\r\nab".encode()
    with (
        Scripted([raw]) as server,
        client(server.url()) as made,
        pytest.raises(CliError, match=f"^invalid response from {server.url()}: a malformed"),
    ):
        made.get("/a")


def test_header_names_are_case_insensitive_and_repeated_lengths_agree() -> None:
    raw = b"HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 3\r\nContent-Length: 3\r\n\r\nabcnext"
    with Scripted([raw]) as server, client(server.url()) as made:
        assert made.get("/a").body == b"abc"


# Transport failures


def test_a_server_that_never_answers_times_out() -> None:
    with (
        Scripted([SILENT]) as server,
        client(server.url(), timeout=0.3) as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")
    assert failed.value.message == f"{server.url()} did not answer within 0.3 s"


def test_a_refused_connection_has_a_hint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with client(f"http://127.0.0.1:{port}") as made, pytest.raises(CliError) as failed:
        made.get("/a")
    assert failed.value.message == f"cannot connect to http://127.0.0.1:{port}: connection refused"
    assert failed.value.hint == ("  is the server running? start one with: sigillo server",)


def test_an_unknown_host_cannot_be_reached() -> None:
    with client("http://sigillo-does-not-exist.invalid") as made, pytest.raises(CliError) as failed:
        made.get("/a")
    assert failed.value.message.startswith("cannot reach http://sigillo-does-not-exist.invalid: ")


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        server = Scripted([answer(b"six")], host="::1", family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server, client(f"http://[::1]:{server.port}") as made:
        assert made.get("/a").body == b"six"
    assert server.seen[0].headers["host"] == f"[::1]:{server.port}"


# TLS


def certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A fresh CA, and a certificate it signed for `localhost` (DNS name only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sigillo test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path, list[str | None]]:
    """A server context for `localhost`, its CA, and the SNI names it was sent."""
    ca, cert, key = certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: names.append(name)
    return context, ca, names


def test_https_verifies_the_certificate_and_sends_the_name(
    tls: tuple[ssl.SSLContext, Path, list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    context, ca, names = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # trusted, through the default context
    with (
        Scripted([answer(b"secure"), answer(b"again")], tls=context) as server,
        client(server.url("localhost")) as made,
    ):
        assert made.get("/a").body == b"secure"
        assert made.get("/b").body == b"again"
    assert names == ["localhost"]  # SNI, and one TLS connection for both
    assert server.seen[0].headers["host"] == f"localhost:{server.port}"


def test_https_refuses_a_certificate_of_an_unknown_authority(
    tls: tuple[ssl.SSLContext, Path, list[str | None]],
) -> None:
    with (
        Scripted([answer(b"no")], tls=tls[0]) as server,
        client(server.url("localhost")) as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")
    assert failed.value.message == (
        f"TLS failure talking to {server.url('localhost')}: CERTIFICATE_VERIFY_FAILED"
    )
    assert server.seen == []


def test_https_refuses_a_certificate_for_another_name(
    tls: tuple[ssl.SSLContext, Path, list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    context, ca, _ = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    with (
        Scripted([answer(b"no")], tls=context) as server,
        client(server.url("127.0.0.1")) as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")  # trusted, but made out to localhost only
    assert failed.value.message == (
        f"TLS failure talking to {server.url('127.0.0.1')}: CERTIFICATE_VERIFY_FAILED"
    )
    assert server.seen == []


def test_https_to_a_plain_http_server_is_a_tls_failure() -> None:
    def plain(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    with Scripted([plain]) as server:
        url = f"https://127.0.0.1:{server.port}"
        with client(url) as made, pytest.raises(CliError) as failed:
            made.get("/a")
    assert failed.value.message.startswith(f"TLS failure talking to {url}: ")


def test_plain_http_does_not_import_ssl() -> None:
    with Scripted([answer(b"plain")]) as server:
        code = (
            "import sys\nfrom sigillo.cli.client import Client\n"
            f"made = Client({server.url()!r}, None)\n"
            "assert made.get('/a').body == b'plain'\nmade.close()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ssl', 'email', 'http')))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


# The token


@pytest.mark.parametrize(
    "script",
    [
        [[CLOSE], [CLOSE]],  # closed
        [[SILENT]],  # timeout
        [[b"HTTP/1.1 2xx " + TOKEN.encode() + b"\r\n\r\n"]],  # a status line echoing it
        [[answer(b"x", "200 OK", "X-Big: " + TOKEN * 5000)]],  # a header line too long
        [[b"HTTP/1.1 200 OK\r\nContent-Length: " + TOKEN.encode() + b"\r\n\r\n"]],
        [[b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + TOKEN.encode()]],  # cut
        [],  # refused: the port is closed before the request
    ],
)
def test_the_token_is_never_shown(script: list[list[Action]]) -> None:
    with Scripted(*script) as server:
        url = server.url()
        if not script:
            server.listener.close()
        with client(url, timeout=0.3) as made:
            assert TOKEN not in repr(made)
            with pytest.raises(CliError) as failed:
                made.get("/a")
    shown = " ".join((str(failed.value), failed.value.message, *failed.value.hint))
    assert url in shown  # a real failure message
    assert TOKEN not in shown
    assert TOKEN[4:12] not in shown
    assert all(seen.headers["authorization"] == f"Bearer {TOKEN}" for seen in server.seen)


def test_the_token_is_not_in_the_repr() -> None:
    made = Client("http://127.0.0.1:1", TOKEN)
    assert repr(made) == "Client('http://127.0.0.1:1')"
    assert TOKEN not in repr(made)
    assert TOKEN not in str(vars(made).get("api_url"))


def test_a_token_that_cannot_be_sent_is_refused_without_quoting_it() -> None:
    with (
        client("http://127.0.0.1:1", token="tok_\u20ac_secret") as made,
        pytest.raises(CliError) as failed,
    ):
        made.get("/a")
    assert "tok_" not in failed.value.message
    assert "secret" not in failed.value.message
    assert failed.value.message == "the token holds characters that cannot be sent"
