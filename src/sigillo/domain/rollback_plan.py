"""What a rollback writes: the sets, deletes and kind changes that bring an environment's
live secrets (or some names of it) back to what they were at a moment.

Decided on the live rows then (domain.projections.past_secrets) and now, by name: a name
is set back when its value now is not its value then: when the set that made its value
now (`secret_id`, the id of that set) is not the one that made it then, unless the caller
found both values equal (`same`: it opened them, this module opens nothing); a name live
now and not then is deleted; a name whose value is the same but whose kind changed since
gets its kind back. A name set back
takes its kind then too: a set keeps the kind of a live name, and a name that becomes live
again starts as `secret` [D18], so a kind change follows the set where that differs.
Nothing here rewrites the log: the plan is appended as new events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import msgspec

from sigillo.domain.events import SecretKind
from sigillo.domain.projections.rows import CurrentSecretRow

__all__ = ["RollbackPlan", "plan"]


class RollbackPlan(msgspec.Struct, frozen=True):
    """Names only, each list sorted. `restore`: set back to their value then (changed or
    deleted since); `delete`: live now, not then; `kinds`: the kind each name is to get
    back, where the kind it would have after the sets differs; `unknown`: names asked for
    that were live neither then nor now."""

    restore: list[str] = []
    delete: list[str] = []
    kinds: dict[str, SecretKind] = {}
    unknown: list[str] = []

    @property
    def empty(self) -> bool:
        return not (self.restore or self.delete or self.kinds)


def plan(
    then: Iterable[CurrentSecretRow],
    now: Iterable[CurrentSecretRow],
    names: Collection[str] | None = None,
    same: Collection[str] = (),
) -> RollbackPlan:
    """The plan that brings `now` back to `then`, for `names` (every name of either when
    None). `same`: names set since whose value now equals their value then."""
    past = {row.name: row for row in then}
    live = {row.name: row for row in now}
    scope = sorted(set(past) | set(live) if names is None else set(names))
    restore: list[str] = []
    delete: list[str] = []
    kinds: dict[str, SecretKind] = {}
    unknown: list[str] = []
    for name in scope:
        before, after = past.get(name), live.get(name)
        if before is None:
            if after is None:
                unknown.append(name)
            else:
                delete.append(name)
            continue
        if after is None or (after.secret_id != before.secret_id and name not in same):
            restore.append(name)
        kind_after: SecretKind = after.kind if after is not None else "secret"
        if before.kind != kind_after:
            kinds[name] = before.kind
    return RollbackPlan(restore, delete, kinds, unknown)
