"""The parts of compound secret values and the quoted forms of every protected value
(docs/redaction.md section 1 rule 5, section 2): issue 12, items 1 and 3.

A program that parses a secret and prints a piece of it, or prints it quoted by a shell, by
Python or by Node, must show the mask. Each test here fails with the selection and forms of
before the issue (only whole values and likely-secret lines; base64, hex, percent and JSON
forms). End to end, with real children: tests/cli/test_run_forms.py; properties over random
values: tests/cli/test_forms_properties.py.
"""

from __future__ import annotations

import base64
import json
import random
import shlex
import string
import time
from urllib.parse import quote, quote_plus

import pytest

from sigillo.cli.run.protected import (
    MAX_PARTS,
    MIN_DERIVED_FORM,
    PART_DEPTH,
    is_likely_secret,
    protect,
    protected_forms,
    protected_values,
    secret_parts,
    select_protected,
)
from sigillo.cli.run.redaction import MASK, Redactor

M = MASK.decode()
TOKEN = "sk_live_51QwertyUIOPasdfGHJKLzxcvbnm1234567890"
_RANDOM = random.Random(12)  # seeded: test ids and values are the same on every worker


def _key_lines(count: int) -> list[str]:
    alphabet = string.ascii_letters + string.digits + "+/"
    return ["".join(_RANDOM.choices(alphabet, k=64)) for _ in range(count)]


KEY_LINES = _key_lines(4)
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n" + "\n".join(KEY_LINES) + "\n-----END PRIVATE KEY-----\n"
)
SERVICE_ACCOUNT = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-prod-4711",
        "private_key_id": "3f9c2b6a1d4e7f0a3c5b8d1e4f7a9b2c6d8e0f1a",
        "private_key": PRIVATE_KEY,
        "client_email": "ci@acme-prod-4711.iam.gserviceaccount.com",
        "client_id": "104729384756102938475",
        "token_uri": "https://oauth2.googleapis.com/token",
    },
    indent=2,
)


def redact(text: str | bytes, forms: list[bytes]) -> str:
    data = text.encode() if isinstance(text, str) else text
    redactor = Redactor(forms)
    return (redactor.feed(data) + redactor.flush()).decode("utf-8", "replace")


def forms_of(value: str) -> list[bytes]:
    forms, short = protect({"S": value})
    assert short == []
    return forms


# ---------------------------------------------------------------- JSON values


def test_each_string_of_a_json_secret_is_a_part_at_any_depth_but_not_keys_or_numbers() -> None:
    value = json.dumps(
        {
            "api_key": "k3y-Pa$$w0rd",
            "nested": {
                "list": ["alpha-one", 5432, 12345678, True, None, "ab"],
                "deep": {"x": "zeta"},
            },
            "port": 5432,
        }
    )
    assert secret_parts(value) == ["k3y-Pa$$w0rd", "alpha-one", "zeta"]
    values = select_protected({"CONFIG": value}).values
    # keys are field names, numbers, booleans and null are not strings: none is protected
    assert not {"api_key", "nested", "list", "deep", "5432", "12345678", "true"} & set(values)
    forms = forms_of(value)
    assert redact("key=k3y-Pa$$w0rd; l=alpha-one; zeta; ab 5432", forms) == (
        f"key={M}; l={M}; {M}; ab 5432"
    )


def test_a_json_string_value_gives_the_text_it_quotes() -> None:
    assert secret_parts('  "hunter2-Pa$$"\n') == ["hunter2-Pa$$"]
    assert redact("hunter2-Pa$$", forms_of('"hunter2-Pa$$"')) == M


def test_text_that_is_not_json_is_read_with_the_text_rules() -> None:
    assert secret_parts('{"api_key": "k3y-Pa$$w0rd"') == []  # not JSON, nothing else
    assert secret_parts("[1, 2, 3]") == []


def test_a_service_account_key_printed_parsed_or_with_repr_is_masked() -> None:
    parsed = json.loads(SERVICE_ACCOUNT)
    forms = forms_of(SERVICE_ACCOUNT)
    assert PRIVATE_KEY in secret_parts(SERVICE_ACCOUNT)
    assert redact(parsed["private_key"], forms) == M
    assert redact(repr(parsed["private_key"]), forms) == f"'{M}'"
    assert redact(json.dumps(parsed["private_key"]), forms) == f'"{M}"'
    # line by line, as the lines of a secret of its own (rule 4)
    printed = "".join(f"> {line}\n" for line in PRIVATE_KEY.splitlines())
    masked = [f"> {M}\n"] * len(KEY_LINES)
    expected = ["> -----BEGIN PRIVATE KEY-----\n", *masked, "> -----END PRIVATE KEY-----\n"]
    assert redact(printed, forms) == "".join(expected)
    assert redact(parsed["private_key_id"], forms) == M
    assert redact(parsed["client_email"], forms) == M  # a string of a secret: a secret


