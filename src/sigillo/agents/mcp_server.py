"""`sigillo mcp`: a Model Context Protocol server over stdio, on the official SDK's
MCPServer, for agent hosts (Claude Code, Cursor, Codex, …; docs/agents.md).

Its tools list projects, environments and secret names, say which names an environment
lacks, set a value the agent already has, mark kinds, and run a command with the
environment's secrets (as variables, or also as a mounted file) through `sigillo run`'s
redactor. **No tool ever returns a secret value, a token, or an encoded form of either**:
answers hold names, kinds, times, ids and redacted output; `set_secret` never repeats its
value; errors are sentences built from names and the server's texts, and a malformed call
is told which argument is wrong, not what it held. Every answer says which org, project and
environment it acted on (`actingOn`). Settings are the CLI's (scope.py): the token, server,
project and environment of `~/.sigillo/config.json` for the directory the host starts it
in, the SIGILLO_* variables, `sigillo mcp -p … -c …`; each tool may name another project
or environment. The blocking HTTP calls and commands run in worker threads, so the stdio
loop keeps answering.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context as ToolContext
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field, ValidationError

from sigillo import __version__
from sigillo.agents import mcp_run, operations
from sigillo.agents.scope import call, words
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError

__all__ = ["build", "serve"]

INSTRUCTIONS = """\
Sigillo keeps this project's secrets. Its tools never show a secret value, and you should
never need one: run the program that needs the secrets with run_command (values as
environment variables, output redacted) or run_with_mount (also as a file at $SIGILLO_MOUNT).
To store a key you generated, call set_secret with it instead of writing it to a file.
If a value is missing and you cannot generate it, ask a person to set it
(`sigillo secrets set NAME`). Every answer says which org, project and environment it
acted on; pass `project` or `environment` to act on others."""

Project = Annotated[str | None, Field(description="project id; default: the configured project")]
Environment = Annotated[
    str | None,
    Field(description="environment slug or id (dev, preview, prod); default: the configured one"),
]
Kind = Literal["secret", "plain"]
Command = Annotated[
    str,
    Field(description="a shell command line, run with $SHELL -c (or sh -c)", min_length=1),
]
Timeout = Annotated[
    float,
    Field(
        description=f"seconds before the command's process group is killed "
        f"(at most {mcp_run.MAX_TIMEOUT:g})",
        gt=0,
        le=mcp_run.MAX_TIMEOUT,
    ),
]
Cwd = Annotated[
    str | None,
    Field(description="working directory; default: where the MCP server was started"),
]
MountFormat = Literal["env", "json", "yaml", "docker", "dotnet-json", "env-no-quotes"]
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
RUN = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True)


class SigilloMCP(MCPServer[Any]):
    """MCPServer, with argument errors told by argument and reason only: pydantic's own
    text would quote the rejected input, which may be a value put in the wrong place."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: ToolContext[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            cause = error.__cause__
            if not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'arguments'}: {problem['msg']}"
                for problem in cause.errors(include_input=False, include_url=False)
            )
            raise ToolError(
                f"Error executing tool {name}: invalid arguments: {problems}"
            ) from cause


def serve(ctx: Context) -> int:
    """`sigillo mcp`: serve on stdin/stdout until the host closes them."""
    build(ctx).run("stdio")
    return 0


