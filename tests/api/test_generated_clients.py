"""Clients generated from the live `/api/openapi.json` work, downloads in every format too.

Two generators, as users run them: `openapi-python-client` (the `test` extra), and
`openapi-typescript` with `openapi-fetch` (tests/consumers/package.json), whose script is
type-checked strictly by `tsc` and run by node. Each signs in, creates an org, a project and
a read-write token, then sets, bulk-sets, lists, gets and downloads every format through the
generated code, on the seed README's `/api/environments/{id}/secrets` routes and the v0 ones.
Without the tools these tests are skipped loudly; with SIGILLO_REQUIRE_CONSUMERS=1 (as CI
sets it) they fail instead. One server serves the module.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sigillo.domain.formats import DOWNLOAD_FORMATS
from tests.live_server import create_user_and_sign_in, server

REQUIRE = os.environ.get("SIGILLO_REQUIRE_CONSUMERS") == "1"
CONSUMERS = Path(__file__).parent.parent / "consumers"
BIN = CONSUMERS / "node_modules" / ".bin"
EMAIL = "generated@example.com"
PASSWORD = "correct horse battery staple"
PACKAGE = "sigillo_generated_client"


def missing(problem: str) -> None:
    """Skip, loudly; in CI (SIGILLO_REQUIRE_CONSUMERS=1) fail."""
    if REQUIRE:
        pytest.fail(f"required (SIGILLO_REQUIRE_CONSUMERS=1) but {problem}")
    pytest.skip(f"GENERATED CLIENT NOT TESTED: {problem}")


@dataclass
class Live:
    base: str
    session: str  # the signed-in user's session token, to read what a client should get
    document: Path  # /api/openapi.json as the server answered it


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("generated-clients")
    with server(root / "data", root / "server.log") as port:
        base = f"http://127.0.0.1:{port}"
        session = create_user_and_sign_in(base, root / "data", EMAIL, PASSWORD)
        answer = httpx.get(f"{base}/api/openapi.json", timeout=10)
        assert answer.status_code == 200
        document = root / "openapi.json"
        document.write_bytes(answer.content)
        yield Live(base, session, document)
    log = (root / "server.log").read_text(errors="replace")
    assert "unhandled" not in log, log[-4000:]


def expected_downloads(live: Live, environment_id: str) -> dict[str, bytes]:
    """What each format's download answers, read without any generated code."""
    headers = {"Authorization": f"Bearer {live.session}"}
    found = {}
    for format in DOWNLOAD_FORMATS:
        answer = httpx.get(
            f"{live.base}/api/environments/{environment_id}/secrets/download",
            params={"format": format},
            headers=headers,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        found[format] = answer.content
    return found


def run(command: list[str], cwd: Path, timeout: float = 120) -> str:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{command[0]}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


# --- openapi-python-client ---------------------------------------------------------------


def test_the_python_client_generated_from_the_document_works(live: Live, tmp_path: Path) -> None:
    if importlib.util.find_spec("openapi_python_client") is None:
        missing("openapi-python-client is not installed (pip install -e '.[test]')")
    output = tmp_path / PACKAGE
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter runs over the generated code
    run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(live.document),
         "--meta", "none", "--config", str(config), "--output-path", str(output)],
        tmp_path)  # fmt: skip
    sys.path.insert(0, str(tmp_path))
    try:
        with ExitStack() as clients:
            drive_python_client(live, importlib.import_module(PACKAGE), clients)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def drive_python_client(live: Live, client: Any, clients: ExitStack) -> None:
    """`clients`: each generated client is closed when the test ends."""

    def module(name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.{name}")

    default, secrets, tokens = module("api.default"), module("api.secrets"), module("api.tokens")
    models = module("models")
    for name in ("sign_in", "create_org", "create_project", "list_environments"):
        importlib.import_module(f"{default.__name__}.{name}")
    for name in ("set_environment_secret", "set_environment_secrets", "list_environment_secrets",
                 "get_secret", "download_environment_secrets", "download_secrets"):  # fmt: skip
        importlib.import_module(f"{secrets.__name__}.{name}")
    importlib.import_module(f"{tokens.__name__}.create_token")

    anonymous = clients.enter_context(client.Client(live.base, raise_on_unexpected_status=True))
    signed = default.sign_in.sync(client=anonymous, body=models.SignIn(EMAIL, PASSWORD))
    assert isinstance(signed, models.SignedIn), signed
    assert signed.user.email == EMAIL
    session = clients.enter_context(client.AuthenticatedClient(live.base, signed.token))
    org = default.create_org.sync(client=session, body=models.CreateOrgBody(name="Py"))
    assert isinstance(org, models.CreateOrgAnswer), org
    project = default.create_project.sync(
        client=session, body=models.CreateProjectBody(name="Py App", org_id=org.id)
    )
    assert isinstance(project, models.ProjectAnswer), project
    listed = default.list_environments.sync(project.id, client=session)
    dev = next(env for env in listed.environments if env.slug == "dev")
    made = tokens.create_token.sync(
        project.id,
        client=session,
        body=models.CreateToken(name="py", access=models.CreateTokenAccess.READ_WRITE),
    )
    assert isinstance(made, models.TokenCreated), made
    api = clients.enter_context(client.AuthenticatedClient(live.base, made.key))

    one = secrets.set_environment_secret.sync(
        dev.id, client=api, body=models.SetSecret(name="API_KEY", value="sk-live-xxx")
    )
    assert isinstance(one, models.SecretSet), one
    assert one.environment_id == dev.id
    bulk = models.SetSecretsSecrets.from_dict({"KEY1": "val1", "DB__HOST": "localhost"})
    many = secrets.set_environment_secrets.sync(
        dev.id, client=api, body=models.SetSecrets(secrets=bulk)
    )
    assert isinstance(many, models.SecretsSet), many
    assert many.secrets == ["KEY1", "DB__HOST"]
    names = secrets.list_environment_secrets.sync(dev.id, client=api)
    assert [s.name for s in names.secrets] == ["API_KEY", "KEY1", "DB__HOST"]
    got = secrets.get_secret.sync(project.id, dev.id, "API_KEY", client=api)
    assert isinstance(got, models.SecretRead), got
    assert got.value == "sk-live-xxx"

    expected = expected_downloads(live, dev.id)
    for format in DOWNLOAD_FORMATS:
        by_id = secrets.download_environment_secrets.sync(
            dev.id,
            client=api,
            format_=models.DownloadEnvironmentSecretsFormat(format),
        )
        v0 = secrets.download_secrets.sync(
            project.id, dev.id, client=api, format_=models.DownloadSecretsFormat(format)
        )
        assert by_id.payload.read() == v0.payload.read() == expected[format], format
    assert json.loads(expected["json"]) == {
        "API_KEY": "sk-live-xxx",
        "KEY1": "val1",
        "DB__HOST": "localhost",
    }


# --- openapi-typescript + openapi-fetch --------------------------------------------------

SCRIPT = """\
import createClient from "openapi-fetch";
import type { paths } from "./api.js";

declare const process: { argv: string[] };  // node's, without @types/node
const [base, email, password] = process.argv.slice(2) as [string, string, string];
function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

const anonymous = createClient<paths>({ baseUrl: base });
const signed = await anonymous.POST("/api/auth/sign-in/email", { body: { email, password } });
check(signed.data, "sign in: " + JSON.stringify(signed.error));
const session = createClient<paths>({
  baseUrl: base,
  headers: { Authorization: `Bearer ${signed.data.token}` },
});
const org = await session.POST("/api/v0/orgs", { body: { name: "TS" } });
check(org.data, "org: " + JSON.stringify(org.error));
const project = await session.POST("/api/v0/projects", {
  body: { name: "TS App", orgId: org.data.id },
});
check(project.data, "project: " + JSON.stringify(project.error));
const project_id = project.data.id;
const listed = await session.GET("/api/v0/projects/{project_id}/environments", {
  params: { path: { project_id } },
});
const dev = listed.data?.environments.find((env) => env.slug === "dev");
check(dev, "no dev environment");
const made = await session.POST("/api/v0/projects/{project_id}/tokens", {
  params: { path: { project_id } },
  body: { name: "ts", access: "read-write" },
});
check(made.data, "token: " + JSON.stringify(made.error));

const api = createClient<paths>({
  baseUrl: base,
  headers: { Authorization: `Bearer ${made.data.key}` },
});
const path = { environment_id: dev.id };
const one = await api.POST("/api/environments/{environment_id}/secrets", {
  params: { path },
  body: { name: "API_KEY", value: "sk-live-xxx" },
});
check(one.data?.name === "API_KEY", "set: " + JSON.stringify(one.error));
const many = await api.PUT("/api/environments/{environment_id}/secrets", {
  params: { path },
  body: { secrets: { KEY1: "val1", PORT: { value: "3000", kind: "plain" } } },
});
check(many.data?.secrets.length === 2, "bulk set: " + JSON.stringify(many.error));
const list = await api.GET("/api/environments/{environment_id}/secrets", { params: { path } });
check(list.data, "list: " + JSON.stringify(list.error));
const names: string[] = list.data.secrets.map((secret) => secret.name);
const got = await api.GET(
  "/api/v0/projects/{project_id}/environments/{environment_id}/secrets/{name}",
  { params: { path: { project_id, environment_id: dev.id, name: "API_KEY" } } },
);
check(got.data?.value === "sk-live-xxx", "get: " + JSON.stringify(got.error));

type Format = NonNullable<
  NonNullable<paths["/api/environments/{environment_id}/secrets/download"]["get"]["parameters"]["query"]>["format"]
>;
const formats: Format[] = [%(formats)s];
const downloads: Record<string, string> = {};
for (const format of formats) {
  const bytes = await api.GET("/api/environments/{environment_id}/secrets/download", {
    params: { path, query: { format } },
    parseAs: "arrayBuffer",
  });
  check(bytes.data, `download ${format}: ` + JSON.stringify(bytes.error));
  const chars = Array.from(new Uint8Array(bytes.data), (b) => String.fromCharCode(b));
  downloads[format] = btoa(chars.join(""));
}
const v0 = "/api/v0/projects/{project_id}/environments/{environment_id}/secrets/download";
const text = await api.GET(v0, {
  params: { path: { project_id, environment_id: dev.id }, query: { format: "env" } },
  parseAs: "text",
});
check(typeof text.data === "string", "env as text");
const tree = await api.GET("/api/environments/{environment_id}/secrets/download", {
  params: { path, query: { format: "json" } },
});
check(tree.data && typeof tree.data === "object", "json as JSON");
const parsed: unknown = tree.data;

console.log(JSON.stringify({ environment: dev.id, names, downloads, env: text.data, parsed }));
"""


def test_the_typescript_client_generated_from_the_document_works(
    live: Live, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None:
        missing("node is not installed")
    tools = [BIN / "openapi-typescript", BIN / "tsc", CONSUMERS / "node_modules" / "openapi-fetch"]
    absent = [str(tool) for tool in tools if not tool.exists()]
    if absent:
        missing(f"{', '.join(absent)} missing (cd tests/consumers && npm ci)")
    (tmp_path / "node_modules").symlink_to(CONSUMERS / "node_modules")
    (tmp_path / "package.json").write_text('{"type": "module", "private": true}')
    run([str(BIN / "openapi-typescript"), f"{live.base}/api/openapi.json",
         "--output", "api.d.ts"], tmp_path)  # fmt: skip
    formats = ", ".join(json.dumps(format) for format in DOWNLOAD_FORMATS)
    (tmp_path / "client.mts").write_text(SCRIPT % {"formats": formats})
    run([str(BIN / "tsc"), "--strict", "--noEmitOnError", "--target", "es2022",
         "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck",
         "client.mts"], tmp_path)  # fmt: skip
    out = run([node, "client.mjs", live.base, EMAIL, PASSWORD], tmp_path)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["names"] == ["API_KEY", "KEY1", "PORT"]
    expected = expected_downloads(live, result["environment"])
    got = {format: base64.b64decode(body) for format, body in result["downloads"].items()}
    assert got == expected
    assert result["env"].encode() == expected["env"]
    assert result["parsed"] == json.loads(expected["json"])
