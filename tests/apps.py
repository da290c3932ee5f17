"""The app under test, built once per worker for each shape of settings.

Building the Litestar app (`create_app`) registers some 275 handlers and their signature
models, a few hundred milliseconds each time, which the API and dashboard tests paid once
each (about a tenth of a full run). The app holds nothing of a test's own but what
`sigillo.server.bind` puts into its state (settings, services, fresh rate limits), so a
test gets the app a previous test on this worker built for settings of the same shape
(everything but the data directory, database and keys), bound to its own. The settings
built into the app itself (allowed hosts, the sign-in page's providers) are part of the
shape, so they always match.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from litestar import Litestar

from sigillo.server import bind, create_app
from sigillo.services.container import Services
from sigillo.settings import Settings

_BUILT: dict[Settings, Litestar] = {}


def app_for(settings: Settings, services: Services) -> Litestar:
    """An app serving `services` with `settings`, as `create_app` builds it."""
    shape = dataclasses.replace(
        settings,
        data_dir=Path("/"),
        database_url="",
        encryption_key=None,
        secret_key=None,
        encryption_key_file=None,
    )
    app = _BUILT.get(shape)
    if app is None:
        app = _BUILT[shape] = create_app(settings, services=services)
    else:
        bind(app, settings, services)
    return app
