"""Services and culture: places (admin)."""
