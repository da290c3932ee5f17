"""Argon2id for the in-process API, dashboard and SSO tests, hashing each password once.

Nearly every such test makes accounts to set its scene, all with one password, and each
registration spent a full Argon2id hash (~100 ms of a core, 46 MiB) on it: about a sixth
of the CPU of a whole run. Here `hash` answers the first hash it made of a password again
(in each hashing worker process, where it runs), so those accounts share one real Argon2id
PHC string, salt included. Nothing else changes: the string is what the server stores,
and every sign-in verifies against it with Argon2id as the server does. Salts and the
hashing itself are tested on the real module (tests/crypto), and the CLI and browser tests
run the real server.
"""

from __future__ import annotations

from typing import ClassVar

from sigillo.crypto.credentials import Argon2Passwords


class OneHashPerPassword(Argon2Passwords):
    _made: ClassVar[dict[str, str]] = {}

    def hash(self, password: str) -> str:
        made = self._made.get(password)
        if made is None:
            made = self._made[password] = super().hash(password)
        return made