def build(base: Context) -> SigilloMCP:
    """The server, its tools acting through `base` (the CLI's resolved settings)."""
    server = SigilloMCP(
        "sigillo", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    async def act(
        work: Callable[[Context], dict[str, Any]], project: str | None, environment: str | None
    ) -> dict[str, Any]:
        def job() -> dict[str, Any]:
            try:
                with call(base, project, environment) as ctx:
                    return work(ctx)
            except CliError as error:
                raise ToolError(words(error)) from None
            except ToolError:
                raise
            except Exception as error:  # its text could hold anything: its type only
                raise ToolError(f"internal error ({type(error).__name__})") from None

        return await anyio.to_thread.run_sync(job)

    @server.tool(annotations=READ)
    async def list_projects() -> dict[str, Any]:
        """The projects this account reaches, with their org and environments (ids, names,
        slugs), and the configured project and environment. An API token cannot list."""
        return await act(operations.list_projects, None, None)

    @server.tool(annotations=READ)
    async def list_environments(project: Project = None) -> dict[str, Any]:
        """The environments of the project (ids, names, slugs)."""
        return await act(operations.list_environments, project, None)

    @server.tool(annotations=READ)
    async def list_secrets(
        project: Project = None, environment: Environment = None
    ) -> dict[str, Any]:
        """The secret names of the environment with their kind (secret: masked; plain:
        configuration shown as is), whether empty and when last changed, and the names other
        environments of the project have and this one lacks (missingHere). Never values."""
        return await act(operations.list_secrets, project, environment)

    @server.tool(annotations=READ)
    async def missing_secrets(
        compare_with: Annotated[
            str, Field(description="the environment to compare with (slug or id)", min_length=1)
        ],
        project: Project = None,
        environment: Environment = None,
    ) -> dict[str, Any]:
        """The names set in `compare_with` that the environment lacks (missing), and those
        only the environment has (onlyHere)."""
        return await act(
            lambda ctx: operations.missing_secrets(ctx, compare_with), project, environment
        )

    @server.tool(annotations=WRITE)
    async def set_secret(
        name: Annotated[str, Field(description="the secret's name: [A-Za-z_][A-Za-z0-9_]*")],
        value: Annotated[
            str, Field(description="the value you already have (e.g. a key you generated)")
        ],
        kind: Annotated[
            Kind | None,
            Field(description="secret (masked) or plain (shown); default: unchanged, new=secret"),
        ] = None,
        project: Project = None,
        environment: Environment = None,
    ) -> dict[str, Any]:
        """Store a value you already hold (a key you generated, a value a person gave you)
        in Sigillo instead of writing it to a file. The value is never repeated back. Needs
        a signed-in account or a read-write token."""
        return await act(
            lambda ctx: operations.set_secret(ctx, name, value, kind), project, environment
        )

    @server.tool(annotations=WRITE)
    async def mark_secrets(
        names: Annotated[list[str], Field(description="secret names", min_length=1)],
        kind: Annotated[Kind, Field(description="secret (masked) or plain (shown)")],
        project: Project = None,
        environment: Environment = None,
    ) -> dict[str, Any]:
        """Change the kind of live secrets without touching their values: plain for
        configuration that may be shown (PORT, LOG_LEVEL), secret for anything else."""
        return await act(
            lambda ctx: operations.mark_secrets(ctx, names, kind), project, environment
        )

    @server.tool(annotations=RUN)
    async def run_command(
        command: Command,
        timeout_seconds: Timeout = mcp_run.DEFAULT_TIMEOUT,
        cwd: Cwd = None,
        project: Project = None,
        environment: Environment = None,
    ) -> dict[str, Any]:
        """Run a command with the environment's secrets as environment variables, as
        `sigillo run` does: stdin empty, stdout and stderr redacted (every secret value, in
        its encodings, reads ********), the last 64 KiB of each returned with the exit
        status. Killed (its process group) after timeout_seconds."""
        return await act(
            lambda ctx: mcp_run.run_command(ctx, command, timeout_seconds, cwd),
            project,
            environment,
        )

    @server.tool(annotations=RUN)
    async def run_with_mount(
        command: Command,
        format: Annotated[
            MountFormat, Field(description="the file's format (default env: a .env file)")
        ] = "env",
        timeout_seconds: Timeout = mcp_run.DEFAULT_TIMEOUT,
        cwd: Cwd = None,
        project: Project = None,
        environment: Environment = None,
    ) -> dict[str, Any]:
        """Like run_command, and the secrets are also written to a 0600 file whose path is
        in $SIGILLO_MOUNT (e.g. `docker compose --env-file "$SIGILLO_MOUNT" up`). The file
        is removed when the command ends; its content is never returned."""
        return await act(
            lambda ctx: mcp_run.run_command(ctx, command, timeout_seconds, cwd, format),
            project,
            environment,
        )

    return server
