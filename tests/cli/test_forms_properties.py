"""Properties of the quoted forms and of the parts of secrets over random values (hypothesis):
docs/redaction.md sections 1 (rule 5) and 2, issue 12 items 1 and 3.

Whatever text a secret holds, each quoting that the real function makes (Python's repr,
ascii, shlex.quote, json.dumps with and without ensure_ascii, with `\\/` and with upper-case
`\\u00E9`, urllib's quote and quote_plus, the repr of its bytes), printed inside other text
and fed in any chunks through a Redactor built from `protect(...)`, shows the mask and never
the value or any protected form whole. Values are at least 8 bytes long: shorter ones have
quoted forms under 8 bytes, which are not kept (tests/cli/test_protected_parts.py pins it).
"""

from __future__ import annotations

import json
import re
import shlex
import string
from collections.abc import Callable
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from sigillo.cli.run.protected import secret_parts
from sigillo.cli.run.redaction import MASK, Redactor, protect
from tests.cli.redaction_support import leaks, splits, streamed


def _upper_json(value: str) -> str:
    escaped = json.dumps(value)
    return re.sub(r"\\(u[0-9a-f]{4}|.)", lambda m: "\\" + m[1][0] + m[1][1:].upper(), escaped)


QUOTINGS: dict[str, Callable[[str], str]] = {
    "repr": repr,
    "ascii": ascii,
    "shlex.quote": shlex.quote,
    "json.dumps": json.dumps,
    "json.dumps(ensure_ascii=False)": lambda v: json.dumps(v, ensure_ascii=False),
    "json.dumps, \\/": lambda v: json.dumps(v).replace("/", "\\/"),
    "json.dumps(ensure_ascii=False), \\/": lambda v: json.dumps(v, ensure_ascii=False).replace(
        "/", "\\/"
    ),
    "json.dumps, \\u00E9": _upper_json,
    "quote": quote,
    "quote(safe='')": lambda v: quote(v, safe=""),
    "quote_plus": quote_plus,
    "repr of the bytes": lambda v: repr(v.encode("utf-8", "surrogatepass")),
    "repr in a list": lambda v: repr([v]),
    "repr in a dict": lambda v: repr({"k": v}),
}

# Text of every kind (no surrogates: the environment cannot hold them as text), with the
# characters that quotings escape made frequent; no '*', the mask's byte.
SPECIAL = "'\"\\$`# ~=:,;!/%+&\t\n\r\x1b\x7fé€😀\u2028\x85"
values = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIAL),
        st.sampled_from(string.ascii_letters + string.digits),
        st.characters(exclude_categories=["Cs"], exclude_characters="*\x00"),
    ),
    min_size=2,
    max_size=40,
).filter(lambda v: len(v.encode()) >= 8)


@settings(max_examples=150, deadline=None)
@given(values, st.sampled_from(sorted(QUOTINGS)), st.data())
def test_every_quoting_of_a_secret_is_masked(value: str, name: str, data: st.DataObject) -> None:
    forms, short = protect({"SECRET": value})
    assert short == []
    printed = QUOTINGS[name](value).encode("utf-8", "surrogatepass")
    text = b"<" + printed + b">\n"
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=6))
    output = streamed(Redactor(forms), splits(text, cuts))
    assert MASK in output
    assert value.encode() not in output
    assert leaks(output, forms) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(values, min_size=1, max_size=4), st.data())
def test_a_json_secret_never_shows_one_of_its_strings(
    strings: list[str], data: st.DataObject
) -> None:
    document = {f"field_{i}": {"nested": [s]} for i, s in enumerate(strings)}
    value = json.dumps(document, ensure_ascii=data.draw(st.booleans()))
    forms, _ = protect({"CONFIG": value})
    chosen = data.draw(st.sampled_from(strings))
    assert chosen in secret_parts(value)
    quoting = QUOTINGS[data.draw(st.sampled_from(["repr", "json.dumps", "shlex.quote"]))]
    for printed in (chosen, quoting(chosen)):
        output = streamed(Redactor(forms), [b"value: ", printed.encode(), b"\n"])
        assert chosen.encode() not in output
        assert leaks(output, forms) == []


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True),
            st.text(
                alphabet=st.characters(
                    exclude_categories=["Cs"], exclude_characters="*\x00\n\r'\"`#\\"
                ),
                min_size=4,
                max_size=30,
            )
            .map(str.strip)
            .filter(lambda v: len(v.encode()) >= 4),
            st.sampled_from(["'", '"', ""]),
        ),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
)
def test_a_dotenv_secret_never_shows_one_of_its_values(
    entries: list[tuple[str, str, str]], export: bool
) -> None:
    """`NAME=value` lines, quoted or not: each value, as a dotenv reader takes it, is masked."""
    prefix = "export " if export else ""
    blob = "".join(f"{prefix}{name}={quote_}{v}{quote_}\n" for name, v, quote_ in entries)
    forms, _ = protect({"ENV_FILE": blob})
    for _name, v, _quote in entries:
        output = streamed(Redactor(forms), [b"[", v.encode(), b"]"])
        assert v.encode() not in output
        assert leaks(output, forms) == []
