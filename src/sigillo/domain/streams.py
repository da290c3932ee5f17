"""Stream names: one stream per aggregate instance."""

from __future__ import annotations

__all__ = ["environment_stream", "org_stream", "project_stream", "reads_stream", "user_stream"]


def environment_stream(environment_id: str) -> str:
    """The secrets of one environment: every set and delete, versioned 1..N."""
    return f"env:{environment_id}"


def project_stream(project_id: str) -> str:
    """A project's life: created, renamed, its environments, deleted."""
    return f"project:{project_id}"


def org_stream(org_id: str) -> str:
    return f"org:{org_id}"


def user_stream(user_id: str) -> str:
    return f"user:{user_id}"


def reads_stream(environment_id: str) -> str:
    """Who read an environment's plaintext, and how [D16]; never any value."""
    return f"reads:{environment_id}"
