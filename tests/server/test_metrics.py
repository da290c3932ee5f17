"""Prometheus metrics from the real `sigillo server` process, on each database: scraped over
HTTP from their own listener (SIGILLO_METRICS_ADDRESS) and parsed with prometheus_client's
text parser. Requests by route template and status, event appends, audited reads by how,
refused sign-ins, rate-limit refusals and the database pool move as they should; no label
ever holds a secret's name or value, nor a token from a path. Without the setting no
metrics port is open, and the public port answers 404 at /metrics."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sigillo import metrics
from sigillo.domain.errors import StartupError, StorageUnavailable, TooManyAttempts, Unauthorized
from tests.conftest import DATABASES
from tests.databases import Databases, skip_without_postgres
from tests.live_server import create_user_and_sign_in, free_port, wait_healthy

PASSWORD = "correct horse battery staple"
SECRET_NAME = "METRICS_CANARY_NAME_7Q"
SECRET_VALUE = "metrics-canary-value-0f3c9a"
OTHER_NAME = "METRICS_OTHER_NAME_2Z"
TOKEN = "inv_MetricsNeverLabelThisToken0123456789"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    base: str
    metrics_port: int | None
    log: Path
    data: Path
    database_url: str | None
    scrapes: list[str] = field(default_factory=list)

    def scrape(self) -> Samples:
        assert self.metrics_port is not None
        answer = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        self.scrapes.append(answer.text)
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples
        }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@contextmanager
def running(
    root: Path, *, database_url: str | None = None, metrics_port: int | None = None
) -> Iterator[Running]:
    """`sigillo server` on a free port, healthy; with SIGILLO_METRICS_ADDRESS when given a
    metrics port. Stopped with SIGTERM afterwards, and it must exit cleanly."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    if metrics_port is not None:
        clean["SIGILLO_METRICS_ADDRESS"] = f"127.0.0.1:{metrics_port}"
    port, data, log = free_port(), root / "data", root / "server.log"
    command = [sys.executable, "-m", "sigillo", "server", "--data-dir", str(data)]
    command += ["--port", str(port)]
    if database_url:
        command += ["--database-url", database_url]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=clean)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, base, log)
        yield Running(process, base, metrics_port, log, data, database_url)
    finally:
        process.terminate()
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise
    # uvicorn re-raises the SIGTERM it handled, once shut down: stopped, not hung
    assert code in (0, -signal.SIGTERM), log.read_text(errors="replace")


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (from /proc: its sockets in LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture(scope="module", params=DATABASES)
def live(
    request: pytest.FixtureRequest,
    databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Running]:
    """One server per database for the whole module, its metrics on a port of their own."""
    skip_without_postgres(request.param)
    url = databases.fresh(request.param)
    with running(
        tmp_path_factory.mktemp("metrics"), database_url=url, metrics_port=free_port()
    ) as r:
        yield r


def test_requests_reads_and_appends_are_counted_without_names_values_or_tokens(
    live: Running,
) -> None:
    base = live.base
    token = create_user_and_sign_in(
        base, live.data, "ada@example.com", PASSWORD, database_url=live.database_url
    )
    before = live.scrape()
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
        org = client.post("/api/v0/orgs", json={"name": "Acme"})
        assert org.status_code == 200, org.text
        project = client.post("/api/v0/projects", json={"name": "App", "orgId": org.json()["id"]})
        assert project.status_code == 200, project.text
        secrets = f"/api/v0/projects/{project.json()['id']}/environments/dev/secrets"
        for name in (SECRET_NAME, OTHER_NAME):
            made = client.post(secrets, json={"name": name, "value": SECRET_VALUE})
            assert made.status_code == 200, made.text
        download = client.get(f"{secrets}/download")
        assert download.status_code == 200, download.text
        assert SECRET_VALUE in download.text
        one = client.get(f"{secrets}/{SECRET_NAME}")
        assert one.status_code == 200, one.text
        assert client.get(f"/invite/{TOKEN}").status_code == 404
        assert client.get(f"/no/such/{TOKEN}").status_code == 404
    after = live.scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "sigillo_http_requests_total"
    assert moved(requests, method="POST", route="/api/v0/orgs", status="200") == 1
    assert moved(requests, method="POST", route="/api/v0/projects", status="200") == 1
    secrets_route = "/api/v0/projects/{project_id}/environments/{environment_id}/secrets"
    assert moved(requests, method="POST", route=secrets_route, status="200") == 2
    assert moved(requests, method="GET", route=f"{secrets_route}/download", status="200") == 1
    assert moved(requests, method="GET", route=f"{secrets_route}/{{name}}", status="200") == 1
    assert moved(requests, method="GET", route="/invite/{token}", status="404") == 1
    assert moved(requests, method="GET", route="-", status="404") == 1
    durations = "sigillo_http_request_duration_seconds_count"
    assert moved(durations, method="POST", route="/api/v0/orgs") == 1

    # org, project (with its environments), two secrets and the two audited reads
    assert moved("sigillo_event_append_seconds_count") >= 6
    assert moved("sigillo_event_append_seconds_sum") > 0
    assert moved("sigillo_secret_reads_total", how="download") == 1
    assert moved("sigillo_secret_values_read_total", how="download") == 2
    assert moved("sigillo_secret_reads_total", how="get") == 1
    assert moved("sigillo_secret_values_read_total", how="get") == 1

    for text in live.scrapes:
        for forbidden in (SECRET_NAME, OTHER_NAME, SECRET_VALUE, TOKEN, "ada@example.com", token):
            assert forbidden not in text
    assert value(after, "process_resident_memory_bytes") > 0  # the default collectors


def test_refused_sign_ins_and_rate_limits_are_counted(live: Running) -> None:
    base = live.base
    before = live.scrape()
    wrong = httpx.post(
        f"{base}/api/auth/sign-in/email",
        json={"email": "nobody@example.com", "password": "not-the-password"},
        timeout=10,
    )
    assert wrong.status_code == 401
    page = httpx.post(
        f"{base}/login",
        data={"email": "nobody-else@example.com", "password": "not-the-password"},
        headers={"Sec-Fetch-Site": "same-origin"},
        timeout=10,
    )
    assert page.status_code == 401, page.text
    # sign-up allows 5 a minute per client: the sixth is refused before its handler runs
    statuses = [
        httpx.post(f"{base}/api/auth/sign-up/email", json={}, timeout=10).status_code
        for _ in range(6)
    ]
    assert statuses[-1] == 429, statuses
    after = live.scrape()
    failures = "sigillo_sign_in_failures_total"
    refused = value(after, failures, reason="invalid_credentials") - value(
        before, failures, reason="invalid_credentials"
    )
    assert refused == 2
    limits = "sigillo_rate_limit_refusals_total"
    assert value(after, limits, limit="sign-up") - value(before, limits, limit="sign-up") >= 1
    assert value(after, "sigillo_http_requests_total", method="POST",
                 route="/api/auth/sign-up/email", status="429") >= 1  # fmt: skip
    assert "nobody@example.com" not in live.scrapes[-1]
    assert "not-the-password" not in live.scrapes[-1]


def test_the_database_pool_is_sampled_when_scraped(live: Running) -> None:
    samples = live.scrape()
    in_use = value(samples, "sigillo_database_connections", state="in_use")
    idle = value(samples, "sigillo_database_connections", state="idle")
    maximum = value(samples, "sigillo_database_connections_max")
    assert in_use >= 0
    assert 1 <= in_use + idle <= maximum
    if live.database_url and live.database_url.startswith("sqlite"):
        assert maximum == 4  # the readers; the one writer is apart
        assert ("sigillo_database_writer_busy", frozenset()) in samples
    else:
        assert maximum == 10
        assert ("sigillo_database_writer_busy", frozenset()) not in samples


def test_the_metrics_listener_is_its_own_port(live: Running) -> None:
    assert live.metrics_port is not None
    assert listening_ports(live.process.pid) == {int(live.base.rsplit(":", 1)[1]),
                                                 live.metrics_port}  # fmt: skip
    assert httpx.get(f"{live.base}/metrics", timeout=10).status_code == 404


def test_without_the_setting_no_metrics_are_served(tmp_path: Path) -> None:
    with running(tmp_path) as plain:
        port = int(plain.base.rsplit(":", 1)[1])
        assert listening_ports(plain.process.pid) == {port}
        assert httpx.get(f"{plain.base}/metrics", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        (" localhost:9100 ", ("localhost", 9100)),
        ("[::1]:9464", ("::1", 9464)),
        ("0.0.0.0:65535", ("0.0.0.0", 65535)),  # noqa: S104
    ],
)
def test_metrics_addresses_are_host_and_port(text: str, expected: tuple[str, int]) -> None:
    assert metrics.parse_address(text, 8080) == expected


