"""Where the master key comes from (behaviour.md section 4, security.md promises 2 and 8):
SIGILLO_ENCRYPTION_KEY, else SHA-256 of SIGILLO_SECRET_KEY, else a key file in the data dir."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
import subprocess
import sys
import textwrap
import time
import traceback
from pathlib import Path

import pytest

from sigillo.crypto.keyring import Keyring, key_id_of
from sigillo.crypto.keys import KEY_FILE_NAME, KeySources
from sigillo.domain.errors import StartupError
from sigillo.settings import Settings


def load_keyring(settings: Settings) -> Keyring:
    """The key the server uses for a database that has none yet: the configured one, else
    the data directory's key file, created when missing (services.keys decides when)."""
    sources = KeySources(settings)
    return sources.load() or sources.create()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.load(env=env, data_dir=tmp_path / "data")


def _full_text(error: BaseException) -> str:
    """Everything a traceback would show, chained exceptions included."""
    return "".join(traceback.format_exception(error)) + repr(error) + repr(error.args)


# -- SIGILLO_ENCRYPTION_KEY ---------------------------------------------------------------


@pytest.mark.parametrize(
    "wrap",
    ["{}", "  {}  ", "{}\n", "\t{}\r\n", "\n {} \n"],
    ids=["bare", "spaces", "nl", "tab", "mix"],
)
def test_encryption_key_is_base64_of_32_bytes(tmp_path: Path, wrap: str) -> None:
    key = os.urandom(32)
    keyring = load_keyring(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY=wrap.format(_b64(key))))
    assert keyring.primary_key_id == key_id_of(key)
    assert keyring.key_ids == {key_id_of(key)}
    assert not (tmp_path / "data").exists()  # no key file is made when a key is given


def test_encryption_key_wins_over_secret_key(tmp_path: Path) -> None:
    key = os.urandom(32)
    keyring = load_keyring(
        _settings(tmp_path, SIGILLO_ENCRYPTION_KEY=_b64(key), SIGILLO_SECRET_KEY="s3cret")
    )
    assert keyring.primary_key_id == key_id_of(key)


BAD_KEYS = {
    "not-base64": "this is not base64 at all!",
    "url-safe-alphabet": base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(),
    "bad-padding": _b64(os.urandom(32)).rstrip("="),
    "16-bytes": _b64(os.urandom(16)),
    "24-bytes": _b64(os.urandom(24)),
    "31-bytes": _b64(os.urandom(31)),
    "33-bytes": _b64(os.urandom(33)),
    "64-bytes": _b64(os.urandom(64)),
    "hex-of-32-bytes": os.urandom(32).hex(),
    "inner-space": _b64(os.urandom(32))[:20] + " " + _b64(os.urandom(32))[20:],
    "non-ascii": "ключ" + _b64(os.urandom(32)),
    "whitespace-only": "   ",
}


@pytest.mark.parametrize("value", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_bad_encryption_key_is_a_startup_error_that_does_not_echo_it(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(StartupError) as caught:
        load_keyring(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY=value))
    message = str(caught.value)
    assert "SIGILLO_ENCRYPTION_KEY" in message
    assert "32 bytes" in message
    text = _full_text(caught.value)
    given = value.strip()
    if given:
        assert given not in text
    for chunk in (given[i : i + 12] for i in range(0, len(given) - 11, 6)):
        assert chunk not in text


# -- SIGILLO_SECRET_KEY ---------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["correct horse battery staple", "🔐 секрет 密钥", "x"])
def test_secret_key_derives_the_key_by_sha256(tmp_path: Path, secret: str) -> None:
    keyring = load_keyring(_settings(tmp_path, SIGILLO_SECRET_KEY=secret))
    expected = hashlib.sha256(secret.encode("utf-8")).digest()
    assert keyring.primary_key_id == key_id_of(expected)
    assert not (tmp_path / "data").exists()  # no key file either
    # the same derivation seals values the derived key opens
    sealed = keyring.seal("v", environment_id="e", name="N")
    assert sealed.key_id == key_id_of(expected)


# -- the key file ---------------------------------------------------------------------------


def _key_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / KEY_FILE_NAME


def test_without_a_key_a_private_key_file_is_created_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.load(env={}, data_dir=tmp_path / "nested" / "data")
    path = settings.data_dir / KEY_FILE_NAME
    assert not settings.data_dir.exists()
    caplog.set_level(logging.WARNING, logger="sigillo.keys")

    first = load_keyring(settings)

    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) & 0o077 == 0
    key = base64.b64decode(path.read_text().strip(), validate=True)
    assert len(key) == 32
    assert first.primary_key_id == key_id_of(key)
    assert sorted(p.name for p in settings.data_dir.iterdir()) == [KEY_FILE_NAME]  # no temp left

    warnings = [r for r in caplog.records if r.name == "sigillo.keys"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    logged = warnings[0].getMessage()
    assert str(path) in logged
    assert "Back it up" in logged
    for leak in (_b64(key), key.hex(), path.read_text().strip(), repr(key)):
        assert leak not in logged
        assert leak not in caplog.text

    caplog.clear()
    second = load_keyring(settings)
    assert second.primary_key_id == first.primary_key_id
    assert base64.b64decode(path.read_text()) == key  # not rewritten
    assert [r for r in caplog.records if r.name == "sigillo.keys"] == []  # nothing to warn about


def test_an_existing_key_file_is_used(tmp_path: Path) -> None:
    key = os.urandom(32)
    path = _key_file(tmp_path)
    path.parent.mkdir()
    path.write_text("  " + _b64(key) + "\n\n")
    path.chmod(0o600)
    assert load_keyring(_settings(tmp_path)).primary_key_id == key_id_of(key)


def test_a_key_file_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = os.urandom(32)
    path = _key_file(tmp_path)
    path.parent.mkdir()
    path.write_text(_b64(key) + "\n")
    path.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="sigillo.keys")
    assert load_keyring(_settings(tmp_path)).primary_key_id == key_id_of(key)
    assert "readable by other users" in caplog.text
    assert _b64(key) not in caplog.text


