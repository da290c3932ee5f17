"""Programs at a terminal under `sigillo run` behave as without it (issue 12 item 7 and
"Programs that must work as without sigillo"; behaviour.md 12.3; docs/redaction.md
section 9).

When stdin, stdout and stderr are one terminal, the child gets one PTY for all three as its
controlling terminal: pagers and full-screen programs read their keys and quit (`less`,
`more`, `vim`, `man`, `git log`, `psql`, `help()` in Python), writes to `/dev/tty` and to fd
0 are redacted, Ctrl-Z/`fg`/`bg` and a job started with `&` work, the terminal's modes come
back on every way out. Also pinned: `>&-`, what happens to background grandchildren, and
what stays open (docs/redaction.md section 9, "What stays open").

Each test drives a real process through a real PTY (tests/cli/terminal.py): the supervisor
alone (`supervised`, the test redactor masking `SECRET`), an interactive bash running it as
a job, and the `sigillo run` executable against a server where a secret must come from one.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sigillo.cli.run.redaction import MASK as SIGILLO_MASK
from tests.cli.conftest import Server, sigillo_command
from tests.cli.redactor_double import MASK, SECRET
from tests.cli.terminal import Terminal, in_terminal, supervised
from tests.cli.test_run_kinds import _environment

PY = sys.executable
PAGED = b"".join(b"line %03d\n" % n for n in range(200)).replace(
    b"line 005\n", b"line 005 " + SECRET + b"\n"
)


@pytest.fixture(autouse=True)
def _nothing_left_running() -> Iterator[None]:
    yield
    Terminal.close_all()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8", "HOME": str(home),
        "LESSHISTFILE": "-", "PAGER": "less", **extra,
    }  # fmt: skip


def _postgres_answers() -> bool:
    if shutil.which("psql") is None:
        return False
    probe = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-w", "-Atc", "select 1"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=10, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _man_has_pages() -> bool:
    if shutil.which("man") is None:
        return False
    done = subprocess.run(["man", "-w", "ls"], capture_output=True, check=False)
    return done.returncode == 0


def _git_repository(path: Path, env: dict[str, str]) -> None:
    """A repository whose one commit has a message longer than the screen."""
    identity = {
        "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
    }  # fmt: skip
    (path / "message.txt").write_bytes(b"a long message\n\n" + PAGED)
    for command in (
        ["git", "init", "-q", "."],
        ["git", "commit", "-q", "--allow-empty", "-F", "message.txt"],
    ):
        subprocess.run(command, cwd=path, env={**env, **identity}, check=True)


@dataclass
class Program:
    argv: list[str]
    shown: bytes  # what is on the screen once it waits for keys
    keys: bytes  # what makes it quit
    needs: str  # the program that must be installed
    secret: bool = True  # SECRET is on the screen (masked)
    extra: dict[str, str] = field(default_factory=dict)


PSQL_QUERY = f"select 'row ' || n || ' {SECRET.decode()}' as r from generate_series(1, 200) as n"
PROGRAMS = {
    "less": Program(["less", "paged.txt"], b"line 010", b"q", "less"),
    "more": Program(["more", "paged.txt"], b"--More--", b"q", "more"),
    "vim": Program(
        ["vim", "-u", "NONE", "-N", "-n", "-i", "NONE", "paged.txt"], b"line 010", b":q\r", "vim"
    ),
    "python-help": Program([PY, "-c", "help(str)"], b"class str", b"q", "less", secret=False),
    "man": Program(["man", "ls"], b"Manual page ls(1)", b"q", "man", secret=False),
    "git-log": Program(["git", "log"], b"line 010", b"q", "git", extra={"GIT_PAGER": "less"}),
    "psql": Program(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-w", "-P", "pager=always", "-c", PSQL_QUERY],
        b"row 10 ",
        b"q",
        "psql",
    ),
}


def _prepare(name: str, tmp_path: Path) -> Program:
    program = PROGRAMS[name]
    if shutil.which(program.needs) is None:
        pytest.skip(f"{program.needs} is not installed")
    if name == "man" and not _man_has_pages():
        pytest.skip("no manual pages installed")
    if name == "psql" and not _postgres_answers():
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    (tmp_path / "paged.txt").write_bytes(PAGED)
    if name == "git-log":
        _git_repository(tmp_path, _env(tmp_path))
    return program


@pytest.mark.parametrize("controlling", [False, True], ids=["own-session", "controlling"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_pagers_and_editors_read_their_keys(name: str, controlling: bool, tmp_path: Path) -> None:
    """Shown, keys read, quit: as without Sigillo (today they hang: `less` read its keys
    from stderr's PTY, which never got any). Whether the terminal is Sigillo's controlling
    terminal or only its three streams."""
    program = _prepare(name, tmp_path)
    code, output = in_terminal(
        supervised(program.argv, tmp_path),
        _env(tmp_path, **program.extra),
        tmp_path,
        steps=[(program.shown, program.keys)],
        timeout=60,
        controlling=controlling,
    )
    assert code == 0, output[-3000:]
    assert program.shown in output
    assert SECRET not in output
    if program.secret:
        assert MASK in output


def test_less_through_sigillo_run_masks_a_secret_of_the_server(
    cli_server: Server, tmp_path: Path
) -> None:
    value = "sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890pager"
    runner = _environment(cli_server, tmp_path, {"PAGED_KEY": value}, [])
    (runner.cwd / "paged.txt").write_bytes(PAGED.replace(SECRET, value.encode()))
    code, output = in_terminal(
        [*sigillo_command(), "run", "--", "less", "paged.txt"],
        {**runner.env, "LESSHISTFILE": "-"},
        runner.cwd,
        steps=[(b"line 010", b"q")],
        timeout=60,
        controlling=True,
    )
    assert code == 0, output[-3000:]
    assert value.encode() not in output
    assert b"line 005 " + SIGILLO_MASK in output


# -- side doors ---------------------------------------------------------------------------

DOORS = """
import os, sys
secret = sys.argv[1]
with open("/dev/tty", "w") as tty:
    tty.write("tty:" + secret + "\\n")
os.write(0, b"fd0:" + secret.encode() + b"\\n")
os.write(2, b"fd2:" + secret.encode() + b"\\n")
print("done")
"""


@pytest.mark.parametrize("controlling", [False, True], ids=["own-session", "controlling"])
def test_writes_to_dev_tty_and_to_fd_0_are_redacted(controlling: bool, tmp_path: Path) -> None:
    code, output = in_terminal(
        supervised([PY, "-c", DOORS, SECRET.decode()], tmp_path),
        _env(tmp_path),
        tmp_path,
        timeout=60,
        controlling=controlling,
    )
    assert code == 0, output
    assert SECRET not in output
    for door in (b"tty:", b"fd0:", b"fd2:"):
        assert door + MASK + b"\r\n" in output


def test_the_child_has_a_pty_of_its_own_as_its_controlling_terminal(tmp_path: Path) -> None:
    child = (
        "import os\n"
        "tty = os.open('/dev/tty', os.O_RDWR)\n"
        "names = {os.ttyname(fd) for fd in (0, 1, 2)}\n"
        "print(*names, os.tcgetpgrp(tty) == os.tcgetpgrp(0) == os.getpgrp())\n"
    )
    terminal = Terminal(supervised([PY, "-c", child], tmp_path), _env(tmp_path))
    outer = os.ttyname(terminal.terminal)
    assert terminal.finish() == 0
    name, foreground = bytes(terminal.output).split()
    # one terminal on 0, 1 and 2, not Sigillo's; /dev/tty is it; the child is its foreground
    assert name.startswith(b"/dev/")
    assert name != outer.encode()
    assert foreground == b"True"


# -- job control --------------------------------------------------------------------------


def _shell(tmp_path: Path, argv: list[str], **extra: str) -> tuple[Terminal, str]:
    """An interactive bash in a terminal, and a command line running `argv` supervised."""
    script = tmp_path / "job"
    script.write_text("#!/bin/sh\nexec " + shlex.join(supervised(argv, tmp_path)) + "\n")
    script.chmod(0o755)
    env = _env(tmp_path, PS1="ready> ", **extra)
    shell = ["bash", "--norc", "--noprofile", "-i"]
    return Terminal(shell, env, cwd=tmp_path, rows=40, columns=100), "./job"


def _until_stopped(terminal: Terminal, seen: int) -> int:
    """Ask bash for its jobs until one is stopped (bash tells only before a prompt)."""
    deadline = time.monotonic() + 30
    while b"Stopped" not in terminal.output[seen:]:
        assert time.monotonic() < deadline, bytes(terminal.output)
        terminal.type(b"jobs\n")
        time.sleep(0.5)
    return terminal.output.find(b"Stopped", seen)


def test_a_job_started_with_ampersand_reads_the_terminal_after_fg(tmp_path: Path) -> None:
    """`sigillo run -- cat &` then `fg` (today it hung for good: the child was stopped by
    SIGTTIN, and `fg` continued only Sigillo)."""
    terminal, job = _shell(tmp_path, ["sh", "-c", "echo job-started; exec cat"])
    seen = terminal.steps([(b"ready> ", job.encode() + b" &\n"), (b"job-started", b"")])
    seen = terminal.steps([(b"", b"fg\n"), (b"./job\r\n", b"")], seen)
    terminal.wait_for_raw_mode()  # Sigillo relays keys now
    terminal.type(b"hello\n")
    seen = terminal.wait_for(b"hello\r\nhello\r\n", seen)  # the PTY's echo, then cat
    terminal.type(b"\x04")  # end of input: cat exits
    terminal.steps([(b"ready> ", b"exit\n")], seen)
    assert terminal.finish() == 0


def test_a_background_job_writing_to_a_file_stops_on_reading_and_fg_resumes_it(
    tmp_path: Path,
) -> None:
    """`sigillo run -- cat > out.txt &` (streams, not one terminal): cat reading the terminal
    from the background is stopped by SIGTTIN, so Sigillo's job stops too, as `cat &` would;
    `fg` gives cat the terminal and continues it (today it stayed stopped for good)."""
    terminal, job = _shell(tmp_path, ["sh", "-c", "echo job-started >&2; exec cat"])
    seen = terminal.steps([(b"ready> ", job.encode() + b" > out.txt &\n"), (b"job-started", b"")])
    seen = _until_stopped(terminal, seen)
    seen = terminal.steps([(b"ready> ", b"fg\n"), (b"./job", b"")], seen)
    terminal.type(b"hello\n")
    seen = terminal.wait_for(b"hello\r\n", seen)  # the terminal's echo
    deadline = time.monotonic() + 30
    while (tmp_path / "out.txt").read_bytes() != b"hello\n":
        assert time.monotonic() < deadline, (tmp_path / "out.txt").read_bytes()
        time.sleep(0.05)
    terminal.type(b"\x04")
    terminal.steps([(b"ready> ", b"exit\n")], seen)
    assert terminal.finish() == 0


def test_ctrl_z_fg_and_bg_with_a_reader(tmp_path: Path) -> None:
    terminal, job = _shell(tmp_path, ["sh", "-c", "echo job-started; exec cat"])
    seen = terminal.steps(
        [
            (b"ready> ", job.encode() + b"\n"),
            (b"job-started", b""),
        ]
    )
    terminal.wait_for_raw_mode()
    terminal.type(b"\x1a")  # Ctrl-Z
    seen = terminal.steps([(b"Stopped", b""), (b"ready> ", b"bg\n"), (b"ready> ", b"fg\n")], seen)
    seen = terminal.wait_for(b"./job\r\n", seen)
    terminal.wait_for_raw_mode()
    terminal.type(b"again\n")
    seen = terminal.wait_for(b"again\r\nagain\r\n", seen)
    terminal.type(b"\x04")
    terminal.steps([(b"ready> ", b"exit\n")], seen)
    assert terminal.finish() == 0


def test_ctrl_z_and_fg_with_a_pager(tmp_path: Path) -> None:
    """less is stopped and continued with its screen, and still quits on `q`."""
    (tmp_path / "paged.txt").write_bytes(PAGED)
    terminal, job = _shell(tmp_path, ["less", "paged.txt"])
    seen = terminal.steps([(b"ready> ", job.encode() + b"\n"), (b"line 010", b"")])
    terminal.wait_for_raw_mode()
    terminal.type(b"\x1a")
    seen = terminal.steps([(b"Stopped", b""), (b"ready> ", b"fg\n"), (b"./job\r\n", b"")], seen)
    seen = terminal.wait_for(b"line 010", seen)  # less draws its screen again
    terminal.wait_for_raw_mode()
    terminal.type(b"q")
    terminal.steps([(b"ready> ", b"exit\n")], seen)
    assert terminal.finish() == 0
    assert SECRET not in terminal.output


# -- the terminal's modes -----------------------------------------------------------------

EXITS = {
    "normal": (["sh", "-c", "stty raw -echo; exit 3"], "masker", 3),
    "not-found": (["no-such-command-sigillo"], "masker", 127),
    "redaction-failure": (["sh", "-c", "echo boom; sleep 30"], "exploding", 1),
    "killed": (
        [PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
        "masker",
        137,
    ),
}


@pytest.mark.parametrize("way", list(EXITS))
def test_the_terminal_modes_come_back_on_every_way_out(way: str, tmp_path: Path) -> None:
    argv, redactor, status = EXITS[way]
    terminal = Terminal(supervised(argv, tmp_path, redactor=redactor), _env(tmp_path))
    assert terminal.finish() == status, bytes(terminal.output)
    assert terminal.final_modes == terminal.initial_modes


def test_the_terminal_modes_come_back_when_sigillo_is_terminated(tmp_path: Path) -> None:
    terminal = Terminal(
        supervised(["sh", "-c", "echo running; sleep 30"], tmp_path), _env(tmp_path)
    )
    terminal.wait_for(b"running")
    terminal.wait_for_raw_mode()
    os.kill(terminal.process.pid, signal.SIGTERM)  # forwarded: the child dies of it
    assert terminal.finish() == 128 + signal.SIGTERM
    assert terminal.final_modes == terminal.initial_modes


def test_when_sigillo_is_killed_the_program_is_hung_up(tmp_path: Path) -> None:
    """SIGKILL cannot be caught: the PTY closes with Sigillo, and the program gets SIGHUP
    from its session leader, as a shell passes a closed terminal window on."""
    child = "trap 'echo hup > hung-up; exit 1' HUP; echo running; while :; do sleep 0.1; done"
    terminal = Terminal(supervised(["sh", "-c", child], tmp_path), _env(tmp_path), cwd=tmp_path)
    terminal.wait_for(b"running")
    os.kill(terminal.process.pid, signal.SIGKILL)
    assert terminal.finish() == -signal.SIGKILL
    assert _wait_for_file(tmp_path / "hung-up") == "hup\n"


def test_a_prompt_appears_at_once(tmp_path: Path) -> None:
    prompt = b"enter: " + SECRET[:2]  # might still become the secret: held at first
    child = f"import os, time; os.write(1, {prompt!r}); time.sleep(3)"
    terminal = Terminal(supervised([PY, "-c", child], tmp_path), _env(tmp_path))
    terminal.wait_for(prompt)
    shown = terminal.arrived(prompt)
    assert terminal.finish() == 0
    assert time.monotonic() - shown > 2  # shown long before the child's end


# -- a closed stdout ----------------------------------------------------------------------


@pytest.mark.parametrize("redactor", ["masker", "none"])
@pytest.mark.parametrize("stream", ["stdin", "stdout"])
def test_a_closed_stream_is_a_one_line_error(stream: str, redactor: str, tmp_path: Path) -> None:
    closing = {"stdin": "<&-", "stdout": ">&-"}[stream]
    command = shlex.join(supervised(["echo", "hi"], tmp_path, redactor=redactor)) + " " + closing
    done = subprocess.run(["sh", "-c", command], capture_output=True, check=False, timeout=60)
    assert done.returncode == 1
    assert done.stdout == b""
    assert (
        done.stderr
        == (
            f"error: {stream} is closed: give sigillo run a {stream} "
            "(/dev/null instead of closing it)\n"
        ).encode()
    )


def test_a_closed_stderr_exits_1(tmp_path: Path) -> None:
    command = shlex.join(supervised(["echo", "hi"], tmp_path)) + " 2>&-"
    done = subprocess.run(["sh", "-c", command], capture_output=True, check=False, timeout=60)
    assert (done.returncode, done.stdout) == (1, b"")


def test_sigillo_run_with_stdout_closed(cli_server: Server, tmp_path: Path) -> None:
    runner = _environment(cli_server, tmp_path, {"SOME_KEY": "Summer2024!"}, [])
    command = shlex.join([*sigillo_command(), "run", "--", "echo", "hi"]) + " >&-"
    done = subprocess.run(
        ["sh", "-c", command],
        capture_output=True, env=runner.env, cwd=runner.cwd, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        b"error: stdout is closed: give sigillo run a stdout (/dev/null instead of closing it)\n"
    )


# -- background grandchildren -------------------------------------------------------------

# Sleeps past Sigillo's end, then writes: the write fails (EPIPE on a pipe, EIO on the PTY,
# whose session has gone) and the grandchild records its status; it was not killed (no
# SIGHUP, no SIGTERM from Sigillo).
GRANDCHILD = "(trap '' PIPE; sleep 4; echo late; echo $? > status) & echo done"


def _wait_for_file(path: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path.name} never written"
        time.sleep(0.05)
    return path.read_text()


def test_a_background_grandchild_outlives_sigillo_with_pipes(tmp_path: Path) -> None:
    done = subprocess.run(
        supervised(["sh", "-c", GRANDCHILD], tmp_path),
        capture_output=True, cwd=tmp_path, env=_env(tmp_path), timeout=60, check=False,
    )  # fmt: skip
    assert not (tmp_path / "status").exists()  # Sigillo did not wait for it
    assert (done.returncode, done.stdout) == (0, b"done\n")
    assert _wait_for_file(tmp_path / "status") == "1\n"  # alive, its write failed


def test_a_background_grandchild_outlives_sigillo_at_a_terminal(tmp_path: Path) -> None:
    terminal = Terminal(
        supervised(["sh", "-c", GRANDCHILD], tmp_path), _env(tmp_path), cwd=tmp_path
    )
    terminal.process.wait(timeout=60)
    assert not (tmp_path / "status").exists()
    assert terminal.finish() == 0
    assert b"done\r\n" in terminal.output
    assert _wait_for_file(tmp_path / "status") == "1\n"  # no SIGHUP; the PTY is gone: EIO
    assert b"late" not in terminal.output


# -- what stays open (pinned limits, docs/redaction.md section 9) ---------------------------

# Sigillo's pid: the parent (streams) or the parent's parent (one terminal: the parent is
# the session leader).
SIGILLO_PID = """
import os, sys
def parent(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])
sigillo = os.getppid()
if os.getsid(0) == sigillo:  # the session leader, forked by Sigillo
    sigillo = parent(sigillo)
