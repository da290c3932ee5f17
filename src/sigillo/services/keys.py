"""The start-up key check: refuse to run with a key that does not match the database."""

from __future__ import annotations

from sigillo.domain.errors import StartupError
from sigillo.domain.events import SealedValue
from sigillo.services.ports import Cipher, KeyRegistry

__all__ = ["verify_keys"]


async def verify_keys(registry: KeyRegistry, cipher: Cipher, now: int) -> None:
    """Every key the database knows must be configured and open its known value; a new
    primary key is registered with a fresh known value. Check and registration are one
    transaction, so replicas starting together with different keys cannot both pass."""

    def decide(registered: dict[str, SealedValue]) -> SealedValue | None:
        for key_id in sorted(cipher.key_ids & registered.keys()):
            if not cipher.verify_check(registered[key_id]):
                raise StartupError(
                    f"the encryption key {key_id} failed its known-value check "
                    "against this database"
                )
        missing = sorted(registered.keys() - cipher.key_ids)
        if missing:
            raise StartupError(
                f"this database was written with encryption key {', '.join(missing)}, which this "
                "server does not have. Start it with the key the database was created with "
                "(SIGILLO_ENCRYPTION_KEY, SIGILLO_SECRET_KEY, or encryption.key in its data "
                "directory)."
            )
        return None if cipher.primary_key_id in registered else cipher.seal_check()

    await registry.register_checked(decide, now)
