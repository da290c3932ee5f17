"""The kind a live value reads as once its references are resolved (issue 18).

A value marked plain that holds a secret-kind value through a reference reads as a secret:
a get and `json-kinds` answer it so (services.references), and a listing must say the same,
or a client that trusts the listing (the CLI's agent-shell guard, behaviour.md 11.6) would
print it. Told without opening any secret value: plain values are open to whoever may list
them [D18], and a referenced value's kind is in its row. A reference that cannot be
followed, a cycle or a chain deeper than allowed counts as a secret: it fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sigillo.domain.events import SecretKind
from sigillo.domain.projections.rows import CurrentSecretRow, EnvironmentRow
from sigillo.domain.references import MAX_DEPTH
from sigillo.services.references import BrokenReference, ReadScope, ReferenceResolver
from sigillo.services.secrets import SecretsService

__all__ = ["effective_kinds"]


async def effective_kinds(
    resolver: ReferenceResolver,
    secrets: SecretsService,
    environment: EnvironmentRow,
    rows: Sequence[CurrentSecretRow],
    scope: ReadScope,
) -> dict[str, SecretKind]:
    """name -> the kind each of `rows` (live in `environment`) reads as."""
    live: dict[str, dict[str, CurrentSecretRow]] = {environment.id: {row.name: row for row in rows}}

    async def rows_of(place: EnvironmentRow) -> dict[str, CurrentSecretRow]:
        if place.id not in live:
            live[place.id] = {row.name: row for row in await secrets.current(place.id)}
        return live[place.id]

    async def holds_secret(
        row: CurrentSecretRow, place: EnvironmentRow, chain: frozenset[tuple[str, str]]
    ) -> bool:
        if row.kind != "plain":
            return True
        key = (place.id, row.name)
        if key in chain or len(chain) > MAX_DEPTH:
            return True
        try:
            parsed = resolver.template_of(row, secrets.open(row))
            for reference in parsed.references if parsed else []:
                there = await resolver.environment_of(place, reference, scope)
                target = (await rows_of(there)).get(reference.name)
                if target is None or await holds_secret(target, there, chain | {key}):
                    return True
        except BrokenReference:
            return True
        return False

    kinds: dict[str, SecretKind] = {}
    for row in rows:
        secret = row.kind == "plain" and await holds_secret(row, environment, frozenset())
        kinds[row.name] = "secret" if secret else row.kind
    return kinds