@pytest.mark.parametrize(
    "text",
    ["9464", ":9464", "localhost", "localhost:", "localhost:0", "localhost:65536",
     "localhost:http", "::1:9464", "[::1]", "host name:9464", "localhost:+9", "localhost:٩٤"],
)  # fmt: skip
def test_bad_metrics_addresses_stop_the_start(text: str) -> None:
    with pytest.raises(StartupError, match="must be host:port"):
        metrics.parse_address(text, 8080)


def test_metrics_are_never_on_the_public_port() -> None:
    assert metrics.parse_address(None, 8080) is None
    with pytest.raises(StartupError, match="port of its own"):
        metrics.parse_address("127.0.0.1:8080", 8080)


def test_a_taken_metrics_port_stops_the_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=f"cannot listen for metrics on 127.0.0.1:{port}"):
            metrics.start("127.0.0.1", port)


def test_a_bad_metrics_address_is_reported_before_anything_starts(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    done = subprocess.run(
        [sys.executable, "-m", "sigillo", "server", "--data-dir", str(tmp_path / "d"),
         "--metrics-address", "localhost"],
        env=clean, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "error: SIGILLO_METRICS_ADDRESS (--metrics-address) must be host:port" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "d").exists()  # no database, no key: nothing was started


def test_refusals_and_database_errors_have_fixed_reasons() -> None:
    def count(name: str, **labels: str) -> float:
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    cases = [
        ("the database is busy; try again", "busy"),
        ("the server's disk is full", "disk_full"),
        ("the database did not answer within 2 s", "timeout"),
        ("the database is read-only", "read_only"),
        ("the database cannot be reached; try again", "unreachable"),
        (f"something else about {SECRET_NAME}", "unavailable"),
    ]
    for message, reason in cases:
        before = count("sigillo_database_errors_total", reason=reason)
        metrics.database_error(StorageUnavailable(message))
        assert count("sigillo_database_errors_total", reason=reason) == before + 1
    before = count("sigillo_sign_in_failures_total", reason="backing_off")
    metrics.sign_in_failed(TooManyAttempts(3))
    assert count("sigillo_sign_in_failures_total", reason="backing_off") == before + 1
    before = count("sigillo_sign_in_failures_total", reason="invalid_credentials")
    metrics.sign_in_failed(Unauthorized("no"))
    assert count("sigillo_sign_in_failures_total", reason="invalid_credentials") == before + 1
    before = count("sigillo_http_requests_total", method="other", route="-", status="405")
    metrics.count_request("BREW", "-", 405, 0.001)
    assert count("sigillo_http_requests_total", method="other", route="-", status="405") == (
        before + 1
    )
    text = metrics.REGISTRY.collect()
    assert all(
        SECRET_NAME not in str(label)
        for family in text
        for sample in family.samples
        for label in sample.labels.values()
    )
