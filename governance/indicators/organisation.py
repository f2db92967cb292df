"""Governance and monitoring: organisation (indicators)."""
