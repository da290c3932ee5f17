"""Sigillo for AI agents: the Model Context Protocol server of `sigillo mcp` and the agent
skill of `sigillo agent skill` (docs/agents.md).

The MCP server runs on the official `mcp` SDK and anyio, which the CLI package must not
import (its start-up is measured): `sigillo mcp` reaches `mcp_server` through a dynamic
import. It talks to the Sigillo server over HTTP with the CLI's client and resolves token,
server, project and environment exactly as every CLI command does. No tool answer ever
holds a secret value or a token. Nothing here is imported at package import time.
"""
