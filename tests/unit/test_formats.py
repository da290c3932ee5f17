"""Download formats (behaviour.md 7): every body byte for byte, content types, dotnet-json.

The bytes pinned here are the reference's except where [D19] changed them because a
consumer read them back wrong: `env` quotes each value in the form every .env reader
agrees on, `yaml` escapes what PyYAML refuses and quotes names YAML reads as booleans,
`dotnet-json` refuses names .NET cannot tell apart, and `shell` is new. That the consumers
do read them back is for tests/consumers (the real parsers)."""

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
    disagreements,
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
        b"QUOTED='say \"hi\"'\n"  # [D19] Node's dotenv reads an escaped quote as two characters
        b'SINGLE="it\'s"\n'
        b'MULTI="line1\\nline2"\n'
        b'DOLLAR="pa$$word${HOME}"\n'
        b"BACKSLASH='C:\\path\\n'\n"  # [D19] Node's dotenv would read a line feed
        b'TAB_CR="a\tb\\rc"\n'  # [D19] a raw TAB: Node's dotenv decodes no TAB escape
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
    "shell": (
        b"export PLAIN='localhost'\n"
        b"export QUOTED='say \"hi\"'\n"
        b"export SINGLE='it'\\''s'\n"
        b"export MULTI='line1\nline2'\n"
        b"export DOLLAR='pa$$word${HOME}'\n"
        b"export BACKSLASH='C:\\path\\n'\n"
        b"export TAB_CR='a\tb\rc'\n"
        b"export UNICODE='h\xc3\xa9llo \xf0\x9f\x94\x90'\n"
        b"export EMPTY=''\n"
        b"export DB__HOST='Server=localhost'\n"
        b"export DATABASE_URL='postgres://x'\n"
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
    "shell": "text/plain; charset=utf-8",
}


def test_formats_in_the_documented_order() -> None:
    assert FORMATS[:7] == ("json", "env", "env-no-quotes", "xargs", "yaml", "docker", "dotnet-json")
    assert FORMATS[7:] == ("shell",)
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
        ("shell", b"export DB_HOST='localhost'\nexport DB_PORT='5432'\n"),
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
        ("yaml", b"\n"),  # an empty document: null to PyYAML and yaml
        ("docker", b"\n"),
        ("xargs", b""),
        ("dotnet-json", b"{}\n"),
        ("shell", b"\n"),
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
        "must be one of json, env, env-no-quotes, xargs, yaml, docker, dotnet-json, shell"
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
    assert render("json", [("K", value)]).body == b'{"K":' + quoted + b"}"
    assert render("dotnet-json", [("K", value)]).body == b'{\n  "K": ' + quoted + b"\n}\n"
    if value not in YAML_ESCAPED:
        assert render("yaml", [("K", value)]).body == b"K: " + quoted + b"\n"


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
    body = render("json", list(zip(names, chars, strict=True))).body
    members = (
        f'"{name}":{_reference_json_string(char)}' for name, char in zip(names, chars, strict=True)
    )
    assert body == ("{" + ",".join(members) + "}").encode()


# --- env [D19]: the form every .env reader agrees on ---------------------------------------


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("localhost", 'K="localhost"'),  # double quotes: the reference's bytes
        ("it's $HOME", 'K="it\'s $HOME"'),
        ("a\nb\r", 'K="a\\nb\\r"'),  # LF and CR: the only escapes every reader decodes
        ("a\tb\x1b\x7f", 'K="a\tb\x1b\x7f"'),  # raw: Node's dotenv decodes no TAB escape
        ("x\\q\\$", 'K="x\\q\\$"'),  # a backslash no reader decodes stays
        ('say "hi"', "K='say \"hi\"'"),  # a double quote: single quotes
        ("C:\\path\\n", "K='C:\\path\\n'"),  # a backslash some reader decodes: the same
        ('a"\nb', "K='a\"\nb'"),  # single quotes keep a raw line feed
        ('it\'s "x"', 'K=it\'s "x"'),  # both quotes on one line: unquoted
        ("a\\\\b'", "K=a\\\\b'"),
        ("\\", "K=\\"),
    ],
)
def test_env_forms(value: str, line: str) -> None:
    assert render("env", [("K", value)]).body == (line + "\n").encode()
    assert disagreements("env", [("K", value)]) == []


@pytest.mark.parametrize(
    ("value", "line", "why"),
    [
        ('it\'s\n"x"', 'K="it\'s\\n\\"x\\""', "a double quote, a single quote and a line feed"),
        (" 'a' \"b\"", 'K=" \'a\' \\"b\\""', "a double quote, a single quote and white space"),
        ("a\r\\\\", 'K="a\\r\\\\\\u005c"', "backslashes and a carriage return"),
    ],
)
def test_env_says_what_no_form_suits(value: str, line: str, why: str) -> None:
    """Written in Sigillo's escapes (a final backslash as \\u005c, so that no reader takes
    the closing quote for an escaped one), named in a comment line at the top."""
    body = render("env", [("A", "1"), ("K", value)]).body.decode()
    head, rest = body.split("\n", 1)
    assert head.startswith(
        f"# K: cannot be written so that every .env reader agrees (it holds {why}"
    )
    assert head.endswith("; written in Sigillo's escapes)")
    assert rest == f'A="1"\n{line}\n'
    assert [name for name, _ in disagreements("env", [("K", value)])] == ["K"]


