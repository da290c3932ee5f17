"""Test doubles of the streaming redactor that `sigillo.cli.run.supervise` drives."""

from __future__ import annotations

SECRET = b"hunter2-SECRET-value"
MASK = b"[redacted]"


class Masker:
    """Masks SECRET; holds back an ending that could still become it."""

    def __init__(self) -> None:
        self.buffer = b""

    @property
    def held(self) -> int:
        return len(self.buffer)

    def feed(self, data: bytes) -> bytes:
        text = (self.buffer + data).replace(SECRET, MASK)
        for size in range(min(len(SECRET) - 1, len(text)), 0, -1):
            if SECRET.startswith(text[-size:]):
                self.buffer = text[-size:]
                return text[:-size]
        self.buffer = b""
        return text

    def flush(self) -> bytes:
        out, self.buffer = self.buffer, b""
        return out

    def release_short_tail(self) -> bytes:
        return self.flush()


class Exploding(Masker):
    """Fails on the word `boom`, as a broken redactor would."""

    def feed(self, data: bytes) -> bytes:
        if b"boom" in data:
            raise RuntimeError("state machine broke")
        return super().feed(data)
