"""One live region per page (issue 21, WCAG 4.1.3): base.html's #toast. A template with a
`role=status` or `aria-live` of its own would bring a second one, which arrives already
filled with an htmx swap and is often not announced; a page says what happened with
`[data-status]` or an `HX-Trigger: {"sigillo:status": …}` header instead (app.js)."""

from __future__ import annotations

import re
from pathlib import Path

import sigillo.web

TEMPLATES = Path(sigillo.web.__file__).parent / "templates"
WEB = Path(sigillo.web.__file__).parent
# markup and script, not the words in comments ("the one live region (role=status)")
LIVE = re.compile(r"""role=["']status|aria-live=|["']aria-live["']|["']role["'], ["']status""")


def test_base_html_has_the_one_live_region() -> None:
    base = (TEMPLATES / "base.html").read_text()
    assert '<div class="toast" id="toast" role="status" aria-live="polite"></div>' in base
    assert len(LIVE.findall(base)) == 2  # its role and its aria-live


def test_no_other_template_or_fragment_writer_has_a_live_region() -> None:
    sources = [*TEMPLATES.rglob("*.html"), *WEB.rglob("*.py"), *WEB.rglob("*.js")]
    assert len(sources) > 50
    found = [
        f"{path.relative_to(WEB)}: {match.group(0)}"
        for path in sources
        if path.name != "base.html" and "vendor" not in path.parts
        for match in LIVE.finditer(path.read_text())
    ]
    assert found == []
