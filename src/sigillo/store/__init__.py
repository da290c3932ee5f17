"""Persistence: Piccolo tables and migrations, SQLite and PostgreSQL, the event store."""
