"""Services and culture: places (models)."""
