from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigillo.domain.errors import InvalidInput
from sigillo.domain.values import display_name, secret_name, secret_value, slug


@pytest.mark.parametrize("name", ["A", "_", "API_KEY", "api_key", "a1", "A" * 256, "download"])
def test_valid_secret_names(name: str) -> None:
    assert secret_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "1ABC", "A-B", "A.B", "A B", "Ä", "A\n", "A" * 257, "\x1b[31m"]
)
def test_invalid_secret_names_name_the_rule(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        secret_name(name)
    assert raised.value.field == "name"
    assert "^[A-Za-z_][A-Za-z0-9_]*$" in raised.value.message


def test_value_size_limit_is_64_kib_of_utf8() -> None:
    assert secret_value("x" * 65536) == "x" * 65536
    with pytest.raises(InvalidInput, match="65536 bytes"):
        secret_value("x" * 65537)
    with pytest.raises(InvalidInput):
        secret_value("é" * 32769)  # 65538 bytes in UTF-8


@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_values_that_cannot_live_in_an_environment_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        secret_value(value)


def test_error_messages_never_repeat_the_value() -> None:
    canary = "sk_live_canary_value_" + "z" * 65536
    with pytest.raises(InvalidInput) as raised:
        secret_value(canary)
    assert "canary" not in str(raised.value)


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        max_size=200,
    )
)
def test_any_text_without_nul_or_surrogates_is_a_value(value: str) -> None:
    assert secret_value(value) == value


@pytest.mark.parametrize("good", ["dev", "prod-eu-1", "0", "a" * 63])
def test_valid_slugs(good: str) -> None:
    assert slug(good) == good


@pytest.mark.parametrize("bad", ["", "Dev", "-dev", "dev_1", "a" * 64, "dev ", "dév"])
def test_invalid_slugs(bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"\^\[a-z0-9\]"):
        slug(bad)


def test_display_names_are_trimmed_and_bounded() -> None:
    assert display_name("  My App ") == "My App"
    assert display_name("x" * 100) == "x" * 100
    for bad in ["", "   ", "x" * 101, "bad\x1bname"]:
        with pytest.raises(InvalidInput):
            display_name(bad)
