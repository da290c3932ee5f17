"""Download formats judged by what their consumers read back [D19] (behaviour.md 7).

AWKWARD is one list of 40 values that quoting, escaping and line handling get wrong. Each
format's body is handed to the real readers (tests/consumers/conftest.py says which, and
what happens when one is missing), in files, as programs read them:

* `env`: Node's `dotenv` (`dotenv.parse`, what `config()` uses), python-dotenv
  (`dotenv_values(path, interpolate=False)`) and Sigillo's importer read every value back
  exactly, except the values no form suits all three (pinned in ENV_DISAGREES): the body
  names those in a comment line, Sigillo still reads them exactly, and `sigillo secrets
  download` names them on stderr (tests/cli/test_download_warnings_cli.py).
* `yaml`: PyYAML's `safe_load` and the npm `yaml` package's `parse`.
* `shell`: bash, dash and zsh `source` (and `eval`) the body, export the exact values, and
  run nothing: values holding command substitutions would create files in the working
  directory.

Every value is rendered together with all the others (one file) and alone (one file each),
so that neither a neighbour nor the end of the file changes what is read.

NUL is not among the values: Sigillo refuses it when a value is set (values.py), and no
environment variable can hold it.
"""

from __future__ import annotations

import io
import json
import random
import shlex
import subprocess
from pathlib import Path

import pytest

from sigillo.domain.dotenv import parse as sigillo_parse
from sigillo.domain.formats import disagreements, render
from sigillo.domain.values import secret_value
from tests.consumers.conftest import HERE, SHELLS, need

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END PRIVATE KEY-----\n"
)

AWKWARD: list[tuple[str, str]] = [
    ("PLAIN", "localhost"),
    ("EMPTY", ""),
    ("ONLY_SPACES", "   "),
    ("PADDED", "  leading and trailing  "),
    ("EQUALS", "a=b==c="),
    # quotes
    ("DOUBLE_QUOTES", 'say "hi"'),
    ("SINGLE_QUOTE", "it's"),
    ("BOTH_QUOTES", 'it\'s "both"'),
    ("LOOKS_QUOTED", "'already quoted'"),
    # backslashes
    ("BACKSLASHES", "C:\\path\\new\\table"),  # literal \n and \t: must not become LF, TAB
    ("DOUBLE_BACKSLASH", "a\\\\b"),
    ("TRAILING_BACKSLASH", "ends with \\"),
    ("BACKSLASH_QUOTE", 'x\\"y'),
    ("LOOKS_ESCAPED", "\\n\\r\\t\\u00e9\\x41\\'"),
    # what shells and interpolating readers expand
    ("DOLLAR", "pa$$word $HOME"),
    ("BRACES", "${HOME}/x ${UNSET:-default} ${A}${B}"),
    ("BACKTICKS", "`touch pwned-backtick`"),
    ("COMMAND", "$(touch pwned-dollar); touch pwned-semicolon"),
    ("HASH", "value # not a comment"),
    ("HASH_FIRST", "#first"),
    # line breaks and control characters
    ("TAB", "a\tb\t"),
    ("LINE_FEEDS", "line1\nline2\n"),
    ("CRLF", "line1\r\nline2\r\n"),
    ("LONE_CR_AT_END", "ends with CR\r"),
    ("CR_INSIDE", "a\rb"),
    ("CONTROLS", "".join(chr(code) for code in range(1, 32) if code not in (9, 10, 13))),
    ("DEL", "del\x7f"),
    ("C1_CONTROLS", "\x80\x85\x9f"),
    ("NONCHARACTERS", "\ufffe\uffff"),
    ("LINE_SEPARATORS", "a\u2028b\u2029c"),
    ("BOM_INSIDE", "\ufeffbom"),
    # text
    ("NON_ASCII", "héllo 🔐 日本語 ﷽"),
    ("NBSP_AROUND", "\u00a0nbsp\u00a0"),
    ("JSON", '{"user": "admin", "pass": "it\'s \\"x\\"", "n": [1, 2.5, null]}'),
    ("JSON_PRETTY", '{\n  "a": "b",\n  "path": "/x"\n}\n'),
    ("PEM_KEY", PEM),  # with its trailing newline
    ("LONG_LINE", ("0123456789abcdef$'\"\\" * 3000)[:60_000]),
    # values no .env form suits every reader (ENV_DISAGREES)
    ("BOTH_QUOTES_LINES", 'it\'s\n"both"\n'),
    ("CR_AND_QUOTES", "a\r'b\"\\"),  # the final backslash must not escape the quote
    ("JSON_PRETTY_ESCAPES", '{\n  "path": "C:\\\\x"\n}'),
]

ENV_DISAGREES = {"BOTH_QUOTES_LINES", "CR_AND_QUOTES", "JSON_PRETTY_ESCAPES"}
"""The values `env` cannot write so that Node's dotenv, python-dotenv and Sigillo agree.
A value on several lines (or with a CR) must be quoted; in double quotes Node's dotenv
decodes neither `\\"` nor `\\\\`, and in single quotes python-dotenv decodes `\\\\` and
`\\'`. So a value that needs quotes and holds `"` as well as `'` or `\\\\` has no form."""


