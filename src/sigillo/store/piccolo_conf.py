"""The module Piccolo reads its engine from (PICCOLO_CONF=sigillo.store.piccolo_conf).

`DB` is set by store.migrate at start from the server's settings. Developers generating
a migration get a scratch SQLite engine: `python -m sigillo.store.drift --new`.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

DB: Engine[Any] | None = None
APP_REGISTRY = AppRegistry(apps=["sigillo.store.piccolo_app"])
