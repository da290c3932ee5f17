"""`sigillo completion bash|zsh|fish`: shell completion scripts, generated from the parser.

The scripts are not written by hand: they are rendered from the very argparse parser that
parses the command line (`sigillo.__main__.parser()`), so a command, action or option
added there is completed the moment it exists, and a removed one is never offered.

Every script holds the same small tables, one entry per command path (`""`, `secrets`,
`secrets get`, …): its sub-commands, its options, which options take a value (and the
value's choices, if any), and whether its positional argument is a file. At completion
time the words typed so far are walked down those tables, skipping options and their
values, to find the path the cursor is in; after `--` (the child command of `run`) the
shell's own completion takes over.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sigillo.cli.context import Context
from sigillo.cli.parser import FORMATS

__all__ = ["Node", "Option", "bash", "fish", "script", "tree", "zsh"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_FILE_WORDS = ("file", "dir", "path", "scope", "mount")


class Option:
    """One option of a command: its spellings, what it does, and what its value is."""

    __slots__ = ("choices", "files", "help", "strings", "takes_value")

    def __init__(
        self,
        strings: list[str],
        help: str,
        takes_value: bool,
        choices: list[str],
        files: bool,
    ) -> None:
        self.strings, self.help, self.takes_value = strings, help, takes_value
        self.choices, self.files = choices, files


class Node:
    """One command path (`()` is `sigillo` itself) and what may follow it."""

    __slots__ = ("commands", "files", "options", "path", "words")

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.commands: list[tuple[str, str]] = []  # (name, help)
        self.words: list[str] = []  # choices of positional arguments (`completion bash`)
        self.options: list[Option] = []
        self.files = False  # a positional argument names a file (`secrets upload FILE`)

    @property
    def key(self) -> str:
        return " ".join(self.path)


def script(ctx: Context) -> int:
    """Print the script for `ctx.args.shell`."""
    # The root parser belongs to the entry point, one layer above the CLI (it also knows
    # the server's commands, which it loads only when one runs); it is looked up by name
    # so that the CLI package does not depend on the entry point's imports.
    entry = importlib.import_module("sigillo.__main__")
    render: Callable[[list[Node]], str] = {"bash": bash, "zsh": zsh, "fish": fish}[ctx.args.shell]
    ctx.out.line(render(tree(entry.parser())), end="")
    return 0


# --- the tree ---------------------------------------------------------------------------


def tree(parser: argparse.ArgumentParser) -> list[Node]:
    """Every command path of `parser`, parents before children."""
    return list(_walk(parser, ()))


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[Node]:
    node = Node(path)
    children: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, child in action.choices.items():
                _check(name)
                node.commands.append((name, _first_sentence(helps.get(name, ""))))
                children.append((name, child))
        elif action.option_strings:
            node.options.append(_option(action, path))
        elif action.choices:
            node.words.extend(str(choice) for choice in action.choices)
        elif _is_file(action):
            node.files = True
    yield node
    for name, child in children:
        yield from _walk(child, (*path, name))


def _option(action: argparse.Action, path: tuple[str, ...]) -> Option:
    for string in action.option_strings:
        _check(string.lstrip("-"))
    takes_value = action.nargs != 0
    choices = [str(choice) for choice in action.choices or ()]
    if not choices and action.dest == "format" and path[-1:] == ("download",):
        choices = list(FORMATS)  # checked by the command, so that its error is the spec's
    return Option(
        list(action.option_strings),
        _first_sentence(action.help or ""),
        takes_value,
        choices,
        takes_value and not choices and _is_file(action),
    )


def _is_file(action: argparse.Action) -> bool:
    names = f"{action.dest} {action.metavar or ''}".lower()
    return any(word in names for word in _FILE_WORDS)


def _first_sentence(text: str) -> str:
    """Help text without its `[default]` part, on one line."""
    if text == argparse.SUPPRESS:
        return ""
    return " ".join(text.split(" [", 1)[0].split())


def _check(name: str) -> None:
    """Names go into shell code unquoted in places: only plain words are accepted."""
    if not _NAME.match(name):
        raise ValueError(f"cannot complete a command or option named {name!r}")


def _values(nodes: list[Node]) -> Iterator[tuple[Node, Option, str]]:
    """Every (node, option, spelling) of an option that takes a value."""
    for node in nodes:
        for option in node.options:
            if option.takes_value:
                for string in option.strings:
                    yield node, option, string


def _sh(text: str) -> str:
    """A single-quoted word for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


