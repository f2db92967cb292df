"""Operations helpers for the production start (docs/production.md)."""
