"""The agent skill of `sigillo agent skill`: SKILL.md, which teaches an AI agent to give
programs their secrets through Sigillo without ever reading them, and where each agent
host expects it.

Standard library only: `sigillo agent skill` is a CLI command (no event loop, no server).
Installing is idempotent: a file already holding exactly this text is left alone, and in a
shared instructions file (AGENTS.md, GEMINI.md) the block between Sigillo's markers is
replaced, never added twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BEGIN", "END", "HOSTS", "SKILL", "Installed", "install"]

DESCRIPTION = (
    "Give programs their secrets (API keys, database URLs, tokens) through Sigillo without "
    "ever reading them. Run commands with `sigillo run`, store generated keys with "
    "`sigillo secrets set`, ask a person for values you do not have. Use whenever a command "
    "needs secrets or environment variables, a .env file would be written or read, or a new "
    "key is generated."
)

BODY = """\
# Sigillo: secrets without seeing them

This project keeps its secrets in Sigillo. You never need a secret's value, and you must
never read, print or copy one: values that reach your context end up in logs and
transcripts. Let Sigillo hand them to the program that needs them.

## Run programs with their secrets

```bash
sigillo run -- npm run dev                    # secrets as environment variables
sigillo run -- pytest -q
sigillo run --command 'psql "$DATABASE_URL" -c "select 1"'
sigillo run --mount .env -- docker compose up # also as a 0600 file, removed afterwards
sigillo run -c prod -- ./deploy.sh            # another environment
```

The program gets every secret of the environment as a variable. Its output is redacted:
secret values (and their base64, hex, URL and JSON forms) read `********`, so output is
safe to read. `SIGILLO_TOKEN` is not passed on.

## Never

- `sigillo secrets get` or `sigillo secrets download`: they print values. (In an agent's
  shell they refuse without `--force`; do not add `--force`.)
- `cat .env`, `printenv`, `echo $SECRET`, or writing values into files, commits,
  commands or messages.
- Asking the user to paste a secret into the chat.

## Find out what exists (names only, no values)

```bash
sigillo secrets               # names of this directory's environment, with kinds
sigillo secrets -c prod       # another environment
sigillo me                    # account, org, project and environment in use
```

## Add a secret

A value you generate goes straight into Sigillo, never into a file or your output:

```bash
openssl rand -hex 32 | sigillo secrets set SESSION_SECRET
python3 -c 'import secrets; print(secrets.token_urlsafe(32))' | sigillo secrets set API_SIGNING_KEY
sigillo secrets set PORT 3000 --plain          # configuration that may be shown
sigillo secrets set STRIPE_KEY -c dev -c prod  # several environments (value from stdin)
```

A value you do not have (a third-party API key, a password): **ask a person** to run
`sigillo secrets set NAME` (it prompts without echo) or to add it in the dashboard. Do
not invent one and do not ask them to paste it to you.

Configuration that is safe to show (`PORT`, `NODE_ENV`, `LOG_LEVEL`) can be marked plain
so it prints unmasked: `sigillo secrets mark PORT NODE_ENV --plain`. Everything else stays
`secret` (the default).

## When something fails

- `not logged in` / `project not configured`: ask a person to run `sigillo login` and
  `sigillo setup` in this directory.
- `token is read-only`: ask a person for a read-write token or to make the change.
- A name missing in one environment: `sigillo secrets` lists `missing:` names; ask a person
  for the value, or generate it if it is a key you may create.

## MCP

If the `sigillo` MCP server is connected (`sigillo mcp`), its tools do the same without a
shell: `list_secrets`, `missing_secrets`, `set_secret` (a value you already hold),
`mark_secrets`, `run_command` and `run_with_mount` (redacted output, time limit). No tool
returns a value.
"""

SKILL = f"---\nname: sigillo\ndescription: {json.dumps(DESCRIPTION)}\n---\n\n{BODY}"
"""SKILL.md: the front matter agent hosts read (name, description: a JSON string, which
YAML reads as a double-quoted scalar), then the text."""

CURSOR_RULE = (
    f"---\ndescription: {json.dumps(DESCRIPTION)}\nglobs:\nalwaysApply: true\n---\n\n{BODY}"
)
"""A Cursor rule (.mdc): Cursor's front matter; always applied."""

BEGIN = "<!-- sigillo:begin (managed by `sigillo agent skill`; edits are replaced) -->"
END = "<!-- sigillo:end -->"


@dataclass(frozen=True)
class Installed:
    host: str
    path: Path
    changed: bool  # False: the file already held exactly this


def _whole(text: str) -> Callable[[str | None], str]:
    return lambda _old: text


def _block(old: str | None) -> str:
    """A shared instructions file with Sigillo's block in it: replaced where the markers
    are, else appended; everything else kept as it was."""
    block = f"{BEGIN}\n{BODY}{END}\n"
    if not old:
        return block
    start, end = old.find(BEGIN), old.find(END)
    if start >= 0 and end > start:
        return old[:start] + block + old[end + len(END) :].removeprefix("\n")
    return old.rstrip("\n") + "\n\n" + block


# host -> (path under the home directory, path under a project directory, content)
HOSTS: dict[str, tuple[str, str, Callable[[str | None], str]]] = {
    "claude": (".claude/skills/sigillo/SKILL.md", ".claude/skills/sigillo/SKILL.md", _whole(SKILL)),
    "cursor": (".cursor/rules/sigillo.mdc", ".cursor/rules/sigillo.mdc", _whole(CURSOR_RULE)),
    "codex": (".codex/AGENTS.md", "AGENTS.md", _block),
    "gemini": (".gemini/GEMINI.md", "GEMINI.md", _block),
    "agents": (".agents/skills/sigillo/SKILL.md", ".agents/skills/sigillo/SKILL.md", _whole(SKILL)),
}
"""Where each agent host reads it: Claude Code's skills, a Cursor rule, Codex's AGENTS.md,
Gemini CLI's GEMINI.md, and the cross-host `.agents/skills` directory."""


def install(host: str, home: Path, directory: Path | None = None) -> Installed:
    """Write the skill for `host` under `directory` (a project) or else `home`."""
    at_home, in_project, content = HOSTS[host]
    target = (directory / in_project) if directory is not None else (home / at_home)
    old = target.read_text(encoding="utf-8") if target.is_file() else None
    new = content(old)
    if new == old:
        return Installed(host, target, changed=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(new, encoding="utf-8")
    os.replace(temporary, target)  # atomic: a reader never sees half a file
    return Installed(host, target, changed=True)
