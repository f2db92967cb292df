"""Governance and monitoring: organisation (demo)."""