# --- bash -------------------------------------------------------------------------------


def bash(nodes: list[Node]) -> str:
    """A bash (4+) script: `source <(sigillo completion bash)`."""
    lines = [
        "# bash completion for sigillo, generated by `sigillo completion bash`",
        "# (from the CLI's own parser: regenerate it after an upgrade).",
        "",
        "_sigillo_child() {",
        '    case "$1|$2" in',
    ]
    for node in nodes:
        for name, _ in node.commands:
            key, child = _sh(node.key + "|" + name), _sh(_join(node.path, name))
            lines.append(f"        {key}) _sigillo_reply={child} ;;")
    lines += ["        *) return 1 ;;", "    esac", "}", ""]
    lines += _bash_table(
        "_sigillo_takes_value", ((n, s, "") for n, _, s in _values(nodes)), key_option=True
    )
    lines += _bash_table(
        "_sigillo_choices",
        ((n, s, " ".join(o.choices)) for n, o, s in _values(nodes) if o.choices),
        key_option=True,
    )
    lines += _bash_table(
        "_sigillo_file_value",
        ((n, s, "") for n, o, s in _values(nodes) if o.files),
        key_option=True,
    )
    lines += _bash_table(
        "_sigillo_words",
        ((n, "", " ".join([*(c for c, _ in n.commands), *n.words])) for n in nodes),
        key_option=False,
    )
    lines += _bash_table(
        "_sigillo_options",
        ((n, "", " ".join(s for o in n.options for s in o.strings)) for n in nodes),
        key_option=False,
    )
    lines += _bash_table(
        "_sigillo_file_argument", ((n, "", "") for n in nodes if n.files), key_option=False
    )
    lines += [
        "_sigillo() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" node="" expect="" word i',
        "    COMPREPLY=()",
        '    [[ $cur == "=" ]] && cur=""',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        word="${COMP_WORDS[i]}"',
        '        [[ $word == "=" ]] && continue',
        '        if [[ -n $expect ]]; then expect=""; continue; fi',
        '        if [[ $word == "--" ]]; then',
        "            compopt -o default 2>/dev/null",
        "            return 0",
        "        fi",
        "        if [[ $word == -* ]]; then",
        "            [[ $word == *=* ]] && continue",
        '            _sigillo_takes_value "$node" "$word" && expect="$word"',
        "            continue",
        "        fi",
        '        _sigillo_child "$node" "$word" && node="$_sigillo_reply"',
        "    done",
        "    if [[ -n $expect ]]; then",
        '        if _sigillo_choices "$node" "$expect"; then',
        '            COMPREPLY=($(compgen -W "$_sigillo_reply" -- "$cur"))',
        '        elif _sigillo_file_value "$node" "$expect"; then',
        "            compopt -o default 2>/dev/null",
        "        fi",
        "        return 0",
        "    fi",
        "    if [[ $cur == -* ]]; then",
        '        _sigillo_options "$node"',
        '        COMPREPLY=($(compgen -W "$_sigillo_reply" -- "$cur"))',
        "        return 0",
        "    fi",
        '    _sigillo_words "$node"',
        '    COMPREPLY=($(compgen -W "$_sigillo_reply" -- "$cur"))',
        '    if [[ ${#COMPREPLY[@]} -eq 0 ]] && _sigillo_file_argument "$node"; then',
        "        compopt -o default 2>/dev/null",
        "    fi",
        "    return 0",
        "}",
        "",
        "complete -F _sigillo sigillo",
        "",
    ]
    return "\n".join(lines)


def _join(path: tuple[str, ...], name: str) -> str:
    return " ".join((*path, name))


