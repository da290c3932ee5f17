"""`sigillo run` end to end: the real executable against the real server, its child a
real shell (behaviour.md 15.2 items 9-11, with Sigillo's fixed mask, and 12.2-12.4)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid

import pytest

from sigillo.cli.run.redaction import MASK
from tests.cli.conftest import Project, Server, Sigillo, sigillo_command
from tests.cli.terminal import in_terminal

RUN_ID = uuid.uuid4().hex
SECRETS = {
    "E2E_SECRET": f"sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890{RUN_ID}",
    "E2E_OVERLAP_SHORT": "1234wxyzABCD9876",
    "E2E_OVERLAP_LONG": "abcd1234wxyzABCD9876wxyz",
    "PLAIN_SETTING": "development",
}
PLAIN = {"PLAIN_SETTING"}  # configuration, shown on purpose (D18)


@pytest.fixture
def with_secrets(signed_in: Sigillo, cli_server: Server, project: Project) -> Sigillo:
    with cli_server.api() as api:
        target = f"/api/v0/projects/{project.id}/environments/dev/secrets"
        entries = {
            n: {"value": v, "kind": "plain"} if n in PLAIN else v for n, v in SECRETS.items()
        }
        assert api.put(target, json={"secrets": entries}).status_code == 200
    return signed_in


# Nothing is said at start: every secret is long enough to mask, and a plain value is
# shown on purpose, unnamed (D18; tests/cli/test_run_kinds.py names short secrets).
NOTE = ""


def assert_no_value(*outputs: str) -> None:
    for output in outputs:
        for name, value in SECRETS.items():
            if name != "PLAIN_SETTING":
                assert value not in output


def test_values_are_masked_on_both_streams(with_secrets: Sigillo) -> None:
    done = with_secrets(
        "run",
        "--command",
        'printf "stdout:%s\\n" "$E2E_SECRET"; printf "stderr:%s\\n" "$E2E_SECRET" >&2; '
        'printf "overlap:%s %s\\n" "$E2E_OVERLAP_LONG" "$E2E_OVERLAP_SHORT"',
    )
    assert done.returncode == 0, done.stderr
    assert_no_value(done.stdout, done.stderr)
    mask = MASK.decode()
    assert f"stdout:{mask}\n" in done.stdout
    assert f"stderr:{mask}\n" in done.stderr
    assert f"overlap:{mask} {mask}\n" in done.stdout


def test_the_child_gets_the_secrets_and_sigillo_1(with_secrets: Sigillo) -> None:
    done = with_secrets("run", "--", "sh", "-c", 'echo "$PLAIN_SETTING $SIGILLO"')
    assert done.returncode == 0, done.stderr
    assert done.stdout == "development 1\n"
    # Plain configuration prints, and is not named on stderr either.
    assert done.stderr == NOTE


def test_output_arrives_as_it_is_written(with_secrets: Sigillo) -> None:
    script = "import sys, time; print('chunk-1', flush=True); time.sleep(2); print('chunk-2')"
    started = time.monotonic()
    process = subprocess.Popen(
        [*sigillo_command(), "run", "--", "python3", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=with_secrets.env,
        cwd=with_secrets.cwd,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    first_at = time.monotonic() - started
    rest, errors = process.communicate(timeout=30)
    ended_at = time.monotonic() - started
    assert process.returncode == 0, errors
    assert first == b"chunk-1\n"
    assert rest == b"chunk-2\n"
    assert errors == NOTE.encode()  # nothing else on stderr
    assert ended_at - first_at > 1


def test_a_large_stream_passes_whole_after_a_mask(with_secrets: Sigillo) -> None:
    done = with_secrets.raw(
        "run",
        "--command",
        'printf %s "$E2E_SECRET"; yes x | tr -d "\\n" | head -c 25000000',
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == NOTE.encode()
    assert done.stdout.startswith(MASK)
    assert len(done.stdout) == len(MASK) + 25_000_000
    assert done.stdout[len(MASK) :] == b"x" * 25_000_000


@pytest.mark.parametrize("code", [0, 1, 2, 42, 255])
def test_the_exit_status_is_the_childs(with_secrets: Sigillo, code: int) -> None:
    assert with_secrets("run", "--", "sh", "-c", f"exit {code}").returncode == code


def test_a_child_killed_by_a_signal_gives_128_plus_n(with_secrets: Sigillo) -> None:
    assert with_secrets("run", "--", "sh", "-c", "kill -TERM $$").returncode == 128 + 15


def test_a_missing_command_is_127(with_secrets: Sigillo) -> None:
    done = with_secrets("run", "--", "no-such-command-here")
    assert done.returncode == 127
    assert done.stderr == NOTE + "error: command not found: no-such-command-here\n"


def test_command_line_errors(signed_in: Sigillo) -> None:
    neither = signed_in("run")
    assert (neither.returncode, neither.stderr) == (
        1,
        "error: command is required\n  sigillo run -- env\n"
        "  sigillo run --command 'echo $MY_SECRET'\n",
    )
    both = signed_in("run", "--command", "true", "--", "true")
    assert both.returncode == 1
    assert both.stderr == "error: use either --command or positional args, not both\n"


def test_windows_is_told_to_use_wsl(signed_in: Sigillo) -> None:
    """Where there are no PTYs or POSIX signals, a clear error before anything is fetched."""
    # Only the command's own view of os.name changes: faking it for the whole interpreter
    # makes the standard library import Windows modules.
    as_windows = (
        "import sys, types; import sigillo.cli.commands.run as command; "
        "command.os = types.SimpleNamespace(name='nt'); from sigillo.__main__ import main; "
    )
    done = subprocess.run(
        [sys.executable, "-c", as_windows + "sys.exit(main(['run', '--', 'true']))"],
        capture_output=True, text=True, env=signed_in.env, cwd=signed_in.cwd, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: sigillo run needs Linux or macOS\non Windows, run it under WSL\n"


def test_resolution_errors(signed_in: Sigillo) -> None:
    anonymous = signed_in("run", "--", "true", env={"SIGILLO_TOKEN": ""})
    assert anonymous.returncode == 1
    assert anonymous.stderr.startswith("error: not logged in\n")
    missing = signed_in("run", "-c", "staging", "--", "true")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: env staging was not found in project")
    assert "  - Dev (dev)" in missing.stderr


def test_a_mount_is_private_and_gone_afterwards(with_secrets: Sigillo) -> None:
    check = (
        "import os, stat; s = os.stat('secrets.env'); "
        "print(oct(stat.S_IMODE(s.st_mode)), stat.S_ISREG(s.st_mode))"
    )
    done = with_secrets("run", "--mount", "secrets.env", "--", "python3", "-c", check)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0o600 True\n"
    assert not (with_secrets.cwd / "secrets.env").exists()


def test_a_mount_holds_the_download_in_its_format(
    with_secrets: Sigillo, cli_server: Server, project: Project
) -> None:
    done = with_secrets.raw(
        "run", "--mount", "m.json", "--mount-format", "json", "--disable-redaction",
        "--", "cat", "m.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with cli_server.api() as api:
        target = f"/api/v0/projects/{project.id}/environments/dev/secrets/download"
        assert done.stdout == api.get(target, params={"format": "json"}).content


def test_a_mount_never_replaces_a_file_of_the_user(with_secrets: Sigillo) -> None:
    own = with_secrets.cwd / ".env"
    own.write_text("MINE=1\n")
    done = with_secrets("run", "--mount", ".env", "--", "true")
    assert done.returncode == 1
    assert done.stderr == "error: refusing to overwrite '.env': it is not a Sigillo mount\n"
    assert own.read_text() == "MINE=1\n"


def test_an_unsupported_mount_format_is_refused_first(signed_in: Sigillo) -> None:
    done = signed_in("run", "--mount", "x", "--mount-format", "xargs", "--", "true")
    assert done.stderr == (
        "error: invalid mount format 'xargs' (expected: env, env-no-quotes, json, yaml, "
        "docker, dotnet-json)\n"
    )


def test_disable_redaction_passes_values_through(with_secrets: Sigillo) -> None:
    done = with_secrets("run", "--disable-redaction", "--", "sh", "-c", 'printf %s "$E2E_SECRET"')
    assert done.stdout == SECRETS["E2E_SECRET"]


def test_redact_all_and_redact_name(with_secrets: Sigillo) -> None:
    shown = with_secrets("run", "--", "sh", "-c", 'printf %s "$PLAIN_SETTING"')
    assert shown.stdout == "development"
    for flags in (["--redact-all"], ["--redact", "PLAIN_SETTING"]):
        hidden = with_secrets("run", *flags, "--", "sh", "-c", 'printf %s "$PLAIN_SETTING"')
        assert "development" not in hidden.stdout
        assert hidden.stdout == MASK.decode()


def test_the_mount_is_removed_when_sigillo_is_terminated(with_secrets: Sigillo) -> None:
    process = subprocess.Popen(
        [*sigillo_command(), "run", "--mount", "s.env", "--", "sleep", "30"],
        env=with_secrets.env,
        cwd=with_secrets.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    mount = with_secrets.cwd / "s.env"
    deadline = time.monotonic() + 20
    while not mount.exists():
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.05)
    assert stat.S_IMODE(os.stat(mount).st_mode) == 0o600
    process.terminate()
    _, errors = process.communicate(timeout=20)
    assert process.returncode == 128 + 15, errors
    assert not mount.exists()


def test_in_a_terminal_printenv_keeps_colours_and_hides_values(with_secrets: Sigillo) -> None:
    """The issue's check: at a terminal, `sigillo run -- printenv` shows no protected
    value, and tools that colour only a terminal (grep --color=auto) still colour."""
    script = "printenv; printf 'a-match-b\\n' | grep --color=auto match"
    code, output = in_terminal(
        [*sigillo_command(), "run", "--", "sh", "-c", script],
        with_secrets.env,
        with_secrets.cwd,
    )
    text = output.decode("utf-8", "replace")
    assert code == 0, text
    assert_no_value(text)
    assert f"E2E_SECRET={MASK.decode()}" in text
    assert "SIGILLO=1" in text
    assert "PLAIN_SETTING=development" in text
    assert "a-\x1b[01;31m\x1b[Kmatch\x1b[m\x1b[K-b" in text  # grep saw a terminal
