"""The key sources (crypto.keys.KeySources): SIGILLO_ENCRYPTION_KEY_FILE beside the key
variables, their precedence, and a configuration that is read without ever writing a key."""

from __future__ import annotations

import base64
import logging
import os
import traceback
from pathlib import Path

import pytest

from sigillo.crypto.keyring import Keyring, key_id_of
from sigillo.crypto.keys import KEY_FILE_NAME, KeySources
from sigillo.domain.errors import StartupError
from sigillo.settings import Settings


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.load(env=env, data_dir=tmp_path / "data")


def _key_file(tmp_path: Path, content: str | bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets" / "sigillo_key"
    path.parent.mkdir(exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    path.chmod(mode)
    return path


def _full_text(error: BaseException) -> str:
    """Everything a traceback would show, chained exceptions included."""
    return "".join(traceback.format_exception(error)) + repr(error) + repr(error.args)


def _leaks(secret: str) -> list[str]:
    """The secret and overlapping chunks of it: none may appear in a message."""
    text = secret.strip()
    return [text] + [text[i : i + 12] for i in range(0, max(len(text) - 11, 0), 6)]


# -- SIGILLO_ENCRYPTION_KEY_FILE ------------------------------------------------------------


def test_settings_read_the_key_file_variable(tmp_path: Path) -> None:
    settings = Settings.load(env={"SIGILLO_ENCRYPTION_KEY_FILE": "/run/secrets/sigillo_key"})
    assert settings.encryption_key_file == Path("/run/secrets/sigillo_key")
    home = Settings.load(env={"SIGILLO_ENCRYPTION_KEY_FILE": "~/key"}, data_dir=tmp_path)
    assert home.encryption_key_file == Path.home() / "key"
    for blank in ("", "  "):
        unset = Settings.load(env={"SIGILLO_ENCRYPTION_KEY_FILE": blank}, data_dir=tmp_path)
        assert unset.encryption_key_file is None
    assert Settings.load(env={}, data_dir=tmp_path).encryption_key_file is None


@pytest.mark.parametrize(
    "wrap",
    ["{}", "{}\n", "  {}  \n\n", "\t{}\r\n"],
    ids=["bare", "newline", "spaces", "crlf"],
)
def test_the_key_comes_from_the_file_the_variable_names(tmp_path: Path, wrap: str) -> None:
    key = os.urandom(32)
    path = _key_file(tmp_path, wrap.format(_b64(key)).encode())
    sources = KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path)))
    keyring = sources.load()
    assert keyring is not None
    assert keyring.primary_key_id == key_id_of(key)
    assert keyring.key_ids == {key_id_of(key)}
    # the same key as the variable: what one seals the other opens
    sealed = Keyring([key]).seal("value", environment_id="e", name="N")
    assert keyring.open(sealed, environment_id="e", name="N") == "value"
    assert not (tmp_path / "data").exists()  # no key file is made beside it
    assert path.read_bytes() == wrap.format(_b64(key)).encode()  # and the given one is left alone


@pytest.mark.parametrize(
    "separator", ["\n", ",", ", ", " "], ids=["lines", "comma", "comma-space", "space"]
)
def test_several_keys_newest_first_during_a_rotation(tmp_path: Path, separator: str) -> None:
    new, old = os.urandom(32), os.urandom(32)
    text = separator.join([_b64(new), _b64(old)]) + "\n"
    from_file = KeySources(
        _settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(_key_file(tmp_path, text)))
    ).load()
    from_variable = KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY=text)).load()
    for keyring in (from_file, from_variable):
        assert keyring is not None
        assert keyring.primary_key_id == key_id_of(new)  # the first seals
        assert keyring.key_ids == {key_id_of(new), key_id_of(old)}
        sealed_by_old = Keyring([old]).seal("value", environment_id="e", name="N")
        assert keyring.open(sealed_by_old, environment_id="e", name="N") == "value"


