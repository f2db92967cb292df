"""Governance and monitoring: monitoring (models)."""
