"""The JSON API: thin Litestar handlers over services."""
