"""`sigillo run` and what it reads (issues 18 and 19), through the real executable against a
live server: its read is recorded as `run` (not `download`), a `--mount` in any format adds
no second read (the file is rendered from the values already read), and a value that holds
another environment's secret through a reference masks that secret on its own too.
"""

from __future__ import annotations

import base64
from pathlib import Path

from sigillo.cli.run.redaction import MASK
from tests.cli.conftest import Project, Server, Sigillo
from tests.cli.test_kinds_cli import events
from tests.cli.test_secrets_cli import put_secrets

MASKED = MASK.decode()
PW = "Kq7-run-ref-secret"


def reads(server: Server, project: Project, environment: str) -> list[str]:
    return [event["how"] for event in events(server, project.id, environment, "secrets.read")]


def test_run_is_recorded_as_run_and_a_mount_reads_nothing_more(
    signed_in: Sigillo, cli_server: Server, project: Project, tmp_path: Path
) -> None:
    put_secrets(cli_server, project.id, "dev", {"API_KEY": "abc-123-run-reads", "PORT": "3000"})
    done = signed_in("run", "--", "true")
    assert done.returncode == 0, done.stderr
    assert reads(cli_server, project, "dev") == ["run"]
    for format in ("env", "yaml", "json", "dotnet-json"):
        mount = tmp_path / f"secrets.{format}"
        done = signed_in(
            "run", "--mount", str(mount), "--mount-format", format, "--", "cat", str(mount)
        )
        assert done.returncode == 0, done.stderr
        assert "abc-123-run-reads" not in done.stdout
        assert MASKED in done.stdout
    assert reads(cli_server, project, "dev") == ["run"] * 5  # one read per run, none more


def test_a_referenced_secret_is_masked_on_its_own(
    signed_in: Sigillo, cli_server: Server, project: Project
) -> None:
    put_secrets(cli_server, project.id, "prod", {"PW": PW})
    put_secrets(cli_server, project.id, "dev", {"DATABASE_URL": "pg://app:${prod.PW}@db/x"})
    # a plain value holding a secret is a secret too
    assert signed_in("secrets", "mark", "DATABASE_URL", "--plain").returncode == 0
    script = (
        'echo "url=$DATABASE_URL"; '
        'pw=${DATABASE_URL#*app:}; pw=${pw%%@*}; echo "pw=$pw"; '
        'printf %s "$pw" | base64'
    )
    done = signed_in("run", "--command", script)
    assert done.returncode == 0, done.stderr
    assert PW not in done.stdout
    assert "pg://app:" not in done.stdout  # the whole value is masked, as a secret
    assert f"pw={MASKED}" in done.stdout
    assert base64.b64encode(PW.encode()).decode() not in done.stdout
    # the referenced secret's read is recorded in prod, as a run
    assert reads(cli_server, project, "prod") == ["run"]
