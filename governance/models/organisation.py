"""Governance and monitoring: organisation (models)."""
