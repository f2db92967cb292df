"""Services and culture: protection (admin)."""
