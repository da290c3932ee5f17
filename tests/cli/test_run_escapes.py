"""Issue 12, items 4 and 6, end to end: real children through the real `sigillo run`.

Item 4: `grep --color` in a pseudo-terminal (and `--color=always` through a pipe) colours
the part of a line it matched, inside a secret; a Python child colours a value in the
middle and sets the window title to it. Item 6: a child writes `s`, pauses, `k_`, pauses,
then the rest of `sk_live_…` while `--redact SHORT` protects `k_`. Before the fixes each
showed the value (all but 3 bytes of it for item 6).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sigillo.cli.run.escapes import text_of
from tests.cli.conftest import Server, Sigillo, sigillo_command
from tests.cli.terminal import in_terminal
from tests.cli.test_run_kinds import MASKED, _environment

STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEf"
SECRETS = {"STRIPE_KEY": STRIPE, "SHORT": "k_"}


@pytest.fixture
def stripe(cli_server: Server, tmp_path: Path) -> Sigillo:
    return _environment(cli_server, tmp_path, SECRETS, [])


def _grep(pattern: str, colour: str) -> list[str]:
    if shutil.which("grep") is None:  # pragma: no cover - Debian has grep
        pytest.skip("grep is not installed")
    return ["sh", "-c", f'echo "key=$STRIPE_KEY" | grep --color={colour} {pattern}']


def test_grep_colour_in_a_terminal_masks_the_value(stripe: Sigillo) -> None:
    code, output = in_terminal(
        [*sigillo_command(), "run", "--", *_grep("sk_live", "auto")], stripe.env, stripe.cwd
    )
    assert code == 0, output
    assert b"\x1b[" in output  # grep did colour its match
    assert STRIPE.encode() not in text_of(output)
    assert text_of(output).replace(b"\r\n", b"\n").endswith(f"\nkey={MASKED}\n".encode())


@pytest.mark.parametrize("pattern", ["sk_live", "HqLy", "dcAbCdEf"])
def test_grep_colour_through_a_pipe_masks_the_value(stripe: Sigillo, pattern: str) -> None:
    done = stripe("run", "--", *_grep(pattern, "always"))
    assert done.returncode == 0, done.stderr
    assert "\x1b[" in done.stdout
    assert text_of(done.stdout.encode()) == f"key={MASKED}\n".encode()


def test_a_value_coloured_in_the_middle_and_in_a_title_is_masked(stripe: Sigillo) -> None:
    script = (
        "import os, sys; v = os.environ['STRIPE_KEY']; "
        "sys.stdout.write(v[:10] + '\\x1b[1;32m' + v[10:20] + '\\x1b(B\\x1b[m' + v[20:] + '\\n'); "
        "sys.stdout.write('\\x1b]0;deploy ' + v + '\\x07done\\n')"
    )
    done = stripe("run", "--", "python3", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"\x1b[1;32m\x1b(B\x1b[m{MASKED}\n\x1b]0;deploy {MASKED}\x07done\n"


def test_a_released_short_tail_is_still_followed(stripe: Sigillo) -> None:
    script = (
        "import os, sys, time; v = os.environ['STRIPE_KEY']\n"
        "for piece in (v[:1], v[1:3], v[3:]):\n"
        "    sys.stdout.write(piece); sys.stdout.flush(); time.sleep(0.3)\n"
    )
    done = stripe("run", "--redact", "SHORT", "--", "python3", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"s{MASKED}{MASKED}"
    assert STRIPE[3:] not in done.stdout