def _bash_table(
    function: str, rows: Iterator[tuple[Node, str, str]], *, key_option: bool
) -> list[str]:
    """`function NODE [OPTION]`: sets `_sigillo_reply` and succeeds for a listed key."""
    return _case_table(function, rows, key_option, lambda reply: f"_sigillo_reply={_sh(reply)}")


def _case_table(
    function: str,
    rows: Iterable[tuple[Node, str, Any]],
    key_option: bool,
    assign: Callable[[Any], str],
) -> list[str]:
    """A shell function of one `case` over `NODE` or `NODE|OPTION` (bash and zsh alike):
    each listed key runs `assign(reply)` and succeeds; any other fails."""
    subject = '"$1|$2"' if key_option else '"$1"'
    lines = [f"{function}() {{", f"    case {subject} in"]
    for node, option, reply in rows:
        key = f"{node.key}|{option}" if key_option else node.key
        lines.append(f"        {_sh(key)}) {assign(reply)} ;;")
    lines += ["        *) return 1 ;;", "    esac", "}", ""]
    return lines


# --- zsh --------------------------------------------------------------------------------


def zsh(nodes: list[Node]) -> str:
    """A zsh script: save it as `_sigillo` in a directory of `$fpath`, or `source` it."""
    lines = [
        "#compdef sigillo",
        "# zsh completion for sigillo, generated by `sigillo completion zsh`",
        "# (from the CLI's own parser: regenerate it after an upgrade).",
        "",
        "_sigillo_child() {",
        '    case "$1|$2" in',
    ]
    for node in nodes:
        for name, _ in node.commands:
            key, child = _sh(node.key + "|" + name), _sh(_join(node.path, name))
            lines.append(f"        {key}) REPLY={child} ;;")
    lines += ["        *) return 1 ;;", "    esac", "}", ""]
    lines += _zsh_table(
        "_sigillo_takes_value", ((n, s, []) for n, _, s in _values(nodes)), key_option=True
    )
    lines += _zsh_table(
        "_sigillo_choices",
        ((n, s, o.choices) for n, o, s in _values(nodes) if o.choices),
        key_option=True,
    )
    lines += _zsh_table(
        "_sigillo_file_value",
        ((n, s, []) for n, o, s in _values(nodes) if o.files),
        key_option=True,
    )
    lines += _zsh_table(
        "_sigillo_commands",
        (
            (n, "", [*(_described(c, h) for c, h in n.commands), *n.words])
            for n in nodes
            if n.commands or n.words
        ),
        key_option=False,
    )
    lines += _zsh_table(
        "_sigillo_options",
        ((n, "", [_described(s, o.help) for o in n.options for s in o.strings]) for n in nodes),
        key_option=False,
    )
    lines += _zsh_table(
        "_sigillo_file_argument", ((n, "", []) for n in nodes if n.files), key_option=False
    )
    lines += [
        "_sigillo() {",
        "    local node='' expect='' word REPLY",
        "    local -a reply",
        "    local -i i",
        "    for (( i = 2; i < CURRENT; i++ )); do",
        "        word=${words[i]}",
        "        if [[ -n $expect ]]; then expect=''; continue; fi",
        "        if [[ $word == -- ]]; then",
        '            words=("${(@)words[i+1,-1]}")',
        "            (( CURRENT -= i ))",
        "            _normal",
        "            return",
        "        fi",
        "        if [[ $word == -* ]]; then",
        "            [[ $word == *=* ]] && continue",
        '            _sigillo_takes_value "$node" "$word" && expect=$word',
        "            continue",
        "        fi",
        '        _sigillo_child "$node" "$word" && node=$REPLY',
        "    done",
        "    if [[ -n $expect ]]; then",
        '        if _sigillo_choices "$node" "$expect"; then',
        "            compadd -a reply",
        '        elif _sigillo_file_value "$node" "$expect"; then',
        "            _files",
        "        fi",
        "        return",
        "    fi",
        "    if [[ ${words[CURRENT]} == -* ]]; then",
        '        _sigillo_options "$node" && _describe -t options option reply',
        "        return",
        "    fi",
        '    if _sigillo_commands "$node"; then',
        "        _describe -t commands command reply",
        '    elif _sigillo_file_argument "$node"; then',
        "        _files",
        "    fi",
        "}",
        "",
        "if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then",
        '    _sigillo "$@"',
        "else",
        "    compdef _sigillo sigillo",
        "fi",
        "",
    ]
    return "\n".join(lines)


