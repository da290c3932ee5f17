"""`sigillo mcp` under test is the real `sigillo` executable, started by the MCP SDK's own
stdio client, against the real server of tests/cli/conftest.py (one per session)."""

from tests.cli.conftest import cli_server, home, project, sigillo  # noqa: F401
