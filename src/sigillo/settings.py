"""Server settings: flags over environment variables over defaults, read once at start.

Nothing reads the environment at import time; `Settings.load()` is called by the entry
point and the result is passed to the composition root.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    encryption_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        data_dir: str | Path | None = None,
        database_url: str | None = None,
    ) -> Settings:
        env = os.environ if env is None else env
        directory = Path(
            data_dir or env.get("SIGILLO_DATA_DIR") or Path.home() / ".sigillo" / "server"
        ).expanduser()
        url = (
            database_url
            or env.get("SIGILLO_DATABASE_URL")
            or f"sqlite:///{directory / 'sigillo.db'}"
        )
        return cls(
            data_dir=directory,
            database_url=url,
            host=host or env.get("SIGILLO_HOST") or DEFAULT_HOST,
            port=port if port is not None else int(env.get("SIGILLO_PORT") or DEFAULT_PORT),
            encryption_key=env.get("SIGILLO_ENCRYPTION_KEY") or None,
            secret_key=env.get("SIGILLO_SECRET_KEY") or None,
        )
