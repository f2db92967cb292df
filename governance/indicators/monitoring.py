"""Governance and monitoring: monitoring (indicators)."""
