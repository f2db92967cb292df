"""Governance and monitoring spreadsheets: organisation and monitoring (one module each, discovered through this package)."""

from . import monitoring, organisation  # noqa: F401
