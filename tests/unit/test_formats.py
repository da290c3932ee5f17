"""Download formats (behaviour.md 7): every body byte for byte, content types, dotnet-json."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigillo.domain.errors import FormatConflict, InvalidInput
from sigillo.domain.formats import (
    DOWNLOAD_FORMATS,
    FORMATS,
    MOUNT_FORMATS,
    Rendered,
    dotnet_json_path,
    render,
    render_with_kinds,
)

# 7.2, in this order.
WORKED_EXAMPLE = [
    ("PLAIN", "localhost"),
    ("QUOTED", 'say "hi"'),
    ("SINGLE", "it's"),
    ("MULTI", "line1\nline2"),
    ("DOLLAR", "pa$$word${HOME}"),
    ("BACKSLASH", "C:\\path\\n"),
    ("TAB_CR", "a\tb\rc"),
    ("UNICODE", "héllo 🔐"),
    ("EMPTY", ""),
    ("DB__HOST", "Server=localhost"),
    ("DATABASE_URL", "postgres://x"),
]

# "héllo 🔐" in UTF-8 is h \xc3\xa9 llo SPACE \xf0\x9f\x94\x90.
EXPECTED = {
    "env": (
        b'PLAIN="localhost"\n'
        b'QUOTED="say \\"hi\\""\n'
        b'SINGLE="it\'s"\n'
        b'MULTI="line1\\nline2"\n'
        b'DOLLAR="pa$$word${HOME}"\n'
        b'BACKSLASH="C:\\\\path\\\\n"\n'
        b'TAB_CR="a\\tb\\rc"\n'
        b'UNICODE="h\xc3\xa9llo \xf0\x9f\x94\x90"\n'
        b'EMPTY=""\n'
        b'DB__HOST="Server=localhost"\n'
        b'DATABASE_URL="postgres://x"\n'
    ),
    "env-no-quotes": (
        b"PLAIN=localhost\n"
        b'QUOTED=say "hi"\n'
        b"SINGLE=it's\n"
        b"MULTI=line1\n"
        b"line2\n"
        b"DOLLAR=pa$$word${HOME}\n"
        b"BACKSLASH=C:\\path\\n\n"
        b"TAB_CR=a\tb\rc\n"
        b"UNICODE=h\xc3\xa9llo \xf0\x9f\x94\x90\n"
        b"EMPTY=\n"
        b"DB__HOST=Server=localhost\n"
        b"DATABASE_URL=postgres://x\n"
    ),
    "docker": (
        b"PLAIN=localhost\n"
        b'QUOTED=say "hi"\n'
        b"SINGLE=it's\n"
        b"MULTI=line1\\nline2\n"
        b"DOLLAR=pa$$word${HOME}\n"
        b"BACKSLASH=C:\\path\\n\n"
        b"TAB_CR=a\tb\rc\n"
        b"UNICODE=h\xc3\xa9llo \xf0\x9f\x94\x90\n"
        b"EMPTY=\n"
        b"DB__HOST=Server=localhost\n"
        b"DATABASE_URL=postgres://x\n"
    ),
    "yaml": (
        b'PLAIN: "localhost"\n'
        b'QUOTED: "say \\"hi\\""\n'
        b'SINGLE: "it\'s"\n'
        b'MULTI: "line1\\nline2"\n'
        b'DOLLAR: "pa$$word${HOME}"\n'
        b'BACKSLASH: "C:\\\\path\\\\n"\n'
        b'TAB_CR: "a\\tb\\rc"\n'
        b'UNICODE: "h\xc3\xa9llo \xf0\x9f\x94\x90"\n'
        b'EMPTY: ""\n'
        b'DB__HOST: "Server=localhost"\n'
        b'DATABASE_URL: "postgres://x"\n'
    ),
    "json": (
        b'{"PLAIN":"localhost","QUOTED":"say \\"hi\\"","SINGLE":"it\'s",'
        b'"MULTI":"line1\\nline2","DOLLAR":"pa$$word${HOME}","BACKSLASH":"C:\\\\path\\\\n",'
        b'"TAB_CR":"a\\tb\\rc","UNICODE":"h\xc3\xa9llo \xf0\x9f\x94\x90","EMPTY":"",'
        b'"DB__HOST":"Server=localhost","DATABASE_URL":"postgres://x"}'
    ),
    "xargs": (
        b"PLAIN\x00localhost\x00"
        b'QUOTED\x00say "hi"\x00'
        b"SINGLE\x00it's\x00"
        b"MULTI\x00line1\nline2\x00"
        b"DOLLAR\x00pa$$word${HOME}\x00"
        b"BACKSLASH\x00C:\\path\\n\x00"
        b"TAB_CR\x00a\tb\rc\x00"
        b"UNICODE\x00h\xc3\xa9llo \xf0\x9f\x94\x90\x00"
        b"EMPTY\x00\x00"
        b"DB__HOST\x00Server=localhost\x00"
        b"DATABASE_URL\x00postgres://x\x00"
    ),
    "dotnet-json": (
        b"{\n"
        b'  "Plain": "localhost",\n'
        b'  "Quoted": "say \\"hi\\"",\n'
        b'  "Single": "it\'s",\n'
        b'  "Multi": "line1\\nline2",\n'
        b'  "Dollar": "pa$$word${HOME}",\n'
        b'  "Backslash": "C:\\\\path\\\\n",\n'
        b'  "TabCr": "a\\tb\\rc",\n'
        b'  "Unicode": "h\xc3\xa9llo \xf0\x9f\x94\x90",\n'
        b'  "Empty": "",\n'
        b'  "Db": {\n'
        b'    "Host": "Server=localhost"\n'
        b"  },\n"
        b'  "DatabaseUrl": "postgres://x"\n'
        b"}\n"
    ),
}

CONTENT_TYPES = {
    "json": "application/json",
    "env": "text/plain; charset=utf-8",
    "env-no-quotes": "text/plain; charset=utf-8",
    "xargs": "application/octet-stream",
    "yaml": "text/yaml; charset=utf-8",
    "docker": "text/plain; charset=utf-8",
    "dotnet-json": "application/json; charset=utf-8",
}


def test_formats_in_the_documented_order() -> None:
    assert FORMATS == ("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json")
    assert MOUNT_FORMATS == ("json", "env", "env-no-quotes", "yaml", "docker", "dotnet-json")
    assert DOWNLOAD_FORMATS[:-1] == FORMATS
    assert DOWNLOAD_FORMATS[-1] == "json-kinds"
    assert set(EXPECTED) == set(FORMATS)


def test_json_kinds_holds_each_value_with_its_kind_in_order() -> None:
    """[D18] Strings are written as `json` writes them, so both read back the same values."""
    triples = [
        (name, value, "plain" if name == "PORT" else "secret")
        for name, value in [
            ("PORT", "3000"),
            *WORKED_EXAMPLE,
        ]
    ]
    rendered = render_with_kinds(triples)
    assert rendered.content_type == "application/json"
    document = json.loads(rendered.body)
    assert list(document) == [name for name, _, _ in triples]
    assert document == {name: {"value": value, "kind": kind} for name, value, kind in triples}
    for _, value, _ in triples:
        assert f'"value":{json.dumps(value, ensure_ascii=False)}' in rendered.body.decode()
    assert render_with_kinds([]).body == b"{}"
    with pytest.raises(InvalidInput):
        render("json-kinds", [("A", "1")])  # it needs the kinds: render_with_kinds


@pytest.mark.parametrize("format", FORMATS)
def test_worked_example_byte_for_byte(format: str) -> None:
    rendered = render(format, WORKED_EXAMPLE)
    assert rendered == Rendered(body=EXPECTED[format], content_type=CONTENT_TYPES[format])


def test_the_utf8_spelling_used_above() -> None:
    assert "héllo 🔐".encode() == b"h\xc3\xa9llo \xf0\x9f\x94\x90"


def test_rendered_is_frozen() -> None:
    rendered = render("json", [])
    with pytest.raises(AttributeError):
        rendered.body = b"x"
    assert msgspec.structs.asdict(rendered) == {"body": b"{}", "content_type": "application/json"}


@pytest.mark.parametrize(
    ("format", "body"),
    [
        ("json", b'{"DB_HOST":"localhost","DB_PORT":"5432"}'),
        ("env", b'DB_HOST="localhost"\nDB_PORT="5432"\n'),
        ("env-no-quotes", b"DB_HOST=localhost\nDB_PORT=5432\n"),
        ("yaml", b'DB_HOST: "localhost"\nDB_PORT: "5432"\n'),
        ("docker", b"DB_HOST=localhost\nDB_PORT=5432\n"),
        ("xargs", b"DB_HOST\x00localhost\x00DB_PORT\x005432\x00"),
        ("dotnet-json", b'{\n  "DbHost": "localhost",\n  "DbPort": "5432"\n}\n'),
    ],
)
def test_small_fixture(format: str, body: bytes) -> None:
    assert render(format, [("DB_HOST", "localhost"), ("DB_PORT", "5432")]).body == body


def test_env_no_quotes_fixture_has_no_quote_anywhere() -> None:
    body = render("env-no-quotes", [("DB_HOST", "localhost"), ("DB_PORT", "5432")]).body
    assert b'"' not in body


@pytest.mark.parametrize(
    ("format", "body"),
    [
        ("json", b"{}"),
        ("env", b"\n"),
        ("env-no-quotes", b"\n"),
        ("yaml", b"\n"),
        ("docker", b"\n"),
        ("xargs", b""),
        ("dotnet-json", b"{}\n"),
    ],
)
def test_empty_environment(format: str, body: bytes) -> None:
    assert render(format, []) == Rendered(body=body, content_type=CONTENT_TYPES[format])


@pytest.mark.parametrize("format", ["JSON", "", "dotenv", "env ", "xml", "dotnet_json"])
def test_unknown_format_is_invalid_input(format: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        render(format, [("A", "1")])
    assert raised.value.field == "format"
    assert raised.value.message == (
        "must be one of json, env, env-no-quotes, xargs, yaml, docker, dotnet-json"
    )


# --- "the value as a JSON string" (7.1) ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ('"', b'"\\""'),
        ("\\", b'"\\\\"'),
        ("\n", b'"\\n"'),
        ("\r", b'"\\r"'),
        ("\t", b'"\\t"'),
        ("\b", b'"\\b"'),
        ("\f", b'"\\f"'),
        ("\x01", b'"\\u0001"'),
        ("\x0b", b'"\\u000b"'),
        ("\x1b", b'"\\u001b"'),
        ("\x1f", b'"\\u001f"'),
        ("/", b'"/"'),
        ("$", b'"$"'),
        ("'", b'"\'"'),
        ("`", b'"`"'),
        ("\x7f", b'"\x7f"'),
        ("\x85", b'"\xc2\x85"'),
        ("\u2028", b'"\xe2\x80\xa8"'),
        ("\u2029", b'"\xe2\x80\xa9"'),
        ("\u00e9", b'"\xc3\xa9"'),
        ("\ufeff", b'"\xef\xbb\xbf"'),
    ],
)
def test_json_string_escapes(value: str, quoted: bytes) -> None:
    assert render("env", [("K", value)]).body == b"K=" + quoted + b"\n"
    assert render("yaml", [("K", value)]).body == b"K: " + quoted + b"\n"
    assert render("json", [("K", value)]).body == b'{"K":' + quoted + b"}"


def _reference_json_string(value: str) -> str:
    """7.1's rule written out independently of the json module."""
    short = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    short |= {"\b": "\\b", "\f": "\\f"}
    return (
        '"'
        + "".join(
            short.get(char, f"\\u{ord(char):04x}" if ord(char) < 0x20 else char) for char in value
        )
        + '"'
    )


