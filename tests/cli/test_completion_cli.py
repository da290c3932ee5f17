"""`sigillo completion bash|zsh|fish`: scripts generated from the parser, so they complete
exactly the commands, actions and options that exist."""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from sigillo.__main__ import parser
from sigillo.cli.commands.completion import tree
from tests.cli.conftest import Sigillo, sigillo_command


def script(sigillo: Sigillo, shell: str) -> str:
    done = sigillo("completion", shell)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def bash_complete(sigillo: Sigillo, typed: str) -> list[str]:
    """What the bash completion function offers after `typed` (the last word is the one
    being completed; a trailing space means a new, empty word), as bash would call it."""
    words = ["sigillo", *shlex.split(typed)]
    if typed.endswith(" ") or not typed:
        words.append("")
    source = shlex.join([*sigillo_command(), "completion", "bash"])
    program = (
        f"source <({source}) || exit 3\n"
        f"COMP_WORDS=({shlex.join(words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_sigillo\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", program],
        capture_output=True,
        text=True,
        env=sigillo.env,
        cwd=sigillo.cwd,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_bash_script_registers_a_completion_function(sigillo: Sigillo) -> None:
    source = shlex.join([*sigillo_command(), "completion", "bash"])
    done = subprocess.run(
        ["bash", "-c", f"source <({source}) && complete -p sigillo"],
        capture_output=True,
        text=True,
        env=sigillo.env,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "complete -F _sigillo sigillo"


def test_bash_syntax_is_valid(sigillo: Sigillo, tmp_path: Path) -> None:
    path = tmp_path / "sigillo.bash"
    path.write_text(script(sigillo, "bash"))
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_bash_completes_commands(sigillo: Sigillo) -> None:
    assert bash_complete(sigillo, "se") == ["setup", "secrets", "sessions", "server"]
    assert "secrets" in bash_complete(sigillo, "sec")
    everything = bash_complete(sigillo, "")
    for command in ("login", "logout", "me", "setup", "secrets", "completion", "server"):
        assert command in everything


def test_bash_completes_actions_after_shared_options(sigillo: Sigillo) -> None:
    assert bash_complete(sigillo, "secrets ") == [
        "get", "set", "mark", "delete", "download", "upload", "history", "diff", "rollback",
    ]  # fmt: skip
    # `-c dev` takes a value: `dev` is not mistaken for an action
    assert bash_complete(sigillo, "secrets -c dev g") == ["get"]
    assert bash_complete(sigillo, "secrets --env dev -p P d") == ["delete", "download", "diff"]
    assert bash_complete(sigillo, "admin ") == [
        "migrate", "rebuild-projections", "create-user", "reset-two-factor", "sign-in-failures",
        "backup", "verify-backup", "rotate-key", "verify", "audit",
    ]  # fmt: skip
    assert bash_complete(sigillo, "admin audit ") == ["export"]
    assert {"--since", "--org", "--output", "--database-url"} <= set(
        bash_complete(sigillo, "admin audit export --")
    )


def test_bash_completes_options_of_the_current_command(sigillo: Sigillo) -> None:
    get = bash_complete(sigillo, "secrets get NAME --")
    assert {"--raw", "--force", "--env", "--config", "--project", "--token"} <= set(get)
    assert "--format" not in get
    assert bash_complete(sigillo, "login --no") == ["--no-browser"]
    assert bash_complete(sigillo, "-") == ["-h", "--help", "-v", "--version"]


def test_bash_completes_the_kind_flags_and_mark(sigillo: Sigillo) -> None:
    """[D18]: `secrets mark`, `--plain`/`--secret` of set and mark, upload's `--plain
    NAME…` and run's `--show NAME`."""
    assert bash_complete(sigillo, "secrets m") == ["mark"]
    assert bash_complete(sigillo, "secrets -c dev ma") == ["mark"]
    for command in ("secrets set NAME", "secrets mark NAME"):
        offered = bash_complete(sigillo, f"{command} --")
        assert {"--plain", "--secret", "--env", "--config", "--project"} <= set(offered)
    assert bash_complete(sigillo, "secrets mark PORT --p") == ["--plain", "--project"]
    # mark's and set's flags take no value: the word after them is completed afresh
    assert "--secret" in bash_complete(sigillo, "secrets mark PORT --plain --")
    assert bash_complete(sigillo, "secrets upload .env --pl") == ["--plain"]
    assert bash_complete(sigillo, "secrets upload .env --plain ") == []  # a name: free text
    assert bash_complete(sigillo, "secrets get NAME --pl") == []  # only where it exists
    assert bash_complete(sigillo, "run --sh") == ["--show"]
    assert bash_complete(sigillo, "run --show ") == []  # a name: free text
    fish = script(sigillo, "fish")
    assert "complete -c sigillo -n '__sigillo_at \\'secrets\\'' -a 'mark'" in fish
    assert "-l plain -d" in fish
    assert "-l show -x" in fish
    zsh = script(sigillo, "zsh")
    assert "'secrets mark|--secret'" not in zsh  # a flag: not among the options taking values
    assert "'run|--show'" in zsh


def test_bash_completes_option_values_and_choices(sigillo: Sigillo) -> None:
    assert bash_complete(sigillo, "completion ") == ["bash", "zsh", "fish"]
    assert bash_complete(sigillo, "secrets download --format ") == [
        "json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json", "shell",
        "json-kinds",
    ]  # fmt: skip
    assert bash_complete(sigillo, "secrets download --format y") == ["yaml"]
    # `--format=` as bash splits it: `--format`, `=`, then the value
    assert bash_complete(sigillo, "secrets upload --format = j") == ["json"]
    # a free value (a token) offers nothing, not the commands
    assert bash_complete(sigillo, "secrets --token ") == []


def test_every_command_of_the_parser_is_in_every_script(sigillo: Sigillo) -> None:
    nodes = tree(parser())
    scripts = {shell: script(sigillo, shell) for shell in ("bash", "zsh", "fish")}
    paths = [node.path for node in nodes if node.path]
    assert ("secrets", "download") in paths
    assert ("admin", "create-user") in paths
    for path in paths:
        assert f"'{' '.join(path)}'" in scripts["bash"], path
        assert f"'{' '.join(path)}'" in scripts["zsh"], path
        assert f"'{path[-1]}'" in scripts["fish"], path


def test_the_tree_follows_the_parser() -> None:
    """A command or option added to the parser appears in the scripts with no other change."""
    root = argparse.ArgumentParser(prog="sigillo")
    commands = root.add_subparsers(dest="command")
    brand_new = commands.add_parser("brand-new", help="a command added later [x]")
    brand_new.add_argument("--shiny", choices=("a", "b"), help="an option")
    brand_new.add_argument("--out-file", help="where")
    nodes = {node.path: node for node in tree(root)}
    assert nodes[()].commands == [("brand-new", "a command added later")]
    options = {o.strings[0]: o for o in nodes[("brand-new",)].options}
    assert options["--shiny"].choices == ["a", "b"]
    assert options["--out-file"].files


def test_completion_needs_a_known_shell(sigillo: Sigillo) -> None:
    done = sigillo("completion", "tcsh")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
    assert sigillo("completion").returncode == 2


def test_completion_needs_no_server_or_login(sigillo: Sigillo) -> None:
    done = sigillo("completion", "bash", env={"SIGILLO_API_URL": "http://127.0.0.1:1"})
    assert done.returncode == 0
    assert "complete -F _sigillo sigillo" in done.stdout


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_other_shells_scripts_parse(sigillo: Sigillo, tmp_path: Path, shell: str) -> None:
    text = script(sigillo, shell)
    assert "secrets" in text
    assert "no-browser" in text
    found = shutil.which(shell)
    if found is None:
        pytest.skip(f"{shell} is not installed here: its script is only generated, not parsed")
    path = tmp_path / f"sigillo.{shell}"
    path.write_text(text)
    done = subprocess.run([found, "-n", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_zsh_and_fish_scripts_describe_commands(sigillo: Sigillo) -> None:
    zsh = script(sigillo, "zsh")
    assert zsh.startswith("#compdef sigillo\n")
    assert "'login:sign in through the browser (device flow), or save a token'" in zsh
    fish = script(sigillo, "fish")
    assert "complete -c sigillo -n '__sigillo_at \\'secrets\\'' -a 'get'" in fish
    assert (
        "-l format -x -a 'json env env-no-quotes xargs yaml docker dotnet-json shell json-kinds'"
        in fish
    )