BAD_FILES: dict[str, str | bytes] = {
    "empty": "",
    "whitespace": " \n\t\n",
    "garbage": "definitely not a key\n",
    "16-bytes": _b64(os.urandom(16)) + "\n",
    "48-bytes": _b64(os.urandom(48)) + "\n",
    "truncated": _b64(os.urandom(32))[:30] + "\n",
    "hex": os.urandom(32).hex() + "\n",
    "one-good-one-bad": _b64(os.urandom(32)) + "\n" + _b64(os.urandom(16)) + "\n",
    "the-same-key-twice": (_b64(b"s" * 32) + "\n") * 2,
    "raw-32-bytes": os.urandom(32),
    "non-ascii": "ключ" + _b64(os.urandom(32)),
    "huge": _b64(os.urandom(32)) + " " * 10_000,
}


@pytest.mark.parametrize("content", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_key_file_is_a_clear_error_that_never_shows_its_content(
    tmp_path: Path, content: str | bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = _key_file(tmp_path, content)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StartupError) as caught:
        KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path)))
    message = str(caught.value)
    assert "SIGILLO_ENCRYPTION_KEY_FILE" in message
    assert str(path) in message
    assert "does not hold a valid key" in message
    assert "32 bytes" in message
    text = _full_text(caught.value) + caplog.text
    shown = content.decode("latin-1") if isinstance(content, bytes) else content
    for leak in _leaks(shown) if shown.strip() else []:
        assert leak not in text
    if isinstance(content, bytes):
        assert repr(content)[2:26] not in text
    # never replaced, and nothing written elsewhere
    assert (path.read_bytes() if isinstance(content, bytes) else path.read_text()) == content
    assert not (tmp_path / "data").exists()


def test_a_missing_key_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "sigillo_key"
    with pytest.raises(StartupError) as caught:
        KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path)))
    assert str(caught.value) == f"SIGILLO_ENCRYPTION_KEY_FILE names {path}, which does not exist"
    assert not path.exists()
    assert not path.parent.exists()
    assert not (tmp_path / "data").exists()


