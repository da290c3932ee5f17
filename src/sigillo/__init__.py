"""Sigillo: a self-hostable secrets manager for humans and AI agents."""

__version__ = "0.1.0"
