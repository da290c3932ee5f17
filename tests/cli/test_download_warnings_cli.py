"""`sigillo secrets download` names on stderr, never with a value, the values its format
cannot write so that every reader agrees [D19]: the comment lines that open an `env` or
`docker` body. `shell` downloads are plain `export NAME='…'` lines. Run as the real
executable against a live server (tests/cli/conftest.py)."""

from __future__ import annotations

from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_secrets_cli import put_secrets

MARK = "zq-download-warning-marker"
SECRETS = {
    "FINE": f"{MARK} it's fine",
    "BOTH_QUOTES_LINES": f'{MARK} it\'s\n"both"',
    "CR_AND_QUOTES": f"{MARK}\r'\"",
    "ENDS_IN_CR": f"{MARK}\r",
}


def test_env_download_warns_with_names_only(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", SECRETS)
    done = signed_in.raw("secrets", "download", "--format", "env")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"# BOTH_QUOTES_LINES: cannot be written so that every")
    stderr = done.stderr.decode()
    assert stderr == (
        "warning: not every .env reader reads these values back exactly: BOTH_QUOTES_LINES,"
        " CR_AND_QUOTES (see the comment lines at the top)\n"
    )
    assert MARK not in stderr


def test_docker_download_warns_of_a_final_carriage_return(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", SECRETS)
    done = signed_in.raw("secrets", "download", "--format", "docker")
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode() == (
        "warning: docker does not read these values back exactly: ENDS_IN_CR"
        " (see the comment lines at the top)\n"
    )


def test_formats_every_reader_agrees_on_print_no_warning(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "dev", {"FINE": SECRETS["FINE"], "PEM": "a\nb\n"})
    for format in ("env", "docker", "yaml", "shell"):
        done = signed_in.raw("secrets", "download", "--format", format)
        assert (done.returncode, done.stderr) == (0, b""), format
    shell = signed_in.raw("secrets", "download", "--format", "shell").stdout
    assert shell == f"export FINE='{MARK} it'\\''s fine'\nexport PEM='a\nb\n'\n".encode()


def test_a_value_that_looks_like_the_comment_is_not_taken_for_it(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    """Only the comment lines before the first entry count, never a line inside a value."""
    fake = "x\n# STOLEN: cannot be written so that every .env reader agrees (no)\n"
    put_secrets(cli_server, project.id, "dev", {"A": fake})
    done = signed_in.raw("secrets", "download", "--format", "env")
    assert (done.returncode, done.stderr) == (0, b"")
