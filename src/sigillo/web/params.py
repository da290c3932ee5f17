"""How web handlers declare their path and query parameters (Litestar's explicit style)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

__all__ = ["PathText", "QueryText"]

# Any text but NUL (which no store keeps): ids, slugs and invite tokens are looked up, and
# an unknown one is a 404 page, so no finer pattern is needed.
PathText = Annotated[str, PathParameter(pattern="^[^\\x00]+$")]
QueryText = Annotated[str, QueryParameter()]