"""
THROUGH_PROC = (
    SIGILLO_PID
    + """
with open(f"/proc/{sigillo}/fd/1", "w") as out:
    out.write("proc:" + sys.argv[1] + "\\n")
"""
)
THROUGH_DEVICE = (
    SIGILLO_PID
    + """
with open(os.readlink(f"/proc/{sigillo}/fd/0"), "w") as device:
    device.write("device:" + sys.argv[1] + "\\n")
"""
)


def test_limit_a_child_can_write_to_sigillos_own_stdout_through_proc(tmp_path: Path) -> None:
    done = subprocess.run(
        supervised([PY, "-c", THROUGH_PROC, SECRET.decode()], tmp_path),
        capture_output=True, env=_env(tmp_path), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"proc:" + SECRET + b"\n"  # not redacted: a documented limit


@pytest.mark.parametrize("child", [THROUGH_PROC, THROUGH_DEVICE], ids=["proc", "device"])
def test_limit_a_child_can_open_the_real_terminal(child: str, tmp_path: Path) -> None:
    terminal = Terminal(supervised([PY, "-c", child, SECRET.decode()], tmp_path), _env(tmp_path))
    assert terminal.finish() == 0, bytes(terminal.output)
    assert SECRET in terminal.output  # not redacted: a documented limit


def test_limit_dev_tty_is_the_real_terminal_when_stdout_is_not_it(tmp_path: Path) -> None:
    """Only with stdin, stdout and stderr one terminal does the child get a PTY of its own
    as its controlling terminal; `sigillo run -- cmd > file` leaves it Sigillo's terminal."""
    child = f"open('/dev/tty', 'w').write('tty:' + {SECRET.decode()!r} + '\\n')"
    command = shlex.join(supervised([PY, "-c", child], tmp_path)) + " > out.txt"
    terminal = Terminal(["sh", "-c", command], _env(tmp_path), cwd=tmp_path)
    assert terminal.finish() == 0, bytes(terminal.output)
    assert b"tty:" + SECRET in terminal.output  # not redacted: a documented limit


# A driver with the real redactor over the forms of real values (docs/redaction.md 1, 2).
REAL = """
import json, os, sys
sys.path[:0] = [{root!r} + "/src", {root!r}]
from sigillo.cli.run.redaction import Redactor, protect
from sigillo.cli.run.supervise import run_child
forms, _ = protect(json.loads(os.environ["VALUES"]))
sys.exit(run_child(json.loads(sys.argv[1]), dict(os.environ), lambda: Redactor(forms)))
"""
MULTI_LINE = "alpha-beta-gamma\nsecond-line-here"  # no line of it is a likely secret


def test_a_multi_line_value_printed_at_a_terminal_is_masked(tmp_path: Path) -> None:
    driver = tmp_path / "real.py"
    driver.write_text(REAL.format(root=str(Path(__file__).resolve().parents[2])))
    code, output = in_terminal(
        [PY, str(driver), json.dumps(["sh", "-c", 'printf "%s\\n" "$ML"'])],
        {**_env(tmp_path), "ML": MULTI_LINE, "VALUES": json.dumps({"ML": MULTI_LINE})},
        tmp_path,
        timeout=60,
    )
    assert code == 0, output
    assert b"alpha-beta-gamma" not in output
    assert SIGILLO_MASK + b"\r\n" in output
