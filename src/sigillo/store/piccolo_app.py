"""Piccolo's view of Sigillo: its tables and where their migrations live."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from sigillo.store.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="sigillo",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
