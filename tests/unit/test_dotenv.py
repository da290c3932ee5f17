"""Importing .env text (behaviour.md 13): the grammar, the escapes and the round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigillo.domain.dotenv import BAD_KEY, COLON, NOT_A_PAIR, Scan, Skipped, parse, scan
from sigillo.domain.formats import disagreements, render
from tests.unit.test_formats import EXPECTED, WORKED_EXAMPLE

# --- 13.2, every row of the table -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("export B = hello world  # comment", "B", "hello world"),
        ("C='single # not comment'", "C", "single # not comment"),
        ("E='single\\nraw'", "E", "single\\nraw"),
        ("F=`back` ", "F", "back"),
        ('I="say \\"hi\\""', "I", 'say "hi"'),
        ('R="C:\\\\path"', "R", "C:\\path"),
        ('U="tab\\tx"', "U", "tab\tx"),
        ('W="caf\\u00e9"', "W", "café"),
        ('X="a\\qb"', "X", "a\\qb"),
        ("J=val#hash", "J", "val"),
        ("K: yamlish", "K", "yamlish"),
        ('M="unterminated', "M", '"unterminated'),
        ('N = "  padded  "', "N", "  padded  "),
        ('P="a"b"', "P", 'a"b'),
        ('Y="v" # note', "Y", "v"),
    ],
)
def test_table_13_2(line: str, key: str, value: str) -> None:
    assert parse(line) == [(key, value)]
    assert parse(line + "\n") == [(key, value)]


def test_table_13_2_key_colon_without_space_is_ignored() -> None:
    assert parse("KEY:value") == []
    assert parse("KEY:value\nOK=1") == [("OK", "1")]


# --- 13.2, the escapes one by one ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("quoted", "value"),
    [
        ('"\\""', '"'),
        ('"\\\\"', "\\"),
        ('"\\/"', "/"),
        ('"\\b"', "\b"),
        ('"\\f"', "\f"),
        ('"\\n"', "\n"),
        ('"\\r"', "\r"),
        ('"\\t"', "\t"),
        ('"\\u0041"', "A"),
        ('"\\u00E9\\u00e9"', "éé"),
        ('"\\u001b"', "\x1b"),
        ('"\\u2028"', "\u2028"),
        ('"\\ud83d\\udd10"', "🔐"),
        ('"\\uD83D\\uDD10"', "🔐"),
        ('"\\\\n"', "\\n"),
        ('"\\\\\\n"', "\\\n"),
        ('"a\\\\"', "a\\"),
        ('"\\$HOME"', "\\$HOME"),
        ('"$HOME ${X}"', "$HOME ${X}"),
        ('"\\a\\v\\0\\x41\\U0041"', "\\a\\v\\0\\x41\\U0041"),
        ('"\\u12"', "\\u12"),
        ('"\\u12g4"', "\\u12g4"),
        ('"\\u"', "\\u"),
        ('"\\\'"', "\\'"),
        # lone surrogates are kept as written, so the result is always valid text
        ('"\\ud800"', "\\ud800"),
        ('"\\ud800x"', "\\ud800x"),
        ('"\\ud800\\u0041"', "\\ud800A"),
        ('"\\udc00"', "\\udc00"),
        ('"\\udd10\\ud83d"', "\\udd10\\ud83d"),
    ],
)
def test_double_quoted_escapes(quoted: str, value: str) -> None:
    assert parse(f"K={quoted}") == [("K", value)]


def test_single_quotes_and_backticks_keep_backslashes() -> None:
    assert parse("A='\\t\\\"'\nB=`\\u00e9`") == [("A", '\\t\\"'), ("B", "\\u00e9")]


# --- 13.1, the grammar ----------------------------------------------------------------------


def test_blank_lines_comments_and_garbage_are_ignored() -> None:
    text = "\n   \n# A=1\n   # B=2\nnot a line\n=x\nKEY value\nK :v\nC=3\n\t\n"
    assert parse(text) == [("C", "3")]


def test_nothing_found() -> None:
    assert parse("") == []
    assert parse("# only a comment\n") == []


def test_key_characters_and_export() -> None:
    text = (
        "  export  L.dotted-key=1\n"
        "\texport\tTABBED = 2\n"
        "export=3\n"
        "export =4\n"
        "exported=5\n"
        "export_X: 6\n"
    )
    assert parse(text) == [
        ("L.dotted-key", "1"),
        ("TABBED", "2"),
        ("export", "4"),
        ("exported", "5"),
        ("export_X", "6"),
    ]


def test_unquoted_values() -> None:
    text = "A=\nB=  \nC= # c\nD=a b  c\t\nE=it's\nF=x=y\nG= url#frag\nH=a'b'\nI=\"\"\n"
    assert parse(text) == [
        ("A", ""),
        ("B", ""),
        ("C", ""),
        ("D", "a b  c"),
        ("E", "it's"),
        ("F", "x=y"),
        ("G", "url"),
        ("H", "a'b'"),
        ("I", ""),
    ]


def test_colon_form_needs_a_space_and_keeps_the_rest() -> None:
    assert parse("A:  'x'\nB:\t\"y\\n\"\nC: a: b") == [("A", "x"), ("B", "y\n"), ("C", "a: b")]


def test_quoted_values_may_span_lines() -> None:
    text = "A=\"one\ntwo\"\nB='three\nfour' # c\nC=`five\n\nsix`\nD=7\n"
    assert parse(text) == [
        ("A", "one\ntwo"),
        ("B", "three\nfour"),
        ("C", "five\n\nsix"),
        ("D", "7"),
    ]


def test_the_closing_double_quote_is_the_first_unescaped_one() -> None:
    assert parse('A="x\\" # y" # z\nB="\\\\" # w') == [("A", 'x" # y'), ("B", "\\")]


def test_anything_after_the_closing_quote_makes_the_line_unquoted() -> None:
    text = "A='v' x\nB=\"v\"x # c\nC=`v`  `\nD=\"a#b\"c\nE='a'b'\n"
    assert parse(text) == [
        ("A", "'v' x"),
        ("B", '"v"x'),
        ("C", "v`  "),
        ("D", '"a'),
        ("E", "a'b"),
    ]


def test_unquoted_fallback_is_not_decoded() -> None:
    assert parse('A="x\\ty"z"') == [("A", 'x\\ty"z')]


def test_fallback_takes_only_the_first_line() -> None:
    text = "A='x\ny'z\nB=2\n"
    assert parse(text) == [("A", "'x"), ("B", "2")]


def test_never_closed_quote_is_kept() -> None:
    assert parse("A='open\nB=2") == [("A", "'open"), ("B", "2")]
    assert parse('A="open\nB=2') == [("A", '"open'), ("B", "2")]
    # `\"` does not close; the unquoted fallback then loses its outer pair of quotes
    assert parse('A="open\\"\nB=2') == [("A", "open\\"), ("B", "2")]
    assert parse("A=`") == [("A", "`")]


def test_later_duplicate_wins_at_the_first_position() -> None:
    assert parse("A=1\nB=2\nA=3\nC=4\nB=\n") == [("A", "3"), ("B", ""), ("C", "4")]


def test_crlf_and_lone_cr_become_lf() -> None:
    assert parse("A=1\r\nB=2\rC=3\r\n") == [("A", "1"), ("B", "2"), ("C", "3")]
    # A raw CR is only ever hand-written (the exporter writes \r): it becomes LF, quoted or not.
    assert parse('A="x\r\ny\rz"\r\nB=2') == [("A", "x\ny\nz"), ("B", "2")]
    assert parse('A="x\\ry"') == [("A", "x\ry")]


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", "\x1e"]
)
def test_only_lf_splits_lines(separator: str) -> None:
    assert parse(f"A=x{separator}B=y\nC='p{separator}q'") == [
        ("A", f"x{separator}B=y"),
        ("C", f"p{separator}q"),
    ]


# --- 13.3, the round trip -------------------------------------------------------------------


def test_worked_example_round_trips() -> None:
    body = render("env", WORKED_EXAMPLE).body
    assert body == EXPECTED["env"]
    assert parse(body.decode()) == WORKED_EXAMPLE


def test_empty_environment_round_trips() -> None:
    assert parse(render("env", []).body.decode()) == []


def test_lossy_formats_really_are_lossy() -> None:
    """env-no-quotes and docker are not covered by 13.3; this pins why."""
    pairs = [("A", "line1\nline2"), ("B", "C:\\path\\n")]
    assert parse(render("env-no-quotes", pairs).body.decode()) == [
        ("A", "line1"),
        ("B", "C:\\path\\n"),
    ]
    assert parse(render("docker", pairs).body.decode()) == [
        ("A", "line1\\nline2"),
        ("B", "C:\\path\\n"),
    ]


_NAME_START = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
# Valid secret names ([D13]); built from parts because from_regex is several times slower.
NAMES = st.builds(
    str.__add__, st.sampled_from(_NAME_START), st.text(_NAME_START + "0123456789", max_size=30)
)
# Characters the escaping must handle, and pieces that look like escapes once written out.
TRICKY = st.sampled_from(
    [*"\"'`\\$#=: \t\r\n\x0b\x0c\x1b\x7f\x85\u2028\u2029\ufeff/nrtubfx0éd8🔐", "\\u", "\\ud83d"]
)
ANY_CHAR = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
VALUES = st.lists(st.one_of(TRICKY, ANY_CHAR), max_size=40).map("".join)
PAIRS = st.lists(st.tuples(NAMES, VALUES), unique_by=lambda pair: pair[0], max_size=8)


@settings(max_examples=300)
@given(PAIRS)
def test_env_round_trips_every_storable_value(pairs: list[tuple[str, str]]) -> None:
    assert parse(render("env", pairs).body.decode()) == pairs


YAML_QUOTED_NAMES = {"y", "Y", "n", "N", "on", "On", "ON", "off", "Off", "OFF", "no", "No", "NO"}
YAML_QUOTED_NAMES |= {"yes", "Yes", "YES", "true", "True", "TRUE", "false", "False", "FALSE"}
YAML_QUOTED_NAMES |= {"null", "Null", "NULL"}


@given(PAIRS)
def test_yaml_happens_to_round_trip_too(pairs: list[tuple[str, str]]) -> None:
    """Except for a name YAML would read as a boolean or null: `yaml` quotes it [D19]."""
    pairs = [(name, value) for name, value in pairs if name not in YAML_QUOTED_NAMES]
    assert parse(render("yaml", pairs).body.decode()) == pairs


@settings(max_examples=300)
@given(PAIRS)
def test_env_comment_lines_name_exactly_the_values_readers_disagree_on(
    pairs: list[tuple[str, str]],
) -> None:
    """[D19] The comment lines at the top of an `env` body name the values no form suits
    every reader, and are comments to the importer (the round trip above holds with them)."""
    text = render("env", pairs).body.decode()
    header = [line for line in text.split("\n") if line.startswith("# ")]
    named = [line[2:].split(":", 1)[0] for line in header]
    assert named == [name for name, _ in disagreements("env", pairs)]
    assert text.startswith("".join(line + "\n" for line in header))
    assert scan(text).comments == len(header)


# --- what the import skips, and the byte-order mark -------------------------------------------


def test_a_byte_order_mark_does_not_hide_the_first_key() -> None:
    assert parse("\ufeffFIRST=1\nSECOND=2\n") == [("FIRST", "1"), ("SECOND", "2")]
    assert parse("\ufeff\ufeffX=1") == []  # only one mark, at the very start, is dropped
    assert parse("A='\ufeff'") == [("A", "\ufeff")]  # elsewhere it is an ordinary character


def test_scan_says_which_lines_were_skipped_and_why_never_what_they_held() -> None:
    text = (
        "\ufeff# settings\r\n"  # 1: a comment, counted
        "A=1\r\n"  # 2: set again on line 9
        "\n"  # 3: blank
        "KEY:value\n"  # 4
        "MY KEY=2\n"  # 5
        "just-a-secret-looking-line\n"  # 6
        "B='multi\n"  # 7
        "line'\n"  # 8: part of B
        "A=2\n"  # 9
        "   # indented comment\n"  # 10
        "C=3"  # 11
    )
    assert scan(text) == Scan(
        pairs=[("A", "2"), ("B", "multi\nline"), ("C", "3")],
        skipped=[
            Skipped(2, "A is set again on line 9"),
            Skipped(4, COLON),
            Skipped(5, BAD_KEY),
            Skipped(6, NOT_A_PAIR),
        ],
        comments=2,
    )
    for skipped in scan(text).skipped:
        assert "secret-looking" not in skipped.reason


def test_scan_counts_lines_through_multi_line_values() -> None:
    text = 'A="one\ntwo\nthree"\nnot a pair\nB=`x\ny`\n?\n'
    assert scan(text).skipped == [Skipped(4, NOT_A_PAIR), Skipped(7, NOT_A_PAIR)]


@given(st.text(max_size=200))
def test_scan_agrees_with_parse_and_numbers_real_lines(text: str) -> None:
    scanned = scan(text)
    assert scanned.pairs == parse(text)
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").count("\n")
    assert all(1 <= item.line <= lines + 1 for item in scanned.skipped)


@given(st.lists(st.tuples(NAMES, VALUES), max_size=8))
def test_round_trip_with_duplicate_names_keeps_first_position_last_value(
    pairs: list[tuple[str, str]],
) -> None:
    expected = dict(pairs)
    assert parse(render("env", pairs).body.decode()) == list(expected.items())


@given(st.text(max_size=200))
def test_parse_never_fails_and_yields_valid_text(text: str) -> None:
    for key, value in parse(text):
        key.encode()
        if not any(0xD800 <= ord(char) <= 0xDFFF for char in text):
            value.encode()