def test_json_string_rule_for_every_code_point_below_u3000() -> None:
    chars = [chr(code) for code in range(1, 0x3000) if not 0xD800 <= code <= 0xDFFF]
    names = [f"K{index}" for index in range(len(chars))]
    body = render("env", list(zip(names, chars, strict=True))).body
    expected = "".join(
        f"{name}={_reference_json_string(char)}\n" for name, char in zip(names, chars, strict=True)
    )
    assert body == expected.encode()


def test_docker_only_rewrites_line_feeds() -> None:
    value = 'a\nb\r\nc\\n"d"\te$'
    assert render("docker", [("K", value)]).body == b'K=a\\nb\r\\nc\\n"d"\te$\n'


def test_xargs_has_no_newline() -> None:
    assert render("xargs", [("A", "1\n")]).body == b"A\x001\n\x00"


# --- dotnet-json (7.3) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tree"),
    [
        ("DATABASE_URL", {"DatabaseUrl": "v"}),
        ("DB__HOST", {"Db": {"Host": "v"}}),
        ("LOG__LEVEL__DEFAULT", {"Log": {"Level": {"Default": "v"}}}),
        ("API_KEY_2", {"ApiKey_2": "v"}),
        ("A___B", {"A": {"B": "v"}}),
        ("MY__API_KEY", {"My": {"ApiKey": "v"}}),
        ("_PRIVATE", {"Private": "v"}),
    ],
)
def test_dotnet_json_key_examples(name: str, tree: dict[str, object]) -> None:
    body = render("dotnet-json", [(name, "v")]).body
    assert json.loads(body) == tree
    assert body == (json.dumps(tree, indent=2) + "\n").encode()


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("DATABASE_URL", ["DatabaseUrl"]),
        ("A___B", ["A", "B"]),
        ("a_b_c", ["ABC"]),
        ("X_", ["X_"]),
        ("X_1Y", ["X_1y"]),
        ("_1", ["_1"]),
        ("ALREADY", ["Already"]),
        ("mIxEd_CaSe", ["MixedCase"]),
        ("A____B", ["A", "", "B"]),
        ("_", ["_"]),
        ("__", ["", ""]),
    ],
)
def test_dotnet_json_path(name: str, path: list[str]) -> None:
    assert dotnet_json_path(name) == path


