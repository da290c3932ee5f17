"""Issue 16 on the Secrets tab: the CLI banner's `sigillo login` names this server when it
is not where the CLI looks by default; a revealed value is shown whole (its box has a
line for every wrapped line, not one row); the import preview's comparison is recorded
as a read of its own kind, `compare`, not as a reveal."""

from __future__ import annotations

from html import unescape
from types import SimpleNamespace
from typing import Any

import pytest

from sigillo.domain.events import SecretsRead
from sigillo.web.tabs.secrets_rows import MAX_ROWS_SHOWN, revealed_cell, shown_rows
from sigillo.web.tabs.secrets_view import cli_api_url
from tests.web.conftest import ORIGIN, Web
from tests.web.test_secrets_tab import HTMX, reads, scene

pytestmark = pytest.mark.asyncio


async def test_the_banner_names_this_server_for_login(web: Web) -> None:
    made = await scene(web)
    page = unescape((await made.admin.get(made.tab)).text)
    assert f'data-copy="sigillo login --api-url {ORIGIN}"' in page
    # A long command scrolls sideways, by keyboard too (issue 21): its box takes focus.
    assert (
        f'<code tabindex="0" role="region" aria-label="Command: sigillo login --api-url {ORIGIN}">'
        f"sigillo login --api-url {ORIGIN}</code>"
    ) in page


def _request(base_url: str, public_url: str | None = None) -> Any:
    settings = SimpleNamespace(public_url=public_url)
    return SimpleNamespace(app=SimpleNamespace(state={"settings": settings}), base_url=base_url)


async def test_the_cli_address_is_left_out_only_on_the_clis_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "sigillo.web.tabs.secrets_view.settings_of", lambda r: r.app.state["settings"]
    )
    assert cli_api_url(_request("http://127.0.0.1:8080/")) == ""
    assert cli_api_url(_request("http://localhost:8080/")) == "http://localhost:8080"
    assert cli_api_url(_request("http://10.0.0.5:9000/")) == "http://10.0.0.5:9000"
    # behind a proxy, the public URL is what the CLI must reach
    public = "https://secrets.example.com/sigillo/"
    assert cli_api_url(_request("http://127.0.0.1:8080/", public)) == public.rstrip("/")


async def test_a_revealed_value_gets_a_line_for_every_wrapped_line() -> None:
    assert shown_rows("") == 1
    assert shown_rows("short") == 1
    assert shown_rows("x" * 61) == 2
    assert shown_rows("a\n" + "y" * 130) == 1 + 3
    token = "sk_live_" + "A" * 200  # one long line: a one-row box showed a sliver of it
    cell = str(revealed_cell("STRIPE_KEY", token, "/u"))
    assert f'rows="{shown_rows(token)}"' in cell
    assert shown_rows(token) > 1
    assert f'rows="{MAX_ROWS_SHOWN}"' in str(revealed_cell("PEM", "line\n" * 500, "/u"))


async def test_a_long_revealed_value_is_in_a_box_as_tall_as_it(web: Web) -> None:
    token = "tok_" + "Z" * 300
    made = await scene(web, LONG=token)
    answer = await made.admin.post(made.url("reveal"), {"name": "LONG"}, headers=HTMX)
    assert answer.status_code == 200
    assert token in answer.text
    assert f'rows="{shown_rows(token)}"' in answer.text


async def test_the_import_preview_records_a_compare_read(web: Web) -> None:
    made = await scene(web, KNOWN="old")
    answer = await made.admin.post(
        made.url("import/preview"), {"text": "KNOWN=new\nFRESH=1"}, headers=HTMX
    )
    assert answer.status_code == 200, answer.text[:300]
    assert await reads(web, made.dev) == [
        (made.admin.actor, SecretsRead(made.dev.id, ["KNOWN"], "compare"))
    ]
    log = await made.admin.get(made.url("event-log"))
    assert log.status_code == 200
    assert "compare" in log.text
    assert "values compared, none shown" in log.text
