"""A session's device in words (domain/devices.py)."""

from __future__ import annotations

import pytest

from sigillo.domain.devices import describe


@pytest.mark.parametrize(
    ("agent", "client", "expected"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "",
         "Firefox on Linux"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0 Safari/537.36 Edg/126.0", "", "Edge on Windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like "
         "Gecko) Version/17.5 Safari/605.1.15", "", "Safari on macOS"),
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
         "", "Chrome on Android"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Safari/604.1",
         "", "Safari on iOS"),
        ("sigillo-cli/1.2.0", "", "sigillo CLI"),
        ("python-httpx/0.27", "sigillo-cli", "sigillo CLI"),
        ("curl/8.5.0", "", "curl"),
        ("", "", "Unknown device"),
        ("\x1b[31m" + "A" * 10_000, "", "Unknown device"),
    ],
)  # fmt: skip
def test_describe(agent: str, client: str, expected: str) -> None:
    assert describe(agent, client) == expected
