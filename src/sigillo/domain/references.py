"""Secret references (issue 18): a value may name other secrets, resolved at read time.

Syntax, inside a value:
- `${NAME}`: the secret NAME of the same environment;
- `${env.NAME}`: of another environment of the same project, by slug (or id);
- `${project.env.NAME}`: of an environment of another project of the same org, the
  project by name (which may hold dots: the last two parts are the environment and the
  name) or id;
- `$${` is a literal `${` (so `$${HOME}` reads as `${HOME}`).

Every other `${…}` is malformed: refused when written, with the way to write it literally.
This module only reads templates; who may read what, and the values, are the resolver's
(services.references).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import msgspec

from sigillo.domain.errors import InvalidInput
from sigillo.domain.values import secret_name

__all__ = ["ESCAPE_HINT", "MAX_DEPTH", "Reference", "Template", "literal", "parse", "template"]

MAX_DEPTH = 8  # a chain of references deeper than this is an error, as a cycle is
ESCAPE_HINT = "write $${ for a literal ${"
_TOKEN = re.compile(r"\$\$\{|\$\{([^{}]*)\}|\$\{")
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


class Reference(msgspec.Struct, frozen=True):
    """What `${…}` names: `project` and `environment` are None for the value's own."""

    name: str
    environment: str | None = None
    project: str | None = None

    @property
    def text(self) -> str:
        """As written in a value: `${prod.NAME}`."""
        parts = [p for p in (self.project, self.environment) if p is not None]
        return "${" + ".".join([*parts, self.name]) + "}"


class Template(msgspec.Struct, frozen=True):
    """A value as literal text and references, in order."""

    parts: tuple[str | Reference, ...]

    @property
    def references(self) -> list[Reference]:
        return list(dict.fromkeys(p for p in self.parts if isinstance(p, Reference)))

    def render(self, value_of: Callable[[Reference], str]) -> str:
        return "".join(p if isinstance(p, str) else value_of(p) for p in self.parts)

    def __repr__(self) -> str:  # literal parts may hold secret text
        return f"Template(references={[r.text for r in self.references]!r})"


def literal(text: str) -> str:
    """`text` written so that it reads as itself: every `${` as `$${`."""
    return text.replace("${", "$${")


def template(value: str) -> bool:
    """Whether `value` needs parsing at all: the fast path of every read."""
    return "${" in value


def parse(value: str, field: str = "value") -> Template:
    """`value` as a template; InvalidInput naming the first malformed `${…}` (its text
    only: a malformed reference is not a secret, but the rest of the value may be)."""
    parts: list[str | Reference] = []
    literal: list[str] = []
    end = 0
    for match in _TOKEN.finditer(value):
        literal.append(value[end : match.start()])
        end = match.end()
        if match.group(0) == "$${":
            literal.append("${")
            continue
        body = match.group(1)
        reference = None if body is None else _reference(body)
        if reference is None:
            shown = match.group(0) if body is not None else "${"
            if len(shown) > 80:
                shown = shown[:77] + "…"
            unclosed = "" if body is not None else " (no closing })"
            raise InvalidInput(
                field,
                f"holds {shown}{unclosed}, which is not a reference (${{NAME}}, "
                f"${{env.NAME}} or ${{project.env.NAME}}): {ESCAPE_HINT}",
            )
        parts.append("".join(literal))
        literal = []
        parts.append(reference)
    literal.append(value[end:])
    parts.append("".join(literal))
    return Template(tuple(p for p in parts if p != ""))


def _reference(body: str) -> Reference | None:
    pieces = body.split(".")
    if len(pieces) > 3:  # a project name may hold dots: the last two are env and name
        pieces = [".".join(pieces[:-2]), *pieces[-2:]]
    *scope, name = pieces
    try:
        secret_name(name)
    except InvalidInput:
        return None
    if scope and not _SLUG.fullmatch(scope[-1]):
        return None
    if len(scope) == 2 and not scope[0].strip():
        return None
    if len(scope) == 2:
        return Reference(name, scope[1], scope[0])
    return Reference(name, scope[0] if scope else None)
