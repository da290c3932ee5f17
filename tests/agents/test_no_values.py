"""The no-value sweep: with secrets of many shapes present, every tool of `sigillo mcp` is
called (with good and malformed arguments, values put where names, slugs and commands go,
commands printing the values in several encodings, mounted files printed whole), and no
answer (its text or its structured content, errors included) may hold any protected form
(tests: sigillo.cli.run.protected.protected_forms) of any secret value or of the token."""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path
from typing import Any

from sigillo.cli.run.protected import protected_forms, url_passwords
from tests.agents.mcp_support import Mcp, use
from tests.agents.test_mcp_server import env, put  # noqa: F401 (a fixture)
from tests.cli.conftest import Project, Server, Sigillo

PRINTER = """\
import base64, json, os, sys, urllib.parse
for name in sys.argv[1:]:
    value = os.environ.get(name)
    if value is None:
        continue
    raw = value.encode()
    for stream in (sys.stdout, sys.stderr):
        print(name, value, file=stream)
        print(base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(), file=stream)
        print(raw.hex(), raw.hex().upper(), file=stream)
        print(urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value), file=stream)
        print(json.dumps(value), json.dumps(value, ensure_ascii=False), file=stream)
        print(json.dumps({name: value}), repr(value), file=stream)
token = open(os.environ["TOKEN_FILE"]).read()
print("token", token, base64.b64encode(token.encode()).decode(), token.encode().hex())
print("SIGILLO_TOKEN" in os.environ)
"""


def shapes() -> dict[str, str]:
    """Secret values of several shapes (kind secret), each at least 4 bytes long."""
    signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return {
        "SHORT": "Zq9!",
        "LONG": secrets.token_urlsafe(600),
        "SPACES": f"correct horse\nbattery staple {secrets.randbelow(10**6)}\ttab",
        "UNICODE": f"pässwörd-ünïcødé-🔑-ключ-{secrets.randbelow(10**6)}",
        "HEX_KEY": "9f" + secrets.token_hex(31),
        "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + signature,
        "COMPOUND": '{"user": "app", "password": "' + secrets.token_hex(12) + '"}',
        "QUOTES": 'it\'s "quoted" $HOME `x` \\ back',
    }


def test_no_tool_answer_holds_a_value_or_the_token(
    env: dict[str, str],  # noqa: F811
    sigillo: Sigillo,
    cli_server: Server,
    project: Project,
    tmp_path: Path,
) -> None:
    values = shapes()
    for name, value in values.items():
        put(cli_server, project, "dev", name, value)
        put(cli_server, project, "prod", name, value)
    plain_url = f"postgres://app:{secrets.token_hex(10)}@db:5432/app"
    put(cli_server, project, "dev", "DATABASE_URL", plain_url, kind="plain")
    # a value built through a reference to another environment: the part is protected
    elsewhere = secrets.token_hex(16)
    put(cli_server, project, "prod", "PROD_ONLY_KEY", elsewhere)
    put(cli_server, project, "dev", "BUILT", "prefix-${prod.PROD_ONLY_KEY}-suffix", kind="plain")
    generated = secrets.token_urlsafe(40)
    printer = tmp_path / "printer.py"
    printer.write_text(PRINTER, encoding="utf-8")
    token_file = tmp_path / "token"
    token_file.write_text(cli_server.session, encoding="utf-8")
    env = {**env, "TOKEN_FILE": str(token_file)}
    names = [*values, "DATABASE_URL", "BUILT", "GENERATED"]
    print_all = f"{sys.executable} {printer} {' '.join(names)}"

    async def body(mcp: Mcp) -> None:
        for name, arguments in good_calls(print_all, generated):
            answer = await mcp.call(name, arguments)
            assert not answer.error, (name, answer.text)
        for name, arguments in malformed_calls(values):
            await mcp.call(name, arguments)
        sweep(mcp)

    def sweep(mcp: Mcp) -> None:
        protected = [*values.values(), generated, cli_server.session]
        protected += url_passwords(plain_url)
        protected.append(elsewhere)  # BUILT's part
        found = [
            (index, form)
            for index, answer in enumerate(mcp.answers)
            for value in protected
            for form in forms(value)
            if form in answer.everything()
        ]
        assert not found, f"{len(found)} protected forms in answers {sorted({i for i, _ in found})}"
        runs = "".join(a.everything() for a in mcp.answers if a.data and "stdout" in a.data)
        assert runs.count("********") > 100  # the printers did print the values
        assert "BUILT ********" in runs  # a value holding a secret is a secret
        assert "\\n********-suffix\\n" in runs  # and the part it holds is protected alone
        assert "postgres://app:********@db:5432/app" in runs
        # every mounted format printed whole: no piece of a multi-line value shows either
        assert "battery staple" not in runs
        assert "correct horse" not in runs

    use(env, sigillo.cwd, body)


def good_calls(print_all: str, generated: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("list_projects", {}),
        ("list_environments", {}),
        ("list_secrets", {}),
        ("list_secrets", {"environment": "prod"}),
        ("missing_secrets", {"compare_with": "prod"}),
        ("set_secret", {"name": "GENERATED", "value": generated}),
        ("mark_secrets", {"names": ["SHORT", "LONG"], "kind": "secret"}),
        ("run_command", {"command": print_all}),
        ("run_command", {"command": 'echo; echo "${BUILT#prefix-}"'}),
        ("run_command", {"command": "env; set", "environment": "prod"}),
        ("run_command", {"command": f"{print_all} 2>&1 | base64 -w0"}),
        *(
            ("run_with_mount", {"command": 'cat "$SIGILLO_MOUNT"', "format": format})
            for format in ("env", "json", "yaml", "docker", "dotnet-json", "env-no-quotes")
        ),
    ]


def malformed_calls(values: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Values where names, slugs, ids, formats and commands go, and values of wrong types."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for value in values.values():
        calls += [
            ("list_secrets", {"environment": value}),
            ("list_environments", {"project": value}),
            ("missing_secrets", {"compare_with": value}),
            ("set_secret", {"name": value, "value": "x"}),
            ("set_secret", {"name": "OK_NAME", "value": [value]}),
            ("set_secret", {"name": "OK_NAME", "value": "x", "kind": value}),
            ("mark_secrets", {"names": [value], "kind": "plain"}),
            ("mark_secrets", {"names": ["SHORT"], "kind": value}),
            ("run_command", {"command": value}),
            ("run_command", {"command": "true", "cwd": value}),
            ("run_command", {"command": "true", "timeout_seconds": value}),
            ("run_with_mount", {"command": "true", "format": value}),
            ("run_command", {"command": {"x": value}}),
        ]
    return calls


def forms(value: str) -> list[str]:
    return [form.decode("utf-8", "replace") for form in protected_forms(value)]
