"""Governance and monitoring: organisation (admin)."""
