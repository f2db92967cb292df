"""Services and culture: protection (models)."""