# ---------------------------------------------------------------- KEY=VALUE blobs

DOTENV = """\
# the production settings
export DB_USER=app-admin
DB_PASSWORD='Pa$$ w0rd!'
API_TOKEN="tok\\"en-2024\\n"
REGION = eu-west-1   # a comment
LOG=on
MULTI="first line
second-line-Xy9"
EMPTY=
"""


def test_each_value_of_a_dotenv_blob_is_a_part() -> None:
    assert secret_parts(DOTENV) == [
        "app-admin",
        "Pa$$ w0rd!",
        'tok\\"en-2024\\n',  # as written between the quotes
        'tok"en-2024\n',  # and decoded
        "eu-west-1   # a comment",
        "eu-west-1",
        "first line\nsecond-line-Xy9",
    ]  # not `on`: 2 bytes, as short as a secret that is not protected
    assert 'tok"en-2024' in protected_values(DOTENV)  # a part without white space
    forms = forms_of(DOTENV)
    printed = 'app-admin Pa$$ w0rd! tok"en-2024 eu-west-1 first line\nsecond-line-Xy9\n'
    assert redact(printed, forms) == f"{M} {M} {M} {M} {M}\n"


def test_a_single_key_value_line_and_the_project_export_format() -> None:
    assert secret_parts("password=hunter2-x") == ["hunter2-x"]
    exported = 'DB_URL="postgres://app:S3cr3t-pw@db/app"\nNOTE="say \\"hi\\""\n'
    assert secret_parts(exported)[:3] == [
        "postgres://app:S3cr3t-pw@db/app",
        'say \\"hi\\"',
        'say "hi"',
    ]


def test_yaml_like_lines_are_not_key_value_lines() -> None:
    """`key: value` is YAML, not dotenv: its values are parts only by the run rule."""
    assert secret_parts("user: admin\npassword: hunter2-x\n") == []


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("value", "credential"),
    [
        ("Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig-Xy9", "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig-Xy9"),
        ("Authorization: bearer abc123-def", "abc123-def"),
        ("authorization: TOKEN ghp_shortish", "ghp_shortish"),
        ('{"headers": "Token  t0k3n;x"}', "t0k3n"),
    ],
)
def test_the_credential_after_bearer_basic_or_token_is_a_part(value: str, credential: str) -> None:
    assert credential in secret_parts(value)
    assert redact(f"[{credential}]", forms_of(value)) == f"[{M}]"


def test_a_basic_credential_is_also_protected_decoded_and_its_password_alone() -> None:
    encoded = base64.b64encode(b"deploy:Pa$$w0rd-9").decode()
    value = f"Authorization: Basic {encoded}"
    assert secret_parts(value)[:3] == [encoded, "deploy:Pa$$w0rd-9", "Pa$$w0rd-9"]
    assert (
        redact("user deploy, password Pa$$w0rd-9", forms_of(value)) == f"user deploy, password {M}"
    )


def test_a_short_word_after_token_is_not_protected() -> None:
    assert secret_parts("the token is expired") == []  # `is`: under 4 bytes


# ---------------------------------------------------------------- runs


def test_likely_secret_runs_inside_a_secret_are_parts() -> None:
    key = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg=="
    value = f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key};EndpointSuffix=core"
    parts = secret_parts(value)
    assert f"AccountKey={key}" in parts  # the run of letters, digits and +/=_.~-
    assert key in parts  # and its piece after the inner `=`
    assert redact(key, forms_of(value)) == M
    sentence = f"use {TOKEN} for the live account"
    assert secret_parts(sentence) == [TOKEN]
    assert redact(f"token={TOKEN}", forms_of(sentence)) == f"token={M}"


@pytest.mark.parametrize(
    "text",
    [
        "see aaaaaaaaaaaaaaaaaaaaaaaa here",  # 24 characters, entropy 0
        "see aabbccddeeffgghh here",  # 16 characters, entropy 3.0
        "see Qx7mP2vN9kL4rT8 here",  # 15 characters
        "see https://example.com/a/long/path/of/words here",  # no run of 16 letters/digits
    ],
)
def test_runs_that_are_not_likely_secrets_are_not_parts(text: str) -> None:
    assert secret_parts(text) == []


def test_the_run_rule_is_the_likely_secret_rule_of_section_1() -> None:
    run = "//hooks.example.com/services/T0/B0/Qx7mP2vN9kL4rT8yW1cB6hJ3"
    assert is_likely_secret(run)
    assert secret_parts(f"url https:{run}") == [run]


