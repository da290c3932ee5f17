"""Detecting an AI agent's shell, for the guard of `secrets get` and `secrets download`.

behaviour.md 11.6: a value printed to a terminal that an agent drives ends up in the
agent's context (and its provider's logs). So when stdout is a TTY, `--force` is not given
and one of the markers below is present, those commands refuse and explain how to pass
secrets to a program without printing them. Piped stdout is allowed: the value then goes
straight to the next process, which is how agents should use secrets.

Detection only reads the environment given to it (the caller passes `os.environ`), so it
is a pure function and cheap enough to run on every command.

Plain values [D18] need no guard: a person marked them configuration that may be shown
(`PORT`, `LOG_LEVEL`). `only_plain` decides that from the kinds of a listing, which holds
no value and records no read; the commands ask for it only when the guard would refuse,
so that no value is fetched (and its read recorded) only to be refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["GUARD_MESSAGE", "agent_guard", "detect_agent", "guard_message", "only_plain"]

# Rows 2-9 of the table in 11.6: any of these variables set (non-empty) -> that agent.
_MARKERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("CLAUDECODE", "CLAUDE_CODE"), "claude"),
    (("REPL_ID",), "replit"),
    (("GEMINI_CLI",), "gemini"),
    (("CODEX_SANDBOX", "CODEX_THREAD_ID"), "codex"),
    (("OPENCODE",), "opencode"),
    (("AUGMENT_AGENT",), "auggie"),
    (("GOOSE_PROVIDER",), "goose"),
    (("CURSOR_AGENT",), "cursor"),
)

# Rows 10-12: a variable containing a substring (case-sensitive, as in the reference).
_SUBSTRINGS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("PATH", (".pi/agent", ".pi\\agent"), "pi"),
    ("EDITOR", ("devin",), "devin"),
    ("TERM_PROGRAM", ("kiro",), "kiro"),
)

GUARD_MESSAGE = (
    "printing secret values into an agent context is discouraged\n"
    "  detected agent shell: {agent}\n"
    "\n"
    "  Prefer chaining the command that needs secrets through Sigillo,"
    " so values never enter chat context:\n"
    "    sigillo run --command 'your-command \"$DATABASE_URL\"'\n"
    "\n"
    "  Piped stdout is allowed because values go directly to the next process:\n"
    "    sigillo secrets download --format env | fly secrets import --app my-app\n"
    "\n"
    "  If you really need to inspect secrets as a last resort, rerun with --force."
)
"""The refusal of 11.6 with `{agent}` to fill in, WITHOUT the leading `error: ` and without
a trailing newline: the caller prints `error: ` (bold red on a TTY, 10.2), this text, then
a newline, to stderr, and exits 1. Use `guard_message` rather than formatting it directly."""


def detect_agent(env: Mapping[str, str]) -> str | None:
    """The agent whose shell this is, by the first matching row of 11.6, or None.

    A variable set to the empty string counts as unset. `AI_AGENT` names the agent itself
    (its value is returned as is), so any agent can identify itself and wins over the
    other markers.
    """
    if agent := env.get("AI_AGENT"):
        return agent
    for names, agent in _MARKERS:
        if any(env.get(name) for name in names):
            return agent
    for name, needles, agent in _SUBSTRINGS:
        value = env.get(name) or ""
        if any(needle in value for needle in needles):
            return agent
    return None


def agent_guard(env: Mapping[str, str], *, force: bool, stdout_is_tty: bool) -> str | None:
    """The agent to refuse for, or None to go ahead (11.6).

    Refuses only when all three hold: `--force` was not given, stdout is a TTY (piped
    output goes to a program, not into the agent's context), and an agent is detected.
    """
    if force or not stdout_is_tty:
        return None
    return detect_agent(env)


def only_plain(kinds: Mapping[str, str], names: Iterable[str] | None = None) -> bool:
    """Whether every value concerned may pass the guard: each of `names` is live and of
    kind `plain` in `kinds` (name -> kind, from a listing); with `names` None, every live
    name is (an environment without secrets has nothing to hide). A name that is not live,
    or of any other kind, keeps the guard: a value is a secret unless marked plain."""
    concerned = kinds if names is None else names
    return all(kinds.get(name) == "plain" for name in concerned)


def guard_message(agent: str) -> str:
    """The exact refusal text of 11.6 for `agent`, without `error: ` (see GUARD_MESSAGE).

    `AI_AGENT` is free text from the environment: control characters in it are shown as
    escapes so that it cannot drive the terminal the message is printed on.
    """
    return GUARD_MESSAGE.format(agent=_printable(agent))


def _printable(text: str) -> str:
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