def _described(name: str, help: str) -> str:
    """An entry of `_describe`: `name:description` (a colon in the name is escaped)."""
    return f"{name.replace(':', chr(92) + ':')}:{help}" if help else name


def _zsh_table(
    function: str, rows: Iterator[tuple[Node, str, list[str]]], *, key_option: bool
) -> list[str]:
    """`function NODE [OPTION]`: sets the array `reply` and succeeds for a listed key."""
    return _case_table(
        function, rows, key_option, lambda reply: f"reply=({' '.join(_sh(r) for r in reply)})"
    )


# --- fish -------------------------------------------------------------------------------


def fish(nodes: list[Node]) -> str:
    """A fish script: save it as ~/.config/fish/completions/sigillo.fish."""
    lines = [
        "# fish completion for sigillo, generated by `sigillo completion fish`",
        "# (from the CLI's own parser: regenerate it after an upgrade).",
        "",
        "function __sigillo_child",
        '    switch "$argv[1]|$argv[2]"',
    ]
    for node in nodes:
        for name, _ in node.commands:
            lines += [
                f"        case {_fish(node.key + '|' + name)}",
                f"            echo {_fish(_join(node.path, name))}",
            ]
    lines += ["        case '*'", "            return 1", "    end", "end", ""]
    lines += [
        "function __sigillo_takes_value",
        '    switch "$argv[1]|$argv[2]"',
    ]
    for node in nodes:
        keys = [f"{node.key}|{s}" for o in node.options if o.takes_value for s in o.strings]
        if keys:
            lines += [f"        case {' '.join(_fish(k) for k in keys)}", "            return 0"]
    lines += ["    end", "    return 1", "end", ""]
    lines += [
        "function __sigillo_node",
        "    set -l tokens (commandline -opc)",
        "    set -e tokens[1]",
        "    set -l node ''",
        "    set -l expect 0",
        "    for word in $tokens",
        "        if test $expect = 1",
        "            set expect 0",
        "            continue",
        "        end",
        "        if test \"$word\" = '--'",
        "            printf '%s\\n' '--'",
        "            return",
        "        end",
        "        switch $word",
        "            case '-*'",
        "                if not string match -q -- '*=*' $word",
        '                    and __sigillo_takes_value "$node" $word',
        "                    set expect 1",
        "                end",
        "            case '*'",
        '                set -l next (__sigillo_child "$node" $word)',
        "                and set node $next",
        "        end",
        "    end",
        "    printf '%s\\n' $node",
        "end",
        "",
        "function __sigillo_at",
        "    set -l node (__sigillo_node)",
        '    test "$node" = "$argv[1]"',
        "end",
        "",
        "complete -c sigillo -f",
        "complete -c sigillo -n '__sigillo_at --' -F",
    ]
    for node in nodes:
        at = f"-n {_fish('__sigillo_at ' + _sh(node.key))}"
        for name, help in node.commands:
            lines.append(f"complete -c sigillo {at} -a {_fish(name)} -d {_fish(help)}")
        for word in node.words:
            lines.append(f"complete -c sigillo {at} -a {_fish(word)}")
        if node.files:
            lines.append(f"complete -c sigillo {at} -F")
        for option in node.options:
            lines.append(f"complete -c sigillo {at} {_fish_option(option)}")
    lines.append("")
    return "\n".join(lines)


def _fish_option(option: Option) -> str:
    parts = []
    for string in option.strings:
        parts.append(f"-l {string[2:]}" if string.startswith("--") else f"-s {string[1:]}")
    if option.choices:
        parts.append(f"-x -a {_fish(' '.join(option.choices))}")
    elif option.files:
        parts.append("-r -F")
    elif option.takes_value:
        parts.append("-x")
    if option.help:
        parts.append(f"-d {_fish(option.help)}")
    return " ".join(parts)


def _fish(text: str) -> str:
    """A single-quoted fish word (inside single quotes fish unescapes \\\\ and \\')."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
