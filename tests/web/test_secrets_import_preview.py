"""Import .env on the Secrets tab [D19]: a byte-order mark does not hide the first key, and
the preview lists the lines it skips, by number and reason, never their text (a stray line
may be part of a value). Over HTTP on SQLite and PostgreSQL, as test_secrets_tab.py."""

from __future__ import annotations

from html import unescape

import pytest

from sigillo.domain.formats import render
from tests.web.conftest import Web, text_of
from tests.web.test_secrets_tab import HTMX, MARK, is_fragment, live, no_values, scene

pytestmark = pytest.mark.asyncio

PASTED = (
    f"\ufeffFIRST={MARK}-first\r\n"  # 1: behind a byte-order mark
    "# database\n"  # 2: a comment
    f"{MARK}-stray line\n"  # 3: not KEY=value
    f"KEY:{MARK}\n"  # 4: no space after the colon
    f"MY KEY={MARK}\n"  # 5: a space in the key
    f"DUP={MARK}-old\n"  # 6: set again on line 8
    "\n"  # 7: blank
    f"DUP={MARK}-new\n"  # 8
)


async def test_the_preview_lists_skipped_lines_and_the_import_keeps_the_first_key(
    web: Web,
) -> None:
    made = await scene(web)
    preview = await made.admin.post(made.url("import/preview"), {"text": PASTED}, headers=HTMX)
    assert preview.status_code == 200
    assert is_fragment(preview)
    no_values(preview)
    text = text_of(unescape(preview.text))
    assert "2 keys found: 2 to add, 0 to change, 0 unchanged." in text
    assert "Added (2) FIRST plain DUP plain" in text
    assert (
        "Skipped lines (4)"
        " Line 3: not a KEY=value line"
        " Line 4: not a KEY=value line (after a colon, put a space)"
        " Line 5: not a KEY=value line (a key is letters, digits, _, . and -)"
        " Line 6: DUP is set again on line 8"
    ) in text
    assert "1 comment line skipped." in text
    applied = await made.admin.post(made.url("import"), {"text": PASTED}, headers=HTMX)
    assert applied.status_code == 200
    no_values(applied)
    assert await live(web, made.dev) == {"FIRST": f"{MARK}-first", "DUP": f"{MARK}-new"}


async def test_a_plain_browser_sees_the_skipped_lines_too(web: Web) -> None:
    made = await scene(web)
    preview = await made.admin.post(made.url("import/preview"), {"text": "A=1\nnot a pair\n"})
    assert preview.status_code == 200
    assert "<html" in preview.text
    assert "Skipped lines (1) Line 2: not a KEY=value line" in text_of(unescape(preview.text))


async def test_a_clean_paste_shows_no_skipped_lines(web: Web) -> None:
    made = await scene(web)
    preview = await made.admin.post(
        made.url("import/preview"), {"text": "A=1\n\nB=2"}, headers=HTMX
    )
    text = text_of(unescape(preview.text))
    assert "Skipped lines" not in text
    assert "comment line" not in text


async def test_many_skipped_lines_are_cut_short(web: Web) -> None:
    made = await scene(web)
    pasted = "A=1\n" + "".join(f"stray {index}\n" for index in range(25))
    preview = await made.admin.post(made.url("import/preview"), {"text": pasted}, headers=HTMX)
    text = text_of(unescape(preview.text))
    assert "Skipped lines (25)" in text
    assert "Line 21: not a KEY=value line And 5 more." in text
    assert "Line 22:" not in text


async def test_an_env_download_with_its_comment_lines_imports_back_exactly(web: Web) -> None:
    """[D19] The comment lines an `env` download opens with are comments to the import."""
    values = {"BOTH": f'{MARK} it\'s\n"both"', "CR": f"{MARK}\r'\"", "FINE": f"{MARK} ok"}
    made = await scene(web)
    body = render("env", list(values.items())).body.decode()
    assert body.startswith("# BOTH: cannot be written so that every .env reader agrees")
    preview = await made.admin.post(made.url("import/preview"), {"text": body}, headers=HTMX)
    no_values(preview)
    text = text_of(unescape(preview.text))
    assert "Skipped lines" not in text
    assert "2 comment lines skipped." in text
    await made.admin.post(made.url("import"), {"text": body}, headers=HTMX)
    assert await live(web, made.dev) == values