def test_dotnet_json_nested_bytes() -> None:
    body = render("dotnet-json", [("LOG__LEVEL__DEFAULT", "info"), ("LOG__FILE", "x.log")]).body
    assert body == (
        b"{\n"
        b'  "Log": {\n'
        b'    "Level": {\n'
        b'      "Default": "info"\n'
        b"    },\n"
        b'    "File": "x.log"\n'
        b"  }\n"
        b"}\n"
    )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["A", "A__B"], "dotnet-json format conflict: A__B overlaps with an existing scalar key"),
        (["A__B", "A"], "dotnet-json format conflict: A overlaps with an existing object key"),
        (
            ["A__B", "a__b__c"],
            "dotnet-json format conflict: a__b__c overlaps with an existing scalar key",
        ),
        (
            ["A__B__C", "a__B"],
            "dotnet-json format conflict: a__B overlaps with an existing object key",
        ),
        (
            ["X", "DB", "db__host"],
            "dotnet-json format conflict: db__host overlaps with an existing scalar key",
        ),
    ],
)
def test_dotnet_json_conflicts(names: list[str], message: str) -> None:
    with pytest.raises(FormatConflict) as raised:
        render("dotnet-json", [(name, "secret-value") for name in names])
    assert str(raised.value) == message
    assert "secret-value" not in str(raised.value)


