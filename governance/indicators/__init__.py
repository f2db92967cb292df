"""Governance and monitoring indicators: organisation and monitoring (one module each, discovered through this package)."""

from . import monitoring, organisation  # noqa: F401