# --- shell ----------------------------------------------------------------------------------


def test_shell_single_quotes_everything() -> None:
    pairs = [("A", "it's"), ("B", "$(x) `y` \\ \n\r\t\x01"), ("C", "''")]
    assert render("shell", pairs).body == (
        b"export A='it'\\''s'\nexport B='$(x) `y` \\ \n\r\t\x01'\nexport C=''\\'''\\'''\n"
    )


# --- yaml [D19]: a JSON string, but what PyYAML refuses raw is escaped --------------------------

YAML_ESCAPED = {
    **{chr(code): f"\\u{code:04x}" for code in range(0x7F, 0xA0)},  # DEL and C1 (NEL too)
    "\u2028": "\\u2028",  # LS and PS: line breaks to YAML 1.1, folded into a space
    "\u2029": "\\u2029",
    "\ufeff": "\\ufeff",
    "\ufffe": "\\ufffe",  # not characters to YAML
    "\uffff": "\\uffff",
}


def test_yaml_escapes_what_yaml_refuses_or_folds() -> None:
    chars = [chr(code) for code in range(1, 0x3000) if not 0xD800 <= code <= 0xDFFF]
    chars += ["\ufeff", "\ufffe", "\uffff", "\U0001f510", "\U0010fffd"]
    names = [f"K{index}" for index in range(len(chars))]
    body = render("yaml", list(zip(names, chars, strict=True))).body
    expected = "".join(
        f'{name}: "{YAML_ESCAPED[char]}"\n'
        if char in YAML_ESCAPED
        else f"{name}: {_reference_json_string(char)}\n"
        for name, char in zip(names, chars, strict=True)
    )
    assert body == expected.encode()


@pytest.mark.parametrize(
    "name", ["ON", "on", "On", "OFF", "YES", "no", "NO", "TRUE", "false", "NULL", "null", "Y", "n"]
)
def test_yaml_quotes_names_yaml_reads_as_booleans_or_null(name: str) -> None:
    assert render("yaml", [(name, "v")]).body == f'"{name}": "v"\n'.encode()


@pytest.mark.parametrize("name", ["ONE", "NONE", "oN", "TRUE_", "_NULL", "YES_NO", "y_"])
def test_yaml_leaves_other_names_bare(name: str) -> None:
    assert render("yaml", [(name, "v")]).body == f'{name}: "v"\n'.encode()


def test_docker_only_rewrites_line_feeds() -> None:
    value = 'a\nb\r\nc\\n"d"\te$'
    assert render("docker", [("K", value)]).body == b'K=a\\nb\r\\nc\\n"d"\te$\n'
    assert disagreements("docker", [("K", value)]) == []


def test_docker_says_it_cannot_keep_a_final_carriage_return() -> None:
    """[D19] Docker's --env-file drops a CR at the end of a line: a comment says so."""
    pairs = [("A", "x"), ("CR_END", "crlf\r\n\r"), ("CR_INSIDE", "a\rb")]
    assert render("docker", pairs).body == (
        b"# CR_END: cannot be written so that docker reads it back"
        b" (docker drops the carriage return at its end)\n"
        b"A=x\nCR_END=crlf\r\\n\r\nCR_INSIDE=a\rb\n"
    )
    assert disagreements("docker", pairs) == [
        ("CR_END", "docker drops the carriage return at its end")
    ]


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


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["db_host", "OTHER", "DB_HOST"],
            "dotnet-json format conflict: db_host and DB_HOST become the same key DbHost"
            " (.NET ignores case)",
        ),
        (
            ["AB", "A_B"],
            "dotnet-json format conflict: AB and A_B become the same key AB (.NET ignores case)",
        ),
        (
            ["X__A_B", "x__ab"],
            "dotnet-json format conflict: X__A_B and x__ab become the same key X:Ab"
            " (.NET ignores case)",
        ),
        (
            ["AB", "A_B__C"],
            "dotnet-json format conflict: A_B__C overlaps with an existing scalar key",
        ),
        (["A_B__C", "AB"], "dotnet-json format conflict: AB overlaps with an existing object key"),
    ],
)
def test_dotnet_json_refuses_names_that_are_one_key_without_case(
    names: list[str], message: str
) -> None:
    """[D19] .NET reads configuration keys without case: the reference silently kept the
    later of two such values; Sigillo refuses, naming both (never a value)."""
    with pytest.raises(FormatConflict) as raised:
        render("dotnet-json", [(name, "secret-value") for name in names])
    assert str(raised.value) == message
    assert "secret-value" not in str(raised.value)


def test_dotnet_json_parents_spelled_differently_share_one_object() -> None:
    pairs = [("A_B__C", "1"), ("AB__D", "2")]  # parents "AB" and "Ab": one key to .NET
    assert json.loads(render("dotnet-json", pairs).body) == {"AB": {"C": "1", "D": "2"}}


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
