"""Driving `sigillo mcp` with the official SDK's client over stdio: one session per `use`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.cli.conftest import sigillo_command

T = TypeVar("T")


@dataclass
class Answer:
    """One tool call's answer: whether it is an error, its text and structured content."""

    error: bool
    text: str
    data: dict[str, Any] | None

    def everything(self) -> str:
        """All of it as text, for the no-value sweep."""
        return self.text + "\n" + json.dumps(self.data, ensure_ascii=False)


@dataclass
class Mcp:
    session: ClientSession
    answers: list[Answer] = field(default_factory=list)

    async def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> Answer:
        result = await self.session.call_tool(name, dict(arguments or {}))
        text = "\n".join(getattr(block, "text", "") for block in result.content)
        structured = result.structured_content
        answer = Answer(bool(result.is_error), text, structured)
        self.answers.append(answer)
        return answer

    async def ok(self, name: str, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.call(name, arguments)
        assert not answer.error, answer.text
        assert answer.data is not None
        return answer.data


def use(env: Mapping[str, str], cwd: Path, body: Callable[[Mcp], Awaitable[T]], *args: str) -> T:
    """Start `sigillo mcp ARGS` with `env`, initialize, run `body` with the session."""
    command, *prefix = sigillo_command()
    parameters = StdioServerParameters(
        command=command, args=[*prefix, "mcp", *args], env=dict(env), cwd=str(cwd)
    )

    async def main() -> T:
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(Mcp(session))

    return anyio.run(main)
