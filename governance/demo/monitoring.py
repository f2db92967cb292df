"""Governance and monitoring: monitoring (demo)."""