def test_other_formats_do_not_care_about_dotnet_conflicts() -> None:
    assert render("json", [("A", "1"), ("A__B", "2")]).body == b'{"A":"1","A__B":"2"}'


def test_dotnet_json_same_leaf_later_value_wins_in_place() -> None:
    pairs = [("db_host", "first"), ("OTHER", "o"), ("DB_HOST", "second")]
    assert render("dotnet-json", pairs).body == (b'{\n  "DbHost": "second",\n  "Other": "o"\n}\n')


def test_dotnet_json_names_sharing_a_parent_merge() -> None:
    pairs = [("DB__HOST", "h"), ("APP", "a"), ("db__port", "5432")]
    assert json.loads(render("dotnet-json", pairs).body) == {
        "Db": {"Host": "h", "Port": "5432"},
        "App": "a",
    }


# --- properties ------------------------------------------------------------------------------

_NAME_START = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
# Valid secret names ([D13]); built from parts because from_regex is several times slower.
NAMES = st.builds(
    str.__add__, st.sampled_from(_NAME_START), st.text(_NAME_START + "0123456789", max_size=30)
)
VALUES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=60,
)
PAIRS = st.lists(st.tuples(NAMES, VALUES), unique_by=lambda pair: pair[0], max_size=12)


@given(PAIRS)
def test_json_parses_back_to_the_same_ordered_mapping(pairs: list[tuple[str, str]]) -> None:
    body = render("json", pairs).body
    assert list(json.loads(body).items()) == pairs
    assert b"\n" not in body


@given(PAIRS)
def test_xargs_splits_back_into_the_pairs(pairs: list[tuple[str, str]]) -> None:
    fields = render("xargs", pairs).body.decode().split("\0")
    assert fields.pop() == ""
    assert list(zip(fields[::2], fields[1::2], strict=True)) == pairs
