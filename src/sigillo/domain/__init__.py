"""The pure core: events, decisions, projection folds and value objects.

Nothing in here does I/O, reads a clock or draws random numbers; time and ids are
parameters. Only the standard library and msgspec may be imported (CI enforces it).
"""
