"""Governance and monitoring: monitoring (spreadsheets)."""
