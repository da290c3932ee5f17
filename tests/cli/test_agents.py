"""Agent-shell detection and the guard of `secrets get` / `secrets download` (behaviour.md 11.6),
and which values need no guard because they are plain [D18]."""

from __future__ import annotations

import pytest

from sigillo.cli.agents import (
    GUARD_MESSAGE,
    agent_guard,
    detect_agent,
    guard_message,
    only_plain,
)

# Every row of the table in 11.6, in order: (environment, agent).
ROWS: list[tuple[dict[str, str], str]] = [
    ({"AI_AGENT": "custom-agent"}, "custom-agent"),
    ({"CLAUDECODE": "1"}, "claude"),
    ({"CLAUDE_CODE": "1"}, "claude"),
    ({"REPL_ID": "abc"}, "replit"),
    ({"GEMINI_CLI": "1"}, "gemini"),
    ({"CODEX_SANDBOX": "seatbelt"}, "codex"),
    ({"CODEX_THREAD_ID": "thread_1"}, "codex"),
    ({"OPENCODE": "1"}, "opencode"),
    ({"AUGMENT_AGENT": "1"}, "auggie"),
    ({"GOOSE_PROVIDER": "openai"}, "goose"),
    ({"CURSOR_AGENT": "1"}, "cursor"),
    ({"PATH": "/usr/bin:/home/me/.pi/agent/bin:/bin"}, "pi"),
    ({"PATH": "C:\\Windows;C:\\Users\\me\\.pi\\agent\\bin"}, "pi"),
    ({"EDITOR": "/opt/devin/bin/editor --wait"}, "devin"),
    ({"TERM_PROGRAM": "kiro"}, "kiro"),
    ({"TERM_PROGRAM": "kiro-terminal"}, "kiro"),
]

ORDINARY = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "EDITOR": "vim",
    "TERM_PROGRAM": "iTerm.app",
    "HOME": "/home/me",
    "SHELL": "/bin/zsh",
}


@pytest.mark.parametrize(("env", "agent"), ROWS)
def test_each_row_names_its_agent(env: dict[str, str], agent: str) -> None:
    assert detect_agent(env) == agent
    assert detect_agent({**ORDINARY, **env}) == agent


def test_no_marker_means_no_agent() -> None:
    assert detect_agent({}) is None
    assert detect_agent(ORDINARY) is None


def test_the_first_matching_row_wins() -> None:
    everything: dict[str, str] = {}
    for env, _ in ROWS:
        everything.update(env)
    # drop the markers one row at a time: the next row takes over each time
    expected_order = [
        ("AI_AGENT", "custom-agent"),
        ("CLAUDECODE", "claude"),
        ("CLAUDE_CODE", "claude"),
        ("REPL_ID", "replit"),
        ("GEMINI_CLI", "gemini"),
        ("CODEX_SANDBOX", "codex"),
        ("CODEX_THREAD_ID", "codex"),
        ("OPENCODE", "opencode"),
        ("AUGMENT_AGENT", "auggie"),
        ("GOOSE_PROVIDER", "goose"),
        ("CURSOR_AGENT", "cursor"),
        ("PATH", "pi"),
        ("EDITOR", "devin"),
        ("TERM_PROGRAM", "kiro"),
    ]
    for name, agent in expected_order:
        assert detect_agent(everything) == agent, name
        del everything[name]
    assert detect_agent(everything) is None


def test_ai_agent_wins_over_the_others() -> None:
    env = {"AI_AGENT": "custom-agent", "CODEX_THREAD_ID": "t", "CLAUDECODE": "1"}
    assert detect_agent(env) == "custom-agent"


def test_codex_thread_id_alone_is_codex() -> None:
    assert detect_agent({"CODEX_THREAD_ID": "019a-thread"}) == "codex"


