"""Governance: party organisation, pairing and visits, petitions, monitoring (see DESIGN.md)."""
