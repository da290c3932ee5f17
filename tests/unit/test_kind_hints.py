"""The "looks like configuration" rule of the .env import [D18] (sigillo.domain.kind_hints):
what it proposes as `plain`, and, mostly, what it must never propose."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigillo.domain.kind_hints import config_hint, looks_like_config, name_says_secret


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PORT", "3000", "a number"),
        ("WORKERS", "0", "a number"),
        ("TIMEOUT_MS", "99999", "a number"),
        ("DEBUG", "true", "true or false"),
        ("FEATURE_X", "FALSE", "true or false"),
        ("USE_CACHE", "True", "true or false"),
        ("LOG_LEVEL", "info", "a log level"),
        ("LOG_LEVEL", "WARNING", "a log level"),
        ("RUST_LOG", "trace", "a log level"),
        ("LEVEL", "Fatal", "a log level"),
        ("NODE_ENV", "development", "an environment name"),
        ("APP_ENV", "Production", "an environment name"),
        ("STAGE", "staging", "an environment name"),
        ("MODE", "test", "an environment name"),
        ("VERCEL_ENV", "preview", "an environment name"),
        ("ENVIRONMENT", "LOCAL", "an environment name"),
        ("API_URL", "https://api.example.com", "a URL without credentials"),
        ("PUBLIC_URL", "http://localhost:3000/app/", "a URL without credentials"),
        ("CALLBACK", "https://example.com/auth/callback", "a URL without credentials"),
        ("DOCS", "HTTPS://Example.COM/Docs", "a URL without credentials"),
        ("IPV6", "http://[::1]:8080/", "a URL without credentials"),
    ],
)
def test_configuration_is_proposed_with_a_reason(name: str, value: str, reason: str) -> None:
    assert config_hint(name, value) == reason


@pytest.mark.parametrize(
    "value",
    [
        "",
        " 3000",
        "3000 ",
        "3000\n",
        "123456",  # six digits: an account number, a PIN, a code
        "01234",  # a leading zero reads as a code
        "-1",
        "3.5",
        "\uff13\uff10\uff10\uff10",  # fullwidth digits
        "\u0663\u0660\u0660\u0660",  # Arabic-Indic digits
        "yes",
        "truee",
        "t rue",
        "infos",
        "prod",
        "Summer2024!",
        "hunter2",
        "p@ssw0rd123",
        "mysupersecret",
        "postgres://localhost:5432/app",
        "redis://cache:6379/0",
        "ftp://files.example.com",
        "https://",
        "https:///path",
        "http://:80",
        "https://example.com:99999",
        "https://example.com:port",
        "https://[::1",
        "https://user:password@example.com",
        "https://user@example.com",  # a key as the user name (Sentry DSNs)
        "https://:pw@example.com/",
        "https://example.com/?api_key=abc",
        "https://example.com/path?x=1",
        "https://example.com/#token",
        "https://example.com?",
        "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=abcdef0123",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXX1XXXXXXXXXXX",
        "https://discord.com/api/webhooks/1234/abcdefghijklmnop0123456789",
        "https://example.com/a b",
        "https://example.com/\ttab",
        "https://example.com\\@evil.example",
        "https://exämple.com",
        "https://example.com/" + "a" * 2100,
    ],
)
def test_anything_else_is_left_a_secret(value: str) -> None:
    assert looks_like_config(value) is None
    assert config_hint("PORT", value) is None


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "ADMIN_PASS",
        "SMTP_PASSWORD",
        "JWT_SECRET",
        "API_KEY",
        "STRIPE_SECRET_KEY",
        "GITHUB_TOKEN",
        "APITOKEN",
        "DBPASSWORD",
        "dbPassword",
        "pinCode",
        "PIN",
        "ATM_PIN",
        "OTP_SEED",
        "REDIS_KEY_TTL",
        "SESSION_TIMEOUT",
        "PRIVATE_MODE",
        "AWS_SECRET_ACCESS_KEY",
        "SENTRY_DSN",
        "SLACK_WEBHOOK_URL",
        "PASSPHRASE",
        "GOOGLE_CREDENTIALS",
        "S3_KEY",
        "AUTH_URL",
    ],
)
def test_a_name_that_says_secret_is_never_proposed(name: str) -> None:
    assert name_says_secret(name)
    for value in ("3000", "true", "info", "production", "https://example.com"):
        assert config_hint(name, value) is None


@pytest.mark.parametrize(
    "name",
    ["PORT", "NODE_ENV", "LOG_LEVEL", "KEYCLOAK_URL", "MONKEY", "AUTHOR", "BYPASS", "OAUTH_URL"],
)
def test_words_only_look_like_secret_words(name: str) -> None:
    assert not name_says_secret(name)


def test_generated_keys_are_never_proposed() -> None:
    """The keys issue 11 found printed in clear: none of them looks like configuration."""
    for _ in range(500):
        for key in (secrets.token_hex(16), secrets.token_hex(8), secrets.token_urlsafe(16)):
            assert config_hint("SOME_VALUE", key) is None
    for pin in ("1234", "0000", "8675309", "000123"):
        assert config_hint("ACCOUNT_PIN", pin) is None


@given(st.text(max_size=80), st.text(max_size=80))
def test_the_hint_is_total_and_names_no_value(name: str, value: str) -> None:
    """Any text at all: an answer, never an exception; and the answer is one of a few fixed
    phrases, so a preview that shows it shows nothing of the value."""
    hint = config_hint(name, value)
    assert hint in (
        None,
        "a number",
        "true or false",
        "a log level",
        "an environment name",
        "a URL without credentials",
    )
