"""`sigillo mcp`: the Model Context Protocol server over stdio (docs/agents.md).

It lives in sigillo.agents.mcp_server, on the `mcp` SDK and anyio, which the CLI package
must not import (its start-up is measured, and an import-linter contract keeps anyio out):
so it is imported here, by name, only when this command runs.
"""

from __future__ import annotations

import importlib

from sigillo.cli.context import Context

__all__ = ["serve"]


def serve(ctx: Context) -> int:
    server = importlib.import_module("sigillo.agents.mcp_server")
    return int(server.serve(ctx))
