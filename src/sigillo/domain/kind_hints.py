"""Which `KEY=value` pairs look like configuration rather than secrets [D18].

Every secret is of kind `secret` until a person marks it `plain`. When a `.env` file is
imported, the dashboard proposes `plain` for the pairs this module says look like
configuration, as boxes ticked in advance that the person confirms or unticks: a hint only,
never a decision. So the rule errs towards `secret`; a value it lets through is one a
person still has to confirm.

A pair looks like configuration when its value is, exactly (no surrounding spaces):

* a number of at most 5 digits without a leading zero (`3000`, `0`, but not `01234`, which
  reads as a code, nor `123456`);
* `true` or `false`, in any case;
* a log level: `debug`, `info`, `warn`, `warning`, `error`, `fatal`, `trace`, in any case;
* an environment name as `NODE_ENV` takes it: `development`, `production`, `staging`,
  `test`, `preview`, `local`, in any case;
* an `http://` or `https://` URL without credentials: a host, no user or password before
  an `@`, no query or fragment (where API keys and signatures travel), no whitespace, and
  no path segment that looks like a token (16 or more letters, digits, `-` or `_` with
  both letters and digits, as in webhook URLs);

and its name does not say it is a secret: no word of the name (split at `_`, digits and
lower-to-upper case changes) is one of `SECRET_WORDS`, and no word contains one of
`SECRET_PARTS` (`DBPASSWORD`, `APITOKEN`). So `PORT=3000` is proposed and `PIN=1234`,
`REDIS_KEY_TTL=3600` or `ADMIN_PASS=true` are not.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["SECRET_PARTS", "SECRET_WORDS", "config_hint", "looks_like_config", "name_says_secret"]

SECRET_WORDS = frozenset(
    {
        "AUTH", "BEARER", "CERT", "CERTIFICATE", "COOKIE", "CRED", "CREDS", "DSN", "HMAC",
        "JWT", "KEY", "KEYS", "NONCE", "OTP", "PASS", "PASSCODE", "PIN", "PWD", "SALT",
        "SEED", "SESSION", "SIGNATURE", "TOTP", "WEBHOOK", "WEBHOOKS",
    }
)  # fmt: skip
SECRET_PARTS = ("APIKEY", "CREDENTIAL", "PASSPHRASE", "PASSW", "PRIVATE", "SECRET", "TOKEN")

_NUMBER = re.compile(r"0|[1-9][0-9]{0,4}")
_BOOLEANS = frozenset({"true", "false"})
_LOG_LEVELS = frozenset({"debug", "info", "warn", "warning", "error", "fatal", "trace"})
_ENVIRONMENTS = frozenset({"development", "production", "staging", "test", "preview", "local"})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{16,}")
_HAS_LETTER = re.compile(r"[A-Za-z]")
_HAS_DIGIT = re.compile(r"[0-9]")
_UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f\\]")
MAX_URL_LENGTH = 2048


def name_says_secret(name: str) -> bool:
    """Whether a word of `name` says it holds a secret (`DB_PASSWORD`, `pinCode`, `API_KEY`)."""
    for word in _WORDS.findall(name):
        upper = word.upper()
        if upper in SECRET_WORDS or any(part in upper for part in SECRET_PARTS):
            return True
    return False


def _plain_url(value: str) -> bool:
    if len(value) > MAX_URL_LENGTH or _UNSAFE_IN_URL.search(value):
        return False
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018 (a malformed port raises ValueError)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not hostname:
        return False
    if "@" in parts.netloc or parts.query or parts.fragment or "?" in value or "#" in value:
        return False
    for segment in parts.path.split("/"):
        for run in _TOKEN_LIKE.findall(segment):
            if _HAS_LETTER.search(run) and _HAS_DIGIT.search(run):
                return False
    return True


def looks_like_config(value: str) -> str | None:
    """What `value` looks like when it looks like configuration ("a number", …), else None."""
    if _NUMBER.fullmatch(value):
        return "a number"
    lowered = value.lower() if value.isascii() else ""
    if lowered in _BOOLEANS:
        return "true or false"
    if lowered in _LOG_LEVELS:
        return "a log level"
    if lowered in _ENVIRONMENTS:
        return "an environment name"
    if lowered.startswith(("http://", "https://")) and _plain_url(value):
        return "a URL without credentials"
    return None


def config_hint(name: str, value: str) -> str | None:
    """Why the pair `name=value` looks like configuration (a short phrase naming what the
    value looks like, never the value), or None when it may be a secret."""
    if name_says_secret(name):
        return None
    return looks_like_config(value)