def test_the_awkward_values_are_forty_storable_values() -> None:
    assert len(AWKWARD) == 40
    assert len({name for name, _ in AWKWARD}) == 40
    for _, value in AWKWARD:
        secret_value(value)  # Sigillo would store each one


def _bodies(format: str, tmp_path: Path) -> list[tuple[Path, list[tuple[str, str]]]]:
    """The body of every value together, then of each alone: (file, its pairs)."""
    sets = [AWKWARD, *([pair] for pair in AWKWARD)]
    files = []
    for index, pairs in enumerate(sets):
        path = tmp_path / f"{format}-{index}"
        path.write_bytes(render(format, pairs).body)
        files.append((path, pairs))
    return files


def _node(reader: str, paths: list[Path]) -> list[dict[str, object]]:
    """What Node's npm package (`dotenv` or `yaml`) reads from each file."""
    done = subprocess.run(
        ["node", str(HERE / "read.cjs"), reader, *map(str, paths)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    lines = done.stdout.decode().split("\n")  # not splitlines(): U+2028 is in values
    assert lines.pop() == ""
    return [json.loads(line) for line in lines]


def _mismatches(pairs: list[tuple[str, str]], read: object) -> list[str]:
    """Names read back other than exactly (names only: values may be long)."""
    if not isinstance(read, dict):
        return [f"not a mapping: {type(read).__name__}"]
    wrong = [name for name, value in pairs if read.get(name) != value]
    extra = sorted(set(read) - {name for name, _ in pairs})
    return wrong + [f"unexpected {name}" for name in extra]


# --- env ------------------------------------------------------------------------------------


def test_env_is_read_back_by_node_dotenv_python_dotenv_and_sigillo(tmp_path: Path) -> None:
    need("dotenv", "python-dotenv")
    from dotenv import dotenv_values

    files = _bodies("env", tmp_path)
    by_node = _node("dotenv", [path for path, _ in files])
    for (path, pairs), node in zip(files, by_node, strict=True):
        agreed = [(name, value) for name, value in pairs if name not in ENV_DISAGREES]
        assert _mismatches(agreed, {k: v for k, v in node.items() if k in dict(agreed)}) == []
        python = dotenv_values(path, interpolate=False)
        assert _mismatches(agreed, {k: v for k, v in python.items() if k in dict(agreed)}) == []
        # Sigillo's own importer reads every value back, the disagreeing ones included.
        assert sigillo_parse(path.read_bytes().decode()) == pairs
        assert set(node) == set(python) == {name for name, _ in pairs}


def test_env_says_which_values_readers_disagree_on_and_they_really_do(tmp_path: Path) -> None:
    need("dotenv", "python-dotenv")
    from dotenv import dotenv_values

    assert {name for name, _ in disagreements("env", AWKWARD)} == ENV_DISAGREES
    body = render("env", AWKWARD).body.decode()
    header = body.split("\n")[: len(ENV_DISAGREES)]
    for line, (name, _) in zip(header, disagreements("env", AWKWARD), strict=True):
        assert line.startswith(f"# {name}: cannot be written so that every .env reader agrees (")
    values = dict(AWKWARD)
    for line in header:
        for _, value in AWKWARD:
            if len(value) > 3:
                assert value not in line  # names and words, never a value
    # The comment is no false alarm: some reader does get each of these wrong.
    path = tmp_path / "both.env"
    path.write_bytes(render("env", [(name, values[name]) for name in ENV_DISAGREES]).body)
    node = _node("dotenv", [path])[0]
    python = dotenv_values(path, interpolate=False)
    for name in ENV_DISAGREES:
        assert node[name] != values[name] or python[name] != values[name]
        assert dict(sigillo_parse(path.read_text()))[name] == values[name]


def test_python_dotenv_reads_a_stream_as_it_reads_a_file() -> None:
    """`load_dotenv(stream=…)` does not go through text-mode newline translation."""
    need("python-dotenv")
    from dotenv import dotenv_values

    body = render("env", AWKWARD).body.decode()
    read = dotenv_values(stream=io.StringIO(body), interpolate=False)
    agreed = [(name, value) for name, value in AWKWARD if name not in ENV_DISAGREES]
    assert _mismatches(agreed, {k: v for k, v in read.items() if k in dict(agreed)}) == []


# --- yaml -----------------------------------------------------------------------------------

YAML_NAMES = ["ON", "off", "Yes", "NO", "y", "N", "TRUE", "false", "NULL", "null", "ONE", "_"]
"""Names a YAML reader would take for a boolean or null unless quoted, and some it would not."""


def test_yaml_is_read_back_by_pyyaml_and_the_yaml_package(tmp_path: Path) -> None:
    need("yaml", "PyYAML")
    import yaml

    files = _bodies("yaml", tmp_path)
    names = tmp_path / "names.yaml"
    named = [(name, f"v{index}") for index, name in enumerate(YAML_NAMES)]
    names.write_bytes(render("yaml", named).body)
    files.append((names, named))
    by_node = _node("yaml", [path for path, _ in files])
    for (path, pairs), node in zip(files, by_node, strict=True):
        assert _mismatches(pairs, node) == [], path.name
        assert _mismatches(pairs, yaml.safe_load(path.read_bytes())) == [], path.name
        assert list(node) == [name for name, _ in pairs]  # in order


def test_an_empty_yaml_download_is_an_empty_document(tmp_path: Path) -> None:
    """No secrets: the reference's single LF, which both read as null (not `{}`)."""
    need("yaml", "PyYAML")
    import yaml

    path = tmp_path / "empty.yaml"
    path.write_bytes(render("yaml", []).body)
    assert yaml.safe_load(path.read_bytes()) is None
    assert _node("yaml", [path]) == [None]


# --- shell ----------------------------------------------------------------------------------

_COMMAND = {"bash": ["bash", "--noprofile", "--norc", "-c"], "dash": ["dash", "-c"]}
_COMMAND["zsh"] = ["zsh", "-f", "-c"]


def _exported(shell: str, script: str, cwd: Path) -> dict[str, str]:
    """The environment a program started after `script` sees, in `shell`."""
    done = subprocess.run(
        [*_COMMAND[shell], f"set -e\n{script}\nexec env -0"],
        cwd=cwd,
        capture_output=True,
        check=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"},
    )
    found = {}
    for entry in done.stdout.split(b"\0")[:-1]:
        name, _, value = entry.decode("utf-8", "surrogateescape").partition("=")
        found[name] = value
    return found


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("how", ["source", "eval"])
def test_shell_exports_the_exact_values_and_runs_nothing(
    shell: str, how: str, tmp_path: Path
) -> None:
    need(shell)
    files = _bodies("shell", tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    for path, pairs in files:
        quoted = shlex.quote(str(path))
        script = f". {quoted}" if how == "source" else f'eval "$(cat {quoted})"'
        exported = _exported(shell, script, work)
        assert _mismatches(pairs, {k: v for k, v in exported.items() if k in dict(pairs)}) == []
        assert list(work.iterdir()) == []  # no `touch` ran


def test_shell_body_is_single_quoted_lines() -> None:
    body = render("shell", [("A", "it's $(x)"), ("B", "")]).body
    assert body == b"export A='it'\\''s $(x)'\nexport B=''\n"


# --- many random values, one file ---------------------------------------------------------

_PIECES = [*"\"'`\\$#=: \t\r\n\x0b\x0c\x1b\x7f\x85\u2028\u2029\ufeff\u00a0/nrtuvabfx0é🔐", "\\u"]


def _random_pairs(count: int) -> list[tuple[str, str]]:
    """`count` values built from the pieces quoting gets wrong, the same on every run."""
    chooser = random.Random(19)
    return [
        (f"V{index}", "".join(chooser.choices(_PIECES, k=chooser.randrange(0, 12))))
        for index in range(count)
    ]


def test_env_readers_agree_on_every_value_the_format_does_not_name(tmp_path: Path) -> None:
    """The rule behind the forms, on 1500 values at once: every value is read back exactly
    by all three readers, or is one the comment lines name (and Sigillo still reads)."""
    need("dotenv", "python-dotenv")
    from dotenv import dotenv_values

    pairs = _random_pairs(1500)
    path = tmp_path / "random.env"
    path.write_bytes(render("env", pairs).body)
    named = {name for name, _ in disagreements("env", pairs)}
    agreed = [(name, value) for name, value in pairs if name not in named]
    assert len(agreed) > 1000
    node = _node("dotenv", [path])[0]
    python = dotenv_values(path, interpolate=False)
    assert _mismatches(agreed, {k: v for k, v in node.items() if k not in named}) == []
    assert _mismatches(agreed, {k: v for k, v in python.items() if k not in named}) == []
    assert sigillo_parse(path.read_text()) == pairs


def test_yaml_and_shell_readers_agree_on_random_values(tmp_path: Path) -> None:
    need("yaml", "PyYAML", "bash", "dash", "zsh")
    import yaml

    pairs = _random_pairs(1500)
    path = tmp_path / "random.yaml"
    path.write_bytes(render("yaml", pairs).body)
    assert _mismatches(pairs, _node("yaml", [path])[0]) == []
    assert _mismatches(pairs, yaml.safe_load(path.read_bytes())) == []
    script = tmp_path / "random.sh"
    script.write_bytes(render("shell", pairs).body)
    work = tmp_path / "work"
    work.mkdir()
    for shell in SHELLS:
        exported = _exported(shell, f". {shlex.quote(str(script))}", work)
        assert _mismatches(pairs, {k: v for k, v in exported.items() if k in dict(pairs)}) == []
