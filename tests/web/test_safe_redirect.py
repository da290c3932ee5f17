"""Where sign-in may send a browser afterwards (behaviour.md 14.2): pure rules."""

from __future__ import annotations

import pytest

from sigillo.web.session import login_url, safe_redirect


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/dash", "/dash"),
        ("/dash/x", "/dash/x"),
        ("/dash/projects/P/envs/dev?page=2", "/dash/projects/P/envs/dev?page=2"),
        ("/device?user_code=WDJB-MJHT", "/device?user_code=WDJB-MJHT"),
        ("/invite/abc", "/invite/abc"),
        ("/", "/"),
        ("//evil.com", "/"),
        ("https://evil.com", "/"),
        ("http://testserver.local/dash", "/"),
        ("/\\evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("/dash/../../evil", "/"),
        ("/api/v0/orgs", "/"),
        ("/dashboard", "/"),
        ("/devices", "/"),
        ("javascript:alert(1)", "/"),
        ("dash", "/"),
        ("", "/"),
        ("/dash/" + "x" * 5000, "/"),
    ],
)
def test_safe_redirects(target: str, kept: str) -> None:
    assert safe_redirect(target) == kept


def test_login_url_keeps_the_device_code() -> None:
    assert login_url("/device?user_code=WDJB-MJHT") == (
        "/login?redirect=%2Fdevice%3Fuser_code%3DWDJB-MJHT"
    )
    assert login_url("https://evil.com") == "/login"
