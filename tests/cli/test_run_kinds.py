"""`sigillo run` protects by role, not shape (D18): the real executable against a real server
(SQLite, and PostgreSQL for the masking itself), kinds set through the HTTP API.

Every value of kind secret of 4 bytes or more is masked whatever it looks like, on stdout,
on stderr and at a terminal; plain configuration prints, but not a URL password in it;
`--show`, `--redact` and `--redact-all` for one run; shorter secrets are named (never
shown) at start; a server from before kinds makes every value a secret.
"""

from __future__ import annotations

import secrets as random_secrets
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sigillo.cli.run.redaction import MASK
from tests.cli.conftest import (
    EMAIL,
    PASSWORD,
    Project,
    Server,
    Sigillo,
    clean_environment,
    sigillo_command,
)
from tests.cli.terminal import in_terminal
from tests.cli.test_protected_kinds import drawn
from tests.databases import Databases, skip_without_postgres
from tests.live_server import create_user_and_sign_in, server

MASKED = MASK.decode()


def _hex16() -> str:
    return random_secrets.token_hex(16)


def _hex8() -> str:
    return random_secrets.token_hex(8)


def _urlsafe16() -> str:
    return random_secrets.token_urlsafe(16)


# The examples, all of kind secret (the default): none is a likely secret but the
# two keys drawn to be one (as a check that those stay masked too).
SECRETS = {
    "DB_PASSWORD": "Summer2024!",
    "ADMIN_PASS": "hunter2",
    "SMTP_PASSWORD": "p@ssw0rd123",
    "JWT_SECRET": "mysupersecret",
    "HEX16_KEY": drawn(_hex16, likely=False),
    "HEX16_LIKELY": drawn(_hex16, likely=True),
    "HEX8_KEY": drawn(_hex8, likely=False),
    "HEX8_OTHER": drawn(_hex8, likely=False),
    "URLSAFE_KEY": drawn(_urlsafe16, likely=False),
    "URLSAFE_OTHER": drawn(_urlsafe16, likely=False),
    "URLSAFE_LIKELY": drawn(_urlsafe16, likely=True),
    "ACCOUNT_PIN": "4921",
    "ACCOUNT_NUMBER": "73019384",
}
PLAIN = {
    "PORT": "3000",
    "NODE_ENV": "development",
    "DATABASE_URL": "postgres://app:Sup3rS3cret@db/app",
}
PRINTED_PLAIN = {
    "PORT": "3000",
    "NODE_ENV": "development",
    "DATABASE_URL": f"postgres://app:{MASKED}@db/app",
}
ALL_NAMES = [*SECRETS, *PLAIN]


# ------------------------------------------------------------------ servers and projects


