"""`sigillo agent skill [--install HOST …] [--dir PATH]`: print the agent skill (SKILL.md),
or install it where each agent host reads it (sigillo.agents.skill; docs/agents.md)."""

from __future__ import annotations

import os
from pathlib import Path

from sigillo.agents.skill import HOSTS, SKILL, install
from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.output import printable

__all__ = ["skill"]


def skill(ctx: Context) -> int:
    hosts = [
        host.strip().lower()
        for given in getattr(ctx.args, "install", None) or []
        for host in given.split(",")
        if host.strip()
    ]
    directory = getattr(ctx.args, "dir", None)
    if not hosts:
        if directory is not None:
            raise CliError(
                "--dir needs --install HOST", "  sigillo agent skill --install claude --dir ."
            )
        ctx.out.stdout.write(SKILL)
        return 0
    unknown = [host for host in dict.fromkeys(hosts) if host not in HOSTS]
    if unknown:
        raise CliError(
            f"unknown agent host {', '.join(map(printable, unknown))}",
            f"  hosts: {', '.join(HOSTS)}",
        )
    home = Path(ctx.env.get("HOME") or os.path.expanduser("~"))
    base = None if directory is None else Path(ctx.cwd, directory).resolve()
    if base is not None and not base.is_dir():
        raise CliError(f"--dir {printable(directory or '')} is not a directory")
    for host in dict.fromkeys(hosts):
        try:
            done = install(host, home, base)
        except OSError as error:
            raise CliError(f"cannot install the skill for {host}: {error.strerror}") from None
        state = "wrote" if done.changed else "unchanged (already installed)"
        ctx.out.line(f"{host}: {state} {printable(str(done.path))}")
    return 0
