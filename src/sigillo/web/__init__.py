"""The dashboard: server-rendered pages and htmx fragments over services."""
