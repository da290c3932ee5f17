"""Which values `sigillo run` protects under D18 (docs/redaction.md section 1): every value
of kind secret of 4 bytes or more whatever it looks like, only URL passwords of plain
values, the likely-secret rule kept for the lines of multi-line secrets, and `--redact`,
`--redact-all` and `--show` for one run. The forms of each value: tests/cli/test_redaction.py.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

import pytest

from sigillo.cli.run import protected
from sigillo.cli.run.protected import (
    MIN_SECRET,
    is_likely_secret,
    protect,
    protected_values,
    select_protected,
)
from sigillo.cli.run.redaction import MASK, Redactor


def drawn(make: Callable[[], str], likely: bool) -> str:
    """A value from `make` that the old, shape-based rule would (not) have protected."""
    for _ in range(10_000):
        value = make()
        if is_likely_secret(value) is likely:
            return value
    raise AssertionError("no such value drawn")


# Drawn as secrets.token_hex and token_urlsafe draw, from a seeded generator: the test ids
# hold the values, and every pytest-xdist worker must collect the same ones.
_RANDOM = random.Random(18)


def _token_hex(size: int) -> str:
    return _RANDOM.randbytes(size).hex()


def _token_urlsafe(size: int) -> str:
    return base64.urlsafe_b64encode(_RANDOM.randbytes(size)).rstrip(b"=").decode()


# The examples: none looks like a secret to the likely-secret rule.
LOW_ENTROPY = ["Summer2024!", "hunter2", "p@ssw0rd123", "mysupersecret", "4921", "73019384"]
DRAWN = [
    drawn(lambda: _token_hex(16), likely=False),
    drawn(lambda: _token_hex(8), likely=False),
    drawn(lambda: _token_urlsafe(16), likely=False),
]
URL = "postgres://app:Sup3rS3cret@db/app"


def redact(data: bytes, forms: list[bytes]) -> bytes:
    redactor = Redactor(forms)
    return redactor.feed(data) + redactor.flush()


@pytest.mark.parametrize("value", LOW_ENTROPY + DRAWN)
def test_every_secret_of_4_bytes_or_more_is_protected_whatever_it_looks_like(value: str) -> None:
    assert not is_likely_secret(value)  # the old rule let each of these print
    assert select_protected({"KEY": value}) == ([value], [])
    forms, short = protect({"KEY": value})
    assert short == []
    printed = f"key={value}\nhex={value.encode().hex()}\n".encode()
    assert redact(printed, forms) == b"key=" + MASK + b"\nhex=" + MASK + b"\n"
    if len(value) >= 6:  # base64 is kept from 8 characters on (docs/redaction.md section 2)
        encoded = base64.b64encode(value.encode()).rstrip(b"=")
        assert redact(encoded, forms) == MASK


def test_the_threshold_is_4_bytes_of_utf8_not_4_characters() -> None:
    values = {"FOUR": "abcd", "TWO_E": "éé", "EURO": "€", "THREE": "abc", "EMPTY": ""}
    assert MIN_SECRET == 4
    # "éé" is 2 characters but 4 bytes; "€" 3 bytes; an empty value is nothing to hide
    assert select_protected(values) == (["abcd", "éé"], ["EURO", "THREE"])


def test_short_secrets_are_named_in_their_given_order_and_plain_ones_never() -> None:
    values = {"Z": "1", "PIN": "42", "LOG": "on", "KEY": "hunter2", "A": "xyz"}
    chosen = select_protected(values, plain={"LOG"})
    assert chosen == (["hunter2"], ["Z", "PIN", "A"])


def test_a_name_of_no_known_kind_is_a_secret() -> None:
    """Only names listed as plain are plain: a server that sends no kinds fails closed."""
    values = {"PORT": "3000", "NODE_ENV": "development"}
    assert select_protected(values).values == ["development", "3000"]
    assert select_protected(values, plain={"PORT", "NODE_ENV"}) == ([], [])


def test_of_a_plain_value_only_url_passwords_are_protected_on_every_line() -> None:
    token = "sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890"
    uuid = "123e4567-e89b-12d3-a456-426614174000"
    value = f"{URL}\nredis://:c4ch3pw@cache:6379\r\n{token}\n{uuid}\n"
    assert protected_values(value, secret=False) == ["Sup3rS3cret", "c4ch3pw"]
    chosen = select_protected(
        {"CONF": value, "TOKEN": token, "ID": uuid}, plain={"CONF", "TOKEN", "ID"}
    )
    assert chosen == (["Sup3rS3cret", "c4ch3pw"], [])
    forms = protect({"DATABASE_URL": URL}, plain={"DATABASE_URL"})[0]
    assert redact(URL.encode(), forms) == b"postgres://app:" + MASK + b"@db/app"


def test_a_secret_url_is_protected_whole_and_its_password_alone() -> None:
    assert select_protected({"DATABASE_URL": URL}).values == [URL, "Sup3rS3cret"]


def test_lines_of_a_multi_line_secret_are_protected_by_the_likely_secret_rule_only() -> None:
    token = "Qx7mP2vN9kL4rT8yW1cB6hJ3sD5fG0zA"
    uuid = "123E4567-E89B-12D3-A456-426614174000"
    value = f"user: admin\npassword: hunter2\ntoken: {token}\n{uuid}\r\nurl: {URL}"
    # innocent lines (and `password: hunter2`, which the rule does not see) are not
    # protected on their own: a line of configuration would mask innocent text everywhere
    # (the token is also a part of its own: a likely-secret run, section 1 rule 5)
    assert select_protected({"CONF": value}).values == [
        value,
        f"token: {token}",
        uuid,
        token,
        "Sup3rS3cret",
    ]


def test_a_secret_with_white_space_around_it_is_also_protected_stripped() -> None:
    """A value set with a final line feed is usually printed without it."""
    assert select_protected({"KEY": "hunter2\n"}).values == ["hunter2\n", "hunter2"]
    assert select_protected({"KEY": " ab\n"}) == ([" ab\n"], [])  # stripped: under 4 bytes
    forms = protect({"KEY": "hunter2\n"})[0]
    assert redact(b"pw=hunter2.", forms) == b"pw=" + MASK + b"."


def test_show_treats_a_secret_as_plain_for_this_run() -> None:
    values = {"DB_PASSWORD": "Summer2024!", "DSN": URL, "PIN": "42", "KEY": "hunter2"}
    chosen = select_protected(values, show={"DB_PASSWORD", "DSN", "PIN"})
    # the URL password stays protected, and a shown short secret is not named
    assert chosen == (["Sup3rS3cret", "hunter2"], [])


def test_redact_protects_a_plain_or_short_value_whole_and_then_it_is_not_named() -> None:
    values = {"PORT": "3000", "PIN": "42", "NODE_ENV": "development"}
    plain = {"PORT", "NODE_ENV"}
    assert select_protected(values, plain=plain) == ([], ["PIN"])
    assert select_protected(values, plain=plain, redact={"PORT", "PIN"}) == (["3000", "42"], [])


def test_redact_wins_over_show() -> None:
    """`sigillo run` refuses both for one name; the selection still fails closed."""
    values = {"DB_PASSWORD": "Summer2024!"}
    both = {"DB_PASSWORD"}
    assert select_protected(values, show=both, redact=both).values == ["Summer2024!"]


def test_redact_all_treats_every_value_as_a_secret_but_an_explicit_show() -> None:
    values = {"PORT": "3000", "NODE_ENV": "development", "DB": "Summer2024!", "ON": "on"}
    plain = {"PORT", "NODE_ENV", "ON"}
    chosen = select_protected(values, plain=plain, redact_all=True)
    assert chosen == (["development", "Summer2024!", "3000"], [])  # a short plain: unnamed
    exempt = select_protected(values, plain=plain, redact_all=True, show={"DB", "PORT"})
    assert exempt == (["development"], [])


def test_the_public_names_are_those_documented() -> None:
    assert sorted(protected.__all__) == protected.__all__
    assert all(hasattr(protected, name) for name in protected.__all__)
    assert "MIN_REDACT_ALL" not in protected.__all__
    assert protected.Selection._fields == ("values", "short")
