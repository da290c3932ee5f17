"""The OpenID Connect provider the tests sign in with: tests/sso/provider.mjs, the certified
`oidc-provider` package run by this machine's node, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["oidc_provider"]

HERE = Path(__file__).parent
PACKAGE = HERE.parent / "consumers" / "node_modules" / "oidc-provider"
REQUIRE = os.environ.get("SIGILLO_REQUIRE_CONSUMERS") == "1"


@contextmanager
def oidc_provider(sigillo_origin: str, client_secret: str) -> Iterator[str]:
    """A provider whose clients call back to `sigillo_origin`: yields its issuer URL. Without
    node or the package it skips, loudly; in CI (SIGILLO_REQUIRE_CONSUMERS=1) it fails."""
    node = shutil.which("node")
    if node is None or not PACKAGE.exists():
        missing = "node or tests/consumers' oidc-provider is missing (cd tests/consumers && npm ci)"
        if REQUIRE:
            pytest.fail(missing)
        pytest.skip(missing)
    process = subprocess.Popen(
        [node, str(HERE / "provider.mjs"), sigillo_origin, client_secret],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert line.startswith("READY "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