@pytest.fixture(scope="module")
def postgres_cli_server(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Iterator[Server]:
    """A server as cli_server, on an empty PostgreSQL database (migrated at start)."""
    skip_without_postgres("postgresql")
    database_url = databases.fresh("postgresql", migrated=False)
    root = tmp_path_factory.mktemp("cli-server-postgres")
    data_dir = root / "data"
    with server(data_dir, root / "server.log", database_url=database_url) as port:
        url = f"http://127.0.0.1:{port}"
        session = create_user_and_sign_in(
            url, data_dir, EMAIL, PASSWORD, database_url=database_url, command=sigillo_command()
        )
        headers = {"Authorization": f"Bearer {session}"}
        org = httpx.post(f"{url}/api/v0/orgs", json={"name": "Acme"}, headers=headers).json()
        yield Server(url, session, org["id"], data_dir)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_server(request: pytest.FixtureRequest) -> Server:
    name = "cli_server" if request.param == "sqlite" else "postgres_cli_server"
    found: Server = request.getfixturevalue(name)
    return found


def _project(on: Server) -> Project:
    with on.api() as api:
        body = {"name": f"app-{uuid.uuid4().hex[:8]}", "orgId": on.org_id}
        created = api.post("/api/v0/projects", json=body)
        assert created.status_code == 200, created.text
    return Project(created.json()["id"], body["name"])


def _put(on: Server, project: Project, values: dict[str, str], kinds: dict[str, str]) -> None:
    """Values and kinds set as a client of the API does, in one bulk write."""
    with on.api() as api:
        target = f"/api/v0/projects/{project.id}/environments/dev/secrets"
        entries = {
            n: {"value": v, "kind": kinds[n]} if n in kinds else v for n, v in values.items()
        }
        done = api.put(target, json={"secrets": entries})
        assert done.status_code == 200, done.text


def _runner(on: Server, project: Project, tmp_path: Path) -> Sigillo:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = clean_environment(home, on.url)
    env.update(SIGILLO_TOKEN=on.session, SIGILLO_PROJECT=project.id, SIGILLO_ENVIRONMENT="dev")
    return Sigillo(on, home, work, env)


@pytest.fixture
def examples(any_server: Server, tmp_path: Path) -> Sigillo:
    """The issue's examples as secrets and three plain settings, on either database."""
    project = _project(any_server)
    _put(any_server, project, {**SECRETS, **PLAIN}, dict.fromkeys(PLAIN, "plain"))
    return _runner(any_server, project, tmp_path)


def _environment(
    cli_server: Server, tmp_path: Path, values: dict[str, str], plain: list[str]
) -> Sigillo:
    project = _project(cli_server)
    _put(cli_server, project, values, dict.fromkeys(plain, "plain"))
    return _runner(cli_server, project, tmp_path)


def _printf(names: list[str], stream: str = "") -> str:
    """A shell script printing `NAME=value` lines of `names` (to stderr with `>&2`)."""
    return "".join(f'printf "{name}=%s\\n" "${name}" {stream}; ' for name in names)


def _lines(printed: dict[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in printed.items())


# ------------------------------------------------------------------ the rule, end to end


def test_every_secret_is_masked_on_stdout_and_stderr_and_plain_values_print(
    examples: Sigillo,
) -> None:
    script = _printf(ALL_NAMES) + _printf(ALL_NAMES, ">&2")
    done = examples("run", "--command", script)
    assert done.returncode == 0, done.stderr
    expected = _lines({**dict.fromkeys(SECRETS, MASKED), **PRINTED_PLAIN})
    assert done.stdout == expected
    assert done.stderr == expected  # and no start-up line: no secret is too short
    for value in [*SECRETS.values(), "Sup3rS3cret"]:
        assert value not in done.stdout + done.stderr


def test_every_secret_is_masked_at_a_terminal(examples: Sigillo) -> None:
    script = _printf(ALL_NAMES) + _printf(ALL_NAMES, ">&2") + "printenv"
    code, output = in_terminal(
        [*sigillo_command(), "run", "--command", script], examples.env, examples.cwd
    )
    text = output.decode("utf-8", "replace")
    assert code == 0, text
    for name in SECRETS:
        assert text.count(f"{name}={MASKED}\r\n") == 3  # stdout, stderr, printenv
    for name, value in PRINTED_PLAIN.items():
        assert text.count(f"{name}={value}\r\n") == 3
    for value in [*SECRETS.values(), "Sup3rS3cret"]:
        assert value not in text


def test_the_child_gets_every_value(examples: Sigillo) -> None:
    check = "import os, sys; sys.stdout.write(repr({k: os.environ[k] for k in sys.argv[1:]}))"
    done = examples("run", "--disable-redaction", "--", "python3", "-c", check, *ALL_NAMES)
    assert done.returncode == 0, done.stderr
    assert done.stdout == repr({**SECRETS, **PLAIN})


# ------------------------------------------------------------------ --show and --redact

SHOWN = {
    "DB_PASSWORD": "Summer2024!",
    "DSN": "postgres://app:Sup3rS3cret@db/app",  # a secret, shown but for its password
    "API_KEY": "hunter2",
    "PORT": "3000",
    "NODE_ENV": "development",
}


@pytest.fixture
def shown(cli_server: Server, tmp_path: Path) -> Sigillo:
    return _environment(cli_server, tmp_path, SHOWN, ["PORT", "NODE_ENV"])


def test_show_prints_one_secret_but_not_a_url_password_in_it(shown: Sigillo) -> None:
    script = _printf(list(SHOWN))
    done = shown("run", "--show", "DB_PASSWORD", "--show", "DSN", "--command", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _lines(
        {
            "DB_PASSWORD": "Summer2024!",
            "DSN": f"postgres://app:{MASKED}@db/app",
            "API_KEY": MASKED,
            "PORT": "3000",
            "NODE_ENV": "development",
        }
    )
    assert done.stderr == ""
    default = shown("run", "--command", script)
    assert "Summer2024!" not in default.stdout
    assert f"DSN={MASKED}\n" in default.stdout  # a secret URL is masked whole


def test_redact_masks_a_plain_value(shown: Sigillo) -> None:
    done = shown("run", "--redact", "PORT", "--command", _printf(["PORT", "NODE_ENV"]))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"PORT={MASKED}\nNODE_ENV=development\n"


def test_redact_all_masks_plain_values_but_an_explicit_show(shown: Sigillo) -> None:
    script = _printf(list(SHOWN))
    done = shown("run", "--redact-all", "--show", "DB_PASSWORD", "--command", script)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == _lines({**dict.fromkeys(SHOWN, MASKED), "DB_PASSWORD": "Summer2024!"})


def test_show_and_redact_of_one_name_is_an_error(shown: Sigillo) -> None:
    done = shown(
        "run", "--show", "DB_PASSWORD", "--redact", "DB_PASSWORD", "--command", "touch ran"
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: cannot both show and redact DB_PASSWORD\n"
    assert not (shown.cwd / "ran").exists()
    assert "Summer2024!" not in done.stderr


def test_show_of_a_name_not_in_the_environment_is_an_error(shown: Sigillo) -> None:
    done = shown("run", "--show", "NOPE", "--show", "DB_PASSWORD", "--command", "touch ran")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: --show names no secret of this environment: NOPE\n"
    assert not (shown.cwd / "ran").exists()


# ------------------------------------------------------------------ short secrets

SHORT_NOTE = (
    "note: not redacted (secrets shorter than 4 bytes): PIN, X — make them longer or mark "
    "them plain: sigillo secrets mark PIN X --plain\n"
)


def test_secrets_under_4_bytes_are_named_at_start_never_shown(
    cli_server: Server, tmp_path: Path
) -> None:
    values = {"PIN": "42", "X": "ab", "API_KEY": "hunter22", "LOG": "on", "EMPTY": ""}
    runner = _environment(cli_server, tmp_path, values, ["LOG"])
    done = runner("run", "--command", 'printf "%s|%s|%s\\n" "$PIN" "$API_KEY" "$LOG"')
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"42|{MASKED}|on\n"  # injected all the same
    assert done.stderr == SHORT_NOTE  # names only: not a plain value, not an empty one
    assert "42" not in done.stderr
    assert "ab" not in done.stderr
    # named by --redact (masked, whatever the cost) or shown on purpose: not said again
    quiet = runner("run", "--redact", "PIN", "--show", "X", "--", "sh", "-c", 'echo "$PIN$X"')
    assert (quiet.stdout, quiet.stderr) == (f"{MASKED}ab\n", "")


# ------------------------------------------------------------------ an older server


class _BeforeKinds(BaseHTTPRequestHandler):
    """A server from before kinds, in front of the real one: `format=json-kinds` answers 422
    as an unknown format does; every other request is passed on."""

    upstream = ""
    seen: list[str] = []  # the paths asked, by the one test using it

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if "format=json-kinds" in self.path:
            self._answer(422, b'{"error":"invalid format"}', "application/json")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        answer = httpx.get(self.upstream + self.path, headers=headers, timeout=10)
        self._answer(answer.status_code, answer.content, answer.headers["content-type"])

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def older_server(cli_server: Server) -> Iterator[str]:
    _BeforeKinds.upstream, _BeforeKinds.seen = cli_server.url, []
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _BeforeKinds)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}"
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_server_without_kinds_makes_every_value_a_secret(
    cli_server: Server, tmp_path: Path, older_server: str
) -> None:
    values = {"DB_PASSWORD": "Summer2024!", "PORT": "3000", "PIN": "42"}
    runner = _environment(cli_server, tmp_path, values, ["PORT"])
    runner.env["SIGILLO_API_URL"] = older_server
    done = runner.raw(
        "run", "--mount", "m.json", "--mount-format", "json", "--command",
        _printf(list(values)) + "cat m.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # PORT is plain on the server, but this one cannot say so: it is masked (fail closed)
    lines, _, mount = done.stdout.partition(b"PIN=42\n")
    assert lines == f"DB_PASSWORD={MASKED}\nPORT={MASKED}\n".encode()
    assert done.stderr.decode() == SHORT_NOTE.replace("PIN, X", "PIN").replace("PIN X", "PIN")
    # the json mount is the server's own `json` answer, the one download made
    downloads = [p for p in _BeforeKinds.seen if "/secrets/download" in p]
    queries = [parse_qs(urlsplit(p).query) for p in downloads]
    assert [q["format"] for q in queries] == [["json-kinds"], ["json"]]
    assert all(q["purpose"] == ["run"] for q in queries)  # recorded as a run (issue 19)
    with cli_server.api() as api:
        target = f"/api/v0/projects/{runner.env['SIGILLO_PROJECT']}/environments/dev"
        expected = api.get(f"{target}/secrets/download", params={"format": "json"}).content
    masked = expected.replace(b"Summer2024!", MASK).replace(b'"3000"', b'"' + MASK + b'"')
    assert mount == masked