@pytest.mark.parametrize(
    "name",
    [
        "AI_AGENT",
        "CLAUDECODE",
        "CLAUDE_CODE",
        "REPL_ID",
        "GEMINI_CLI",
        "CODEX_SANDBOX",
        "CODEX_THREAD_ID",
        "OPENCODE",
        "AUGMENT_AGENT",
        "GOOSE_PROVIDER",
        "CURSOR_AGENT",
        "PATH",
        "EDITOR",
        "TERM_PROGRAM",
    ],
)
def test_an_empty_variable_counts_as_unset(name: str) -> None:
    assert detect_agent({name: ""}) is None
    # ... and does not stop the rows below it from matching
    later = {"TERM_PROGRAM": "kiro"} if name != "TERM_PROGRAM" else {"EDITOR": "devin"}
    assert detect_agent({name: "", **later}) in ("kiro", "devin")


def test_an_empty_ai_agent_falls_through_to_the_next_row() -> None:
    assert detect_agent({"AI_AGENT": "", "CLAUDECODE": "1"}) == "claude"
    assert detect_agent({"CLAUDECODE": "", "CLAUDE_CODE": "1"}) == "claude"
    assert detect_agent({"CODEX_SANDBOX": "", "CODEX_THREAD_ID": ""}) is None


@pytest.mark.parametrize(
    "env",
    [
        {"PATH": "/home/me/.pi/bin:/usr/bin"},  # `.pi` but not `.pi/agent`
        {"PATH": "/home/me/pi/agent"},  # no dot
        {"EDITOR": "code --wait"},
        {"TERM_PROGRAM": "vscode"},
        {"TERM_PROGRAM": "Kiro"},  # substring matches are case-sensitive, as in the reference
        {"SOME_AGENT": "1"},
    ],
)
def test_near_misses_are_not_agents(env: dict[str, str]) -> None:
    assert detect_agent(env) is None


def test_the_guard_blocks_only_unforced_on_a_tty_with_an_agent() -> None:
    agent = {"CODEX_THREAD_ID": "t"}
    assert agent_guard(agent, force=False, stdout_is_tty=True) == "codex"
    assert agent_guard(agent, force=True, stdout_is_tty=True) is None
    assert agent_guard(agent, force=False, stdout_is_tty=False) is None
    assert agent_guard(agent, force=True, stdout_is_tty=False) is None
    assert agent_guard(ORDINARY, force=False, stdout_is_tty=True) is None


def test_the_message_is_the_exact_text_of_the_spec() -> None:
    expected = (
        "printing secret values into an agent context is discouraged\n"
        "  detected agent shell: codex\n"
        "\n"
        "  Prefer chaining the command that needs secrets through Sigillo, so values never "
        "enter chat context:\n"
        "    sigillo run --command 'your-command \"$DATABASE_URL\"'\n"
        "\n"
        "  Piped stdout is allowed because values go directly to the next process:\n"
        "    sigillo secrets download --format env | fly secrets import --app my-app\n"
        "\n"
        "  If you really need to inspect secrets as a last resort, rerun with --force."
    )
    assert guard_message("codex") == expected
    assert f"error: {guard_message('codex')}\n".startswith("error: printing secret values")
    assert GUARD_MESSAGE.format(agent="codex") == expected


def test_the_message_keeps_an_agent_name_as_is_but_escapes_control_characters() -> None:
    assert "detected agent shell: my agent {x}\n" in guard_message("my agent {x}")
    shown = guard_message("evil\x1b]0;pwned\x07\nname")
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "detected agent shell: evil\\x1b]0;pwned\\x07\\nname\n" in shown


def test_only_plain_values_pass_the_guard() -> None:
    kinds = {"PORT": "plain", "LOG_LEVEL": "plain", "DB_PASSWORD": "secret"}
    assert only_plain(kinds, ["PORT"])
    assert only_plain(kinds, ["PORT", "LOG_LEVEL"])
    assert not only_plain(kinds, ["DB_PASSWORD"])
    assert not only_plain(kinds, ["PORT", "DB_PASSWORD"])
    assert not only_plain(kinds, ["MISSING"])  # not live: a secret until marked plain
    assert not only_plain(kinds)  # every live name: one is a secret
    assert only_plain({"PORT": "plain", "NODE_ENV": "plain"})
    assert only_plain({})  # an empty environment has nothing to hide
    assert not only_plain({"X": "PLAIN"})  # an unknown kind is no kind: keep the guard
    assert not only_plain({"X": "None"})