def test_a_missing_key_file_does_not_fall_back_to_the_data_directory(tmp_path: Path) -> None:
    """The variable says where the key is: a key file in the data directory is not a
    stand-in for it (it may be another deployment's)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / KEY_FILE_NAME).write_text(_b64(os.urandom(32)) + "\n")
    (data / KEY_FILE_NAME).chmod(0o600)
    missing = tmp_path / "nowhere" / "key"
    with pytest.raises(StartupError, match="which does not exist"):
        KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(missing)))


def test_a_directory_in_place_of_the_key_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "secrets"
    path.mkdir()
    with pytest.raises(StartupError) as caught:
        KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path)))
    assert str(caught.value).startswith(f"SIGILLO_ENCRYPTION_KEY_FILE names {path}, ")
    assert "cannot be read" in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_key_file_is_an_error(tmp_path: Path) -> None:
    key = _b64(os.urandom(32))
    path = _key_file(tmp_path, key, mode=0o000)
    with pytest.raises(StartupError) as caught:
        KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path)))
    assert "cannot be read: Permission denied" in str(caught.value)
    assert key not in _full_text(caught.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o444])
def test_a_key_file_readable_by_others_is_warned_about(
    tmp_path: Path, mode: int, caplog: pytest.LogCaptureFixture
) -> None:
    key = os.urandom(32)
    path = _key_file(tmp_path, _b64(key) + "\n", mode=mode)
    caplog.set_level(logging.WARNING, logger="sigillo.keys")
    keyring = KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path))).load()
    assert keyring is not None
    assert keyring.primary_key_id == key_id_of(key)  # a warning, not a refusal
    [warning] = [r for r in caplog.records if r.name == "sigillo.keys"]
    assert warning.levelno == logging.WARNING
    assert "readable by other users" in warning.getMessage()
    assert str(path) in warning.getMessage()
    assert _b64(key) not in caplog.text


def test_a_private_key_file_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _key_file(tmp_path, _b64(os.urandom(32)), mode=0o600)
    caplog.set_level(logging.DEBUG, logger="sigillo.keys")
    KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path)))
    assert [r for r in caplog.records if r.name == "sigillo.keys"] == []


# -- precedence -----------------------------------------------------------------------------


def test_the_key_and_the_key_file_variables_together_are_refused(tmp_path: Path) -> None:
    key, other = os.urandom(32), os.urandom(32)
    path = _key_file(tmp_path, _b64(other))
    with pytest.raises(StartupError) as caught:
        KeySources(
            _settings(
                tmp_path, SIGILLO_ENCRYPTION_KEY=_b64(key), SIGILLO_ENCRYPTION_KEY_FILE=str(path)
            )
        )
    message = str(caught.value)
    assert "SIGILLO_ENCRYPTION_KEY and SIGILLO_ENCRYPTION_KEY_FILE are both set" in message
    for leak in _leaks(_b64(key)) + _leaks(_b64(other)):
        assert leak not in _full_text(caught.value)


@pytest.mark.parametrize("variable", ["SIGILLO_ENCRYPTION_KEY", "SIGILLO_ENCRYPTION_KEY_FILE"])
def test_a_key_wins_over_the_secret_key_with_a_warning(
    tmp_path: Path, variable: str, caplog: pytest.LogCaptureFixture
) -> None:
    key, secret = os.urandom(32), "secret-" + os.urandom(8).hex()
    value = (
        _b64(key) if variable == "SIGILLO_ENCRYPTION_KEY" else str(_key_file(tmp_path, _b64(key)))
    )
    caplog.set_level(logging.WARNING, logger="sigillo.keys")
    keyring = KeySources(_settings(tmp_path, **{variable: value}, SIGILLO_SECRET_KEY=secret)).load()
    assert keyring is not None
    assert keyring.primary_key_id == key_id_of(key)
    assert f"SIGILLO_SECRET_KEY is ignored: {variable} is set" in caplog.text
    assert secret not in caplog.text
    assert _b64(key) not in caplog.text


def test_a_key_variable_wins_over_the_data_directory_key_file(tmp_path: Path) -> None:
    key, stale = os.urandom(32), os.urandom(32)
    data = tmp_path / "data"
    data.mkdir()
    (data / KEY_FILE_NAME).write_text(_b64(stale))
    (data / KEY_FILE_NAME).chmod(0o600)
    path = _key_file(tmp_path, _b64(key))
    keyring = KeySources(_settings(tmp_path, SIGILLO_ENCRYPTION_KEY_FILE=str(path))).load()
    assert keyring is not None
    assert keyring.key_ids == {key_id_of(key)}


# -- nothing configured ---------------------------------------------------------------------


def test_with_no_key_configured_nothing_is_written_until_create(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    sources = KeySources(settings)
    assert sources.load() is None
    assert not settings.data_dir.exists()  # reading never writes
    where = sources.missing()
    for name in ("SIGILLO_ENCRYPTION_KEY", "SIGILLO_ENCRYPTION_KEY_FILE", "SIGILLO_SECRET_KEY"):
        assert name in where
    assert str(settings.data_dir / KEY_FILE_NAME) in where

    created = sources.create()
    path = settings.data_dir / KEY_FILE_NAME
    key = base64.b64decode(path.read_text().strip(), validate=True)
    assert created.primary_key_id == key_id_of(key)
    assert sources.load() is created
    again = KeySources(settings).load()  # the next start reads it
    assert again is not None
    assert again.primary_key_id == key_id_of(key)


def test_a_key_file_another_process_created_meanwhile_is_found(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    sources = KeySources(settings)
    assert sources.load() is None
    key = os.urandom(32)
    settings.data_dir.mkdir()
    (settings.data_dir / KEY_FILE_NAME).write_text(_b64(key) + "\n")
    (settings.data_dir / KEY_FILE_NAME).chmod(0o600)
    found = sources.load()
    assert found is not None
    assert found.primary_key_id == key_id_of(key)
