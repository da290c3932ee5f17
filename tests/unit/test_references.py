"""Secret references (issue 18), the syntax alone (sigillo.domain.references): what `parse`
reads in a value, the escape `$${`, the malformed forms and their messages (which hint at
the escape and never hold the rest of the value), and `literal`, which writes any text so
that it reads as itself."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sigillo.domain.errors import InvalidInput
from sigillo.domain.references import (
    ESCAPE_HINT,
    MAX_DEPTH,
    Reference,
    Template,
    literal,
    parse,
    template,
)

FORMS = "(${NAME}, ${env.NAME} or ${project.env.NAME})"


def rendered(value: str, values: dict[str, str] | None = None) -> str:
    """`value` parsed and rendered, each reference by its text in `values`."""
    known = values or {}

    def value_of(reference: Reference) -> str:
        return known[reference.text]

    return parse(value).render(value_of)


# -- the forms --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("${A}", (Reference("A"),)),
        ("${_private_9}", (Reference("_private_9"),)),
        ("${prod.DB_URL}", (Reference("DB_URL", "prod"),)),
        ("${my-env_2.X}", (Reference("X", "my-env_2"),)),
        ("${01JE0000000000000000000000.X}", (Reference("X", "01JE0000000000000000000000"),)),
        ("${billing.prod.KEY}", (Reference("KEY", "prod", "billing"),)),
        ("${My App.prod.KEY}", (Reference("KEY", "prod", "My App"),)),
        # a project name may hold dots: the last two parts are the environment and the name
        ("${acme.api.v2.prod.KEY}", (Reference("KEY", "prod", "acme.api.v2"),)),
        ("${a.b.c.d.e.f.N}", (Reference("N", "f", "a.b.c.d.e"),)),
        (
            "postgres://u:${prod.PW}@${HOST}:5432/db",
            ("postgres://u:", Reference("PW", "prod"), "@", Reference("HOST"), ":5432/db"),
        ),
        ("${A}${B}", (Reference("A"), Reference("B"))),
        ("", ()),
        ("plain text", ("plain text",)),
        ("no $ref {here} $ {X} $X {$}", ("no $ref {here} $ {X} $X {$}",)),
        ("a } and a { alone", ("a } and a { alone",)),
    ],
)
def test_every_form_is_read(value: str, parts: tuple[str | Reference, ...]) -> None:
    assert parse(value).parts == parts


def test_a_reference_is_written_back_as_it_was_read() -> None:
    for text in ("${A}", "${prod.A}", "${billing.prod.A}", "${acme.api.v2.prod.KEY}"):
        [reference] = parse(text).references
        assert reference.text == text
    assert Reference("N", "dev", "x.y").text == "${x.y.dev.N}"


def test_references_are_listed_once_each_in_order() -> None:
    parsed = parse("${B}-${A}-${B}-${prod.A}-${A}")
    assert parsed.references == [Reference("B"), Reference("A"), Reference("A", "prod")]
    assert parse("no refs").references == []


def test_render_puts_each_value_in_place_and_keeps_the_text_around() -> None:
    value = "pg://${prod.USER}:${prod.PW}@${HOST}/${prod.USER}"
    values = {"${prod.USER}": "u", "${prod.PW}": "p@ss", "${HOST}": "db"}
    assert rendered(value, values) == "pg://u:p@ss@db/u"


def test_a_value_is_parsed_only_when_it_holds_a_dollar_brace() -> None:
    assert template("a ${B}")
    assert template("$${")
    assert template("x${")
    for plain in ("", "plain", "$HOME", "{x}", "$ {x}", "${"[::-1], "$$", "}{$"):
        assert not template(plain), plain


def test_the_deepest_chain_allowed_is_eight() -> None:
    assert MAX_DEPTH == 8


# -- escapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reads_as"),
    [
        ("$${HOME}", "${HOME}"),
        ("echo $${HOME} and $${PATH}", "echo ${HOME} and ${PATH}"),
        ("$${", "${"),
        ("$${not a ref}", "${not a ref}"),
        ("$${prod.X}", "${prod.X}"),
        ("$${a{b}", "${a{b}"),
        # `$$${X}`: a `$`, then the escape: it reads as `$${X}`, never as a reference
        ("$$${X}", "$${X}"),
        ("$$$${X}", "$$${X}"),
        ("$$", "$$"),
        ("$$x", "$$x"),
    ],
)
def test_a_doubled_dollar_brace_is_a_literal_one(value: str, reads_as: str) -> None:
    parsed = parse(value)
    assert parsed.references == []
    assert rendered(value) == reads_as


def test_escapes_and_references_mix() -> None:
    parsed = parse("$${HOME}/${DIR}/$${X}")
    assert parsed.parts == ("${HOME}/", Reference("DIR"), "/${X}")
    assert rendered("$${HOME}/${DIR}/$${X}", {"${DIR}": "d"}) == "${HOME}/d/${X}"
    # the escape's `$` is not the start of a following reference
    assert parse("$$${A}").references == []
    assert parse("$ ${A}").parts == ("$ ", Reference("A"))
    assert parse("$${A}${B}").parts == ("${A}", Reference("B"))


# -- malformed forms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("${}", "${}"),
        ("${a b}", "${a b}"),
        ("${1X}", "${1X}"),
        ("${X-Y}", "${X-Y}"),
        ("${HOME:-/root}", "${HOME:-/root}"),
        ("${.X}", "${.X}"),
        ("${prod.}", "${prod.}"),
        ("${a..X}", "${a..X}"),
        ("${-dev.X}", "${-dev.X}"),
        ("${de v.X}", "${de v.X}"),
        ("${ .prod.X}", "${ .prod.X}"),
        ("${.prod.X}", "${.prod.X}"),
        ("${p.dev.1X}", "${p.dev.1X}"),
        ("${p.d!v.X}", "${p.d!v.X}"),
        ("ok ${A} then ${b a d}", "${b a d}"),
    ],
)
def test_a_malformed_reference_is_refused_naming_it_and_the_escape(value: str, shown: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse(value)
    error = raised.value
    assert error.field == "value"
    assert error.message == f"holds {shown}, which is not a reference {FORMS}: {ESCAPE_HINT}"
    assert ESCAPE_HINT == "write $${ for a literal ${"


@pytest.mark.parametrize("value", ["${HOME", "abc ${", "${a{b}", "${A} and ${"])
def test_an_unclosed_reference_says_so(value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse(value)
    assert raised.value.message == (
        f"holds ${{ (no closing }}), which is not a reference {FORMS}: {ESCAPE_HINT}"
    )


def test_the_field_is_the_one_given() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse("${a b}", "DATABASE_URL")
    assert raised.value.field == "DATABASE_URL"
    assert str(raised.value).startswith("DATABASE_URL: holds ${a b}")


def test_a_long_malformed_reference_is_cut_short() -> None:
    body = "x y " * 40
    with pytest.raises(InvalidInput) as raised:
        parse("${" + body + "}")
    shown = raised.value.message.removeprefix("holds ").split(", which")[0]
    assert len(shown) == 78
    assert shown == ("${" + body)[:77] + "…"


def test_the_rest_of_the_value_is_never_in_the_message() -> None:
    secret = "hunter2-very-secret"
    for value in (
        f"{secret} ${{bad ref}} {secret}",
        f"{secret}${{",
        f"${{A}}{secret}${{B C}}",
        f"{secret} ${{{'z ' * 60}}}",
    ):
        with pytest.raises(InvalidInput) as raised:
            parse(value, "PW")
        assert secret not in str(raised.value)
        assert secret not in raised.value.message


def test_a_template_never_shows_its_text_in_a_repr() -> None:
    parsed = parse("user:hunter2@${HOST}/${prod.DB}-hunter2")
    assert "hunter2" not in repr(parsed)
    assert "hunter2" not in str(parsed)
    assert repr(parsed) == "Template(references=['${HOST}', '${prod.DB}'])"
    assert "hunter2" not in repr(Template(("hunter2",)))


# -- literal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        "${HOME}",
        "$${HOME}",
        "$$${HOME}",
        "${",
        "$",
        "$$",
        "}",
        "${}",
        "${a b}",
        "${prod.X} and ${X}",
        "a$",
        "a$${",
        "${${${",
        "$}{$",
        "ends with $",
        "${A}$",
        "ünïcødé ${ü}",
    ],
)
def test_literal_writes_text_that_reads_as_itself(text: str) -> None:
    written = literal(text)
    parsed = parse(written)
    assert parsed.references == []
    assert rendered(written) == text


@given(st.text(alphabet=st.sampled_from("${}.aZ_9 \n"), max_size=40) | st.text(max_size=40))
@example("$${X}")
@example("$$${")
@example("${${}}")
def test_literal_round_trips_any_text(text: str) -> None:
    written = literal(text)
    assert parse(written).references == []
    assert rendered(written) == text
    assert literal(text) == written  # the same text, the same writing
    if not template(text):
        assert written == text  # nothing to escape: unchanged
