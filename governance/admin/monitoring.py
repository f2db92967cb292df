"""Governance and monitoring: monitoring (admin)."""
