"""The API docs page (issue 13, item 10): Swagger UI from vendored files that are the npm
registry's package byte for byte, under the dashboard's CSP, with no request leaving the
server (tests/web/browser/test_api_docs_page.py renders it in Chromium)."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from sigillo.web.api_docs import SWAGGER_UI, VENDOR, VENDORED_FILES
from sigillo.web.engine import STATIC_DIR
from sigillo.web.pages import CSP
from tests.web.conftest import Web
from tests.web.test_same_origin_assets import elsewhere, loaded_urls


@pytest.mark.asyncio
async def test_the_docs_page_loads_only_vendored_files_under_the_strict_csp(web: Web) -> None:
    anonymous = web.browser()
    page = await anonymous.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-frame-options"] == "DENY"
    urls, _ = loaded_urls(page.text)
    assert elsewhere(urls) == []
    assert "<script>" not in page.text  # no inline code: the CSP would refuse it
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        [url] = [u for u in urls if f"/{VENDOR}/{name}?v=" in u]
        served = await anonymous.get(url)
        assert served.status_code == 200
        assert served.content == (STATIC_DIR / VENDOR / name).read_bytes()
    [init] = [u for u in urls if u.startswith("/static/js/api-docs.js?v=")]
    script = (await anonymous.get(init)).text
    assert "validatorUrl: null" in script  # Swagger UI would ask validator.swagger.io
    assert (await anonymous.get("/api/openapi.json")).headers["content-security-policy"] == CSP


def _registry_tarball(tmp_path: Path) -> Path:
    """The package's tarball: the one .ci/run packed (SIGILLO_NPM_PACKS), else `npm pack`."""
    name, version, _ = SWAGGER_UI
    packs = os.environ.get("SIGILLO_NPM_PACKS")
    if packs:
        return Path(packs) / f"{name}-{version}.tgz"
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed and SIGILLO_NPM_PACKS is not set")
    subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--pack-destination", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return tmp_path / f"{name}-{version}.tgz"


def test_the_vendored_files_are_the_registry_package_byte_for_byte(tmp_path: Path) -> None:
    tarball = _registry_tarball(tmp_path)
    algorithm, _, digest = SWAGGER_UI[2].partition("-")
    assert algorithm == "sha512"
    assert hashlib.sha512(tarball.read_bytes()).digest() == base64.b64decode(digest)
    with tarfile.open(tarball) as archive:
        for name in VENDORED_FILES:
            member = archive.extractfile(f"package/{name}")
            assert member is not None, name
            assert member.read() == (STATIC_DIR / VENDOR / name).read_bytes(), name
    assert sorted(path.name for path in (STATIC_DIR / VENDOR).iterdir()) == sorted(VENDORED_FILES)