# ---------------------------------------------------------------- rules around parts


def test_parts_of_plain_values_are_not_protected() -> None:
    values = {
        "CONFIG": '{"api_key": "k3y-Pa$$w0rd"}',
        "ENV": "API_KEY=hunter2-x",
        "H": "Bearer abcdefgh",
    }
    assert select_protected(values, plain=set(values)) == ([], [])


def test_a_part_is_a_secret_of_its_own_whitespace_lines_and_urls_included() -> None:
    value = json.dumps(
        {"dsn": "postgres://app:Sup3rS3cret@db/app", "pem": PRIVATE_KEY, "pw": " hunter2-x\n"}
    )
    values = protected_values(value)
    assert "Sup3rS3cret" in values  # the URL password of a part
    assert all(line in values for line in KEY_LINES)  # the likely lines of a part
    assert "hunter2-x" in values  # a part without its white space


def test_parts_of_parts_are_found_to_a_bounded_depth() -> None:
    inner = json.dumps({"private_key": "k3y-Pa$$w0rd"})
    value = f"GOOGLE_CREDENTIALS='{inner}'\nOTHER=x"
    assert secret_parts(value)[:2] == [inner, "k3y-Pa$$w0rd"]
    nested = "k3y-Pa$$w0rd"
    for _ in range(PART_DEPTH):
        nested = json.dumps([json.dumps([nested])])  # two levels each time
    assert "k3y-Pa$$w0rd" not in secret_parts(nested)


def test_parts_are_capped_likely_secrets_first_then_the_longest() -> None:
    tokens = {
        f"t{i}": "".join(_RANDOM.choices(string.ascii_letters + string.digits, k=24))
        for i in range(40)
    }
    names = {f"n{i}": f"service-name-number-{i:04}-of-the-fleet" for i in range(2 * MAX_PARTS)}
    value = json.dumps({**names, **tokens})
    parts = secret_parts(value)
    assert len(parts) == MAX_PARTS
    assert set(tokens.values()) <= set(parts)  # shorter, but likely secrets: kept first
    assert parts == secret_parts(value)  # deterministic
    kept_names = [part for part in parts if part.startswith("service")]
    assert kept_names == sorted(kept_names)  # in the order found


def test_a_64_kib_json_secret_stays_a_bounded_start_up_cost() -> None:
    alphabet = string.ascii_letters + string.digits
    entries: dict[str, dict[str, str]] = {}
    while len(value := json.dumps(entries)) < 64 * 1024:
        token = "".join(_RANDOM.choices(alphabet, k=24))
        entries[f"svc{len(entries)}"] = {"name": f"service-{len(entries)}", "token": token}
    started = time.perf_counter()
    forms, _ = protect({"BIG": value})
    elapsed = time.perf_counter() - started
    # the whole value, at most MAX_PARTS parts, each with its forms (~10-30): not thousands
    # of values, and built well under a second even on a busy two-core machine
    assert len(select_protected({"BIG": value}).values) <= MAX_PARTS + 2
    assert len(forms) < 40 * (MAX_PARTS + 2)
    assert elapsed < 2.0


# ---------------------------------------------------------------- quoted forms

ODD = 'Pa$$w0rd\'2024 "q" \\ é€'  # quotes, $, a backslash, spaces, non-ASCII


