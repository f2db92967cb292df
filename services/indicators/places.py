"""Services and culture: places (indicators)."""
