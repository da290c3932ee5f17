"""Single sign-on's configuration: environment variables or a TOML file, checked at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sigillo.settings import OidcProvider, Settings

GOOGLE = {
    "SIGILLO_OIDC_GOOGLE_ISSUER": "https://accounts.google.com",
    "SIGILLO_OIDC_GOOGLE_CLIENT_ID": "id.apps.googleusercontent.com",
    "SIGILLO_OIDC_GOOGLE_CLIENT_SECRET": "very-secret-value",
}


def load(env: dict[str, str]) -> tuple[OidcProvider, ...]:
    return Settings.load(env).oidc_providers


def test_providers_come_from_the_environment() -> None:
    env = GOOGLE | {
        "SIGILLO_OIDC_MY_CORP_ISSUER": "https://corp.okta.com/oauth2/default",
        "SIGILLO_OIDC_MY_CORP_CLIENT_ID": "corp",
        "SIGILLO_OIDC_MY_CORP_ALLOWED_DOMAINS": "Corp.example, @corp.test ,",
        "SIGILLO_OIDC_MY_CORP_LABEL": "Corp SSO",
    }
    google, corp = load(env)
    assert (google.name, google.issuer, google.client_id) == (
        "google", "https://accounts.google.com", "id.apps.googleusercontent.com",
    )  # fmt: skip
    assert google.client_secret == "very-secret-value"
    assert (google.button, google.allowed_domains) == ("Sign in with Google", ())
    assert (corp.name, corp.button) == ("my-corp", "Corp SSO")
    assert corp.allowed_domains == ("corp.example", "corp.test")
    assert corp.client_secret == ""  # a public client: PKCE alone


def test_the_client_secret_is_in_no_repr() -> None:
    settings = Settings.load(GOOGLE)
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in str(settings.oidc_providers)


def test_providers_come_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "oidc.toml"
    path.write_text(
        '[providers.entra]\nissuer = "https://login.microsoftonline.com/t/v2.0"\n'
        'client_id = "app"\nclient_secret = "s"\nallowed_domains = ["Example.com"]\n'
        'label = "Microsoft"\n'
    )
    (entra,) = load({"SIGILLO_OIDC_FILE": str(path)})
    assert (entra.name, entra.client_id, entra.client_secret) == ("entra", "app", "s")
    assert (entra.allowed_domains, entra.button) == (("example.com",), "Microsoft")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SIGILLO_OIDC_X_CLIENT_ID": "a"}, "SIGILLO_OIDC_X: the issuer is missing"),
        ({"SIGILLO_OIDC_X_ISSUER": "https://x.example"}, "the client id is missing"),
        (
            {"SIGILLO_OIDC_X_ISSUER": "http://idp.example", "SIGILLO_OIDC_X_CLIENT_ID": "a"},
            "must be an https URL",
        ),
        (
            {"SIGILLO_OIDC_X_ISSUER": "https://x.example?a=b", "SIGILLO_OIDC_X_CLIENT_ID": "a"},
            "must be a URL",
        ),
        ({"SIGILLO_OIDC_X_CLIENTID": "a"}, "SIGILLO_OIDC_X_CLIENTID is not a setting"),
        ({"SIGILLO_OIDC_FILE": "/nonexistent/oidc.toml"}, "cannot be read"),
    ],
)
def test_bad_configuration_is_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=r"^SIGILLO_OIDC") as raised:
        load(env)
    assert message in str(raised.value)


def test_loopback_issuers_may_be_plain_http() -> None:
    for host in ("127.0.0.1:9000", "localhost"):
        env = {"SIGILLO_OIDC_T_ISSUER": f"http://{host}", "SIGILLO_OIDC_T_CLIENT_ID": "a"}
        assert load(env)[0].issuer == f"http://{host}"


def test_a_name_in_both_places_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "oidc.toml"
    path.write_text('[providers.google]\nissuer = "https://a.example"\nclient_id = "b"\n')
    with pytest.raises(ValueError, match="configure it in one place"):
        load(GOOGLE | {"SIGILLO_OIDC_FILE": str(path)})


def test_a_bad_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "oidc.toml"
    path.write_text("[providers.x\n")
    with pytest.raises(ValueError, match="is not valid TOML"):
        load({"SIGILLO_OIDC_FILE": str(path)})
    path.write_text('[providers.x]\nissuer = "https://a.example"\nclient_id = "b"\nsecret = 1\n')
    with pytest.raises(ValueError, match="unknown keys"):
        load({"SIGILLO_OIDC_FILE": str(path)})


def test_the_server_refuses_to_start_with_a_bad_provider(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    env = clean | {
        "SIGILLO_OIDC_CORP_ISSUER": "http://idp.example",
        "SIGILLO_OIDC_CORP_CLIENT_ID": "a",
        "SIGILLO_OIDC_CORP_CLIENT_SECRET": "hush-hush",
    }
    started = subprocess.run(
        [sys.executable, "-m", "sigillo", "server", "--data-dir", str(tmp_path), "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert started.returncode == 2
    assert "SIGILLO_OIDC_CORP: the issuer must be an https URL" in started.stderr
    assert "hush-hush" not in started.stderr + started.stdout