def test_the_quoted_forms_of_a_value() -> None:
    forms = set(protected_forms(ODD))
    expected = {
        "Pa$$w0rd'\\''2024 \"q\" \\ é€",  # bash -x, ${x@Q}
        'Pa$$w0rd\'"\'"\'2024 "q" \\ é€',  # shlex.quote
        'Pa\\$\\$w0rd\'2024 \\"q\\" \\\\ é€',  # declare -p
        'Pa\\$\\$w0rd\\\'2024\\ \\"q\\"\\ \\\\\\ é€',  # printf %q
        'Pa$$w0rd\\\'2024 "q" \\\\ é€',  # repr, Node's util.inspect
        'Pa$$w0rd\'2024 \\"q\\" \\\\ é€',  # repr with ", JSON
        'Pa$$w0rd\\\'2024 "q" \\\\ \\xe9\\u20ac',  # ascii
        'Pa$$w0rd\\\'2024 "q" \\\\ \\xc3\\xa9\\xe2\\x82\\xac',  # repr of the bytes
        'Pa$$w0rd\'2024 \\"q\\" \\\\ \\u00E9\\u20AC',  # JSON, upper-case hex
        'Pa$$w0rd\'2024 \\"q\\" \\\\ \\u00e9\\u20ac',  # JSON, ensure_ascii
        "Pa%24%24w0rd%272024+%22q%22+%5C+%C3%A9%E2%82%AC",  # quote_plus
        "$'Pa$$w0rd\\'2024 \"q\" \\\\ \\303\\251\\342\\202\\254'"[2:-1],  # printf %q, C locale
    }
    assert {form.encode() for form in expected} <= forms


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("Pa$$w0rd'2024", shlex.quote("Pa$$w0rd'2024")),
        ("Pa$$w0rd'2024", "'Pa$$w0rd'\\''2024'"),  # bash -x
        ('C:\\Users\\it\'s "key"', repr('C:\\Users\\it\'s "key"')),
        ("naïve-clé-secrète", ascii("naïve-clé-secrète")),
        ("naïve-clé-secrète", repr("naïve-clé-secrète".encode())),
        ("a/b/c/d/e/f", json.dumps("a/b/c/d/e/f").replace("/", "\\/")),
        ("é/" + TOKEN, json.dumps("é/" + TOKEN).replace("/", "\\/")),
        ("é " + TOKEN, json.dumps("é " + TOKEN).replace("\\u00e9", "\\u00E9")),
        ("a b " + TOKEN, quote_plus("a b " + TOKEN)),
        ("path/to/sécret", quote("path/to/sécret")),  # safe='/'
        ("tab\there\x1b'x", "$'tab\\there\\E\\'x'"),  # printf %q, declare -p: controls
        ("it's ok", "'it''s ok'"),  # SQL, YAML
        ('say "hi" now', '"say ""hi"" now"'),  # CSV
    ],
)
def test_quoted_forms_are_masked(value: str, encoded: str) -> None:
    output = redact(f"<{encoded}>", forms_of(value))
    assert M in output
    assert value not in output


def test_a_quoted_form_keeps_its_quotes_when_it_is_short_without_them() -> None:
    value = "ab\\cd"  # 5 bytes; repr: 'ab\\\\cd', 6 bytes inside the quotes, 8 with them
    assert b"'ab\\\\cd'" in protected_forms(value)
    assert b"ab\\\\cd" not in protected_forms(value)
    assert redact(f"x={value!r}", forms_of(value)) == f"x={M}"


def test_every_quoted_form_is_8_bytes_or_more_and_differs_from_the_value() -> None:
    for value in [ODD, "tab\there", "ab\\cd", "é'\"`$", "abcd"]:
        raw = value.encode()
        assert all(len(f) >= MIN_DERIVED_FORM for f in protected_forms(value) if f != raw)


def test_a_value_no_quoting_changes_gets_no_quoted_form() -> None:
    forms = protected_forms("Qx7mP2vN9kL4rT8y-_.+=@%:")
    assert not [form for form in forms if b"\\" in form or b"'" in form or b'"' in form]
    raw = b"Qx7mP2vN9kL4rT8y-_.+=@%:"
    assert {raw, raw.hex().encode(), quote(raw, safe="").encode()} <= set(forms)


# ---------------------------------------------------------------- what stays uncovered (pinned)


def test_printf_q_of_a_short_value_is_not_masked() -> None:
    """printf %q writes no quotes: its form of a 4-7 byte value is under 8 bytes and not kept."""
    value = "a\"b'c"
    printed = "a\\\"b\\'c"  # bash's printf %q
    assert redact(printed, forms_of(value)) == printed


NOTES = "first: not a likely secret\nsecond: neither, but it is long"


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        # JavaScript's encodeURIComponent leaves ' ( ) * ! unescaped
        ("Pa$$w0rd'2024", quote("Pa$$w0rd'2024", safe="'()*!")),
        # YAML double-quoted with \xE9, as PyYAML writes non-ASCII without allow_unicode
        ("naïve: clé", '"na\\xEFve: cl\\xE9"'),
        # a connection string's short password, not a KEY=VALUE line of its own
        ("Server=db;Password=hunter2;", "hunter2"),
        # quoted twice: repr of a repr (and so bash -x tracing "${x@Q}")
        (ODD, repr(repr(ODD))),
        # Node's util.inspect of a long multi-line string: one quoted piece per line, and
        # lines that are not likely secrets are not protected on their own
        (NOTES, "'first: not a likely secret\\n' +\n  'second: neither, but it is long'"),
        # not UTF-8 (a lone surrogate in the value), printed with U+FFFD instead
        ("k3y\udcc3-secret-x", "k3y\ufffd-secret-x"),
    ],
)
def test_quotings_and_parts_outside_the_documented_set_are_not_masked(
    value: str, printed: str
) -> None:
    assert redact(printed, forms_of(value)) == printed
