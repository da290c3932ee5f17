"""Every exception Sigillo raises on purpose, from a single root.

    SigilloError
    ├── InvalidInput          a value broke a rule (422); names the field, never echoes a value
    ├── FormatConflict        secrets that cannot be rendered in the asked format (400)
    ├── Unauthorized          no valid credentials: unknown, wrong, expired or revoked (401)
    ├── NotFound              the object does not exist, or the caller may not know it does (404)
    ├── Forbidden             the caller is known but may not do this (403)
    ├── Conflict              the request contradicts current state (409)
    │   └── ConcurrencyError  a stream moved past the version the writer expected
    ├── TooManyAttempts       an account's sign-ins are backing off: retry after N seconds (429)
    ├── StorageUnavailable    the database cannot be reached or stayed busy (503)
    ├── DecryptionError       a stored value failed authentication: wrong place, key or bits (500)
    └── StartupError          the server cannot start safely (bad key, bad URL); exits non-zero

Messages are fixed texts written for users. None of them ever contains a secret value.
"""

from __future__ import annotations

__all__ = [
    "ConcurrencyError",
    "Conflict",
    "DecryptionError",
    "Forbidden",
    "FormatConflict",
    "InvalidInput",
    "NotFound",
    "SigilloError",
    "StartupError",
    "StorageUnavailable",
    "TooManyAttempts",
    "Unauthorized",
]


class SigilloError(Exception):
    """Root of every deliberate Sigillo error."""


class InvalidInput(SigilloError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class FormatConflict(SigilloError):
    """dotnet-json: a name needs an object where another put a value, or the reverse."""


class Unauthorized(SigilloError):
    pass


class NotFound(SigilloError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Forbidden(SigilloError):
    pass


class Conflict(SigilloError):
    pass


class ConcurrencyError(Conflict):
    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream} is at version {actual}, not {expected}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class TooManyAttempts(SigilloError):
    """Too many sign-ins for one account lately; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests")
        self.retry_after = retry_after


class StorageUnavailable(SigilloError):
    pass


class DecryptionError(SigilloError):
    pass


class StartupError(SigilloError):
    pass
