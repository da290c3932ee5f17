"""The CLI's HTTP client seen from the command line: odd tokens and server addresses get
one plain line, never a traceback and never the token itself."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Server, Sigillo


def test_a_token_read_with_its_newline_still_works(signed_in: Sigillo, cli_server: Server) -> None:
    listed = signed_in("secrets", env={"SIGILLO_TOKEN": cli_server.session + "\n"})
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize("token", ["abc\ndef", "abc def", "abc\x1b[31m"])
def test_a_token_with_spaces_or_controls_is_refused_without_quoting_it(
    signed_in: Sigillo, token: str
) -> None:
    refused = signed_in("secrets", env={"SIGILLO_TOKEN": token})
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: the token holds spaces or control characters\n")
    assert "abc" not in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "not a url", "http://", "http://127.0.0.1:99999"]
)
def test_an_unusable_server_address_is_one_line(signed_in: Sigillo, url: str) -> None:
    refused = signed_in("secrets", env={"SIGILLO_API_URL": url})
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: invalid API URL"), refused.stderr
    assert "Traceback" not in refused.stderr


def test_an_unreachable_server_is_one_line(signed_in: Sigillo) -> None:
    refused = signed_in("secrets", env={"SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == (
        "error: cannot connect to http://127.0.0.1:1: connection refused"
    )
    assert "Traceback" not in refused.stderr