CORRUPT_FILES = {
    "empty": "",
    "garbage": "definitely not a key\n",
    "short": _b64(os.urandom(16)) + "\n",
    "long": _b64(os.urandom(48)) + "\n",
    "truncated": _b64(os.urandom(32))[:30] + "\n",
    "hex": os.urandom(32).hex() + "\n",
}


@pytest.mark.parametrize("content", CORRUPT_FILES.values(), ids=CORRUPT_FILES.keys())
def test_a_corrupt_key_file_is_a_startup_error(tmp_path: Path, content: str) -> None:
    path = _key_file(tmp_path)
    path.parent.mkdir()
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(StartupError) as caught:
        load_keyring(_settings(tmp_path))
    assert str(path) in str(caught.value)
    if content.strip():
        assert content.strip() not in _full_text(caught.value)
    assert path.read_text() == content  # never silently replaced


def test_an_unreadable_key_file_is_a_startup_error(tmp_path: Path) -> None:
    path = _key_file(tmp_path)
    path.mkdir(parents=True)  # a directory where the key file should be
    with pytest.raises(StartupError, match="cannot read the key file"):
        load_keyring(_settings(tmp_path))


def test_a_data_dir_that_is_a_file_is_a_startup_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    with pytest.raises(StartupError, match=r"cannot (read|create) the key file") as caught:
        load_keyring(_settings(tmp_path))
    assert str(blocker / KEY_FILE_NAME) in str(caught.value)


_RACER = textwrap.dedent(
    """
    import sys, time
    from sigillo.crypto.keys import KeySources
    from sigillo.settings import Settings

    settings = Settings.load(env={}, data_dir=sys.argv[1])
    start = float(sys.argv[2])
    time.sleep(max(0.0, start - time.time() - 0.02))
    while time.time() < start:
        pass
    sources = KeySources(settings)
    print((sources.load() or sources.create()).primary_key_id)
    """
)


def test_processes_racing_to_create_the_key_file_agree_on_one_key(tmp_path: Path) -> None:
    rounds, per_round = 3, 8
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGILLO_")}
    start = time.time() + 2.0
    racers = []
    for r in range(rounds):
        data_dir = tmp_path / f"round-{r}" / "data"
        for _ in range(per_round):
            racers.append(
                (
                    data_dir,
                    subprocess.Popen(
                        [sys.executable, "-c", _RACER, str(data_dir), repr(start)],
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                        env=env,
                    ),
                )
            )
    results: dict[Path, list[tuple[int, str, str]]] = {}
    for data_dir, process in racers:
        out, err = process.communicate(timeout=60)
        results.setdefault(data_dir, []).append((process.returncode, out.strip(), err))

    for data_dir, outcomes in results.items():
        assert [code for code, _, _ in outcomes] == [0] * per_round, outcomes
        ids = {key_id for _, key_id, _ in outcomes}
        path = data_dir / KEY_FILE_NAME
        key = base64.b64decode(path.read_text().strip(), validate=True)
        assert ids == {key_id_of(key)}, outcomes
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(p.name for p in data_dir.iterdir()) == [KEY_FILE_NAME]
        created = [err for _, _, err in outcomes if "generated a new encryption key" in err]
        assert len(created) == 1, outcomes
        for _, _, err in outcomes:
            assert _b64(key) not in err


# -- settings -------------------------------------------------------------------------------


def test_settings_repr_never_shows_keys(tmp_path: Path) -> None:
    key, secret = _b64(os.urandom(32)), "secret-key-" + os.urandom(8).hex()
    settings = _settings(tmp_path, SIGILLO_ENCRYPTION_KEY=key, SIGILLO_SECRET_KEY=secret)
    assert settings.encryption_key == key
    assert settings.secret_key == secret
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert key not in text
        assert secret not in text
        assert "encryption_key" not in text
        assert "secret_key" not in text
    assert "data_dir" in repr(settings)


def test_an_empty_encryption_key_variable_counts_as_unset(tmp_path: Path) -> None:
    settings = _settings(tmp_path, SIGILLO_ENCRYPTION_KEY="", SIGILLO_SECRET_KEY="")
    assert settings.encryption_key is None
    assert settings.secret_key is None
