"""Governance and monitoring: organisation (spreadsheets)."""
