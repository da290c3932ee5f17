"""What a command reports when it cannot do its job: one line, an optional hint, exit 1."""

from __future__ import annotations

__all__ = ["CliError"]


class CliError(Exception):
    """`error: <message>` on stderr, then each hint line as given; the exit code is 1.

    Messages are plain sentences a user can act on; they never hold a secret value.
    """

    exit_code = 1  # `sigillo run` reports a child that cannot start with 127 or 126

    def __init__(self, message: str, *hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
