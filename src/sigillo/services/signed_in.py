"""How the person behind the current request signed in, for orgs that ask (issue 20).

An org may require its members to have signed in through single sign-on, or with a second
factor. That is a fact about the session, not the user, and access checks see only an
Actor. So each HTTP request gets a holder (`request_scope`, installed by the server's
outermost middleware); authenticating the request's session records into it how that
session was made (`record`); the access service reads it (`current`).

The holder is a list shared by reference, so a dependency resolved in a task of its own
still records into the request's holder. Outside a request, or before any session was
authenticated, `current()` is None: an org with a policy then refuses (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import msgspec

__all__ = ["SignedInWith", "current", "record", "request_scope"]


class SignedInWith(msgspec.Struct, frozen=True):
    sso_provider: str = ""  # the OpenID Connect provider the session was signed in with
    two_factor: bool = False  # the sign-in passed a second factor (or enrolled one)


_holder: ContextVar[list[SignedInWith] | None] = ContextVar("sigillo_signed_in", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """A fresh holder for one request; nothing recorded outlives it."""
    token = _holder.set([])
    try:
        yield
    finally:
        _holder.reset(token)


def record(facts: SignedInWith) -> None:
    holder = _holder.get()
    if holder is not None:
        holder[:] = [facts]


def current() -> SignedInWith | None:
    holder = _holder.get()
    return holder[0] if holder else None
