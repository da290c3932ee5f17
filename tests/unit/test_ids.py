from __future__ import annotations

import re

from sigillo.services.ids import Clock, UlidFactory

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class FrozenClock(Clock):
    def __init__(self, now: int) -> None:
        self.value = now

    def now(self) -> int:
        return self.value


def test_ulids_are_26_crockford_characters_with_the_time_first() -> None:
    make = UlidFactory(FrozenClock(1_700_000_000_000))
    ulid = make()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", ulid)
    decoded = 0
    for char in ulid[:10]:  # the first 10 characters are the 48-bit millisecond time
        decoded = decoded * 32 + CROCKFORD.index(char)
    assert decoded == 1_700_000_000_000


def test_ulids_made_in_one_millisecond_sort_in_creation_order() -> None:
    clock = FrozenClock(5)
    make = UlidFactory(clock)
    made = [make() for _ in range(1000)]
    clock.value = 4  # a clock that steps back must not break the order either
    made += [make() for _ in range(10)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
